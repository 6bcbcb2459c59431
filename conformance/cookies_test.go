package conformance

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cookiesApp is the fixture of test_cookies.py with the test's cookie
// settings, if any. flask's cookies are not Secure by default; ginjwt's
// are, so the app opts out as flask's default does (see the README's
// differences).
func cookiesApp(t *testing.T, settings ...ginjwt.CookieConfig) *gin.Engine {
	var ck ginjwt.CookieConfig
	if len(settings) > 0 {
		ck = settings[0]
	}
	ck.Insecure = true
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithCookies(ck))
	return cookiesRoutes(t, m)
}

func cookiesRoutes(t *testing.T, m *ginjwt.Manager) *gin.Engine {
	r := newRouter()
	domain := func(c *gin.Context) []ginjwt.CookieOption {
		if d, ok := c.GetQuery("domain"); ok {
			return []ginjwt.CookieOption{ginjwt.CookieDomain(d)}
		}
		return nil
	}
	r.GET("/access_token", func(c *gin.Context) {
		require.NoError(t, m.SetAccessCookies(c, ginjwttest.Access(t, m, "username"), domain(c)...))
		c.JSON(200, gin.H{"login": true})
	})
	r.GET("/refresh_token", func(c *gin.Context) {
		require.NoError(t, m.SetRefreshCookies(c, ginjwttest.Refresh(t, m, "username"), domain(c)...))
		c.JSON(200, gin.H{"login": true})
	})
	r.GET("/delete_tokens", func(c *gin.Context) { m.UnsetJWTCookies(c, domain(c)...); c.JSON(200, gin.H{"logout": true}) })
	r.GET("/delete_access_tokens", func(c *gin.Context) {
		m.UnsetAccessCookies(c, domain(c)...)
		c.JSON(200, gin.H{"access_revoked": true})
	})
	r.GET("/delete_refresh_tokens", func(c *gin.Context) {
		m.UnsetRefreshCookies(c, domain(c)...)
		c.JSON(200, gin.H{"refresh_revoked": true})
	})
	r.GET("/protected", m.JWTRequired(), fooBar)
	r.POST("/post_protected", m.JWTRequired(), fooBar)
	r.GET("/refresh_protected", m.RefreshRequired(), fooBar)
	r.POST("/post_refresh_protected", m.RefreshRequired(), fooBar)
	r.POST("/optional_post_protected", m.JWTRequired(ginjwt.Optional()), fooBar)
	return r
}

// The two parameter sets most cookie tests run with.
var cookieCases = []struct{ auth, cookie, csrfCookie, get, post, del string }{
	{"/refresh_token", "refresh_token_cookie", "csrf_refresh_token", "/refresh_protected", "/post_refresh_protected", "/delete_refresh_tokens"},
	{"/access_token", "access_token_cookie", "csrf_access_token", "/protected", "/post_protected", "/delete_access_tokens"},
}

