package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The served OpenAPI description is valid, and every live answer of the
// API (successes and refusals) matches it: route, status and body schema.
func TestOpenAPIDescribesTheLiveAPI(t *testing.T) {
	r, db, err := newApp(Config{Secret: testSecret, LoginBurst: 5, LoginEvery: time.Hour})
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	t.Cleanup(func() { srv.Close(); _ = db.Close() })

	resp, err := http.Get(srv.URL + "/openapi.json")
	require.NoError(t, err)
	spec, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()), "a valid OpenAPI 3 document")
	doc.Servers = openapi3.Servers{{URL: srv.URL}} // the document says "/": this server
	router, err := legacy.NewRouter(doc)
	require.NoError(t, err)

	seen := map[string]bool{} // "METHOD path status"
	send := func(method, path, token, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		data, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		_ = res.Body.Close()

		route, params, err := router.FindRoute(req)
		require.NoError(t, err, "%s %s is described", method, path)
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode,
			Header: res.Header, Body: io.NopCloser(bytes.NewReader(data)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		assert.NoError(t, openapi3filter.ValidateResponse(context.Background(), out),
			"%s %s answered %d %s", method, path, res.StatusCode, data)
		seen[method+" "+routeKey(route)+" "+http.StatusText(res.StatusCode)] = true
		return res.StatusCode, string(data)
	}

	code, _ := send("POST", "/signup", "", `{"email":"ada@example.com","password":"correct horse","name":"Ada"}`)
	require.Equal(t, 201, code)
	code, _ = send("POST", "/signup", "", `{"email":"ada@example.com","password":"correct horse","name":"Ada"}`)
	assert.Equal(t, 409, code)
	code, _ = send("POST", "/signup", "", `{"email":"","password":"x","name":""}`)
	assert.Equal(t, 400, code)
	code, _ = send("POST", "/signup", "", `{"email":"`+strings.Repeat("a", 20<<10)+`"}`)
	assert.Equal(t, 413, code)

	code, _ = send("POST", "/token", "", `{"email":"ada@example.com"}`)
	assert.Equal(t, 400, code)
	code, _ = send("POST", "/token", "", `{"email":"`+strings.Repeat("a", 20<<10)+`"}`)
	assert.Equal(t, 413, code)
	code, _ = send("POST", "/token", "", `{"email":"ada@example.com","password":"wrong"}`)
	assert.Equal(t, 401, code)
	code, body := send("POST", "/token", "", `{"email":"ada@example.com","password":"correct horse"}`)
	require.Equal(t, 200, code, body)
	access, refresh := field(t, body, "access_token"), field(t, body, "refresh_token")
	code, body = send("POST", "/token", "", `{"email":"ada@example.com","password":"correct horse"}`)
	require.Equal(t, 200, code, body)
	second := field(t, body, "access_token")
	code, _ = send("POST", "/signup", "", `{"email":"bo@example.com","password":"correct horse","name":"Bo"}`)
	require.Equal(t, 201, code)
	code, body = send("POST", "/token", "", `{"email":"bo@example.com","password":"correct horse"}`)
	require.Equal(t, 200, code, body)
	bo := field(t, body, "access_token")
	code, _ = send("POST", "/token", "", `{"email":"ada@example.com","password":"wrong"}`)
	assert.Equal(t, 429, code, "the sixth attempt is over the limit")

	code, _ = send("GET", "/private", access, "")
	assert.Equal(t, 200, code)
	code, _ = send("GET", "/private", "", "")
	assert.Equal(t, 401, code)
	code, _ = send("GET", "/private", "not.a.token", "")
	assert.Equal(t, 422, code)
	code, _ = send("POST", "/refresh", access, "")
	assert.Equal(t, 422, code, "an access token at /refresh")
	code, body = send("POST", "/refresh", refresh, "")
	require.Equal(t, 200, code)
	renewed := field(t, body, "access_token")
	code, _ = send("DELETE", "/account", renewed, "")
	assert.Equal(t, 401, code, "a refreshed token is not fresh")
	// The sessions: access and second are two logins of Ada.
	code, body = send("GET", "/sessions", access, "")
	require.Equal(t, 200, code, body)
	var list struct{ Sessions []struct{ ID string } }
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	require.Len(t, list.Sessions, 2, body)
	code, _ = send("GET", "/sessions", "", "")
	assert.Equal(t, 401, code)
	code, _ = send("GET", "/sessions", "not.a.token", "")
	assert.Equal(t, 422, code)
	code, _ = send("DELETE", "/sessions/no-such-session", access, "")
	assert.Equal(t, 404, code)
	code, _ = send("DELETE", "/sessions/"+list.Sessions[1].ID, "", "")
	assert.Equal(t, 401, code)
	code, _ = send("DELETE", "/sessions/"+list.Sessions[1].ID, "not.a.token", "")
	assert.Equal(t, 422, code)
	code, _ = send("DELETE", "/sessions/"+list.Sessions[0].ID, second, "")
	assert.Equal(t, 200, code, "access's session, ended from second's")
	code, _ = send("DELETE", "/sessions", "", "")
	assert.Equal(t, 401, code)
	code, _ = send("DELETE", "/sessions", "not.a.token", "")
	assert.Equal(t, 422, code)
	code, _ = send("DELETE", "/sessions", bo, "")
	assert.Equal(t, 200, code, "Bo signs out everywhere")
	code, _ = send("GET", "/sessions", bo, "")
	assert.Equal(t, 401, code, "Bo's token too")

	code, _ = send("DELETE", "/logout", access, "")
	assert.Equal(t, 200, code)
	code, _ = send("GET", "/private", access, "")
	assert.Equal(t, 401, code, "revoked")
	code, _ = send("POST", "/refresh", refresh, "")
	assert.Equal(t, 401, code, "revoked with its session")
	code, _ = send("DELETE", "/logout", "", "")
	assert.Equal(t, 200, code, "nothing to end")
	code, _ = send("DELETE", "/logout", "not.a.token", "")
	assert.Equal(t, 422, code)
	code, _ = send("DELETE", "/account", "not.a.token", "")
	assert.Equal(t, 422, code)

	// The password change; Ada has 5 attempts.
	change := `{"old_password":"correct horse","new_password":"battery staple"}`
	code, _ = send("POST", "/password", "", `{"old_password":"`+strings.Repeat("a", 20<<10)+`"}`)
	assert.Equal(t, 413, code)
	code, _ = send("POST", "/password", "", change)
	assert.Equal(t, 401, code)
	code, _ = send("POST", "/password", "not.a.token", change)
	assert.Equal(t, 422, code)
	code, _ = send("POST", "/password", second, `{"old_password":"correct horse"}`)
	assert.Equal(t, 400, code)
	code, _ = send("POST", "/password", second, `{"old_password":"wrong horse","new_password":"battery staple"}`)
	assert.Equal(t, 401, code)
	code, body = send("POST", "/password", second, change)
	require.Equal(t, 200, code, body)
	changed := field(t, body, "access_token")
	code, _ = send("GET", "/private", second, "")
	assert.Equal(t, 401, code, "signed out by the change")
	for range 3 {
		code, _ = send("POST", "/password", changed, `{"old_password":"wrong horse","new_password":"battery staple"}`)
		assert.Equal(t, 401, code)
	}
	code, _ = send("POST", "/password", changed, `{"old_password":"battery staple","new_password":"correct horse"}`)
	assert.Equal(t, 429, code, "the sixth attempt is over the limit")

	code, _ = send("DELETE", "/account", changed, "")
	assert.Equal(t, 200, code, "a fresh token from a password login")
	code, _ = send("GET", "/private", changed, "")
	assert.Equal(t, 401, code, "the user is gone")

	// Every documented response of the API was met, but the store outage.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status := range op.Responses.Map() {
				if status == "503" {
					continue
				}
				n, err := strconv.Atoi(status)
				require.NoError(t, err)
				key := method + " " + path + " " + http.StatusText(n)
				assert.True(t, seen[key], "no live request checked %s", key)
			}
		}
	}
}

func routeKey(route *routers.Route) string { return route.Path }

func field(t *testing.T, body, name string) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &m))
	s, _ := m[name].(string)
	require.NotEmpty(t, s, "%s in %s", name, body)
	return s
}
