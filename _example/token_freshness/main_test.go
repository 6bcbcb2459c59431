package main

import (
	"net/http/httptest"
	"testing"

	"github.com/ginjwt/ginjwt/_example/internal/demotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFreshnessFlow(t *testing.T) {
	r, err := newRouter(demotest.Secret)
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()

	status, body := demotest.Call(t, "POST", srv.URL+"/login", "", `{"username":"test","password":"wrong"}`)
	assert.Equal(t, 401, status)
	assert.Equal(t, demotest.Msg("Bad username or password"), body)

	status, body = demotest.Call(t, "POST", srv.URL+"/login", "", `{"username":"test","password":"test"}`)
	require.Equal(t, 200, status)
	fresh, _ := body["access_token"].(string)
	refresh, _ := body["refresh_token"].(string)

	status, body = demotest.Call(t, "GET", srv.URL+"/protected", fresh, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"foo": "bar"}, body)

	status, body = demotest.Call(t, "POST", srv.URL+"/refresh", refresh, "")
	require.Equal(t, 200, status)
	stale, _ := body["access_token"].(string)

	status, body = demotest.Call(t, "GET", srv.URL+"/protected", stale, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, demotest.Msg("Fresh token required"), body)
}

// Without JWT_SECRET_KEY the server makes its own random secret.
func TestSecretKey(t *testing.T) { demotest.SecretKey(t, secretKey) }
