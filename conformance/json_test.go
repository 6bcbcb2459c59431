package conformance

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
)

// jsonApp is the fixture of test_json.py: tokens in the JSON body only.
func jsonApp(t *testing.T, opts ...ginjwt.Option) (*ginjwt.Manager, *flaskClient) {
	m := newManager(t, append([]ginjwt.Option{ginjwt.WithTokenLocations(ginjwt.InJSONBody)}, opts...)...)
	r := newRouter()
	r.POST("/protected", m.JWTRequired(), fooBar)
	r.POST("/refresh", m.RefreshRequired(), fooBar)
	return m, newFlaskClient(t, r)
}

func TestFlaskJSON(t *testing.T) {
	const file = "test_json.py::"
	ok := `{"foo":"bar"}`

	t.Run(file+"test_content_type", func(t *testing.T) {
		m, fc := jsonApp(t)
		const msg = "Invalid content-type. Must be application/json."
		expectMsg(t, fc.post("/protected", withForm("access_token", ginjwttest.Access(t, m, "username"))), 401, msg)
		expectMsg(t, fc.post("/refresh", withForm("refresh_token", ginjwttest.Refresh(t, m, "username"))), 401, msg)
	})

	t.Run(file+"test_custom_body_key", func(t *testing.T) {
		m, fc := jsonApp(t, ginjwt.WithJSONKeys("Foo", "Bar"))
		access, refresh := ginjwttest.Access(t, m, "username"), ginjwttest.Refresh(t, m, "username")
		expectMsg(t, fc.post("/protected", withJSON(map[string]string{"access_token": access})), 401, `Missing "Foo" key in json data.`)
		expectMsg(t, fc.post("/refresh", withJSON(map[string]string{"refresh_token": refresh})), 401, `Missing "Bar" key in json data.`)
		expectJSON(t, fc.post("/protected", withJSON(map[string]string{"Foo": access})), 200, ok)
		expectJSON(t, fc.post("/refresh", withJSON(map[string]string{"Bar": refresh})), 200, ok)
	})

	t.Run(file+"test_missing_keys", func(t *testing.T) {
		_, fc := jsonApp(t)
		ct := withHeader("Content-Type", "application/json")
		expectMsg(t, fc.post("/protected", ct), 401, `Missing "access_token" key in json data.`)
		_, fc = jsonApp(t, handleKind(ginjwt.ErrUnauthorized, customJSON(201, gin.H{"foo": "bar"})))
		expectJSON(t, fc.post("/protected", ct), 201, ok)
	})

	t.Run(file+"test_defaults", func(t *testing.T) {
		m, fc := jsonApp(t)
		expectJSON(t, fc.post("/protected", withJSON(map[string]string{"access_token": ginjwttest.Access(t, m, "username")})), 200, ok)
		expectJSON(t, fc.post("/refresh", withJSON(map[string]string{"refresh_token": ginjwttest.Refresh(t, m, "username")})), 200, ok)
	})

	t.Run(file+"test_custom_content_type", func(t *testing.T) {
		m, fc := jsonApp(t)
		ct := withHeader("Content-Type", "application/json;charset=UTF-8")
		ctOverride := func(o reqOpt) reqOpt { return func(r *http.Request) { o(r); r.Header.Del("Content-Type"); ct(r) } }
		expectJSON(t, fc.post("/protected", ctOverride(withJSON(map[string]string{"access_token": ginjwttest.Access(t, m, "username")}))), 200, ok)
		expectJSON(t, fc.post("/refresh", ctOverride(withJSON(map[string]string{"refresh_token": ginjwttest.Refresh(t, m, "username")}))), 200, ok)
	})
}
