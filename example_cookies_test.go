package ginjwt_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
)

// WithCookies holds every cookie and CSRF setting; the fields left out
// keep flask's defaults, with Secure cookies and the CSRF double submit on.
func ExampleWithCookies() {
	gin.SetMode(gin.ReleaseMode)
	m, err := ginjwt.New(
		ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")),
		ginjwt.WithTokenLocations(ginjwt.InCookies),
		ginjwt.WithCookies(ginjwt.CookieConfig{
			SameSite:    http.SameSiteStrictMode,
			RefreshPath: "/refresh", // the refresh token only travels to /refresh
			CSRF:        ginjwt.CSRFConfig{AccessHeader: "X-XSRF-TOKEN"},
		}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	r := gin.New()
	r.POST("/login", func(c *gin.Context) {
		access, refresh, err := m.CreateTokenPair("alice")
		if err == nil {
			err = m.SetJWTCookies(c, access, refresh)
		}
		if err != nil {
			m.Abort(c, err)
		}
	})
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	for _, ck := range w.Result().Cookies() {
		fmt.Println(ck.Name, "Path="+ck.Path, "Secure:", ck.Secure, "HttpOnly:", ck.HttpOnly, "SameSite:", ck.SameSite == http.SameSiteStrictMode)
	}
	fmt.Println("CSRF header:", m.CSRFHeaderName(ginjwt.TypeAccess))

	// New refuses settings that browsers would silently drop.
	_, err = ginjwt.New(
		ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")),
		ginjwt.WithTokenLocations(ginjwt.InCookies),
		ginjwt.WithCookies(ginjwt.CookieConfig{AccessName: "__Host-access", Domain: "example.com"}),
	)
	fmt.Println(err)
	// Output:
	// access_token_cookie Path=/ Secure: true HttpOnly: true SameSite: true
	// csrf_access_token Path=/ Secure: true HttpOnly: false SameSite: true
	// refresh_token_cookie Path=/refresh Secure: true HttpOnly: true SameSite: true
	// csrf_refresh_token Path=/ Secure: true HttpOnly: false SameSite: true
	// CSRF header: X-XSRF-TOKEN
	// ginjwt: invalid configuration: cookie "__Host-access": a __Host- cookie cannot have a Domain ("example.com"): browsers drop it
}
