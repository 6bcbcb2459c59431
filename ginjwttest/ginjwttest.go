// Package ginjwttest helps application authors test their guarded Gin
// handlers: it mints tokens from the application's own Manager and puts
// them on requests, as a header or as cookies with the CSRF value, so a
// test of a protected route takes one line.
//
//	w := ginjwttest.Get(t, router, "/me", ginjwttest.Access(t, m, "alice"))
package ginjwttest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
)

// Access returns an access token for identity, failing the test on error.
func Access(t testing.TB, m *ginjwt.Manager, identity any, opts ...ginjwt.TokenOption) string {
	t.Helper()
	token, err := m.CreateAccessToken(identity, opts...)
	if err != nil {
		t.Fatalf("ginjwttest: creating an access token: %v", err)
	}
	return token
}

// Fresh returns a fresh access token for identity.
func Fresh(t testing.TB, m *ginjwt.Manager, identity any, opts ...ginjwt.TokenOption) string {
	t.Helper()
	return Access(t, m, identity, append(opts, ginjwt.Fresh())...)
}

// Expired returns an access token for identity that expired a minute ago.
func Expired(t testing.TB, m *ginjwt.Manager, identity any, opts ...ginjwt.TokenOption) string {
	t.Helper()
	return Access(t, m, identity, append(opts, ginjwt.ExpiresIn(-time.Minute))...)
}

// Refresh returns a refresh token for identity.
func Refresh(t testing.TB, m *ginjwt.Manager, identity any, opts ...ginjwt.TokenOption) string {
	t.Helper()
	token, err := m.CreateRefreshToken(identity, opts...)
	if err != nil {
		t.Fatalf("ginjwttest: creating a refresh token: %v", err)
	}
	return token
}

// Bearer sets "Authorization: Bearer <token>" on req and returns it.
func Bearer(req *http.Request, token string) *http.Request {
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

// Cookies puts token on req as a browser would after SetAccessCookies (or
// SetRefreshCookies, for a refresh token): the cookies m sets, under the
// names m is configured with, and the CSRF header the front end copies the
// value into.
func Cookies(t testing.TB, m *ginjwt.Manager, req *http.Request, token string) *http.Request {
	t.Helper()
	tok, err := m.DecodeExpiredToken(token)
	if err != nil {
		t.Fatalf("ginjwttest: %v", err)
	}
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
	set := m.SetAccessCookies
	if tok.Claims.Type == ginjwt.TypeRefresh {
		set = m.SetRefreshCookies
	}
	if err := set(c, token); err != nil {
		t.Fatalf("ginjwttest: setting cookies: %v", err)
	}
	for _, cookie := range w.Result().Cookies() {
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value}) //nolint:gosec // G124: a request cookie has no attributes
	}
	if tok.Claims.CSRF != "" {
		req.Header.Set(m.CSRFHeaderName(tok.Claims.Type), tok.Claims.CSRF)
	}
	return req
}

// NewRequest returns an httptest request with token as a bearer header
// (none when token is empty).
func NewRequest(method, target string, body io.Reader, token string) *http.Request {
	req := httptest.NewRequest(method, target, body)
	if token != "" {
		Bearer(req, token)
	}
	return req
}

// Get serves a GET of target with token to h and returns the recorder.
func Get(t testing.TB, h http.Handler, target, token string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, NewRequest(http.MethodGet, target, nil, token))
	return w
}
