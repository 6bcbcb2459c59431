package ginjwt_test

// Helpers of the flask conformance suite that root tests used, copied
// when the suite moved to conformance/; the next commit folds them into
// the root's own helpers.

import (
	"net/http"
	"net/http/httptest"
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

// mustAccess mints a token, failing the test on error.
func mustAccess(t *testing.T, m *ginjwt.Manager, identity any, opts ...ginjwt.TokenOption) string {
	t.Helper()
	token, err := m.CreateAccessToken(identity, opts...)
	require.NoError(t, err)
	return token
}

// customJSON is a replacement error handler answering body with status.
func customJSON(status int, body gin.H) ginjwt.ErrorHandler {
	return func(c *gin.Context, _ *ginjwt.Error) { c.JSON(status, body) }
}

func (fc *flaskClient) post(target string, opts ...reqOpt) *httptest.ResponseRecorder {
	fc.t.Helper()
	return fc.do(http.MethodPost, target, opts...)
}
