package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testSecret is long enough for HS256.
var testSecret = []byte("test-secret-0123456789abcdef0123456789")

// answer is one response: status, JSON body and Set-Cookie headers.
type answer struct {
	status  int
	body    map[string]any
	lines   []string                // Set-Cookie, as sent
	cookies map[string]*http.Cookie // Set-Cookie, parsed, by name
}

func msg(text string) map[string]any { return map[string]any{"msg": text} }

// post sends a JSON POST through client, whose jar plays the browser's.
func post(t *testing.T, client *http.Client, target, body string, headers map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := answer{status: resp.StatusCode, lines: resp.Header.Values("Set-Cookie"), cookies: map[string]*http.Cookie{}}
	require.NoError(t, json.Unmarshal(data, &a.body), string(data))
	for _, line := range a.lines {
		c, err := http.ParseSetCookie(line)
		require.NoError(t, err, line)
		a.cookies[c.Name] = c
	}
	return a
}

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	r, err := newRouter(testSecret)
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func newBrowser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar}
}

// login logs browser in as test and returns the login answer.
func login(t *testing.T, browser *http.Client, base string) answer {
	t.Helper()
	a := post(t, browser, base+"/login", `{"username":"test","password":"test"}`, nil)
	require.Equal(t, 200, a.status)
	return a
}

// jarValue is the value browser would send to base+path for the cookie.
func jarValue(t *testing.T, browser *http.Client, base, path, name string) string {
	t.Helper()
	u, err := url.Parse(base + path)
	require.NoError(t, err)
	for _, c := range browser.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func TestPageIsServed(t *testing.T) {
	srv := newServer(t)
	resp, err := http.Get(srv.URL + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Contains(t, string(data), `<form id="login">`)
	assert.Contains(t, string(data), `"X-CSRF-TOKEN": cookie("csrf_access_token")`)
}

func TestLoginRefusesBadPasswords(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct {
		name, body string
		status     int
		msg        string
	}{
		{"wrong password", `{"username":"test","password":"nope"}`, 401, "Bad username or password"},
		{"unknown user", `{"username":"alice","password":"test"}`, 401, "Bad username or password"},
		{"not JSON", `username=test`, 400, "Missing JSON in request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := post(t, http.DefaultClient, srv.URL+"/login", tc.body, nil)
			assert.Equal(t, tc.status, a.status)
			assert.Equal(t, msg(tc.msg), a.body)
			assert.Empty(t, a.lines, "no cookies without a password")
		})
	}
}

// Login CSRF: a page on another site auto-submits a text/plain form whose
// body looks like JSON (the input's name holds the JSON, its value the
// tail), which a browser sends without a CORS preflight. Such a login must
// set no cookies, or the victim's browser is logged into the attacker's
// account.
func TestLoginNeedsJSONContentType(t *testing.T) {
	srv := newServer(t)
	notJSON := msg("Did not attempt to load JSON data because the request Content-Type was not 'application/json'.")
	for _, contentType := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
		t.Run(contentType, func(t *testing.T) {
			browser := newBrowser(t)
			a := post(t, browser, srv.URL+"/login", `{"username":"test","password":"test","x":"="}`,
				map[string]string{"Content-Type": contentType})
			assert.Equal(t, 415, a.status)
			assert.Equal(t, notJSON, a.body)
			assert.Empty(t, a.lines, "no Set-Cookie")
			assert.Empty(t, jarValue(t, browser, srv.URL, "/", "access_token_cookie"))
		})
	}

	a := post(t, http.DefaultClient, srv.URL+"/login", `{"username":"test","password":"test"}`,
		map[string]string{"Content-Type": "application/json; charset=utf-8"})
	assert.Equal(t, 200, a.status, "a charset parameter is fine")
	assert.Equal(t, msg("login successful"), a.body)
	assert.Len(t, a.lines, 4)
}

