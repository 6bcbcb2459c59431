package main

import (
	"net/http/httptest"
	"testing"

	"github.com/ginjwt/ginjwt/_example/internal/demotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogoutAndRotation(t *testing.T) {
	r, err := newRouter(demotest.Secret)
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()
	login := func() (string, string) {
		status, body := demotest.Call(t, "POST", srv.URL+"/login", "", `{"username":"test","password":"test"}`)
		require.Equal(t, 200, status)
		return body["access_token"].(string), body["refresh_token"].(string)
	}

	access, refresh := login()
	status, body := demotest.Call(t, "GET", srv.URL+"/protected", access, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"hello": "world"}, body)

	status, body = demotest.Call(t, "DELETE", srv.URL+"/logout", access, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, demotest.Msg("access token successfully revoked"), body)
	status, body = demotest.Call(t, "GET", srv.URL+"/protected", access, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, demotest.Msg("Token has been revoked"), body)
	status, body = demotest.Call(t, "POST", srv.URL+"/refresh", refresh, "")
	assert.Equal(t, 401, status, "the logout ended the login, its refresh token too")
	assert.Equal(t, demotest.Msg("Token has been revoked"), body)

	// Rotation: the refresh token works once.
	_, refresh = login()
	status, body = demotest.Call(t, "POST", srv.URL+"/refresh", refresh, "")
	require.Equal(t, 200, status)
	newAccess := body["access_token"].(string)
	assert.NotEmpty(t, body["refresh_token"])
	status, _ = demotest.Call(t, "GET", srv.URL+"/protected", newAccess, "")
	assert.Equal(t, 200, status)

	// Replaying it revokes the whole login, the new access token included.
	status, body = demotest.Call(t, "POST", srv.URL+"/refresh", refresh, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, demotest.Msg("Token has been revoked"), body)
	status, _ = demotest.Call(t, "GET", srv.URL+"/protected", newAccess, "")
	assert.Equal(t, 401, status)

	// Logging out with the refresh token.
	_, refresh = login()
	status, body = demotest.Call(t, "DELETE", srv.URL+"/logout", refresh, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, demotest.Msg("refresh token successfully revoked"), body)
	status, _ = demotest.Call(t, "POST", srv.URL+"/refresh", refresh, "")
	assert.Equal(t, 401, status)
}

// Without JWT_SECRET_KEY the server makes its own random secret.
func TestSecretKey(t *testing.T) { demotest.SecretKey(t, secretKey) }
