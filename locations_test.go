package ginjwt_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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

// locRouter answers with the location the token came from, and the body
// the handler could still read.
func locRouter(m *ginjwt.Manager, opts ...ginjwt.GuardOption) *gin.Engine {
	r := newRouter()
	h := func(c *gin.Context) {
		body, _ := io.ReadAll(c.Request.Body)
		c.JSON(200, gin.H{"who": ginjwt.CurrentIdentity(c), "location": ginjwt.CurrentLocation(c).String(), "body": string(body)})
	}
	r.Any("/protected", m.JWTRequired(opts...), h)
	r.Any("/refresh", m.RefreshRequired(opts...), h)
	r.Any("/optional", m.JWTRequired(append(opts, ginjwt.Optional())...), h)
	return r
}

func TestEachLocation(t *testing.T) {
	all := ginjwt.WithTokenLocations(ginjwt.InHeaders, ginjwt.InCookies, ginjwt.InQueryString, ginjwt.InJSONBody)
	m := newManager(t, all)
	access := ginjwttest.Access(t, m, "alice")
	r := locRouter(m)
	for _, tc := range []struct {
		name string
		q    req
		loc  string
	}{
		{"headers", req{headers: map[string]string{"Authorization": "Bearer " + access}}, "headers"},
		{"cookies", req{cookies: map[string]string{"access_token_cookie": access}}, "cookies"},
		{"query_string", req{target: "/protected?jwt=" + access}, "query_string"},
		{"json", req{method: "POST", body: `{"access_token":"` + access + `","x":1}`, contentType: "application/json"}, "json"},
		{"json with charset", req{method: "POST", body: `{"access_token":"` + access + `"}`, contentType: "application/json;charset=UTF-8"}, "json"},
		{"json +json type", req{method: "POST", body: `{"access_token":"` + access + `"}`, contentType: "application/vnd.api+json"}, "json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.q.send(r)
			require.Equal(t, 200, w.Code, w.Body.String())
			body := decodeBody(t, w)
			assert.Equal(t, "alice", body["who"])
			assert.Equal(t, tc.loc, body["location"])
			assert.Equal(t, tc.q.body, body["body"], "the handler still reads the body")
		})
	}
}

