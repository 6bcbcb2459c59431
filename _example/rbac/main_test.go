package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func call(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	require.NoError(t, json.Unmarshal(data, &out), string(data))
	return resp.StatusCode, out
}

func msg(s string) map[string]any { return map[string]any{"msg": s} }

// story runs the tutorial's exercises over real HTTP on 127.0.0.1.
func story(t *testing.T, store ginjwt.Blocklist) {
	r, err := newRouter([]byte("test-secret-0123456789abcdef0123456789"), store)
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()
	login := func(user, password string) string {
		status, body := call(t, "POST", srv.URL+"/login", "", `{"username":"`+user+`","password":"`+password+`"}`)
		require.Equal(t, 200, status, body)
		return body["access_token"].(string)
	}

	status, body := call(t, "POST", srv.URL+"/login", "", `{"username":"alice","password":"bob-password"}`)
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Bad username or password"), body)

	alice, bob := login("alice", "alice-password"), login("bob", "bob-password")
	status, body = call(t, "GET", srv.URL+"/me", bob, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"user": "bob", "role": "user"}, body)
	status, body = call(t, "GET", srv.URL+"/admin", alice, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, msg("Welcome, admin alice"), body)
	status, body = call(t, "GET", srv.URL+"/admin", bob, "")
	assert.Equal(t, 403, status)
	assert.Equal(t, msg("Claim 'role' does not have the required value"), body)

	status, body = call(t, "DELETE", srv.URL+"/logout", alice, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, msg("Access token successfully revoked"), body)
	for _, path := range []string{"/me", "/admin"} {
		status, body = call(t, "GET", srv.URL+path, alice, "")
		assert.Equal(t, 401, status, path)
		assert.Equal(t, msg("Token has been revoked"), body, path)
	}
	status, _ = call(t, "GET", srv.URL+"/me", bob, "")
	assert.Equal(t, 200, status, "bob's token is untouched")

	// A role change ends the user's sessions: a token with the old role
	// must not keep it.
	alice = login("alice", "alice-password")
	status, body = call(t, "PUT", srv.URL+"/users/bob/role", bob, `{"role":"admin"}`)
	assert.Equal(t, 403, status, "only admins")
	assert.Equal(t, msg("Claim 'role' does not have the required value"), body)
	status, body = call(t, "PUT", srv.URL+"/users/bob/role", alice, `{"role":"admin"}`)
	assert.Equal(t, 200, status, body)
	assert.Equal(t, msg("bob is now admin"), body)
	status, body = call(t, "GET", srv.URL+"/me", bob, "")
	assert.Equal(t, 401, status, "bob's token says role user")
	assert.Equal(t, msg("Token has been revoked"), body)
	bob = login("bob", "bob-password")
	status, body = call(t, "GET", srv.URL+"/admin", bob, "")
	assert.Equal(t, 200, status, "a new login carries the new role")
	assert.Equal(t, msg("Welcome, admin bob"), body)

	// A password change ends every session of the user, a stolen copy's
	// too, and logs this one in again.
	stolen := login("bob", "bob-password")
	status, body = call(t, "POST", srv.URL+"/password", bob, `{"old":"wrong","new":"new-bob-password"}`)
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Bad username or password"), body)
	status, body = call(t, "POST", srv.URL+"/password", bob, `{"old":"bob-password","new":"new-bob-password"}`)
	require.Equal(t, 200, status, body)
	fresh := body["access_token"].(string)
	for _, tok := range []string{bob, stolen} {
		status, body = call(t, "GET", srv.URL+"/me", tok, "")
		assert.Equal(t, 401, status)
		assert.Equal(t, msg("Token has been revoked"), body)
	}
	status, _ = call(t, "GET", srv.URL+"/me", fresh, "")
	assert.Equal(t, 200, status, "the token the change answered with")
	status, _ = call(t, "POST", srv.URL+"/login", "", `{"username":"bob","password":"bob-password"}`)
	assert.Equal(t, 401, status, "the old password is gone")
	login("bob", "new-bob-password")

	// Deleting an account ends its sessions.
	status, body = call(t, "DELETE", srv.URL+"/users/bob", alice, "")
	assert.Equal(t, 200, status, body)
	assert.Equal(t, msg("bob deleted"), body)
	status, body = call(t, "GET", srv.URL+"/me", fresh, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Token has been revoked"), body)
	status, body = call(t, "DELETE", srv.URL+"/users/bob", alice, "")
	assert.Equal(t, 404, status)
	assert.Equal(t, msg("No such user"), body)
}

