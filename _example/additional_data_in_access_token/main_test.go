package main

import (
	"net/http/httptest"
	"testing"

	"github.com/ginjwt/ginjwt/_example/internal/demotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAdditionalData(t *testing.T) {
	r, err := newRouter(demotest.Secret)
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()

	status, body := demotest.Call(t, "POST", srv.URL+"/login", "", `{"username":"test","password":"test"}`)
	require.Equal(t, 200, status)
	status, body = demotest.Call(t, "GET", srv.URL+"/protected", body["access_token"].(string), "")
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"foo": "bar"}, body)
}

// Without JWT_SECRET_KEY the server makes its own random secret.
func TestSecretKey(t *testing.T) { demotest.SecretKey(t, secretKey) }