func TestMissingTokenMessages(t *testing.T) {
	tests := []struct {
		name string
		locs []ginjwt.Location
		q    req
		msg  string
	}{
		{"all four, flask's exact text", []ginjwt.Location{ginjwt.InHeaders, ginjwt.InCookies, ginjwt.InQueryString, ginjwt.InJSONBody}, req{},
			`Missing JWT in headers, cookies, query_string or json (Missing Authorization Header; Missing cookie "access_token_cookie"; Missing 'jwt' query paramater; Invalid content-type. Must be application/json.)`},
		{"cookies then headers", []ginjwt.Location{ginjwt.InCookies, ginjwt.InHeaders}, req{},
			`Missing JWT in cookies or headers (Missing cookie "access_token_cookie"; Missing Authorization Header)`},
		{"json then query string", []ginjwt.Location{ginjwt.InJSONBody, ginjwt.InQueryString}, req{},
			`Missing JWT in json or query_string (Invalid content-type. Must be application/json.; Missing 'jwt' query paramater)`},
		{"one location, its own message", []ginjwt.Location{ginjwt.InCookies}, req{}, `Missing cookie "access_token_cookie"`},
		{"query alone", []ginjwt.Location{ginjwt.InQueryString}, req{target: "/protected?jwt="}, `Missing 'jwt' query paramater`},
		{"json form body", []ginjwt.Location{ginjwt.InJSONBody}, req{method: "POST", body: "access_token=x", contentType: "application/x-www-form-urlencoded"}, `Invalid content-type. Must be application/json.`},
		{"json without the key", []ginjwt.Location{ginjwt.InJSONBody}, req{method: "POST", body: `{"foo":"bar"}`, contentType: "application/json"}, `Missing "access_token" key in json data.`},
		{"json with an empty key", []ginjwt.Location{ginjwt.InJSONBody}, req{method: "POST", body: `{"access_token":""}`, contentType: "application/json"}, `Missing "access_token" key in json data.`},
		{"json falsy: zero", []ginjwt.Location{ginjwt.InJSONBody}, req{method: "POST", body: `{"access_token":0}`, contentType: "application/json"}, `Missing "access_token" key in json data.`},
		{"json falsy: null", []ginjwt.Location{ginjwt.InJSONBody}, req{method: "POST", body: `{"access_token":null}`, contentType: "application/json"}, `Missing "access_token" key in json data.`},
		{"json falsy: false", []ginjwt.Location{ginjwt.InJSONBody}, req{method: "POST", body: `{"access_token":false}`, contentType: "application/json"}, `Missing "access_token" key in json data.`},
		{"json falsy: empty list", []ginjwt.Location{ginjwt.InJSONBody}, req{method: "POST", body: `{"access_token":[ ]}`, contentType: "application/json"}, `Missing "access_token" key in json data.`},
		{"json falsy: empty object", []ginjwt.Location{ginjwt.InJSONBody}, req{method: "POST", body: `{"access_token":{}}`, contentType: "application/json"}, `Missing "access_token" key in json data.`},
		{"json array body (flask: 500)", []ginjwt.Location{ginjwt.InJSONBody}, req{method: "POST", body: `["access_token"]`, contentType: "application/json"}, `Missing "access_token" key in json data.`},
		{"json truncated", []ginjwt.Location{ginjwt.InJSONBody}, req{method: "POST", body: `{"access_token":"ab`, contentType: "application/json"}, `Missing "access_token" key in json data.`},
		{"json not JSON at all", []ginjwt.Location{ginjwt.InJSONBody}, req{method: "POST", body: `hello`, contentType: "application/json"}, `Missing "access_token" key in json data.`},
		{"json empty body", []ginjwt.Location{ginjwt.InJSONBody}, req{method: "POST", contentType: "application/json"}, `Missing "access_token" key in json data.`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newManager(t, ginjwt.WithTokenLocations(tc.locs...))
			w := tc.q.send(locRouter(m))
			assert.Equal(t, 401, w.Code)
			assertMsg(t, w, tc.msg)
		})
	}
}

// A truthy JSON value that is not a string is a token flask hands to PyJWT,
// which refuses it with 422; it decides, as any bad token found does.
func TestJSONTokenOfAnotherType(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InJSONBody, ginjwt.InHeaders))
	access := ginjwttest.Access(t, m, "alice")
	for _, v := range []string{`123`, `-0.5`, `true`, `[1]`, `{"a":1}`, `["` + access + `"]`} {
		w := req{method: "POST", body: `{"access_token":` + v + `}`, contentType: "application/json",
			headers: map[string]string{"Authorization": "Bearer " + access}}.send(locRouter(m))
		assert.Equal(t, 422, w.Code, v)
		assertMsg(t, w, "Invalid token type. Token must be a <class 'bytes'>")
	}
}

func TestLocationOrder(t *testing.T) {
	m := newManager(t)
	access := ginjwttest.Access(t, m, "alice")
	q := req{cookies: map[string]string{"access_token_cookie": access}, headers: map[string]string{"Authorization": "Bearer aaaaa.bbbbb.ccccc"}}

	// The first location holding a token decides, even when it is bad.
	w := q.send(locRouter(m, ginjwt.Locations(ginjwt.InHeaders, ginjwt.InCookies)))
	assert.Equal(t, 422, w.Code)
	assertMsg(t, w, "Invalid header padding")
	w = q.send(locRouter(m, ginjwt.Locations(ginjwt.InCookies, ginjwt.InHeaders)))
	assert.Equal(t, 200, w.Code)
	assert.Equal(t, "cookies", decodeBody(t, w)["location"])
}

