package main

import (
	"net/http/httptest"
	"testing"

	"github.com/ginjwt/ginjwt/_example/internal/demotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAutomaticUserLoading(t *testing.T) {
	users := newStore()
	r, err := newRouter(demotest.Secret, users)
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()

	status, body := demotest.Call(t, "POST", srv.URL+"/login", "", `{"username":"panther","password":"nope"}`)
	assert.Equal(t, 401, status)
	assert.Equal(t, demotest.Msg("Wrong username or password"), body)

	status, body = demotest.Call(t, "POST", srv.URL+"/login", "", `{"username":"panther","password":"password"}`)
	require.Equal(t, 200, status)
	token := body["access_token"].(string)

	status, body = demotest.Call(t, "GET", srv.URL+"/who_am_i", token, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"id": float64(2), "username": "panther", "full_name": "Ann Takamaki"}, body)

	users.delete(2)
	status, body = demotest.Call(t, "GET", srv.URL+"/who_am_i", token, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, demotest.Msg("Error loading the user 2"), body)
}

// Without JWT_SECRET_KEY the server makes its own random secret.
func TestSecretKey(t *testing.T) { demotest.SecretKey(t, secretKey) }
