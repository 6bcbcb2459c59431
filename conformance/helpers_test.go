package conformance

// Helpers of the flask-jwt-extended conformance suite:
// each flask test (tests/*.py of flask-jwt-extended 4.7.1) becomes a subtest
// named "<file>::<test>", which makes the same requests against an
// equivalent Gin app and checks the same statuses, bodies and cookies.
// index_table_test.go lists every flask test and what became of it.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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

func withBearer(token string) reqOpt { return withHeader("Authorization", "Bearer "+token) }

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

// expectJSON checks the status and that the body is exactly this JSON.
func expectJSON(t *testing.T, w *httptest.ResponseRecorder, status int, body string) {
	t.Helper()
	assert.Equal(t, status, w.Code, w.Body.String())
	assert.JSONEq(t, body, w.Body.String())
}

// expectMsg checks the status and a flask error body {"msg": msg}.
func expectMsg(t *testing.T, w *httptest.ResponseRecorder, status int, msg string) {
	t.Helper()
	assert.Equal(t, status, w.Code, w.Body.String())
	assertMsg(t, w, msg)
}

// fooBar is the handler most flask test apps use: jsonify(foo="bar").
func fooBar(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"foo": "bar"}) }

// jsonBody decodes a response body into a map.
func jsonBody(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	return decodeBody(t, w)
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

// mustAccess and mustRefresh mint tokens, failing the test on error.
func mustAccess(t *testing.T, m *ginjwt.Manager, identity any, opts ...ginjwt.TokenOption) string {
	t.Helper()
	token, err := m.CreateAccessToken(identity, opts...)
	require.NoError(t, err)
	return token
}

func mustRefresh(t *testing.T, m *ginjwt.Manager, identity any, opts ...ginjwt.TokenOption) string {
	t.Helper()
	token, err := m.CreateRefreshToken(identity, opts...)
	require.NoError(t, err)
	return token
}

// customJSON is a replacement error handler answering body with status.
func customJSON(status int, body gin.H) ginjwt.ErrorHandler {
	return func(c *gin.Context, _ *ginjwt.Error) { c.JSON(status, body) }
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
