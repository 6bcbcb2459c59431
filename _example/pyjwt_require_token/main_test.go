package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/_example/internal/demotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// login posts the tutorial's form.
func login(t *testing.T, base, username, password string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}}
	req, err := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return demotest.Do(t, http.DefaultClient, req)
}

func TestRequireTokenTutorial(t *testing.T) {
	r, err := newRouter(demotest.Secret)
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()
	u := srv.URL

	status, body := login(t, u, "alice", "wrong")
	assert.Equal(t, 401, status)
	assert.Equal(t, map[string]any{"error": "Invalid login credentials"}, body)
	status, body = login(t, u, "mallory", "alice-password")
	assert.Equal(t, 401, status)
	assert.Equal(t, map[string]any{"error": "Invalid login credentials"}, body)

	status, body = login(t, u, "alice", "alice-password")
	require.Equal(t, 200, status, body)
	alice := body["auth_token"].(string)
	assert.Equal(t, 2, strings.Count(body["refresh_token"].(string), "."))
	_, body = login(t, u, "bob", "bob-password")
	bob := body["auth_token"].(string)

	forbidden := func(claim string) map[string]any {
		return demotest.Msg("Claim '" + claim + "' does not match the route parameter 'username'")
	}
	for _, tc := range []struct {
		name, path, token string
		status            int
		body              map[string]any
	}{
		{"protected", "/protected_route", bob, 200, map[string]any{"message": "You've reached the protected route!"}},
		{"protected without a token", "/protected_route", "", 401, demotest.Msg("Missing Authorization Header")},
		{"own route", "/user_specific_route/bob", bob, 200, map[string]any{"message": "Hello, bob!"}},
		{"someone else's route", "/user_specific_route/alice", bob, 403, forbidden("sub")},
		{"admin dashboard, admin", "/admin_dashboard", alice, 200, map[string]any{"message": "Hello admin!"}},
		{"admin dashboard, not admin", "/admin_dashboard", bob, 403, demotest.Msg("Claim 'scope' does not have the required value")},
		{"override: admin on someone else's route", "/overridable_route/bob", alice, 200, map[string]any{"message": "Hello, admin!"}},
		{"override: own route", "/overridable_route/bob", bob, 200, map[string]any{"message": "Hello, bob!"}},
		{"override: not admin, someone else's route", "/overridable_route/alice", bob, 403, forbidden("sub")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := demotest.Call(t, "GET", u+tc.path, tc.token, "")
			assert.Equal(t, tc.status, status)
			assert.Equal(t, tc.body, body)
		})
	}

	status, body = demotest.Call(t, "GET", u+"/token/info", alice, "")
	require.Equal(t, 200, status, body)
	assert.Equal(t, "access", body["token_type"])
	assert.Equal(t, "alice", body["subject"])
	assert.Equal(t, map[string]any{"admin": true}, body["scope"])
	assert.Equal(t, true, body["is_signed"])
	assert.Equal(t, alice, body["signed_token"])
	claims := body["claims"].(map[string]any)
	assert.Equal(t, "Flask_PyJWT", claims["iss"])
	assert.Equal(t, "alice", claims["sub"])

	// A token from another issuer is refused, even with the right secret.
	status, body = demotest.Call(t, "GET", u+"/protected_route", foreignToken(t), "")
	assert.Equal(t, 422, status)
	assert.Equal(t, demotest.Msg("Invalid issuer"), body)
}

// foreignToken is signed with the same secret by another issuer.
func foreignToken(t *testing.T) string {
	m, err := ginjwt.New(ginjwt.WithSecretKey(demotest.Secret), ginjwt.WithClaims(ginjwt.ClaimsConfig{EncodeIssuer: "someone-else"}))
	require.NoError(t, err)
	token, err := m.CreateAccessToken("alice")
	require.NoError(t, err)
	return token
}

// Without JWT_SECRET_KEY the server makes its own random secret.
func TestSecretKey(t *testing.T) { demotest.SecretKey(t, secretKey) }
