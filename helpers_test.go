package ginjwt_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func init() { gin.SetMode(gin.TestMode) }

const testSecret = "test-secret-0123456789abcdef0123456789abcdef"

func newRouter() *gin.Engine { return gin.New() }

// handleKind is WithErrorHandler answering only the kinds errors.Is matches
// with kind, as flask's per-kind loaders do; the rest keep the default
// response because h is not called and nothing is written.
func handleKind(kind error, h ginjwt.ErrorHandler) ginjwt.Option {
	return ginjwt.WithErrorHandler(func(c *gin.Context, err *ginjwt.Error) {
		if errors.Is(err, kind) {
			h(c, err)
		}
	})
}

func newManager(t testing.TB, opts ...ginjwt.Option) *ginjwt.Manager {
	t.Helper()
	m, err := ginjwt.New(append([]ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret))}, opts...)...)
	require.NoError(t, err)
	return m
}

// echoToken answers with what the accessors see, so tests can check it.
func echoToken(c *gin.Context) {
	claims, err := ginjwt.CurrentClaims(c).Map()
	if err != nil {
		c.JSON(500, gin.H{"error": err.Error()})
		return
	}
	header, _ := ginjwt.CurrentHeader(c).Map()
	tok, ok := ginjwt.CurrentToken(c)
	fresh := false
	typ := ""
	if ok {
		fresh = tok.Claims.IsFresh(time.Now())
		typ = tok.Claims.Type
	}
	c.JSON(http.StatusOK, gin.H{
		"identity": ginjwt.CurrentIdentity(c),
		"claims":   claims,
		"header":   header,
		"type":     typ,
		"fresh":    fresh,
		"has":      ok,
	})
}

type header struct{ k, v string }

func bearer(token string) header { return header{"Authorization", "Bearer " + token} }

func request(r http.Handler, method, path string, headers ...header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for _, h := range headers {
		req.Header.Add(h.k, h.v)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

func get(r http.Handler, path string, headers ...header) *httptest.ResponseRecorder {
	return request(r, http.MethodGet, path, headers...)
}

func decodeBody(t testing.TB, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var body map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body), "body: %s", w.Body.String())
	return body
}

// assertMsg checks a flask-style error body: exactly {"msg": msg}.
func assertMsg(t testing.TB, w *httptest.ResponseRecorder, msg string) {
	t.Helper()
	assert.Equal(t, map[string]any{"msg": msg}, decodeBody(t, w))
	assert.True(t, strings.HasPrefix(w.Header().Get("Content-Type"), "application/json"), w.Header().Get("Content-Type"))
}

// expectMsg checks the status and a flask error body {"msg": msg}.
func expectMsg(t testing.TB, w *httptest.ResponseRecorder, status int, msg string) {
	t.Helper()
	assert.Equal(t, status, w.Code, w.Body.String())
	assertMsg(t, w, msg)
}

// expectJSON checks the status and that the body is exactly this JSON.
func expectJSON(t testing.TB, w *httptest.ResponseRecorder, status int, body string) {
	t.Helper()
	assert.Equal(t, status, w.Code, w.Body.String())
	assert.JSONEq(t, body, w.Body.String())
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func itoa(i int) string { return strconv.Itoa(i) }

// refreshRouter serves POST /refresh: a new access token from the
// request's refresh token, as flask's refresh route.
func refreshRouter(t *testing.T, m *ginjwt.Manager) *gin.Engine {
	r := newRouter()
	r.POST("/refresh", m.RefreshRequired(), func(c *gin.Context) {
		token, err := m.RefreshAccessToken(c)
		require.NoError(t, err)
		c.JSON(http.StatusOK, gin.H{"access_token": token})
	})
	return r
}

// flaskToken is a token as flask-jwt-extended makes it: no "sid" or
// "auth_time", a version 4 jti, issued now and expiring in life.
func flaskToken(typ, identity string, now time.Time, life time.Duration) string {
	return signPayload(`{"fresh":false,"iat":` + strconv.FormatInt(now.Unix(), 10) +
		`,"jti":"` + flaskJTI() + `","type":"` + typ + `","sub":"` + identity + `","nbf":` +
		strconv.FormatInt(now.Unix(), 10) + `,"csrf":"c0ffee00-0000-4000-8000-000000000000","exp":` +
		strconv.FormatInt(now.Add(life).Unix(), 10) + `}`)
}

var flaskJTIs atomic.Int64

func flaskJTI() string {
	return fmt.Sprintf("f1a5c000-0000-4000-8000-%012d", flaskJTIs.Add(1))
}
