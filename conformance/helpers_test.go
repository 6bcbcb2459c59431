package conformance

// The suite's helpers. Tokens come from ginjwttest, the helpers users test
// their own routes with (ginjwttest.Access, Refresh, Fresh, Expired);
// requests go through flaskClient, flask's test client: one request
// vocabulary for the ported tests and the interop tests alike.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func init() { gin.SetMode(gin.TestMode) }

const testSecret = "test-secret-0123456789abcdef0123456789abcdef"

func newRouter() *gin.Engine { return gin.New() }

func newManager(t testing.TB, opts ...ginjwt.Option) *ginjwt.Manager {
	t.Helper()
	m, err := ginjwt.New(append([]ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret))}, opts...)...)
	require.NoError(t, err)
	return m
}

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

// customJSON is a replacement error handler answering body with status.
func customJSON(status int, body gin.H) ginjwt.ErrorHandler {
	return func(c *gin.Context, _ *ginjwt.Error) { c.JSON(status, body) }
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

// fooBar is the handler most flask test apps use: jsonify(foo="bar").
func fooBar(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"foo": "bar"}) }

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

// twoRouteApp is the fixture shape of flask's loader tests: /protected
// (an access token) and /protected2 (a refresh token) both answer what
// read gives for the request's token.
func twoRouteApp(t *testing.T, read func(*gin.Context) (map[string]any, error), opts ...ginjwt.Option) (*ginjwt.Manager, *flaskClient) {
	m := newManager(t, opts...)
	r := newRouter()
	answer := func(c *gin.Context) {
		v, err := read(c)
		require.NoError(t, err)
		c.JSON(http.StatusOK, v)
	}
	r.GET("/protected", m.JWTRequired(), answer)
	r.GET("/protected2", m.RefreshRequired(), answer)
	return m, newFlaskClient(t, r)
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

// flaskClient is flask's test client: it keeps the cookies the app sets
// and sends them back, as Werkzeug's cookie jar does.
type flaskClient struct {
	t   *testing.T
	r   http.Handler
	jar map[string]string
}

func newFlaskClient(t *testing.T, r http.Handler) *flaskClient {
	return &flaskClient{t: t, r: r, jar: map[string]string{}}
}

// reqOpt shapes one request of the flask client.
type reqOpt func(*http.Request)

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Add(k, v) } }

func withBearer(token string) reqOpt {
	return func(r *http.Request) { ginjwttest.Bearer(r, token) }
}

// withCookie sends a cookie the jar does not hold, as a browser that got
// it elsewhere would.
func withCookie(name, value string) reqOpt {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: name, Value: value}) }
}

// withJSON is the test client's json=: the body and its content type.
func withJSON(v any) reqOpt {
	return func(r *http.Request) {
		b, _ := json.Marshal(v)
		setBody(r, b)
		r.Header.Set("Content-Type", "application/json")
	}
}

// withForm is the test client's data= with a dict: a urlencoded form.
func withForm(kv ...string) reqOpt {
	return func(r *http.Request) {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		setBody(r, []byte(v.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
}

func setBody(r *http.Request, b []byte) {
	r.Body = http.NoBody
	if len(b) > 0 {
		r.Body = readCloserOf(b)
	}
	r.ContentLength = int64(len(b))
}

type bodyReader struct{ *bytes.Reader }

func (bodyReader) Close() error { return nil }

func readCloserOf(b []byte) bodyReader { return bodyReader{bytes.NewReader(b)} }

func (fc *flaskClient) do(method, target string, opts ...reqOpt) *httptest.ResponseRecorder {
	fc.t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for name, value := range fc.jar {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	for _, o := range opts {
		o(req)
	}
	w := httptest.NewRecorder()
	fc.r.ServeHTTP(w, req)
	for _, line := range w.Header().Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		require.NoError(fc.t, err, line)
		if c.MaxAge < 0 || c.Value == "" || (!c.Expires.IsZero() && c.Expires.Before(time.Now())) {
			delete(fc.jar, c.Name)
		} else {
			fc.jar[c.Name] = c.Value
		}
	}
	return w
}

func (fc *flaskClient) get(target string, opts ...reqOpt) *httptest.ResponseRecorder {
	fc.t.Helper()
	return fc.do(http.MethodGet, target, opts...)
}

func (fc *flaskClient) post(target string, opts ...reqOpt) *httptest.ResponseRecorder {
	fc.t.Helper()
	return fc.do(http.MethodPost, target, opts...)
}

// decodeBody decodes a JSON object body into a map.
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
func expectMsg(t *testing.T, w *httptest.ResponseRecorder, status int, msg string) {
	t.Helper()
	assert.Equal(t, status, w.Code, w.Body.String())
	assertMsg(t, w, msg)
}

// expectJSON checks the status and that the body is exactly this JSON.
func expectJSON(t *testing.T, w *httptest.ResponseRecorder, status int, body string) {
	t.Helper()
	assert.Equal(t, status, w.Code, w.Body.String())
	assert.JSONEq(t, body, w.Body.String())
}

// flaskCookie is one Set-Cookie header of a response, parsed as the flask
// tests' _get_cookie_from_response does: attribute names lower-cased.
func flaskCookie(t *testing.T, w *httptest.ResponseRecorder, name string) map[string]string {
	t.Helper()
	for _, line := range w.Header().Values("Set-Cookie") {
		parts := strings.Split(line, ";")
		if k, _, _ := strings.Cut(parts[0], "="); strings.TrimSpace(k) != name {
			continue
		}
		out := map[string]string{}
		for _, p := range parts {
			k, v, ok := strings.Cut(p, "=")
			if !ok {
				v = "true"
			}
			out[strings.ToLower(strings.TrimSpace(k))] = v
		}
		out["value"] = out[strings.ToLower(name)]
		return out
	}
	return nil
}
