package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ginjwt/ginjwt/_example/internal/demotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// request is one call to the example server; a client with a cookie jar
// plays the browser.
type request struct {
	method, path string
	headers      map[string]string
	body         string // sent as JSON when not empty
}

func (r request) send(t *testing.T, client *http.Client, base string) (int, map[string]any) {
	t.Helper()
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, base+r.path, strings.NewReader(r.body))
	require.NoError(t, err)
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	return demotest.Do(t, client, req)
}

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	r, err := newRouter(demotest.Secret)
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

// newBrowser returns a client that keeps cookies, as a browser does.
func newBrowser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar}
}

// loginWithoutCookies returns an access token from the JSON answer.
func loginWithoutCookies(t *testing.T, base string) string {
	t.Helper()
	status, body := request{method: "POST", path: "/login_without_cookies"}.send(t, http.DefaultClient, base)
	require.Equal(t, 200, status)
	token, _ := body["access_token"].(string)
	require.NotEmpty(t, token)
	return token
}

// loginWithCookies logs a new browser in and returns it with the CSRF
// value it can read from the csrf_access_token cookie.
func loginWithCookies(t *testing.T, base string) (*http.Client, string) {
	t.Helper()
	browser := newBrowser(t)
	status, body := request{method: "POST", path: "/login_with_cookies", body: `{"username":"test","password":"test"}`}.send(t, browser, base)
	require.Equal(t, 200, status, body)
	require.Equal(t, demotest.Msg("login successful"), body)
	return browser, cookieValue(t, browser, base, "csrf_access_token")
}

func cookieValue(t *testing.T, client *http.Client, base, name string) string {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	for _, c := range client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func TestEveryLocation(t *testing.T) {
	srv := newServer(t)
	token := loginWithoutCookies(t, srv.URL)
	browser, csrf := loginWithCookies(t, srv.URL)
	require.NotEmpty(t, csrf)

	for _, tc := range []struct {
		name     string
		client   *http.Client
		req      request
		location string
	}{
		{"Authorization header", http.DefaultClient,
			request{path: "/protected", headers: map[string]string{"Authorization": "Bearer " + token}}, "headers"},
		{"cookie on GET needs no CSRF value", browser,
			request{path: "/protected"}, "cookies"},
		{"cookie on POST with the CSRF value", browser,
			request{method: "POST", path: "/protected", headers: map[string]string{"X-CSRF-TOKEN": csrf}}, "cookies"},
		{"JSON body", http.DefaultClient,
			request{method: "POST", path: "/protected", body: `{"access_token":"` + token + `"}`}, "json"},
		{"query string", http.DefaultClient,
			request{path: "/protected?jwt=" + token}, "query_string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := tc.req.send(t, tc.client, srv.URL)
			assert.Equal(t, 200, status)
			assert.Equal(t, map[string]any{"foo": "bar", "location": tc.location}, body)
		})
	}
}

func TestMissingTokenNamesEveryLocation(t *testing.T) {
	srv := newServer(t)

	status, body := request{path: "/protected"}.send(t, http.DefaultClient, srv.URL)
	assert.Equal(t, 401, status)
	assert.Equal(t, demotest.Msg(`Missing JWT in headers, cookies, json or query_string `+
		`(Missing Authorization Header; Missing cookie "access_token_cookie"; `+
		`Invalid content-type. Must be application/json.; Missing 'jwt' query paramater)`), body)

	status, body = request{method: "POST", path: "/protected", body: `{"foo":"bar"}`}.send(t, http.DefaultClient, srv.URL)
	assert.Equal(t, 401, status)
	assert.Equal(t, demotest.Msg(`Missing JWT in headers, cookies, json or query_string `+
		`(Missing Authorization Header; Missing cookie "access_token_cookie"; `+
		`Missing "access_token" key in json data.; Missing 'jwt' query paramater)`), body)
}

func TestCookieNeedsCSRFValueOnPost(t *testing.T) {
	srv := newServer(t)
	browser, csrf := loginWithCookies(t, srv.URL)

	// A cookie is a token found: the guard does not fall through to the
	// next location, it answers for the cookie.
	status, body := request{method: "POST", path: "/protected"}.send(t, browser, srv.URL)
	assert.Equal(t, 401, status)
	assert.Equal(t, demotest.Msg("Missing CSRF token"), body)

	status, body = request{method: "POST", path: "/protected", headers: map[string]string{"X-CSRF-TOKEN": csrf + "x"}}.send(t, browser, srv.URL)
	assert.Equal(t, 401, status)
	assert.Equal(t, demotest.Msg("CSRF double submit tokens do not match"), body)
}

