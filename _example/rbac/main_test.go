package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/ginjwt/ginjwt/redisblocklist/redistest"
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
	assert.Equal(t, msg("Successfully logged out"), body)
	for _, path := range []string{"/me", "/admin"} {
		status, body = call(t, "GET", srv.URL+path, alice, "")
		assert.Equal(t, 401, status, path)
		assert.Equal(t, msg("Token has been revoked"), body, path)
	}
	status, _ = call(t, "GET", srv.URL+"/me", bob, "")
	assert.Equal(t, 200, status, "bob's token is untouched")
}

func TestRBACWithMemoryBlocklist(t *testing.T) { story(t, ginjwt.NewMemoryBlocklist(nil)) }

func TestRBACWithRedis(t *testing.T) {
	client := redistest.Start(t).Client(t)
	story(t, redisblocklist.New(client))
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

	srv := redistest.Start(t)
	t.Setenv("REDIS_URL", "redis://"+srv.Addr+"/0")
	store, err = blocklist()
	require.NoError(t, err)
	assert.IsType(t, &redisblocklist.Store{}, store)
	story(t, store)
}