func TestLoginSetsCookies(t *testing.T) {
	srv := newServer(t)
	a := login(t, http.DefaultClient, srv.URL)
	assert.Equal(t, msg("login successful"), a.body)
	require.Len(t, a.lines, 4, "a JWT cookie and a CSRF cookie per token kind")

	for _, tc := range []struct {
		name, path string
		httpOnly   bool
	}{
		{"access_token_cookie", "/", true},
		{"csrf_access_token", "/", false},
		{"refresh_token_cookie", "/refresh", true},
		{"csrf_refresh_token", "/", false},
	} {
		c := a.cookies[tc.name]
		require.NotNil(t, c, tc.name)
		assert.NotEmpty(t, c.Value, tc.name)
		assert.Equal(t, tc.path, c.Path, tc.name)
		assert.Equal(t, tc.httpOnly, c.HttpOnly, "%s: only the CSRF cookies are readable by JavaScript", tc.name)
		assert.False(t, c.Secure, "%s: CookieConfig.Insecure, for plain HTTP on localhost", tc.name)
		assert.Equal(t, http.SameSiteLaxMode, c.SameSite, tc.name)
		assert.Zero(t, c.MaxAge, "%s: a session cookie", tc.name)
		assert.True(t, c.Expires.IsZero(), "%s: a session cookie", tc.name)
	}

	// Each CSRF cookie holds its token's csrf claim.
	m, err := ginjwt.New(ginjwt.WithSecretKey(testSecret))
	require.NoError(t, err)
	for jwtCookie, csrfCookie := range map[string]string{
		"access_token_cookie": "csrf_access_token", "refresh_token_cookie": "csrf_refresh_token",
	} {
		csrf, err := m.GetCSRFToken(a.cookies[jwtCookie].Value)
		require.NoError(t, err, jwtCookie)
		assert.Equal(t, csrf, a.cookies[csrfCookie].Value, csrfCookie)
	}
	assert.NotEqual(t, a.cookies["csrf_access_token"].Value, a.cookies["csrf_refresh_token"].Value)
}

func TestEchoNeedsTheCSRFValue(t *testing.T) {
	srv := newServer(t)
	browser := newBrowser(t)
	login(t, browser, srv.URL)
	csrf := jarValue(t, browser, srv.URL, "/", "csrf_access_token")
	require.NotEmpty(t, csrf)
	echo := srv.URL + "/api/echo"

	a := post(t, browser, echo, `{"hello":"world"}`, nil)
	assert.Equal(t, 401, a.status)
	assert.Equal(t, msg("Missing CSRF token"), a.body, "the cookie alone is not enough on POST")

	a = post(t, browser, echo, `{"hello":"world"}`, map[string]string{"X-CSRF-TOKEN": "forged"})
	assert.Equal(t, 401, a.status)
	assert.Equal(t, msg("CSRF double submit tokens do not match"), a.body)

	a = post(t, browser, echo, `{"hello":"world"}`, map[string]string{"X-CSRF-TOKEN": jarValue(t, browser, srv.URL, "/", "csrf_refresh_token")})
	assert.Equal(t, 401, a.status, "the refresh token's CSRF value does not fit the access token")

	a = post(t, browser, echo, `{"hello":"world"}`, map[string]string{"X-CSRF-TOKEN": csrf})
	assert.Equal(t, 200, a.status)
	assert.Equal(t, map[string]any{"logged_in_as": "test", "echo": map[string]any{"hello": "world"}}, a.body)
	assert.Empty(t, a.lines, "a new token is nowhere near its last 30 minutes: no implicit refresh")

	a = post(t, http.DefaultClient, echo, `{}`, map[string]string{"X-CSRF-TOKEN": csrf})
	assert.Equal(t, 401, a.status)
	assert.Equal(t, msg(`Missing cookie "access_token_cookie"`), a.body, "the header alone is not enough either")
}

func TestLogoutExpiresCookies(t *testing.T) {
	srv := newServer(t)
	browser := newBrowser(t)
	login(t, browser, srv.URL)
	csrf := jarValue(t, browser, srv.URL, "/", "csrf_access_token")

	a := post(t, browser, srv.URL+"/logout", `{}`, nil)
	require.Equal(t, 200, a.status)
	assert.Equal(t, msg("logout successful"), a.body)
	require.Len(t, a.lines, 4)
	for name, path := range map[string]string{
		"access_token_cookie": "/", "csrf_access_token": "/", "refresh_token_cookie": "/refresh", "csrf_refresh_token": "/",
	} {
		c := a.cookies[name]
		require.NotNil(t, c, name)
		assert.Empty(t, c.Value, name)
		assert.Equal(t, path, c.Path, "%s: the Path it was set with, or the browser keeps the old one", name)
		assert.True(t, c.Expires.Before(time.Unix(1, 0)), "%s expires in 1970: %v", name, c.Expires)
	}
	assert.Empty(t, jarValue(t, browser, srv.URL, "/", "access_token_cookie"))
	assert.Empty(t, jarValue(t, browser, srv.URL, "/refresh", "refresh_token_cookie"))

	a = post(t, browser, srv.URL+"/api/echo", `{}`, map[string]string{"X-CSRF-TOKEN": csrf})
	assert.Equal(t, 401, a.status)
	assert.Equal(t, msg(`Missing cookie "access_token_cookie"`), a.body)
}

