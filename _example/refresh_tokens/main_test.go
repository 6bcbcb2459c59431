package main

import (
	"net/http/httptest"
	"testing"

	"github.com/ginjwt/ginjwt/_example/internal/demotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRefreshFlow(t *testing.T) {
	r, err := newRouter(demotest.Secret)
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()

	status, body := demotest.Call(t, "POST", srv.URL+"/login", "", "")
	require.Equal(t, 200, status)
	access, _ := body["access_token"].(string)
	refresh, _ := body["refresh_token"].(string)
	require.NotEmpty(t, access)
	require.NotEmpty(t, refresh)

	status, body = demotest.Call(t, "GET", srv.URL+"/protected", access, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"foo": "bar"}, body)

	status, body = demotest.Call(t, "GET", srv.URL+"/protected", refresh, "")
	assert.Equal(t, 422, status)
	assert.Equal(t, demotest.Msg("Only non-refresh tokens are allowed"), body)

	status, body = demotest.Call(t, "POST", srv.URL+"/refresh", access, "")
	assert.Equal(t, 422, status)
	assert.Equal(t, demotest.Msg("Only refresh tokens are allowed"), body)

	status, body = demotest.Call(t, "POST", srv.URL+"/refresh", refresh, "")
	require.Equal(t, 200, status)
	renewed, _ := body["access_token"].(string)
	require.NotEmpty(t, renewed)
	status, _ = demotest.Call(t, "GET", srv.URL+"/protected", renewed, "")
	assert.Equal(t, 200, status)

	status, body = demotest.Call(t, "POST", srv.URL+"/refresh", "", "")
	assert.Equal(t, 401, status)
	assert.Equal(t, demotest.Msg("Missing Authorization Header"), body)
}

// Without JWT_SECRET_KEY the server makes its own random secret.
func TestSecretKey(t *testing.T) { demotest.SecretKey(t, secretKey) }
