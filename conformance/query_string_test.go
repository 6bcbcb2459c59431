package conformance

import (
	"net/url"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
)

// queryStringApp is the fixture of test_query_string.py.
func queryStringApp(t *testing.T, opts ...ginjwt.Option) (*ginjwt.Manager, *flaskClient) {
	m := newManager(t, append([]ginjwt.Option{ginjwt.WithTokenLocations(ginjwt.InQueryString)}, opts...)...)
	r := newRouter()
	r.GET("/protected", m.JWTRequired(), fooBar)
	return m, newFlaskClient(t, r)
}

func TestFlaskQueryString(t *testing.T) {
	const file = "test_query_string.py::"
	ok := `{"foo":"bar"}`

	t.Run(file+"test_default_query_paramater", func(t *testing.T) {
		m, fc := queryStringApp(t)
		expectJSON(t, fc.get("/protected?jwt="+ginjwttest.Access(t, m, "username")), 200, ok)
	})

	t.Run(file+"test_query_string_value_prefix", func(t *testing.T) {
		m, fc := queryStringApp(t, ginjwt.WithQueryString("jwt", "bearer "))
		token := ginjwttest.Access(t, m, "username")
		expectJSON(t, fc.get("/protected?jwt="+url.QueryEscape("bearer "+token)), 200, ok)
		expectMsg(t, fc.get("/protected?jwt="+token), 422,
			"Invalid value for query parameter 'jwt'. Expected the value to start with 'bearer '")
	})

	t.Run(file+"test_custom_query_paramater", func(t *testing.T) {
		m, fc := queryStringApp(t, ginjwt.WithQueryString("foo", ""))
		token := ginjwttest.Access(t, m, "username")
		expectMsg(t, fc.get("/protected?jwt="+token), 401, "Missing 'foo' query paramater")
		expectJSON(t, fc.get("/protected?foo="+token), 200, ok)
	})

	t.Run(file+"test_missing_query_paramater", func(t *testing.T) {
		m, fc := queryStringApp(t)
		expectMsg(t, fc.get("/protected"), 401, "Missing 'jwt' query paramater")
		expectMsg(t, fc.get("/protected", withBearer(ginjwttest.Access(t, m, "username"))), 401, "Missing 'jwt' query paramater")
		_, fc = queryStringApp(t, handleKind(ginjwt.ErrUnauthorized, customJSON(201, gin.H{"foo": "bar"})))
		expectJSON(t, fc.get("/protected"), 201, ok)
	})
}
