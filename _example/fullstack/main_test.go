package main

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testSecret = []byte("test-secret-0123456789abcdef0123456789")

// call sends one request over real HTTP and decodes the JSON answer.
func call(t *testing.T, method, url, token, body string, headers ...string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	if len(data) > 0 {
		require.NoError(t, json.Unmarshal(data, &out), string(data))
	}
	return resp.StatusCode, out, resp.Header
}

func msg(s string) map[string]any { return map[string]any{"msg": s} }

func startApp(t *testing.T, opts ...ginjwt.Option) (*httptest.Server, *sql.DB) {
	r, db, err := newApp(Config{Secret: testSecret, Origins: []string{"http://front.example"}, JWTOptions: opts})
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	t.Cleanup(func() { srv.Close(); _ = db.Close() })
	return srv, db
}

func TestSignupLoginPrivateRefresh(t *testing.T) {
	clock := time.Now()
	now := func() time.Time { return clock }
	srv, db := startApp(t, ginjwt.WithClock(now), ginjwt.WithAccessExpires(time.Minute))
	u := srv.URL

	status, body, _ := call(t, "POST", u+"/signup", "", `{"email":"ann@example.com","password":"correct horse","name":"Ann"}`)
	require.Equal(t, 201, status, body)
	assert.Equal(t, "ann@example.com", body["email"])

	var hash string
	require.NoError(t, db.QueryRow(`SELECT password_hash FROM users WHERE email = ?`, "ann@example.com").Scan(&hash))
	assert.Regexp(t, `^\$2[ab]\$10\$`, hash, "a bcrypt hash is stored")
	assert.NotContains(t, hash, "correct horse")

	status, body, _ = call(t, "POST", u+"/token", "", `{"email":"ann@example.com","password":"wrong password"}`)
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Bad email or password"), body)
	status, body, _ = call(t, "POST", u+"/token", "", `{"email":"nobody@example.com","password":"correct horse"}`)
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Bad email or password"), body, "the same answer whichever part was wrong")

	status, body, _ = call(t, "POST", u+"/token", "", `{"email":"ann@example.com","password":"correct horse"}`)
	require.Equal(t, 200, status, body)
	access, refresh := body["access_token"].(string), body["refresh_token"].(string)

	status, body, _ = call(t, "GET", u+"/private", access, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, "Ann", body["name"])
	status, body, _ = call(t, "GET", u+"/private", "", "")
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Missing Authorization Header"), body)

	clock = clock.Add(2 * time.Minute)
	status, body, _ = call(t, "GET", u+"/private", access, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Token has expired"), body)
	status, body, _ = call(t, "POST", u+"/refresh", refresh, "")
	require.Equal(t, 200, status, body)
	access = body["access_token"].(string)
	status, _, _ = call(t, "GET", u+"/private", access, "")
	assert.Equal(t, 200, status)
	status, body, _ = call(t, "POST", u+"/refresh", access, "")
	assert.Equal(t, 422, status)
	assert.Equal(t, msg("Only refresh tokens are allowed"), body)

	// The user goes away; its tokens no longer load anyone.
	status, body, _ = call(t, "DELETE", u+"/account", access, "")
	assert.Equal(t, 200, status, body)
	status, body, _ = call(t, "GET", u+"/private", access, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Error loading the user 1"), body)
}

func TestSignupErrors(t *testing.T) {
	srv, db := startApp(t)
	u := srv.URL + "/signup"
	_, _, _ = call(t, "POST", u, "", `{"email":"taken@example.com","password":"long enough"}`)
	for _, tc := range []struct {
		body   string
		status int
		msg    string
	}{
		{`not json`, 400, "Missing JSON in request"},
		{`{"email":"a@example.com"}`, 400, "Missing email or password"},
		{`{"password":"long enough"}`, 400, "Missing email or password"},
		{`{"email":"not-an-email","password":"long enough"}`, 400, "Invalid email"},
		{`{"email":"` + strings.Repeat("a", 250) + `@x.io","password":"long enough"}`, 400, "Email too long (254 characters at most)"},
		{`{"email":"b@example.com","password":"` + strings.Repeat("p", 73) + `"}`, 400, "Password too long (72 bytes at most)"},
		{`{"email":"b@example.com","password":"short"}`, 400, "Password too short (8 characters at least)"},
		{`{"email":"b@example.com","password":"long enough","name":"` + strings.Repeat("n", 101) + `"}`, 400, "Name too long (100 characters at most)"},
		{`{"email":"TAKEN@example.com","password":"long enough"}`, 409, "Email already registered"},
	} {
		status, body, _ := call(t, "POST", u, "", tc.body)
		assert.Equal(t, tc.status, status, tc.body)
		assert.Equal(t, msg(tc.msg), body, tc.body)
	}
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM users`).Scan(&n))
	assert.Equal(t, 1, n, "nothing half-written")

	status, body, _ := call(t, "POST", srv.URL+"/token", "", `{"email":"taken@example.com"}`)
	assert.Equal(t, 400, status)
	assert.Equal(t, msg("Missing email or password"), body)
}

func TestCORS(t *testing.T) {
	srv, _ := startApp(t)
	status, _, h := call(t, "OPTIONS", srv.URL+"/private", "", "",
		"Origin", "http://front.example", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization")
	assert.Equal(t, 204, status)
	assert.Equal(t, "http://front.example", h.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization")

	status, _, h = call(t, "OPTIONS", srv.URL+"/private", "", "",
		"Origin", "http://evil.example", "Access-Control-Request-Method", "GET")
	assert.Equal(t, 403, status)
	assert.Empty(t, h.Get("Access-Control-Allow-Origin"))
}

func TestFrontEndIsServed(t *testing.T) {
	srv, _ := startApp(t)
	resp, err := http.Get(srv.URL + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, string(page), "sessionStorage")
}

func TestTokenErrors(t *testing.T) {
	srv, _ := startApp(t)
	for _, tc := range []struct {
		body, msg string
	}{
		{`not json`, "Missing JSON in request"},
		{`{"password":"correct horse"}`, "Missing email or password"},
		{`{"email":"ann@example.com"}`, "Missing email or password"},
	} {
		status, body, _ := call(t, "POST", srv.URL+"/token", "", tc.body)
		assert.Equal(t, 400, status, tc.body)
		assert.Equal(t, msg(tc.msg), body, tc.body)
	}
}

func TestBodyLimit(t *testing.T) {
	srv, db := startApp(t)
	huge := `{"email":"big@example.com","password":"long enough","name":"` + strings.Repeat("n", maxBody) + `"}`
	status, body, _ := call(t, "POST", srv.URL+"/signup", "", huge)
	assert.Equal(t, 413, status)
	assert.Equal(t, msg("Request body too large"), body)
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM users`).Scan(&n))
	assert.Zero(t, n)
}

