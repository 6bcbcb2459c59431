package ginjwttest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
)

func newApp() (*ginjwt.Manager, *gin.Engine) {
	gin.SetMode(gin.ReleaseMode)
	m, _ := ginjwt.New(ginjwt.WithSecretKey([]byte("test-secret-0123456789abcdef0123456789")),
		ginjwt.WithTokenLocations(ginjwt.InHeaders, ginjwt.InCookies))
	r := gin.New()
	r.GET("/me", m.JWTRequired(), func(c *gin.Context) { c.String(200, ginjwt.CurrentIdentity(c)) })
	r.POST("/me", m.JWTRequired(), func(c *gin.Context) { c.String(200, "updated "+ginjwt.CurrentIdentity(c)) })
	r.POST("/password", m.FreshRequired(), func(c *gin.Context) { c.String(200, "changed") })
	return m, r
}

// Testing a guarded handler in one line.
func Example() {
	m, r := newApp()
	t := &testing.T{} // in a real test, the *testing.T you are given

	w := ginjwttest.Get(t, r, "/me", ginjwttest.Access(t, m, "alice"))
	fmt.Println(w.Code, w.Body.String())
	w = ginjwttest.Get(t, r, "/me", ginjwttest.Expired(t, m, "alice"))
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 200 alice
	// 401 {"msg":"Token has expired"}
}

// A browser-style request: cookies plus the CSRF header.
func ExampleCookies() {
	m, r := newApp()
	t := &testing.T{}
	req := ginjwttest.Cookies(t, m, httptest.NewRequest(http.MethodPost, "/me", nil), ginjwttest.Access(t, m, "alice"))
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 200 updated alice
}

func TestHelpers(t *testing.T) {
	m, r := newApp()
	post := func(token string) int {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, ginjwttest.NewRequest(http.MethodPost, "/password", nil, token))
		return w.Code
	}
	if got := post(ginjwttest.Fresh(t, m, "alice")); got != 200 {
		t.Errorf("fresh token: %d", got)
	}
	if got := post(ginjwttest.Access(t, m, "alice")); got != 401 {
		t.Errorf("non-fresh token: %d, want 401", got)
	}
	if got := ginjwttest.Get(t, r, "/me", ginjwttest.Refresh(t, m, "alice")).Code; got != 422 {
		t.Errorf("refresh token on an access route: %d, want 422", got)
	}
	// Cookies without the CSRF header are refused on POST.
	req := ginjwttest.Cookies(t, m, httptest.NewRequest(http.MethodPost, "/me", nil), ginjwttest.Access(t, m, "alice"))
	req.Header.Del("X-CSRF-TOKEN")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if w.Code != 401 || w.Body.String() != `{"msg":"Missing CSRF token"}` {
		t.Errorf("cookies without CSRF: %d %s", w.Code, w.Body)
	}
}

// Cookies follows the Manager's cookie and header names.
func TestCookiesWithCustomNames(t *testing.T) {
	m, err := ginjwt.New(ginjwt.WithSecretKey([]byte("test-secret-0123456789abcdef0123456789")),
		ginjwt.WithTokenLocations(ginjwt.InCookies),
		ginjwt.WithCookies(ginjwt.CookieConfig{
			AccessName: "jwt_a", RefreshName: "jwt_r",
			CSRF: ginjwt.CSRFConfig{
				AccessCookieName: "csrf_a", RefreshCookieName: "csrf_r",
				AccessHeader: "X-A", RefreshHeader: "X-R",
			},
		}))
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.POST("/me", m.JWTRequired(), func(c *gin.Context) { c.String(200, ginjwt.CurrentIdentity(c)) })
	r.POST("/refresh", m.RefreshRequired(), func(c *gin.Context) { c.String(200, "refreshed "+ginjwt.CurrentIdentity(c)) })
	for _, tc := range []struct {
		path, token, header, want string
	}{
		{"/me", ginjwttest.Access(t, m, "alice"), "X-A", "alice"},
		{"/refresh", ginjwttest.Refresh(t, m, "alice"), "X-R", "refreshed alice"},
	} {
		req := ginjwttest.Cookies(t, m, httptest.NewRequest(http.MethodPost, tc.path, nil), tc.token)
		if req.Header.Get(tc.header) == "" {
			t.Errorf("%s: no %s header", tc.path, tc.header)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code != 200 || w.Body.String() != tc.want {
			t.Errorf("%s: %d %s, want 200 %s", tc.path, w.Code, w.Body, tc.want)
		}
	}
}
