package conformance

// Helpers of the root package's tests, copied verbatim when the suite moved
// here; the next commits merge them with the suite's own.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// signRaw signs any header and payload text with HS256, as flask's test
// helper encode_token does, so tests can build tokens ginjwt would not.
func signRaw(header, payload, secret string) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(input))
	return input + "." + enc.EncodeToString(mac.Sum(nil))
}

func signPayload(payload string) string {
	return signRaw(`{"alg":"HS256","typ":"JWT"}`, payload, testSecret)
}

// guarded is a router with the three guards and the handler runs counted.
type guarded struct {
	r    *gin.Engine
	mu   sync.Mutex
	runs int
}

func newGuarded(m *ginjwt.Manager) *guarded {
	g := &guarded{r: newRouter()}
	handler := func(c *gin.Context) {
		g.mu.Lock()
		g.runs++
		g.mu.Unlock()
		echoToken(c)
	}
	g.r.Any("/protected", m.JWTRequired(), handler)
	g.r.Any("/refresh", m.RefreshRequired(), handler)
	g.r.Any("/fresh", m.FreshRequired(), handler)
	g.r.Any("/optional", m.JWTRequired(ginjwt.Optional()), handler)
	g.r.Any("/any-type", m.JWTRequired(ginjwt.VerifyType(false)), handler)
	return g
}

// mustToken(t)(m.CreateAccessToken(...)) fails the test on error.
func mustToken(t testing.TB) func(string, error) string {
	return func(token string, err error) string {
		t.Helper()
		require.NoError(t, err)
		return token
	}
}

// req builds one request: a body (JSON when it starts with '{' or '['),
// cookies and headers.
type req struct {
	method, target, body, contentType string
	cookies                           map[string]string
	headers                           map[string]string
}

func (q req) send(r http.Handler) *httptest.ResponseRecorder {
	method := q.method
	if method == "" {
		method = http.MethodGet
	}
	target := q.target
	if target == "" {
		target = "/protected"
	}
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
	}
	hr := httptest.NewRequest(method, target, body)
	if q.contentType != "" {
		hr.Header.Set("Content-Type", q.contentType)
	}
	for k, v := range q.cookies {
		hr.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	for k, v := range q.headers {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, hr)
	return w
}

// cookieApp is flask's cookie test app: login sets cookies, logout unsets
// them, protected routes read them.
func cookieApp(t *testing.T, m *ginjwt.Manager) *gin.Engine {
	r := newRouter()
	r.GET("/login", func(c *gin.Context) {
		access, refresh, err := m.CreateTokenPair("alice")
		require.NoError(t, err)
		require.NoError(t, m.SetAccessCookies(c, access))
		require.NoError(t, m.SetRefreshCookies(c, refresh))
		c.Status(204)
	})
	r.GET("/login-access", func(c *gin.Context) {
		access := mustToken(t)(m.CreateAccessToken("alice"))
		require.NoError(t, m.SetAccessCookies(c, access))
		c.Status(204)
	})
	r.GET("/logout", func(c *gin.Context) { m.UnsetJWTCookies(c); c.Status(204) })
	h := func(c *gin.Context) { c.JSON(200, gin.H{"who": ginjwt.CurrentIdentity(c)}) }
	r.Any("/protected", m.JWTRequired(), h)
	r.Any("/optional", m.JWTRequired(ginjwt.Optional()), h)
	r.Any("/refresh", m.RefreshRequired(), h)
	return r
}

// setCookies parses a response's Set-Cookie headers by name.
func setCookies(t *testing.T, w *httptest.ResponseRecorder) map[string]*http.Cookie {
	t.Helper()
	out := map[string]*http.Cookie{}
	for _, line := range w.Header().Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		require.NoError(t, err, line)
		out[c.Name] = c
	}
	return out
}

func cookieValues(cs map[string]*http.Cookie) map[string]string {
	out := map[string]string{}
	for k, c := range cs {
		out[k] = c.Value
	}
	return out
}

// loggedIn logs in through the app and returns the cookies a browser keeps.
func loggedIn(t *testing.T, r http.Handler) map[string]string {
	t.Helper()
	w := req{target: "/login"}.send(r)
	require.Equal(t, 204, w.Code)
	return cookieValues(setCookies(t, w))
}