func TestRefreshCookie(t *testing.T) {
	srv := newServer(t)
	browser := newBrowser(t)
	login(t, browser, srv.URL)
	assert.Empty(t, jarValue(t, browser, srv.URL, "/api/echo", "refresh_token_cookie"),
		"the refresh token only travels to /refresh")

	a := post(t, browser, srv.URL+"/refresh", `{}`, map[string]string{"X-CSRF-TOKEN": jarValue(t, browser, srv.URL, "/", "csrf_access_token")})
	assert.Equal(t, 401, a.status)
	assert.Equal(t, msg("CSRF double submit tokens do not match"), a.body, "the refresh route wants csrf_refresh_token")

	a = post(t, browser, srv.URL+"/refresh", `{}`, map[string]string{"X-CSRF-TOKEN": jarValue(t, browser, srv.URL, "/", "csrf_refresh_token")})
	assert.Equal(t, 200, a.status)
	assert.Equal(t, msg("refresh successful"), a.body)
	assert.Contains(t, a.cookies, "access_token_cookie")
	assert.Contains(t, a.cookies, "csrf_access_token")

	a = post(t, browser, srv.URL+"/api/echo", `{}`, map[string]string{"X-CSRF-TOKEN": jarValue(t, browser, srv.URL, "/", "csrf_access_token")})
	assert.Equal(t, 200, a.status, "the new access cookie and its new CSRF value work together")
}

// An access cookie in its last 30 minutes is replaced on the way through a
// guard, CSRF cookie included.
func TestImplicitRefresh(t *testing.T) {
	srv := newServer(t)
	// A Manager with the server's secret mints a token that is about to
	// expire, as the server's own would be after 50 minutes.
	m, err := ginjwt.New(ginjwt.WithSecretKey(testSecret))
	require.NoError(t, err)
	old, err := m.CreateAccessToken("test", ginjwt.ExpiresIn(10*time.Minute))
	require.NoError(t, err)
	oldCSRF, err := m.GetCSRFToken(old)
	require.NoError(t, err)

	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/echo", strings.NewReader(`{}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-TOKEN", oldCSRF)
	req.AddCookie(&http.Cookie{Name: "access_token_cookie", Value: old})
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)

	set := map[string]*http.Cookie{}
	for _, c := range resp.Cookies() {
		set[c.Name] = c
	}
	require.Contains(t, set, "access_token_cookie")
	require.Contains(t, set, "csrf_access_token")
	renewed, err := m.DecodeToken(set["access_token_cookie"].Value)
	require.NoError(t, err)
	assert.Equal(t, "test", renewed.Claims.Identity)
	assert.WithinDuration(t, time.Now().Add(time.Hour), renewed.Claims.ExpiresAt(), time.Minute, "a full hour again")
	assert.Equal(t, renewed.Claims.CSRF, set["csrf_access_token"].Value, "the page reads the new CSRF value")
	assert.NotEqual(t, oldCSRF, set["csrf_access_token"].Value)
}

// Without JWT_SECRET_KEY the server makes its own random secret: never the
// fallback that the example's source used to publish.
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
	assert.NotEqual(t, []byte("example-only-secret-change-me-0123456789"), first)
	assert.Contains(t, logged.String(), "JWT_SECRET_KEY is not set: using a random secret, so tokens will not survive a restart")
}

func TestShortSecretIsRefused(t *testing.T) {
	_, err := newRouter([]byte("super-secret"))
	assert.ErrorContains(t, err, "at least 32 bytes")
}