// Login CSRF: another site can make a browser post to /login_with_cookies
// without a body, or with a text/plain form body that looks like JSON. None
// of these may set the session cookies.
func TestLoginWithCookiesNeedsAJSONPassword(t *testing.T) {
	srv := newServer(t)
	notJSON := demotest.Msg("Did not attempt to load JSON data because the request Content-Type was not 'application/json'.")
	for _, tc := range []struct {
		name   string
		req    request
		status int
		msg    map[string]any
	}{
		{"bodyless POST", request{}, 415, notJSON},
		{"text/plain form with a JSON-looking body",
			request{body: `{"username":"test","password":"test","x":"="}`, headers: map[string]string{"Content-Type": "text/plain"}}, 415, notJSON},
		{"urlencoded form", request{body: "username=test&password=test", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 415, notJSON},
		{"JSON without a password", request{body: `{}`}, 401, demotest.Msg("Bad username or password")},
		{"wrong password", request{body: `{"username":"test","password":"nope"}`}, 401, demotest.Msg("Bad username or password")},
		{"broken JSON", request{body: `{"username":`}, 400, demotest.Msg("Missing JSON in request")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			browser := newBrowser(t)
			tc.req.method, tc.req.path = http.MethodPost, "/login_with_cookies"
			status, body := tc.req.send(t, browser, srv.URL)
			assert.Equal(t, tc.status, status)
			assert.Equal(t, tc.msg, body)
			u, err := url.Parse(srv.URL)
			require.NoError(t, err)
			assert.Empty(t, browser.Jar.Cookies(u), "no cookies")

			status, _ = request{path: "/protected"}.send(t, browser, srv.URL)
			assert.Equal(t, 401, status, "not logged in")
		})
	}

	// The JSON login, with a charset parameter as some clients send it.
	browser := newBrowser(t)
	status, body := request{method: "POST", path: "/login_with_cookies", body: `{"username":"test","password":"test"}`,
		headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}}.send(t, browser, srv.URL)
	require.Equal(t, 200, status)
	assert.Equal(t, demotest.Msg("login successful"), body)
	status, body = request{path: "/protected"}.send(t, browser, srv.URL)
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"foo": "bar", "location": "cookies"}, body)
}

func TestLogoutWithCookies(t *testing.T) {
	srv := newServer(t)
	browser, _ := loginWithCookies(t, srv.URL)

	status, body := request{method: "POST", path: "/logout_with_cookies"}.send(t, browser, srv.URL)
	require.Equal(t, 200, status)
	assert.Equal(t, demotest.Msg("logout successful"), body)
	assert.Empty(t, cookieValue(t, browser, srv.URL, "access_token_cookie"))
	assert.Empty(t, cookieValue(t, browser, srv.URL, "csrf_access_token"))

	status, body = request{path: "/protected"}.send(t, browser, srv.URL)
	assert.Equal(t, 401, status)
	assert.Contains(t, body["msg"], `Missing cookie "access_token_cookie"`)
}

// /only_headers overrides the Manager's four locations with one.
func TestOnlyHeadersOverride(t *testing.T) {
	srv := newServer(t)
	token := loginWithoutCookies(t, srv.URL)
	browser, _ := loginWithCookies(t, srv.URL)

	status, body := request{path: "/only_headers", headers: map[string]string{"Authorization": "Bearer " + token}}.send(t, http.DefaultClient, srv.URL)
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"foo": "baz"}, body)

	for name, tc := range map[string]struct {
		client *http.Client
		req    request
	}{
		"cookie is ignored":       {browser, request{path: "/only_headers"}},
		"query string is ignored": {http.DefaultClient, request{path: "/only_headers?jwt=" + token}},
		"JSON body is ignored":    {http.DefaultClient, request{path: "/only_headers", body: `{"access_token":"` + token + `"}`}},
	} {
		t.Run(name, func(t *testing.T) {
			status, body := tc.req.send(t, tc.client, srv.URL)
			assert.Equal(t, 401, status)
			assert.Equal(t, demotest.Msg("Missing Authorization Header"), body, "one location: its own message")
		})
	}
}

// Without JWT_SECRET_KEY the server makes its own random secret.
func TestSecretKey(t *testing.T) { demotest.SecretKey(t, secretKey) }