func TestRBACWithMemoryBlocklist(t *testing.T) { story(t, ginjwt.NewMemoryBlocklist(nil)) }

func TestRBACWithRedis(t *testing.T) {
	store, err := redisblocklist.New(redisClient(t, startRedis(t)))
	require.NoError(t, err)
	story(t, store)
}

// publicSecret is the fallback secret this example used to fall back to
// when JWT_SECRET_KEY was unset; its source published it.
var publicSecret = []byte("example-only-secret-change-me-0123456789")

// Out of the box (JWT_SECRET_KEY unset), whoever reads the example's source
// must not be able to sign an admin token for it.
func TestPublicSecretForgesNothing(t *testing.T) {
	forger, err := ginjwt.New(ginjwt.WithSecretKey(publicSecret))
	require.NoError(t, err)
	forged, err := forger.CreateAccessToken("mallory", ginjwt.AdditionalClaims(map[string]any{"role": "admin"}))
	require.NoError(t, err)

	// The forgery itself is good: a server on the public secret lets it in.
	r, err := newRouter(publicSecret, ginjwt.NewMemoryBlocklist(nil))
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()
	status, body := call(t, "GET", srv.URL+"/admin", forged, "")
	require.Equal(t, 200, status, body)

	t.Setenv("JWT_SECRET_KEY", "")
	require.NoError(t, os.Unsetenv("JWT_SECRET_KEY")) // t.Setenv restores it
	r, err = newRouter(secretKey(), ginjwt.NewMemoryBlocklist(nil))
	require.NoError(t, err)
	srv = httptest.NewServer(r)
	defer srv.Close()
	for _, path := range []string{"/admin", "/me"} {
		status, body = call(t, "GET", srv.URL+path, forged, "")
		assert.Equal(t, 422, status, path)
		assert.Equal(t, msg("Signature verification failed"), body, path)
	}
}

// Without JWT_SECRET_KEY the server makes its own random secret.
func TestSecretKey(t *testing.T) {
	t.Setenv("JWT_SECRET_KEY", "a-secret-from-the-environment-0123456789")
	assert.Equal(t, []byte("a-secret-from-the-environment-0123456789"), secretKey())

	require.NoError(t, os.Unsetenv("JWT_SECRET_KEY")) // t.Setenv restores it
	var logged bytes.Buffer
	defer log.SetOutput(log.Writer())
	log.SetOutput(&logged)
	first, second := secretKey(), secretKey()
	assert.Len(t, first, 32)
	assert.NotEqual(t, first, second, "a new secret at every start")
	assert.NotEqual(t, publicSecret, first)
	assert.Contains(t, logged.String(), "JWT_SECRET_KEY is not set: using a random secret, so tokens will not survive a restart")
}

// main's choice of store: REDIS_URL picks Redis, a bad URL is an error.
func TestBlocklistFromEnvironment(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	store, err := blocklist()
	require.NoError(t, err)
	assert.IsType(t, &ginjwt.MemoryBlocklist{}, store)

	t.Setenv("REDIS_URL", "http://not-redis")
	_, err = blocklist()
	assert.Error(t, err)

	t.Setenv("REDIS_URL", "redis://"+startRedis(t)+"/0")
	store, err = blocklist()
	require.NoError(t, err)
	assert.IsType(t, &redisblocklist.Store{}, store)
	story(t, store)
}
