package ginjwt_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The zero CookieConfig is the secure default: Secure session cookies with
// flask's names and paths, and the CSRF double submit enforced.
func TestWithCookiesZeroValueIsSecure(t *testing.T) {
	for name, opts := range map[string][]ginjwt.Option{
		"no WithCookies":      {ginjwt.WithTokenLocations(ginjwt.InCookies)},
		"WithCookies(zero)":   {ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithCookies(ginjwt.CookieConfig{})},
		"SameSiteDefaultMode": {ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithCookies(ginjwt.CookieConfig{SameSite: http.SameSiteDefaultMode})},
	} {
		t.Run(name, func(t *testing.T) {
			r := cookieApp(t, newManager(t, opts...))
			w := req{target: "/login"}.send(r)
			require.Equal(t, 204, w.Code)
			cs := setCookies(t, w)
			require.Len(t, cs, 4)
			for cookie, httpOnly := range map[string]bool{
				"access_token_cookie": true, "refresh_token_cookie": true,
				"csrf_access_token": false, "csrf_refresh_token": false,
			} {
				c := cs[cookie]
				require.NotNil(t, c, cookie)
				assert.True(t, c.Secure, "%s: Secure by default", cookie)
				assert.Equal(t, httpOnly, c.HttpOnly, cookie)
				assert.Equal(t, "/", c.Path, cookie)
				assert.Empty(t, c.Domain, cookie)
				assert.Zero(t, c.MaxAge, "%s: a session cookie", cookie)
				assert.NotContains(t, c.Raw, "SameSite", cookie)
			}

			access := map[string]string{"access_token_cookie": cs["access_token_cookie"].Value}
			w = req{method: "POST", cookies: access}.send(r)
			assert.Equal(t, 401, w.Code, "CSRF is enforced")
			assertMsg(t, w, "Missing CSRF token")
			w = req{method: "POST", cookies: access, headers: map[string]string{"X-CSRF-TOKEN": cs["csrf_access_token"].Value}}.send(r)
			assert.Equal(t, 200, w.Code, w.Body.String())
		})
	}
}

