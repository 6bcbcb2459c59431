package conformance

import (
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
)

// headersApp is the fixture of test_headers.py.
func headersApp(t *testing.T, opts ...ginjwt.Option) (*ginjwt.Manager, *flaskClient) {
	m := newManager(t, opts...)
	r := newRouter()
	r.GET("/protected", m.JWTRequired(), fooBar)
	return m, newFlaskClient(t, r)
}

func TestFlaskHeaders(t *testing.T) {
	const file = "test_headers.py::"
	ok := `{"foo":"bar"}`

	t.Run(file+"test_default_headers", func(t *testing.T) {
		m, fc := headersApp(t)
		token := ginjwttest.Access(t, m, "username")
		auth := func(v string) reqOpt { return withHeader("Authorization", v) }
		expectMsg(t, fc.get("/protected", auth("Basic basiccreds")), 401,
			"Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'")
		expectJSON(t, fc.get("/protected", auth("Bearer "+token)), 200, ok)
		expectJSON(t, fc.get("/protected", auth("Bearer "+token+", Basic creds")), 200, ok)
		expectJSON(t, fc.get("/protected", auth("Basic creds, Bearer "+token)), 200, ok)
	})

	t.Run(file+"test_header_with_trailing_spaces_and_commas", func(t *testing.T) {
		m, fc := headersApp(t)
		expectJSON(t, fc.get("/protected", withHeader("Authorization", "Bearer "+ginjwttest.Access(t, m, "username")+",   ")), 200, ok)
	})

	t.Run(file+"test_custom_header_name", func(t *testing.T) {
		m, fc := headersApp(t, ginjwt.WithHeader("Foo", "Bearer"))
		token := ginjwttest.Access(t, m, "username")
		expectMsg(t, fc.get("/protected", withBearer(token)), 401, "Missing Foo Header")
		expectJSON(t, fc.get("/protected", withHeader("Foo", "Bearer "+token)), 200, ok)
		expectJSON(t, fc.get("/protected", withHeader("Foo", "Bearer "+token+", Basic randomcredshere")), 200, ok)
		expectJSON(t, fc.get("/protected", withHeader("Foo", "Basic randomcredshere, Bearer "+token)), 200, ok)
	})

	t.Run(file+"test_custom_header_type", func(t *testing.T) {
		m, fc := headersApp(t, ginjwt.WithHeader("Authorization", "JWT"))
		token := ginjwttest.Access(t, m, "username")
		auth := func(v string) reqOpt { return withHeader("Authorization", v) }
		expectMsg(t, fc.get("/protected", auth("Bearer "+token)), 401,
			"Missing 'JWT' type in 'Authorization' header. Expected 'Authorization: JWT <JWT>'")
		expectJSON(t, fc.get("/protected", auth("JWT "+token)), 200, ok)
		expectJSON(t, fc.get("/protected", auth("JWT "+token+", Basic creds")), 200, ok)
		expectJSON(t, fc.get("/protected", auth("Basic creds, JWT "+token)), 200, ok)

		_, fc = headersApp(t, ginjwt.WithHeader("Authorization", ""))
		expectJSON(t, fc.get("/protected", auth(token)), 200, ok)
		expectMsg(t, fc.get("/protected", auth("Bearer "+token)), 422, "Bad Authorization header. Expected 'Authorization: <JWT>'")
	})

	t.Run(file+"test_missing_headers", func(t *testing.T) {
		_, fc := headersApp(t)
		expectMsg(t, fc.get("/protected"), 401, "Missing Authorization Header")
		_, fc = headersApp(t, handleKind(ginjwt.ErrUnauthorized, customJSON(201, gin.H{"foo": "bar"})))
		expectJSON(t, fc.get("/protected"), 201, ok)
	})

	t.Run(file+"test_header_without_jwt", func(t *testing.T) {
		_, fc := headersApp(t)
		expectMsg(t, fc.get("/protected", withHeader("Authorization", "Bearer ")), 422,
			"Bad Authorization header. Expected 'Authorization: Bearer <JWT>'")
	})

	t.Run(file+"test_custom_error_msg_key", func(t *testing.T) {
		_, fc := headersApp(t, ginjwt.WithErrorMessageKey("message"))
		expectJSON(t, fc.get("/protected"), 401, `{"message":"Missing Authorization Header"}`)
	})
}
