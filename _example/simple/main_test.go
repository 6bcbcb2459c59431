package main

import (
	"net/http/httptest"
	"testing"

	"github.com/ginjwt/ginjwt/_example/internal/demotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The curl session of the Flask tutorial, over real HTTP on 127.0.0.1.
func TestSimpleFlow(t *testing.T) {
	r, err := newRouter(demotest.Secret)
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()

	status, body := demotest.Call(t, "GET", srv.URL+"/protected", "", "")
	assert.Equal(t, 401, status)
	assert.Equal(t, demotest.Msg("Missing Authorization Header"), body)

	status, body = demotest.Call(t, "POST", srv.URL+"/login", "", `{"username":"test","password":"nope"}`)
	assert.Equal(t, 401, status)
	assert.Equal(t, demotest.Msg("Bad username or password"), body)

	status, body = demotest.Call(t, "POST", srv.URL+"/login", "", `not json`)
	assert.Equal(t, 400, status)
	assert.Equal(t, demotest.Msg("Missing JSON in request"), body)

	status, body = demotest.Call(t, "POST", srv.URL+"/login", "", `{"username":"test","password":"test"}`)
	require.Equal(t, 200, status)
	token, _ := body["access_token"].(string)
	require.NotEmpty(t, token)

	status, body = demotest.Call(t, "GET", srv.URL+"/protected", token, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"logged_in_as": "test"}, body)

	status, body = demotest.Call(t, "GET", srv.URL+"/protected", token+"x", "")
	assert.Equal(t, 422, status)
	assert.Equal(t, demotest.Msg("Signature verification failed"), body)
}

func TestShortSecretIsRefused(t *testing.T) {
	_, err := newRouter([]byte("super-secret"))
	assert.ErrorContains(t, err, "at least 32 bytes")
}

// Without JWT_SECRET_KEY the server makes its own random secret.
func TestSecretKey(t *testing.T) { demotest.SecretKey(t, secretKey) }
