package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http/httptest"
	"testing"

	"github.com/ginjwt/ginjwt/_example/internal/demotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAsymmetricFlow(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	r, err := newRouter(key)
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()

	status, body := demotest.Call(t, "POST", srv.URL+"/login", "", `{"username":"test","password":"test"}`)
	require.Equal(t, 200, status)
	token := body["access_token"].(string)
	status, body = demotest.Call(t, "GET", srv.URL+"/protected", token, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"logged_in_as": "test", "alg": "ES256"}, body)

	status, body = demotest.Call(t, "GET", srv.URL+"/.well-known/jwks.json", "", "")
	require.Equal(t, 200, status)
	keys := body["keys"].([]any)
	require.Len(t, keys, 1)
	assert.Equal(t, "auth-1", keys[0].(map[string]any)["kid"])

	// A token signed by another key is refused.
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	r2, err := newRouter(other)
	require.NoError(t, err)
	srv2 := httptest.NewServer(r2)
	defer srv2.Close()
	_, body = demotest.Call(t, "POST", srv2.URL+"/login", "", `{"username":"test","password":"test"}`)
	status, body = demotest.Call(t, "GET", srv.URL+"/protected", body["access_token"].(string), "")
	assert.Equal(t, 422, status)
	assert.Equal(t, demotest.Msg("Signature verification failed"), body)
}