// login signs a user up and returns its access and refresh tokens.
func login(t *testing.T, u, email string) (access, refresh string) {
	t.Helper()
	status, body, _ := call(t, "POST", u+"/signup", "", `{"email":"`+email+`","password":"correct horse"}`)
	require.Equal(t, 201, status, body)
	status, body, _ = call(t, "POST", u+"/token", "", `{"email":"`+email+`","password":"correct horse"}`)
	require.Equal(t, 200, status, body)
	return body["access_token"].(string), body["refresh_token"].(string)
}

func TestLogoutRevokes(t *testing.T) {
	srv, _ := startApp(t)
	u := srv.URL

	t.Run("both tokens", func(t *testing.T) {
		access, refresh := login(t, u, "ann@example.com")
		status, body, _ := call(t, "DELETE", u+"/logout", access, `{"refresh_token":"`+refresh+`"}`)
		require.Equal(t, 200, status, body)
		assert.Equal(t, msg("Logged out"), body)
		status, body, _ = call(t, "GET", u+"/private", access, "")
		assert.Equal(t, 401, status)
		assert.Equal(t, msg("Token has been revoked"), body)
		status, body, _ = call(t, "POST", u+"/refresh", refresh, "")
		assert.Equal(t, 401, status)
		assert.Equal(t, msg("Token has been revoked"), body)
	})
	t.Run("access token only", func(t *testing.T) {
		access, refresh := login(t, u, "bob@example.com")
		status, body, _ := call(t, "DELETE", u+"/logout", access, "")
		require.Equal(t, 200, status, body)
		status, _, _ = call(t, "GET", u+"/private", access, "")
		assert.Equal(t, 401, status)
		status, body, _ = call(t, "POST", u+"/refresh", refresh, "")
		assert.Equal(t, 200, status, "the refresh token was not named: %v", body)
	})
	t.Run("bad refresh token revokes nothing", func(t *testing.T) {
		access, _ := login(t, u, "cy@example.com")
		status, body, _ := call(t, "DELETE", u+"/logout", access, `{"refresh_token":"not.a.token"}`)
		assert.Equal(t, 422, status)
		assert.Equal(t, msg("Invalid header string: must be a json object"), body)
		status, _, _ = call(t, "GET", u+"/private", access, "")
		assert.Equal(t, 200, status, "the access token still works")
		status, body, _ = call(t, "DELETE", u+"/logout", access, `not json`)
		assert.Equal(t, 400, status)
		assert.Equal(t, msg("Invalid JSON in request"), body)
	})
	t.Run("needs a token", func(t *testing.T) {
		status, body, _ := call(t, "DELETE", u+"/logout", "", "")
		assert.Equal(t, 401, status)
		assert.Equal(t, msg("Missing Authorization Header"), body)
	})
}

func TestSplitOrigins(t *testing.T) {
	assert.Equal(t, []string{"http://a.example", "http://b.example"}, splitOrigins(" http://a.example, http://b.example ,,"))
	assert.Empty(t, splitOrigins(""))
}

// With DATABASE_PATH the users outlive the process.
func TestDatabaseFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.db")
	open := func() *httptest.Server {
		r, db, err := newApp(Config{DatabasePath: path, Secret: testSecret})
		require.NoError(t, err)
		srv := httptest.NewServer(r)
		t.Cleanup(func() { srv.Close(); _ = db.Close() })
		return srv
	}
	first := open()
	status, body, _ := call(t, "POST", first.URL+"/signup", "", `{"email":"dee@example.com","password":"correct horse"}`)
	require.Equal(t, 201, status, body)
	first.Close()

	second := open()
	status, body, _ = call(t, "POST", second.URL+"/token", "", `{"email":"dee@example.com","password":"correct horse"}`)
	assert.Equal(t, 200, status, "the user is still there: %v", body)
}