func TestFlaskCookies(t *testing.T) {
	const file = "test_cookies.py::"

	t.Run(file+"test_jwt_refresh_required_with_cookies", func(t *testing.T) {
		for _, tc := range cookieCases {
			fc := newFlaskClient(t, cookiesApp(t))
			missing := `Missing cookie "` + tc.cookie + `"`
			expectMsg(t, fc.get(tc.get), 401, missing)
			fc.get(tc.auth)
			expectJSON(t, fc.get(tc.get), 200, `{"foo":"bar"}`)
			fc.get(tc.del)
			expectMsg(t, fc.get(tc.get), 401, missing)
			fc.get(tc.auth)
			assert.Equal(t, 200, fc.get(tc.get).Code)
			fc.get("/delete_tokens")
			expectMsg(t, fc.get(tc.get), 401, missing)
		}
	})

	t.Run(file+"test_default_access_csrf_protection", func(t *testing.T) {
		for _, tc := range cookieCases {
			fc := newFlaskClient(t, cookiesApp(t))
			csrf := flaskCookie(t, fc.get(tc.auth), tc.csrfCookie)["value"]
			expectMsg(t, fc.post(tc.post), 401, "Missing CSRF token")
			expectJSON(t, fc.post(tc.post, withHeader("X-CSRF-TOKEN", csrf)), 200, `{"foo":"bar"}`)
		}
	})

	t.Run(file+"test_non_matching_csrf_token", func(t *testing.T) {
		for _, tc := range cookieCases {
			fc := newFlaskClient(t, cookiesApp(t))
			fc.get(tc.auth)
			expectMsg(t, fc.post(tc.post, withHeader("X-CSRF-TOKEN", "totally_wrong_token")), 401, "CSRF double submit tokens do not match")
		}
	})

	t.Run(file+"test_csrf_disabled", func(t *testing.T) {
		for _, tc := range cookieCases {
			fc := newFlaskClient(t, cookiesApp(t, ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{Disabled: true}}))
			fc.get(tc.auth)
			expectJSON(t, fc.post(tc.post), 200, `{"foo":"bar"}`)
		}
	})

	t.Run(file+"test_csrf_with_custom_header_names", func(t *testing.T) {
		for _, tc := range cookieCases {
			fc := newFlaskClient(t, cookiesApp(t, ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{AccessHeader: "FOO", RefreshHeader: "FOO"}}))
			csrf := flaskCookie(t, fc.get(tc.auth), tc.csrfCookie)["value"]
			expectJSON(t, fc.post(tc.post, withHeader("FOO", csrf)), 200, `{"foo":"bar"}`)
		}
	})

	t.Run(file+"test_csrf_with_default_form_field", func(t *testing.T) {
		for _, tc := range cookieCases {
			fc := newFlaskClient(t, cookiesApp(t, ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{CheckForm: true}}))
			csrf := flaskCookie(t, fc.get(tc.auth), tc.csrfCookie)["value"]
			expectJSON(t, fc.post(tc.post, withForm("csrf_token", csrf)), 200, `{"foo":"bar"}`)
		}
	})

	t.Run(file+"test_csrf_with_custom_form_field", func(t *testing.T) {
		for _, tc := range cookieCases {
			fc := newFlaskClient(t, cookiesApp(t, ginjwt.CookieConfig{
				CSRF: ginjwt.CSRFConfig{CheckForm: true, AccessField: "FOO", RefreshField: "FOO"}}))
			csrf := flaskCookie(t, fc.get(tc.auth), tc.csrfCookie)["value"]
			expectJSON(t, fc.post(tc.post, withForm("FOO", csrf)), 200, `{"foo":"bar"}`)
		}
	})

	t.Run(file+"test_custom_csrf_methods", func(t *testing.T) {
		for _, tc := range cookieCases {
			fc := newFlaskClient(t, cookiesApp(t, ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{Methods: []string{"GET"}}}))
			csrf := flaskCookie(t, fc.get(tc.auth), tc.csrfCookie)["value"]
			expectJSON(t, fc.post(tc.post), 200, `{"foo":"bar"}`)
			expectMsg(t, fc.get(tc.get), 401, "Missing CSRF token")
			expectJSON(t, fc.get(tc.get, withHeader("X-CSRF-TOKEN", csrf)), 200, `{"foo":"bar"}`)
		}
	})

	t.Run(file+"test_default_cookie_options", func(t *testing.T) {
		fc := newFlaskClient(t, cookiesApp(t))
		for _, tc := range cookieCases {
			w := fc.get(tc.auth)
			assert.Len(t, w.Header().Values("Set-Cookie"), 2)
			jwtCookie := flaskCookie(t, w, tc.cookie)
			require.NotNil(t, jwtCookie)
			assert.Equal(t, "/", jwtCookie["path"])
			assert.Equal(t, "true", jwtCookie["httponly"])
			assert.NotContains(t, jwtCookie, "samesite")
			csrfCookie := flaskCookie(t, w, tc.csrfCookie)
			require.NotNil(t, csrfCookie)
			assert.Equal(t, "/", csrfCookie["path"])
			assert.NotContains(t, csrfCookie, "httponly")
			assert.NotContains(t, csrfCookie, "samesite")
		}
	})

	t.Run(file+"test_custom_cookie_options", func(t *testing.T) {
		m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithCookies(ginjwt.CookieConfig{
			Domain: "test.com", Persistent: true, SameSite: http.SameSiteStrictMode}))
		fc := newFlaskClient(t, cookiesRoutes(t, m))
		for _, tc := range cookieCases {
			w := fc.get(tc.auth)
			assert.Len(t, w.Header().Values("Set-Cookie"), 2)
			for _, name := range []string{tc.cookie, tc.csrfCookie} {
				c := flaskCookie(t, w, name)
				require.NotNil(t, c, name)
				assert.Equal(t, "test.com", c["domain"])
				assert.Equal(t, "/", c["path"])
				assert.NotEmpty(t, c["expires"])
				assert.Equal(t, "true", c["secure"])
				assert.Equal(t, "Strict", c["samesite"])
			}
			assert.Equal(t, "true", flaskCookie(t, w, tc.cookie)["httponly"])
		}
	})

	t.Run(file+"test_custom_cookie_names_and_paths", func(t *testing.T) {
		fc := newFlaskClient(t, cookiesApp(t, ginjwt.CookieConfig{
			AccessName: "access_foo", RefreshName: "refresh_foo",
			AccessPath: "/protected", RefreshPath: "/refresh_protected",
			CSRF: ginjwt.CSRFConfig{
				AccessCookieName: "access_foo_csrf", RefreshCookieName: "refresh_foo_csrf",
				AccessCookiePath: "/protected", RefreshCookiePath: "/refresh_protected",
			},
		}))
		w := fc.get("/access_token")
		assert.Len(t, w.Header().Values("Set-Cookie"), 2)
		assert.Equal(t, "/protected", flaskCookie(t, w, "access_foo")["path"])
		assert.Equal(t, "/protected", flaskCookie(t, w, "access_foo_csrf")["path"])
		w = fc.get("/refresh_token")
		assert.Len(t, w.Header().Values("Set-Cookie"), 2)
		assert.Equal(t, "/refresh_protected", flaskCookie(t, w, "refresh_foo")["path"])
		assert.Equal(t, "/refresh_protected", flaskCookie(t, w, "refresh_foo_csrf")["path"])
	})

	t.Run(file+"test_csrf_token_not_in_cookie", func(t *testing.T) {
		fc := newFlaskClient(t, cookiesApp(t, ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{OmitCookies: true}}))
		for _, tc := range cookieCases {
			w := fc.get(tc.auth)
			assert.Len(t, w.Header().Values("Set-Cookie"), 1)
			assert.NotNil(t, flaskCookie(t, w, tc.cookie))
		}
	})

	t.Run(file+"test_cookies_without_csrf", func(t *testing.T) {
		fc := newFlaskClient(t, cookiesApp(t, ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{Disabled: true}}))
		for _, tc := range cookieCases {
			w := fc.get(tc.auth)
			assert.Len(t, w.Header().Values("Set-Cookie"), 1)
			assert.NotNil(t, flaskCookie(t, w, tc.cookie))
		}
	})

	t.Run(file+"test_jwt_optional_with_csrf_enabled", func(t *testing.T) {
		fc := newFlaskClient(t, cookiesApp(t))
		expectJSON(t, fc.post("/optional_post_protected"), 200, `{"foo":"bar"}`)
		fc.get("/access_token")
		expectMsg(t, fc.post("/optional_post_protected"), 401, "Missing CSRF token")
	})

	t.Run(file+"test_override_domain_option", func(t *testing.T) {
		for _, tc := range cookieCases {
			fc := newFlaskClient(t, cookiesApp(t, ginjwt.CookieConfig{Domain: "test.com"}))
			for _, path := range []string{tc.auth, tc.del} {
				w := fc.get(path + "?domain=yolo.com")
				assert.Len(t, w.Header().Values("Set-Cookie"), 2, path)
				for _, name := range []string{tc.cookie, tc.csrfCookie} {
					c := flaskCookie(t, w, name)
					require.NotNil(t, c, name)
					assert.Equal(t, "yolo.com", c["domain"], "%s %s", path, name)
				}
			}
		}
	})
}