func TestLocationsPerRoute(t *testing.T) {
	m := newManager(t) // headers only by default
	access := ginjwttest.Access(t, m, "alice")
	refresh := ginjwttest.Refresh(t, m, "alice")
	r := newRouter()
	r.GET("/api", m.JWTRequired(), echoToken)
	r.POST("/refresh", m.RefreshRequired(ginjwt.Locations(ginjwt.InCookies)), echoToken)

	assert.Equal(t, 200, get(r, "/api", bearer(access)).Code)
	w := req{target: "/api", cookies: map[string]string{"access_token_cookie": access}}.send(r)
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Missing Authorization Header")

	csrf, err := m.GetCSRFToken(refresh)
	require.NoError(t, err)
	w = req{method: "POST", target: "/refresh", cookies: map[string]string{"refresh_token_cookie": refresh},
		headers: map[string]string{"X-CSRF-TOKEN": csrf}}.send(r)
	assert.Equal(t, 200, w.Code, w.Body.String())
	w = req{method: "POST", target: "/refresh", headers: map[string]string{"Authorization": "Bearer " + refresh}}.send(r)
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, `Missing cookie "refresh_token_cookie"`)

	assert.Panics(t, func() { m.JWTRequired(ginjwt.Locations()) })
	assert.Panics(t, func() { m.JWTRequired(ginjwt.Locations(ginjwt.InHeaders, ginjwt.InHeaders)) })
	_, err = ginjwt.New(ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithTokenLocations(ginjwt.Location(9)))
	assert.ErrorContains(t, err, "unknown token location Location(9)")
}

func TestQueryString(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InQueryString), ginjwt.WithQueryString("jwt", "bearer "))
	access := ginjwttest.Access(t, m, "alice")
	r := locRouter(m)
	w := req{target: "/protected?jwt=" + url.QueryEscape("bearer "+access)}.send(r)
	assert.Equal(t, 200, w.Code, w.Body.String())
	w = req{target: "/protected?jwt=" + access}.send(r)
	assert.Equal(t, 422, w.Code)
	assertMsg(t, w, "Invalid value for query parameter 'jwt'. Expected the value to start with 'bearer '")

	custom := newManager(t, ginjwt.WithTokenLocations(ginjwt.InQueryString), ginjwt.WithQueryString("foo", ""))
	w = req{target: "/protected?jwt=" + access}.send(locRouter(custom))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Missing 'foo' query paramater")
	w = req{target: "/protected?foo=" + access + "&foo=junk"}.send(locRouter(custom))
	assert.Equal(t, 200, w.Code, "the first value counts, as in flask")
}

func TestJSONKeys(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InJSONBody), ginjwt.WithJSONKeys("Foo", "Bar"))
	access := ginjwttest.Access(t, m, "alice")
	refresh := ginjwttest.Refresh(t, m, "alice")
	r := locRouter(m)
	assert.Equal(t, 200, req{method: "POST", body: `{"Foo":"` + access + `"}`, contentType: "application/json"}.send(r).Code)
	assert.Equal(t, 200, req{method: "POST", target: "/refresh", body: `{"Bar":"` + refresh + `"}`, contentType: "application/json"}.send(r).Code)
	w := req{method: "POST", target: "/refresh", body: `{"Foo":"` + refresh + `"}`, contentType: "application/json"}.send(r)
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, `Missing "Bar" key in json data.`)
}

func TestHugeJSONBody(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InJSONBody), ginjwt.WithMaxBodySize(1024))
	access := ginjwttest.Access(t, m, "alice")
	r := locRouter(m)
	body := `{"access_token":"` + access + `","pad":"` + strings.Repeat("x", 4096) + `"}`
	w := req{method: "POST", body: body, contentType: "application/json"}.send(r)
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, `Missing "access_token" key in json data.`)
}