// Each field of CookieConfig and CSRFConfig, set alone, takes effect.
func TestWithCookiesFields(t *testing.T) {
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name  string
		cfg   ginjwt.CookieConfig
		check func(t *testing.T, r *gin.Engine, jar map[string]string, cs map[string]*http.Cookie)
	}{
		{"AccessName", ginjwt.CookieConfig{AccessName: "acc"}, func(t *testing.T, r *gin.Engine, jar map[string]string, _ map[string]*http.Cookie) {
			require.Contains(t, jar, "acc")
			assert.NotContains(t, jar, "access_token_cookie")
			assert.Equal(t, 200, req{cookies: map[string]string{"acc": jar["acc"]}}.send(r).Code)
			w := req{cookies: map[string]string{"access_token_cookie": jar["acc"]}}.send(r)
			assertMsg(t, w, `Missing cookie "acc"`)
		}},
		{"RefreshName", ginjwt.CookieConfig{RefreshName: "ref"}, func(t *testing.T, r *gin.Engine, jar map[string]string, _ map[string]*http.Cookie) {
			require.Contains(t, jar, "ref")
			assert.Equal(t, 200, req{target: "/refresh", cookies: map[string]string{"ref": jar["ref"]}}.send(r).Code)
			assertMsg(t, req{target: "/refresh"}.send(r), `Missing cookie "ref"`)
		}},
		{"AccessPath", ginjwt.CookieConfig{AccessPath: "/api"}, func(t *testing.T, _ *gin.Engine, _ map[string]string, cs map[string]*http.Cookie) {
			assert.Equal(t, "/api", cs["access_token_cookie"].Path)
			assert.Equal(t, "/", cs["refresh_token_cookie"].Path)
			assert.Equal(t, "/", cs["csrf_access_token"].Path, "the CSRF cookie has its own path")
		}},
		{"RefreshPath", ginjwt.CookieConfig{RefreshPath: "/refresh"}, func(t *testing.T, _ *gin.Engine, _ map[string]string, cs map[string]*http.Cookie) {
			assert.Equal(t, "/refresh", cs["refresh_token_cookie"].Path)
			assert.Equal(t, "/", cs["access_token_cookie"].Path)
		}},
		{"Insecure", ginjwt.CookieConfig{Insecure: true}, func(t *testing.T, _ *gin.Engine, _ map[string]string, cs map[string]*http.Cookie) {
			for name, c := range cs {
				assert.False(t, c.Secure, name)
			}
		}},
		{"Domain", ginjwt.CookieConfig{Domain: "example.com"}, func(t *testing.T, _ *gin.Engine, _ map[string]string, cs map[string]*http.Cookie) {
			for name, c := range cs {
				assert.Equal(t, "example.com", c.Domain, name)
			}
		}},
		{"SameSite", ginjwt.CookieConfig{SameSite: http.SameSiteStrictMode}, func(t *testing.T, _ *gin.Engine, _ map[string]string, cs map[string]*http.Cookie) {
			for name, c := range cs {
				assert.Equal(t, http.SameSiteStrictMode, c.SameSite, name)
			}
		}},
		{"SameSite=None with Secure", ginjwt.CookieConfig{SameSite: http.SameSiteNoneMode}, func(t *testing.T, _ *gin.Engine, _ map[string]string, cs map[string]*http.Cookie) {
			for name, c := range cs {
				assert.Equal(t, http.SameSiteNoneMode, c.SameSite, name)
				assert.True(t, c.Secure, name)
			}
		}},
		{"Persistent", ginjwt.CookieConfig{Persistent: true}, func(t *testing.T, _ *gin.Engine, _ map[string]string, cs map[string]*http.Cookie) {
			for name, c := range cs {
				assert.Equal(t, 31540000, c.MaxAge, name)
			}
		}},
		{"CSRF.Disabled", ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{Disabled: true}}, func(t *testing.T, r *gin.Engine, jar map[string]string, _ map[string]*http.Cookie) {
			assert.Len(t, jar, 2, "no CSRF cookies")
			w := req{method: "POST", cookies: map[string]string{"access_token_cookie": jar["access_token_cookie"]}}.send(r)
			assert.Equal(t, 200, w.Code, "no CSRF value needed")
		}},
		{"CSRF.Methods", ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{Methods: []string{"GET"}}}, func(t *testing.T, r *gin.Engine, jar map[string]string, _ map[string]*http.Cookie) {
			cookies := map[string]string{"access_token_cookie": jar["access_token_cookie"]}
			w := req{cookies: cookies}.send(r)
			assert.Equal(t, 401, w.Code)
			assertMsg(t, w, "Missing CSRF token")
			assert.Equal(t, 200, req{method: "POST", cookies: cookies}.send(r).Code, "POST is no longer a CSRF method")
		}},
		{"CSRF.OmitCookies", ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{OmitCookies: true}}, func(t *testing.T, r *gin.Engine, jar map[string]string, _ map[string]*http.Cookie) {
			assert.Len(t, jar, 2, "no CSRF cookies")
			w := req{method: "POST", cookies: map[string]string{"access_token_cookie": jar["access_token_cookie"]}}.send(r)
			assert.Equal(t, 401, w.Code, "the check still runs")
			assertMsg(t, w, "Missing CSRF token")
		}},
		{"CSRF.CheckForm", ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{CheckForm: true}}, func(t *testing.T, r *gin.Engine, jar map[string]string, _ map[string]*http.Cookie) {
			w := req{method: "POST", cookies: map[string]string{"access_token_cookie": jar["access_token_cookie"]},
				body: "csrf_token=" + jar["csrf_access_token"], contentType: form}.send(r)
			assert.Equal(t, 200, w.Code, w.Body.String())
		}},
		{"CSRF cookie names", ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{AccessCookieName: "xa", RefreshCookieName: "xr"}}, func(t *testing.T, _ *gin.Engine, jar map[string]string, _ map[string]*http.Cookie) {
			assert.Contains(t, jar, "xa")
			assert.Contains(t, jar, "xr")
			assert.NotContains(t, jar, "csrf_access_token")
		}},
		{"CSRF cookie paths", ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{AccessCookiePath: "/a", RefreshCookiePath: "/r"}}, func(t *testing.T, _ *gin.Engine, _ map[string]string, cs map[string]*http.Cookie) {
			assert.Equal(t, "/a", cs["csrf_access_token"].Path)
			assert.Equal(t, "/r", cs["csrf_refresh_token"].Path)
			assert.Equal(t, "/", cs["access_token_cookie"].Path, "the JWT cookie keeps its own path")
		}},
		{"CSRF headers", ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{AccessHeader: "X-A", RefreshHeader: "X-R"}}, func(t *testing.T, r *gin.Engine, jar map[string]string, _ map[string]*http.Cookie) {
			access := map[string]string{"access_token_cookie": jar["access_token_cookie"]}
			refresh := map[string]string{"refresh_token_cookie": jar["refresh_token_cookie"]}
			assert.Equal(t, 200, req{method: "POST", cookies: access, headers: map[string]string{"X-A": jar["csrf_access_token"]}}.send(r).Code)
			assert.Equal(t, 401, req{method: "POST", cookies: access, headers: map[string]string{"X-CSRF-TOKEN": jar["csrf_access_token"]}}.send(r).Code)
			assert.Equal(t, 200, req{method: "POST", target: "/refresh", cookies: refresh, headers: map[string]string{"X-R": jar["csrf_refresh_token"]}}.send(r).Code)
		}},
		{"CSRF fields", ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{CheckForm: true, AccessField: "fa", RefreshField: "fr"}}, func(t *testing.T, r *gin.Engine, jar map[string]string, _ map[string]*http.Cookie) {
			access := map[string]string{"access_token_cookie": jar["access_token_cookie"]}
			refresh := map[string]string{"refresh_token_cookie": jar["refresh_token_cookie"]}
			assert.Equal(t, 200, req{method: "POST", cookies: access, body: "fa=" + jar["csrf_access_token"], contentType: form}.send(r).Code)
			assert.Equal(t, 401, req{method: "POST", cookies: access, body: "csrf_token=" + jar["csrf_access_token"], contentType: form}.send(r).Code)
			assert.Equal(t, 200, req{method: "POST", target: "/refresh", cookies: refresh, body: "fr=" + jar["csrf_refresh_token"], contentType: form}.send(r).Code)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := cookieApp(t, newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithCookies(tc.cfg)))
			w := req{target: "/login"}.send(r)
			require.Equal(t, 204, w.Code)
			cs := setCookies(t, w)
			tc.check(t, r, cookieValues(cs), cs)
		})
	}
}

