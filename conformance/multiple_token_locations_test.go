package conformance

import (
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
)

var allLocations = []ginjwt.Location{ginjwt.InHeaders, ginjwt.InCookies, ginjwt.InQueryString, ginjwt.InJSONBody}

// locationsApp is the app fixture of test_multiple_token_locations.py (all
// four locations configured) and, with perRoute, app_with_locations
// (headers configured, the four given to the guard).
func locationsApp(t *testing.T, perRoute bool, locs ...ginjwt.Location) (*ginjwt.Manager, *flaskClient) {
	if locs == nil {
		locs = allLocations
	}
	var m *ginjwt.Manager
	var guard gin.HandlerFunc
	if perRoute {
		// Cookie settings would need Cookies among the Manager's locations
		// (TestFlaskDifferenceCookieSettingsNeedCookieLocation); the
		// defaults need none.
		m = newManager(t)
		guard = m.JWTRequired(ginjwt.Locations(locs...))
	} else {
		m = newManager(t, ginjwt.WithTokenLocations(locs...))
		guard = m.JWTRequired()
	}
	r := newRouter()
	r.GET("/cookie_login", func(c *gin.Context) {
		if err := m.SetAccessCookies(c, ginjwttest.Access(t, m, "username")); err != nil {
			t.Error(err)
		}
		c.JSON(200, gin.H{"login": true})
	})
	r.Match([]string{"GET", "POST"}, "/protected", guard, func(c *gin.Context) {
		c.JSON(200, gin.H{"foo": "bar", "location": ginjwt.CurrentLocation(c).String()})
	})
	return m, newFlaskClient(t, r)
}

func TestFlaskMultipleTokenLocations(t *testing.T) {
	const file = "test_multiple_token_locations.py::"
	both := []bool{false, true}

	t.Run(file+"test_header_access", func(t *testing.T) {
		for _, perRoute := range both {
			m, fc := locationsApp(t, perRoute)
			expectJSON(t, fc.get("/protected", withBearer(ginjwttest.Access(t, m, "username"))), 200, `{"foo":"bar","location":"headers"}`)
		}
	})

	t.Run(file+"test_cookie_access", func(t *testing.T) {
		for _, perRoute := range both {
			_, fc := locationsApp(t, perRoute)
			fc.get("/cookie_login")
			expectJSON(t, fc.get("/protected"), 200, `{"foo":"bar","location":"cookies"}`)
		}
	})

	t.Run(file+"test_query_string_access", func(t *testing.T) {
		for _, perRoute := range both {
			m, fc := locationsApp(t, perRoute)
			expectJSON(t, fc.get("/protected?jwt="+ginjwttest.Access(t, m, "username")), 200, `{"foo":"bar","location":"query_string"}`)
		}
	})

	t.Run(file+"test_json_access", func(t *testing.T) {
		for _, perRoute := range both {
			m, fc := locationsApp(t, perRoute)
			expectJSON(t, fc.post("/protected", withJSON(map[string]string{"access_token": ginjwttest.Access(t, m, "username")})), 200, `{"foo":"bar","location":"json"}`)
		}
	})

	t.Run(file+"test_no_jwt_in_request", func(t *testing.T) {
		_, fc := locationsApp(t, false, ginjwt.InCookies, ginjwt.InHeaders)
		expectMsg(t, fc.get("/protected"), 401, `Missing JWT in cookies or headers (Missing cookie "access_token_cookie"; Missing Authorization Header)`)
		_, fc = locationsApp(t, false, ginjwt.InJSONBody, ginjwt.InQueryString)
		expectMsg(t, fc.get("/protected"), 401, "Missing JWT in json or query_string (Invalid content-type. Must be application/json.; Missing 'jwt' query paramater)")
	})

	t.Run(file+"test_order_of_jwt_locations_in_request", func(t *testing.T) {
		for _, locs := range [][]ginjwt.Location{{ginjwt.InCookies, ginjwt.InHeaders}, {ginjwt.InHeaders, ginjwt.InCookies}} {
			_, fc := locationsApp(t, false, locs...)
			fc.get("/cookie_login")
			expectJSON(t, fc.get("/protected"), 200, `{"foo":"bar","location":"cookies"}`)
		}
	})

	t.Run(file+"test_order_of_jwt_locations_with_one_invalid_token_in_request", func(t *testing.T) {
		m, fc := locationsApp(t, false, ginjwt.InCookies, ginjwt.InHeaders)
		broken := "000000" + ginjwttest.Access(t, m, "username")[5:]
		fc.get("/cookie_login")
		expectJSON(t, fc.get("/protected", withBearer(broken)), 200, `{"foo":"bar","location":"cookies"}`)

		m, fc = locationsApp(t, false, ginjwt.InHeaders, ginjwt.InCookies)
		broken = "000000" + ginjwttest.Access(t, m, "username")[5:]
		fc.get("/cookie_login")
		expectMsg(t, fc.get("/protected", withBearer(broken)), 422, "Invalid header padding")
	})
}
