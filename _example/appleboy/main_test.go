package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/_example/internal/demotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fail is the {"code", "message"} body of appleboy's Unauthorized.
func fail(status int, message string) map[string]any {
	return map[string]any{"code": float64(status), "message": message}
}

// get sends GET path with a token where the client puts it: "header",
// "query" or "cookie" (curl -H, ?token=, -b).
func get(t *testing.T, base, path, where, token string) (int, map[string]any) {
	t.Helper()
	url := base + path
	if where == "query" {
		url += "?token=" + token
	}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	switch where {
	case "header":
		req.Header.Set("Authorization", "Bearer "+token)
	case "cookie":
		req.Header.Set("Cookie", "jwt="+token)
	}
	return demotest.Do(t, http.DefaultClient, req)
}

// loginAs logs in and checks appleboy v3's answer, RFC 6749's.
func loginAs(t *testing.T, base, user string) (access, refresh string) {
	t.Helper()
	status, body := demotest.Call(t, "POST", base+"/login", "", `{"username":"`+user+`","password":"`+user+`"}`)
	require.Equal(t, 200, status, body)
	access, _ = body["access_token"].(string)
	refresh, _ = body["refresh_token"].(string)
	require.NotEmpty(t, access)
	require.NotEmpty(t, refresh)
	assert.Equal(t, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": float64(3600),
		"refresh_token": refresh}, body)
	return access, refresh
}

// The README's httpie session, step by step, over HTTP on 127.0.0.1.
func TestAppleboyREADMESession(t *testing.T) {
	r, err := newRouter(demotest.Secret, time.Time{})
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()

	// Login.
	status, body := demotest.Call(t, "POST", srv.URL+"/login", "", `{"username":"admin","password":"wrong"}`)
	assert.Equal(t, 401, status)
	assert.Equal(t, fail(401, "Bad username or password"), body)
	status, body = demotest.Call(t, "POST", srv.URL+"/login", "", `{"username":"admin"}`)
	assert.Equal(t, 401, status, "missing password")
	assert.Equal(t, fail(401, "Bad username or password"), body)
	access, refresh := loginAs(t, srv.URL, "admin")

	// Hello world, with the token in each place the lookup names.
	for _, where := range []string{"header", "query", "cookie"} {
		status, body = get(t, srv.URL, "/auth/hello", where, access)
		assert.Equal(t, 200, status, where)
		assert.Equal(t, map[string]any{"userID": "admin", "userName": "admin", "text": "Hello World."}, body, where)
	}
	status, body = get(t, srv.URL, "/auth/hello", "", "")
	assert.Equal(t, 401, status)
	assert.Equal(t, fail(401, `Missing JWT in headers, query_string or cookies (Missing Authorization Header; Missing 'token' query paramater; Missing cookie "jwt")`), body)
	status, body = get(t, srv.URL, "/auth/hello", "header", "not-a-token")
	assert.Equal(t, 401, status, "422 answered as 401, as appleboy does")
	assert.Equal(t, fail(401, "Not enough segments"), body)
	status, body = get(t, srv.URL, "/auth/hello", "header", refresh)
	assert.Equal(t, 401, status)
	assert.Equal(t, fail(401, "Only non-refresh tokens are allowed"), body)

	// Authorization: test may log in, not say hello.
	testAccess, _ := loginAs(t, srv.URL, "test")
	status, body = get(t, srv.URL, "/auth/hello", "header", testAccess)
	assert.Equal(t, 403, status)
	assert.Equal(t, fail(403, "you don't have permission to access this resource"), body)

	// NoRoute: a 404 for users, a 401 for strangers.
	status, body = get(t, srv.URL, "/nowhere", "header", access)
	assert.Equal(t, 404, status)
	assert.Equal(t, map[string]any{"code": "PAGE_NOT_FOUND", "message": "Page not found"}, body)
	status, _ = get(t, srv.URL, "/nowhere", "", "")
	assert.Equal(t, 401, status)

	// Refresh, as appleboy v3's clients post it; the refresh token is
	// used once.
	status, body = demotest.Call(t, "POST", srv.URL+"/refresh", "", `{"refresh_token":"`+refresh+`"}`)
	require.Equal(t, 200, status, body)
	renewed, _ := body["access_token"].(string)
	rotated, _ := body["refresh_token"].(string)
	assert.Equal(t, map[string]any{"access_token": renewed, "token_type": "Bearer", "expires_in": float64(3600),
		"refresh_token": rotated}, body)
	assert.NotEqual(t, refresh, rotated)
	status, _ = get(t, srv.URL, "/auth/hello", "header", renewed)
	assert.Equal(t, 200, status)
	status, body = demotest.Call(t, "POST", srv.URL+"/refresh", "", `{"refresh_token":"`+access+`"}`)
	assert.Equal(t, 401, status)
	assert.Equal(t, fail(401, "Only refresh tokens are allowed"), body)

	// Logout revokes: the login's tokens all stop working.
	status, body = demotest.Call(t, "POST", srv.URL+"/auth/logout", renewed, "")
	require.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"code": float64(200), "message": "Successfully logged out", "logged_out_user": "admin"}, body)
	for _, tok := range []string{access, renewed} {
		status, body = get(t, srv.URL, "/auth/hello", "header", tok)
		assert.Equal(t, 401, status)
		assert.Equal(t, fail(401, "Token has been revoked"), body)
	}
	status, body = demotest.Call(t, "POST", srv.URL+"/refresh", "", `{"refresh_token":"`+rotated+`"}`)
	assert.Equal(t, 401, status)
	assert.Equal(t, fail(401, "Token has been revoked"), body)
	status, body = demotest.Call(t, "POST", srv.URL+"/auth/logout", "", "")
	assert.Equal(t, 200, status, "a logout without a token ends nothing")
	assert.Equal(t, map[string]any{"code": float64(200), "message": "Successfully logged out"}, body)
}

// appleboyToken is what the appleboy/gin-jwt service signed with the
// README's settings (v2 and v3 alike): no jti, the user in "id".
func appleboyToken(secret []byte, user string, issued time.Time) string {
	enc := base64.RawURLEncoding
	payload := fmt.Sprintf(`{"exp":%d,"id":%q,"orig_iat":%d}`, issued.Add(time.Hour).Unix(), user, issued.Unix())
	input := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + enc.EncodeToString(mac.Sum(nil))
}

// The users of the service ginjwt replaces stay logged in during the
// window; without it their tokens are refused.
func TestOldServiceTokens(t *testing.T) {
	old := appleboyToken(demotest.Secret, "admin", time.Now().Add(-time.Minute))

	r, err := newRouter(demotest.Secret, time.Now().Add(time.Hour))
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()
	status, body := get(t, srv.URL, "/auth/hello", "header", old)
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"userID": "admin", "userName": "admin", "text": "Hello World."}, body)
	status, body = get(t, srv.URL, "/auth/hello", "header", appleboyToken([]byte(strings.Repeat("x", 32)), "admin", time.Now()))
	assert.Equal(t, 401, status, "another secret")
	assert.Equal(t, fail(401, "Signature verification failed"), body)

	r, err = newRouter(demotest.Secret, time.Time{})
	require.NoError(t, err)
	closed := httptest.NewServer(r)
	defer closed.Close()
	status, body = get(t, closed.URL, "/auth/hello", "header", old)
	assert.Equal(t, 401, status)
	assert.Equal(t, fail(401, "Missing claim: jti"), body)
}

// Without JWT_SECRET_KEY the server makes its own random secret.
func TestSecretKey(t *testing.T) { demotest.SecretKey(t, secretKey) }