// A second WithCookies is refused: it would reset the first one's
// hardening (here SameSite=Strict and the refresh path) to the defaults
// without a word.
func TestWithCookiesTwiceRefused(t *testing.T) {
	_, err := ginjwt.New(ginjwt.WithSecretKey([]byte(testSecret)),
		ginjwt.WithCookies(ginjwt.CookieConfig{SameSite: http.SameSiteStrictMode, RefreshPath: "/refresh"}),
		ginjwt.WithCookies(ginjwt.CookieConfig{Insecure: true}))
	require.ErrorIs(t, err, ginjwt.ErrConfig)
	assert.ErrorContains(t, err, "WithCookies given twice: put every cookie and CSRF setting in one CookieConfig")
}

// New refuses settings browsers or net/http would drop, every one of them
// at once, wrapped in ErrConfig.
func TestWithCookiesRefused(t *testing.T) {
	tests := []struct {
		name string
		cfg  ginjwt.CookieConfig
		want []string
	}{
		{"JWT cookie name", ginjwt.CookieConfig{RefreshName: "r;x"}, []string{`cookie "r;x": http: invalid Cookie.Name`}},
		{"JWT cookie path", ginjwt.CookieConfig{AccessPath: "/a;b"}, []string{`cookie "access_token_cookie": http: invalid byte ';' in Cookie.Path`}},
		{"CSRF cookie name", ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{AccessCookieName: "x y"}}, []string{`cookie "x y": http: invalid Cookie.Name`}},
		{"CSRF cookie path", ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{RefreshCookiePath: "/r;x"}}, []string{`cookie "csrf_refresh_token": http: invalid byte ';' in Cookie.Path`}},
		{"CSRF header", ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{RefreshHeader: "X R"}}, []string{`CSRF header "X R" is not a valid header name`}},
		{"empty CSRF method", ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{Methods: []string{"POST", ""}}}, []string{`CSRF method "": HTTP methods are upper case`}},
		{"unknown SameSite", ginjwt.CookieConfig{SameSite: 99}, []string{"cookie SameSite 99 is not one of net/http's SameSite modes"}},
		{"domain, on each cookie", ginjwt.CookieConfig{Domain: "bad domain"}, []string{
			`cookie "access_token_cookie": http: invalid Cookie.Domain`, `cookie "csrf_access_token": http: invalid Cookie.Domain`,
			`cookie "refresh_token_cookie": http: invalid Cookie.Domain`, `cookie "csrf_refresh_token": http: invalid Cookie.Domain`,
		}},
		{"SameSite=None, not Secure", ginjwt.CookieConfig{SameSite: http.SameSiteNoneMode, Insecure: true}, []string{"SameSite=None needs Secure cookies: browsers drop the others (CookieConfig.Insecure)"}},
		{"__Secure- not Secure", ginjwt.CookieConfig{RefreshName: "__Secure-r", Insecure: true}, []string{`cookie "__Secure-r": its prefix needs Secure cookies (CookieConfig.Insecure is set)`}},
		{"__Host- CSRF cookie with a Domain", ginjwt.CookieConfig{Domain: "example.com", CSRF: ginjwt.CSRFConfig{RefreshCookieName: "__Host-c"}}, []string{`cookie "__Host-c": a __Host- cookie cannot have a Domain`}},
		{"__Host- CSRF cookie off the root", ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{AccessCookieName: "__Host-c", AccessCookiePath: "/api"}}, []string{`cookie "__Host-c": a __Host- cookie needs the path "/", not "/api"`}},
		{"all at once", ginjwt.CookieConfig{AccessName: "a b", SameSite: 7, CSRF: ginjwt.CSRFConfig{AccessHeader: "X:"}}, []string{
			`cookie "a b": http: invalid Cookie.Name`, "cookie SameSite 7", `CSRF header "X:"`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ginjwt.New(ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithCookies(tc.cfg))
			require.Error(t, err)
			assert.Nil(t, m)
			assert.True(t, errors.Is(err, ginjwt.ErrConfig), err.Error())
			for _, want := range tc.want {
				assert.Contains(t, err.Error(), want)
			}
			assert.Equal(t, len(tc.want), strings.Count(err.Error(), "\n")+1, "one line per problem: %s", err)
		})
	}
}
