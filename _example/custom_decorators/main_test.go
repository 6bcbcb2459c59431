package main

import (
	"net/http/httptest"
	"testing"

	"github.com/ginjwt/ginjwt/_example/internal/demotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAdminRequired(t *testing.T) {
	r, err := newRouter(demotest.Secret)
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()

	_, body := demotest.Call(t, "POST", srv.URL+"/login", "", "")
	admin := body["access_token"].(string)
	_, body = demotest.Call(t, "POST", srv.URL+"/login/user", "", "")
	user := body["access_token"].(string)

	status, body := demotest.Call(t, "GET", srv.URL+"/protected", admin, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"foo": "bar"}, body)

	status, body = demotest.Call(t, "GET", srv.URL+"/protected", user, "")
	assert.Equal(t, 403, status)
	assert.Equal(t, demotest.Msg("Admins only!"), body)

	status, body = demotest.Call(t, "GET", srv.URL+"/protected", "", "")
	assert.Equal(t, 401, status)
	assert.Equal(t, demotest.Msg("Missing Authorization Header"), body)
}

// Without JWT_SECRET_KEY the server makes its own random secret.
func TestSecretKey(t *testing.T) { demotest.SecretKey(t, secretKey) }
