package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
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

// startApp starts the app over real HTTP. Its tests log in more often
// than a person would: the attempt limits are raised (TestLoginAttemptLimit
// and TestPasswordAttemptLimit test them).
func startApp(t *testing.T, opts ...ginjwt.Option) (*httptest.Server, *sql.DB) {
	r, db, err := newApp(Config{Secret: testSecret, Origins: []string{"http://front.example"}, LoginBurst: 100, JWTOptions: opts})
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

	// The user goes away, and with it every session: the tokens of the
	// earlier login are refused. (Deleting wants a fresh token:
	// TestDeleteAccountNeedsFreshToken.)
	status, body, _ = call(t, "POST", u+"/token", "", `{"email":"ann@example.com","password":"correct horse"}`)
	require.Equal(t, 200, status, body)
	fresh := body["access_token"].(string)
	status, body, _ = call(t, "GET", u+"/private", fresh, "")
	require.Equal(t, 200, status, body)
	id := body["id"].(string)
	status, body, _ = call(t, "DELETE", u+"/account", fresh, "")
	assert.Equal(t, 200, status, body)
	status, body, _ = call(t, "GET", u+"/private", access, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Token has been revoked"), body)
	assert.Zero(t, users(t, db), "user %s is gone", id)
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

// A logout ends the session: the access token it is given, the refresh
// token of the same login (which it never sees) and what was refreshed
// from it. Other logins of the user go on.
func TestLogoutEndsTheSession(t *testing.T) {
	var ahead atomic.Int64 // how far the server's clock is ahead
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	srv, _ := startApp(t, ginjwt.WithClock(now), ginjwt.WithAccessExpires(time.Minute))
	u := srv.URL

	t.Run("the whole session", func(t *testing.T) {
		access, refresh := login(t, u, "ann@example.com")
		status, body, _ := call(t, "POST", u+"/refresh", refresh, "")
		require.Equal(t, 200, status, body)
		refreshed := body["access_token"].(string)
		other := relogin(t, u, "ann@example.com") // another device

		status, body, _ = call(t, "DELETE", u+"/logout", access, "")
		require.Equal(t, 200, status, body)
		assert.Equal(t, msg("Logged out"), body)
		for name, tok := range map[string]string{"access": access, "refreshed": refreshed} {
			status, body, _ = call(t, "GET", u+"/private", tok, "")
			assert.Equal(t, 401, status, name)
			assert.Equal(t, msg("Token has been revoked"), body, name)
		}
		status, body, _ = call(t, "POST", u+"/refresh", refresh, "")
		assert.Equal(t, 401, status, "the refresh token of the session, never sent to /logout")
		assert.Equal(t, msg("Token has been revoked"), body)
		status, body, _ = call(t, "GET", u+"/private", other, "")
		assert.Equal(t, 200, status, "another login of the user goes on: %v", body)

		status, body, _ = call(t, "DELETE", u+"/logout", access, "")
		assert.Equal(t, 200, status, "logging out twice is harmless")
		assert.Equal(t, msg("Logged out"), body)
	})
	t.Run("with an expired access token", func(t *testing.T) {
		access, refresh := login(t, u, "bob@example.com")
		ahead.Add(int64(2 * time.Minute))
		status, body, _ := call(t, "GET", u+"/private", access, "")
		require.Equal(t, 401, status)
		require.Equal(t, msg("Token has expired"), body)
		status, body, _ = call(t, "DELETE", u+"/logout", access, "")
		assert.Equal(t, 200, status, "the tab sat idle: the expired token still names its session")
		assert.Equal(t, msg("Logged out"), body)
		status, body, _ = call(t, "POST", u+"/refresh", refresh, "")
		assert.Equal(t, 401, status)
		assert.Equal(t, msg("Token has been revoked"), body)
	})
	t.Run("with the refresh token", func(t *testing.T) {
		access, refresh := login(t, u, "cy@example.com")
		status, body, _ := call(t, "DELETE", u+"/logout", refresh, "")
		assert.Equal(t, 200, status, body)
		status, body, _ = call(t, "GET", u+"/private", access, "")
		assert.Equal(t, 401, status)
		assert.Equal(t, msg("Token has been revoked"), body)
	})
	t.Run("an old page's body is harmless", func(t *testing.T) {
		access, refresh := login(t, u, "dee@example.com")
		status, body, _ := call(t, "DELETE", u+"/logout", access, `{"refresh_token":"`+refresh+`"}`)
		assert.Equal(t, 200, status, body)
		status, body, _ = call(t, "POST", u+"/refresh", refresh, "")
		assert.Equal(t, 401, status)
		assert.Equal(t, msg("Token has been revoked"), body)
	})
	t.Run("a token that is not ours ends nothing", func(t *testing.T) {
		access, _ := login(t, u, "eve@example.com")
		status, body, _ := call(t, "DELETE", u+"/logout", "not.a.token", "")
		assert.Equal(t, 422, status)
		assert.Equal(t, msg("Invalid header string: must be a json object"), body)
		forged := access[:strings.LastIndexByte(access, '.')+1] + "AAAA"
		status, body, _ = call(t, "DELETE", u+"/logout", forged, "")
		assert.Equal(t, 422, status)
		assert.Equal(t, msg("Signature verification failed"), body)
		status, body, _ = call(t, "GET", u+"/private", access, "")
		assert.Equal(t, 200, status, "the session goes on: %v", body)
	})
	t.Run("without a token", func(t *testing.T) {
		status, body, _ := call(t, "DELETE", u+"/logout", "", "")
		assert.Equal(t, 200, status, "nothing to end")
		assert.Equal(t, msg("Logged out"), body)
	})
}

// relogin logs an existing user in again (another device) and returns the
// access token.
func relogin(t *testing.T, u, email string, headers ...string) string {
	t.Helper()
	status, body, _ := call(t, "POST", u+"/token", "", `{"email":"`+email+`","password":"correct horse"}`, headers...)
	require.Equal(t, 200, status, body)
	return body["access_token"].(string)
}

// session logs an existing user in from a device (its User-Agent) and
// returns the tokens of the new session.
func session(t *testing.T, u, email, agent string) (access, refresh string) {
	t.Helper()
	status, body, _ := call(t, "POST", u+"/token", "", `{"email":"`+email+`","password":"correct horse"}`, "User-Agent", agent)
	require.Equal(t, 200, status, body)
	return body["access_token"].(string), body["refresh_token"].(string)
}

// sessions lists the sessions of token's user, as GET /sessions shows
// them.
func sessions(t *testing.T, u, token string) []map[string]any {
	t.Helper()
	status, body, _ := call(t, "GET", u+"/sessions", token, "")
	require.Equal(t, 200, status, body)
	require.Len(t, body, 1, "only the list: %v", body)
	var list []map[string]any
	for _, s := range body["sessions"].([]any) {
		list = append(list, s.(map[string]any))
	}
	return list
}

// signup creates a user with the password "correct horse".
func signup(t *testing.T, u, email string) {
	t.Helper()
	status, body, _ := call(t, "POST", u+"/signup", "", `{"email":"`+email+`","password":"correct horse"}`)
	require.Equal(t, 201, status, body)
}

// GET /sessions lists the user's logins, oldest first, with the device
// each came from, marking the one making the request; DELETE
// /sessions/:id signs one out, and only one of the user's own.
func TestSessions(t *testing.T) {
	srv, _ := startApp(t)
	u := srv.URL
	signup(t, u, "ann@example.com")
	signup(t, u, "bob@example.com")
	before := time.Now().Add(-time.Second)
	phone, _ := session(t, u, "ann@example.com", "Phone/1.0")
	laptop, laptopRefresh := session(t, u, "ann@example.com", "Laptop/2.0")
	bob, _ := session(t, u, "bob@example.com", "Bob's/3.0")

	list := sessions(t, u, phone)
	require.Len(t, list, 2)
	for i, agent := range []string{"Phone/1.0", "Laptop/2.0"} {
		s := list[i]
		assert.Equal(t, agent, s["user_agent"])
		assert.Equal(t, "127.0.0.1", s["client_ip"])
		assert.Equal(t, i == 0, s["current"], "the phone is making the request: %v", s)
		assert.Nil(t, s["renewed"], "never refreshed")
		assert.Regexp(t, `^[0-9a-f-]{36}$`, s["id"])
		created, err := time.Parse(time.RFC3339, s["created"].(string))
		require.NoError(t, err)
		assert.WithinRange(t, created, before, time.Now())
		expires, err := time.Parse(time.RFC3339, s["expires"].(string))
		require.NoError(t, err)
		assert.True(t, expires.After(created.Add(24*time.Hour)), "a refresh token's lifetime: %v", s)
		assert.Len(t, s, 7, "nothing else: %v", s)
	}
	phoneID, laptopID := list[0]["id"].(string), list[1]["id"].(string)

	// A refresh renews the laptop's session, which stays the same one.
	status, body, _ := call(t, "POST", u+"/refresh", laptopRefresh, "")
	require.Equal(t, 200, status, body)
	refreshed := body["access_token"].(string)
	list = sessions(t, u, refreshed)
	require.Len(t, list, 2)
	assert.Equal(t, laptopID, list[1]["id"])
	assert.Equal(t, true, list[1]["current"], "the refreshed token is of the laptop's session")
	assert.NotNil(t, list[1]["renewed"])
	assert.Nil(t, list[0]["renewed"])

	bobList := sessions(t, u, bob)
	require.Len(t, bobList, 1, "Bob sees his own only")
	bobID := bobList[0]["id"].(string)
	assert.Equal(t, "Bob's/3.0", bobList[0]["user_agent"])

	for _, id := range []string{bobID, "01000000-0000-7000-8000-000000000000", "not-an-id"} {
		status, body, _ = call(t, "DELETE", u+"/sessions/"+id, phone, "")
		assert.Equal(t, 404, status, id)
		assert.Equal(t, msg("No such session"), body, id)
	}
	status, body, _ = call(t, "GET", u+"/private", bob, "")
	assert.Equal(t, 200, status, "Ann cannot end Bob's session: %v", body)

	status, body, _ = call(t, "DELETE", u+"/sessions/"+laptopID, phone, "")
	require.Equal(t, 200, status, body)
	assert.Equal(t, msg("Session ended"), body)
	for name, tok := range map[string]string{"laptop": laptop, "refreshed": refreshed} {
		status, body, _ = call(t, "GET", u+"/private", tok, "")
		assert.Equal(t, 401, status, name)
		assert.Equal(t, msg("Token has been revoked"), body, name)
	}
	status, body, _ = call(t, "POST", u+"/refresh", laptopRefresh, "")
	assert.Equal(t, 401, status, "no new access token for the ended session")
	assert.Equal(t, msg("Token has been revoked"), body)
	list = sessions(t, u, phone)
	require.Len(t, list, 1)
	assert.Equal(t, phoneID, list[0]["id"])
	status, body, _ = call(t, "DELETE", u+"/sessions/"+laptopID, phone, "")
	assert.Equal(t, 404, status, "ended already")
	assert.Equal(t, msg("No such session"), body)

	// The phone may end its own session: a logout.
	status, body, _ = call(t, "DELETE", u+"/sessions/"+phoneID, phone, "")
	assert.Equal(t, 200, status, body)
	status, body, _ = call(t, "GET", u+"/sessions", phone, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Token has been revoked"), body)

	for _, tc := range []struct{ method, path string }{{"GET", "/sessions"}, {"DELETE", "/sessions/" + bobID}, {"DELETE", "/sessions"}} {
		status, body, _ = call(t, tc.method, u+tc.path, "", "")
		assert.Equal(t, 401, status, tc.path)
		assert.Equal(t, msg("Missing Authorization Header"), body, tc.path)
	}
	status, _, _ = call(t, "GET", u+"/private", bob, "")
	assert.Equal(t, 200, status, "Bob was never touched")
}

// DELETE /sessions signs the user out of every device, this one too; a
// login right after works.
func TestSignOutEverywhere(t *testing.T) {
	srv, _ := startApp(t)
	u := srv.URL
	signup(t, u, "ann@example.com")
	phone, phoneRefresh := session(t, u, "ann@example.com", "Phone/1.0")
	laptop, laptopRefresh := session(t, u, "ann@example.com", "Laptop/2.0")
	bob, _ := login(t, u, "bob@example.com")

	status, body, _ := call(t, "DELETE", u+"/sessions", phone, "")
	require.Equal(t, 200, status, body)
	assert.Equal(t, msg("Signed out everywhere"), body)
	for name, tok := range map[string]string{"phone": phone, "laptop": laptop} {
		status, body, _ = call(t, "GET", u+"/private", tok, "")
		assert.Equal(t, 401, status, name)
		assert.Equal(t, msg("Token has been revoked"), body, name)
	}
	for name, tok := range map[string]string{"phone": phoneRefresh, "laptop": laptopRefresh} {
		status, body, _ = call(t, "POST", u+"/refresh", tok, "")
		assert.Equal(t, 401, status, name)
		assert.Equal(t, msg("Token has been revoked"), body, name)
	}
	status, body, _ = call(t, "GET", u+"/private", bob, "")
	assert.Equal(t, 200, status, "another user goes on: %v", body)

	again, _ := session(t, u, "ann@example.com", "Phone/1.0")
	list := sessions(t, u, again)
	require.Len(t, list, 1, "only the login made after")
	assert.Equal(t, true, list[0]["current"])
}

func TestSplitOrigins(t *testing.T) {
	assert.Equal(t, []string{"http://a.example", "http://b.example"}, splitList(" http://a.example, http://b.example ,,"))
	assert.Empty(t, splitList(""))
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

// users counts the rows of the users table.
func users(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM users`).Scan(&n))
	return n
}

// bcrypt reads 72 bytes: login refuses longer passwords as signup does,
// or the password followed by anything would log in.
func TestLoginPasswordLimit(t *testing.T) {
	srv, _ := startApp(t)
	pw := strings.Repeat("p", maxPassword)
	status, body, _ := call(t, "POST", srv.URL+"/signup", "", `{"email":"long@example.com","password":"`+pw+`"}`)
	require.Equal(t, 201, status, body)
	status, body, _ = call(t, "POST", srv.URL+"/token", "", `{"email":"long@example.com","password":"`+pw+`anything"}`)
	assert.Equal(t, 400, status)
	assert.Equal(t, msg("Password too long (72 bytes at most)"), body, "no tokens for a password with a suffix")
	status, body, _ = call(t, "POST", srv.URL+"/token", "", `{"email":"long@example.com","password":"`+pw+`"}`)
	assert.Equal(t, 200, status, body)
	assert.NotEmpty(t, body["access_token"])
}

// Deleting the account wants a token from a password login, not one from
// /refresh.
func TestDeleteAccountNeedsFreshToken(t *testing.T) {
	srv, db := startApp(t)
	u := srv.URL
	access, refresh := login(t, u, "fay@example.com")
	status, body, _ := call(t, "POST", u+"/refresh", refresh, "")
	require.Equal(t, 200, status, body)
	refreshed := body["access_token"].(string)

	status, body, _ = call(t, "DELETE", u+"/account", refreshed, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Fresh token required"), body)
	assert.Equal(t, 1, users(t, db), "the handler did not run: the account is still there")
	status, _, _ = call(t, "GET", u+"/private", refreshed, "")
	assert.Equal(t, 200, status, "the refreshed token is good for everything else")

	status, body, _ = call(t, "DELETE", u+"/account", "", "")
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Missing Authorization Header"), body)
	assert.Equal(t, 1, users(t, db))

	status, body, _ = call(t, "DELETE", u+"/account", access, "")
	assert.Equal(t, 200, status, body)
	assert.Equal(t, msg("Account deleted"), body)
	assert.Zero(t, users(t, db))
}

// Deleting the account signs out every device: the refresh token of
// another login no longer mints access tokens (it did: they loaded nobody,
// but /refresh answered 200).
func TestDeleteAccountSignsOutEverywhere(t *testing.T) {
	srv, _ := startApp(t)
	u := srv.URL
	signup(t, u, "fay@example.com")
	phone, phoneRefresh := session(t, u, "fay@example.com", "Phone/1.0")
	laptop, laptopRefresh := session(t, u, "fay@example.com", "Laptop/2.0")
	bob, _ := login(t, u, "bob@example.com")

	status, body, _ := call(t, "DELETE", u+"/account", phone, "")
	require.Equal(t, 200, status, body)
	assert.Equal(t, msg("Account deleted"), body)
	for name, tok := range map[string]string{"phone": phoneRefresh, "laptop": laptopRefresh} {
		status, body, _ = call(t, "POST", u+"/refresh", tok, "")
		assert.Equal(t, 401, status, name)
		assert.Equal(t, msg("Token has been revoked"), body, name)
	}
	status, body, _ = call(t, "GET", u+"/private", laptop, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Token has been revoked"), body)
	status, _, _ = call(t, "GET", u+"/private", bob, "")
	assert.Equal(t, 200, status, "another user goes on")
}

// POST /password wants the old password and a fresh token; it stores the
// new one, signs out every device, and logs this one in again.
func TestChangePassword(t *testing.T) {
	srv, db := startApp(t)
	u := srv.URL
	signup(t, u, "gil@example.com")
	phone, phoneRefresh := session(t, u, "gil@example.com", "Phone/1.0")
	laptop, laptopRefresh := session(t, u, "gil@example.com", "Laptop/2.0")
	bob, _ := login(t, u, "bob@example.com")
	status, body, _ := call(t, "POST", u+"/refresh", phoneRefresh, "")
	require.Equal(t, 200, status, body)
	refreshed := body["access_token"].(string)
	hash := func() string {
		var h string
		require.NoError(t, db.QueryRow(`SELECT password_hash FROM users WHERE email = ?`, "gil@example.com").Scan(&h))
		return h
	}
	oldHash := hash()

	for _, tc := range []struct {
		name, token, body string
		status            int
		msg               string
	}{
		{"no token", "", `{"old_password":"correct horse","new_password":"battery staple"}`, 401, "Missing Authorization Header"},
		{"a refreshed token", refreshed, `{"old_password":"correct horse","new_password":"battery staple"}`, 401, "Fresh token required"},
		{"not JSON", phone, `old=correct+horse`, 400, "Missing JSON in request"},
		{"no new password", phone, `{"old_password":"correct horse"}`, 400, "Missing old or new password"},
		{"no old password", phone, `{"new_password":"battery staple"}`, 400, "Missing old or new password"},
		{"too short", phone, `{"old_password":"correct horse","new_password":"short"}`, 400, "Password too short (8 characters at least)"},
		{"too long", phone, `{"old_password":"correct horse","new_password":"` + strings.Repeat("p", 73) + `"}`, 400, "Password too long (72 bytes at most)"},
		{"wrong old password", phone, `{"old_password":"wrong horse","new_password":"battery staple"}`, 401, "Wrong password"},
		{"the old password and more", phone, `{"old_password":"correct horse` + strings.Repeat("x", 72) + `","new_password":"battery staple"}`, 401, "Wrong password"},
	} {
		status, body, _ = call(t, "POST", u+"/password", tc.token, tc.body)
		assert.Equal(t, tc.status, status, tc.name)
		assert.Equal(t, msg(tc.msg), body, tc.name)
	}
	assert.Equal(t, oldHash, hash(), "nothing changed")
	status, _, _ = call(t, "GET", u+"/private", laptop, "")
	assert.Equal(t, 200, status, "no device signed out")

	status, body, _ = call(t, "POST", u+"/password", phone, `{"old_password":"correct horse","new_password":"battery staple"}`, "User-Agent", "Phone/1.0")
	require.Equal(t, 200, status, body)
	require.Len(t, body, 2, "a token pair: %v", body)
	access, refresh := body["access_token"].(string), body["refresh_token"].(string)
	assert.NotEqual(t, oldHash, hash())
	assert.Regexp(t, `^\$2[ab]\$10\$`, hash())

	// Every device is signed out, this one's old tokens too...
	for name, tok := range map[string]string{"phone": phone, "laptop": laptop, "refreshed": refreshed} {
		status, body, _ = call(t, "GET", u+"/private", tok, "")
		assert.Equal(t, 401, status, name)
		assert.Equal(t, msg("Token has been revoked"), body, name)
	}
	for name, tok := range map[string]string{"phone": phoneRefresh, "laptop": laptopRefresh} {
		status, body, _ = call(t, "POST", u+"/refresh", tok, "")
		assert.Equal(t, 401, status, name)
		assert.Equal(t, msg("Token has been revoked"), body, name)
	}
	// ...and this one is logged in again, with a fresh login of its own.
	list := sessions(t, u, access)
	require.Len(t, list, 1)
	assert.Equal(t, "Phone/1.0", list[0]["user_agent"])
	assert.Equal(t, true, list[0]["current"])
	status, body, _ = call(t, "POST", u+"/refresh", refresh, "")
	assert.Equal(t, 200, status, body)
	status, body, _ = call(t, "POST", u+"/password", access, `{"old_password":"battery staple","new_password":"correct horse 2"}`)
	assert.Equal(t, 200, status, "the new access token is fresh: %v", body)

	status, body, _ = call(t, "POST", u+"/token", "", `{"email":"gil@example.com","password":"battery staple"}`)
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Bad email or password"), body)
	status, body, _ = call(t, "POST", u+"/token", "", `{"email":"gil@example.com","password":"correct horse 2"}`)
	assert.Equal(t, 200, status, body)
	status, _, _ = call(t, "GET", u+"/private", bob, "")
	assert.Equal(t, 200, status, "another user goes on")
}

// A stolen fresh token is no way to guess the old password: a user has a
// few attempts, then one every 12 seconds, wherever they come from.
func TestPasswordAttemptLimit(t *testing.T) {
	clock := time.Now()
	r, db, err := newApp(Config{Secret: testSecret, Now: func() time.Time { return clock }})
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	t.Cleanup(func() { srv.Close(); _ = db.Close() })
	u := srv.URL
	access, _ := login(t, u, "hal@example.com")
	bob, _ := login(t, u, "bob@example.com")

	for i := range 5 {
		status, body, _ := call(t, "POST", u+"/password", access, `{"old_password":"guess `+strconv.Itoa(i)+`","new_password":"battery staple"}`)
		require.Equal(t, 401, status, "attempt %d", i+1)
		require.Equal(t, msg("Wrong password"), body)
	}
	good := `{"old_password":"correct horse","new_password":"battery staple"}`
	status, body, h := call(t, "POST", u+"/password", access, good, "X-Forwarded-For", "203.0.113.7")
	assert.Equal(t, 429, status)
	assert.Equal(t, msg("Too many password attempts, try again later"), body, "not even the right password")
	assert.Equal(t, "12", h.Get("Retry-After"))
	status, body, _ = call(t, "POST", u+"/password", bob, `{"old_password":"correct horse","new_password":"battery staple"}`)
	assert.Equal(t, 200, status, "per user: Bob has his own attempts: %v", body)

	clock = clock.Add(12 * time.Second)
	status, body, _ = call(t, "POST", u+"/password", access, good)
	assert.Equal(t, 200, status, body)
}

// /token allows a few attempts per client, then one every 12 seconds; a
// made-up X-Forwarded-For does not make a new client.
func TestLoginAttemptLimit(t *testing.T) {
	clock := time.Now()
	r, db, err := newApp(Config{Secret: testSecret, Now: func() time.Time { return clock }})
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	t.Cleanup(func() { srv.Close(); _ = db.Close() })
	u := srv.URL + "/token"
	status, body, _ := call(t, "POST", srv.URL+"/signup", "", `{"email":"gus@example.com","password":"correct horse"}`)
	require.Equal(t, 201, status, body)

	for i := range 5 {
		status, body, _ = call(t, "POST", u, "", `{"email":"gus@example.com","password":"guess `+strconv.Itoa(i)+`"}`)
		require.Equal(t, 401, status, "attempt %d", i+1)
		require.Equal(t, msg("Bad email or password"), body)
	}
	good := `{"email":"gus@example.com","password":"correct horse"}`
	status, body, h := call(t, "POST", u, "", good)
	assert.Equal(t, 429, status)
	assert.Equal(t, msg("Too many login attempts, try again later"), body, "no tokens, even for the right password")
	assert.Equal(t, "12", h.Get("Retry-After"))
	status, body, _ = call(t, "POST", u, "", good, "X-Forwarded-For", "203.0.113.7")
	assert.Equal(t, 429, status, "a made-up client address changes nothing")
	assert.Equal(t, msg("Too many login attempts, try again later"), body)

	clock = clock.Add(12 * time.Second)
	status, body, _ = call(t, "POST", u, "", good)
	assert.Equal(t, 200, status, body)
	assert.NotEmpty(t, body["access_token"])
	status, _, _ = call(t, "POST", u, "", good)
	assert.Equal(t, 429, status, "one attempt per 12 seconds after the burst")

	// Signup is not limited by /token's budget.
	status, body, _ = call(t, "POST", srv.URL+"/signup", "", `{"email":"hal@example.com","password":"correct horse"}`)
	assert.Equal(t, 201, status, body)
}

func TestLoginLimiterIsBounded(t *testing.T) {
	clock := time.Now()
	l := newLoginLimiter(2, time.Minute, func() time.Time { return clock })
	for i := range maxClients + 10 {
		ok, _ := l.allow("client-" + strconv.Itoa(i))
		require.True(t, ok)
	}
	assert.LessOrEqual(t, len(l.clients), maxClients)

	// One IPv6 client holds a whole /64.
	assert.Equal(t, clientKey("2001:db8::1"), clientKey("2001:db8::ffff:2"))
	assert.NotEqual(t, clientKey("2001:db8::1"), clientKey("2001:db8:0:1::1"))
	assert.Equal(t, "192.0.2.1", clientKey("192.0.2.1"))
	ok, _ := l.allow(clientKey("2001:db8::1"))
	require.True(t, ok)
	ok, _ = l.allow(clientKey("2001:db8::2"))
	require.True(t, ok)
	ok, wait := l.allow(clientKey("2001:db8::3"))
	assert.False(t, ok)
	assert.Equal(t, time.Minute, wait, "one attempt per minute after the burst")
}

// reopen starts the app on the database file, as a restart would, with
// the same secret.
func reopen(t *testing.T, path string) *httptest.Server {
	t.Helper()
	r, db, err := newApp(Config{DatabasePath: path, Secret: testSecret})
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	t.Cleanup(func() { srv.Close(); _ = db.Close() })
	return srv
}

// A logout outlives a restart: the revoked tokens are in the database
// file, not in the process.
func TestLogoutSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.db")
	first := reopen(t, path)
	access, refresh := login(t, first.URL, "ivy@example.com")
	status, body, _ := call(t, "POST", first.URL+"/token", "", `{"email":"ivy@example.com","password":"correct horse"}`)
	require.Equal(t, 200, status, body)
	otherAccess := body["access_token"].(string) // another device, not logged out
	status, body, _ = call(t, "DELETE", first.URL+"/logout", access, "")
	require.Equal(t, 200, status, body)
	first.Close()

	second := reopen(t, path)
	status, body, _ = call(t, "POST", second.URL+"/refresh", refresh, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Token has been revoked"), body)
	status, body, _ = call(t, "GET", second.URL+"/private", access, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Token has been revoked"), body)
	status, body, _ = call(t, "GET", second.URL+"/private", otherAccess, "")
	assert.Equal(t, 200, status, "tokens never logged out still work: %v", body)
}

// A new user never gets a former user's ID, so the former user's tokens
// never load the new one: not after a restart on the same file, not with
// an in-memory database that starts over.
func TestIDsAreNeverReused(t *testing.T) {
	t.Run("database file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "users.db")
		first := reopen(t, path)
		access, _ := login(t, first.URL, "jo@example.com")
		status, body, _ := call(t, "GET", first.URL+"/private", access, "")
		require.Equal(t, 200, status, body)
		oldID := body["id"].(string)
		status, body, _ = call(t, "DELETE", first.URL+"/account", access, "")
		require.Equal(t, 200, status, body)
		first.Close()

		second := reopen(t, path)
		status, body, _ = call(t, "POST", second.URL+"/signup", "", `{"email":"kim@example.com","password":"correct horse"}`)
		require.Equal(t, 201, status, body)
		assert.NotEqual(t, oldID, body["id"])
		// The deletion ended Jo's sessions, which the file remembers; and
		// were it forgotten, Jo's ID is not Kim's.
		status, body, _ = call(t, "GET", second.URL+"/private", access, "")
		assert.Equal(t, 401, status)
		assert.Equal(t, msg("Token has been revoked"), body, "not Kim's account")
	})
	t.Run("in-memory database", func(t *testing.T) {
		first, _ := startApp(t)
		access, refresh := login(t, first.URL, "lee@example.com")
		status, body, _ := call(t, "GET", first.URL+"/private", access, "")
		require.Equal(t, 200, status, body)
		oldID := body["id"].(string)
		first.Close()

		second, _ := startApp(t) // a restart: the database starts empty, the secret is the same
		status, body, _ = call(t, "POST", second.URL+"/signup", "", `{"email":"max@example.com","password":"correct horse"}`)
		require.Equal(t, 201, status, body)
		assert.NotEqual(t, oldID, body["id"])
		for _, tc := range []struct{ method, path, token string }{
			{"GET", "/private", access}, {"DELETE", "/account", access}, {"POST", "/refresh", refresh},
		} {
			status, body, _ = call(t, tc.method, second.URL+tc.path, tc.token, "")
			if tc.path == "/refresh" {
				// /refresh does not load the user; the new access token it
				// makes loads nobody.
				require.Equal(t, 200, status, body)
				status, body, _ = call(t, "GET", second.URL+"/private", body["access_token"].(string), "")
			}
			assert.Equal(t, 401, status, tc.path)
			assert.Equal(t, msg("Error loading the user "+oldID), body, tc.path)
		}
	})
}

func TestSecretKey(t *testing.T) {
	var logged []string
	logf := func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }
	unset := func(string) string { return "" }
	a, b := secretKey(unset, logf), secretKey(unset, logf)
	assert.Len(t, a, 32)
	assert.NotEqual(t, a, b, "a new random secret per start")
	assert.NotEqual(t, []byte("example-only-secret-change-me-0123456789"), a, "never the old public secret")
	require.Len(t, logged, 2)
	assert.Contains(t, logged[0], "random secret")

	logged = nil
	set := func(k string) string { return map[string]string{"JWT_SECRET_KEY": "from-the-environment"}[k] }
	assert.Equal(t, []byte("from-the-environment"), secretKey(set, logf))
	assert.Empty(t, logged)
}

// main.go must stand alone, to be copied into a user's module: nothing
// from the repository's internal packages.
func TestMainStandsAlone(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ImportsOnly)
	require.NoError(t, err)
	for _, imp := range f.Imports {
		assert.NotContains(t, imp.Path.Value, "/internal/", "main.go imports %s", imp.Path.Value)
		assert.NotContains(t, imp.Path.Value, "_example/", "main.go imports %s", imp.Path.Value)
	}
}

// A database file from before random IDs is refused with a message, not
// half used.
func TestOldDatabaseFileIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL DEFAULT '', password_hash TEXT NOT NULL)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	_, _, err = newApp(Config{DatabasePath: path, Secret: testSecret})
	assert.ErrorContains(t, err, "comes from an older version of this example (no uid column): move the file away")
}
