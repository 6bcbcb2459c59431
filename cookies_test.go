package ginjwt_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cookieApp is flask's cookie test app: login sets cookies, logout unsets
// them, protected routes read them.
func cookieApp(t *testing.T, m *ginjwt.Manager) *gin.Engine {
	r := newRouter()
	r.GET("/login", func(c *gin.Context) {
		access, refresh, err := m.CreateTokenPair("alice")
		require.NoError(t, err)
		require.NoError(t, m.SetAccessCookies(c, access))
		require.NoError(t, m.SetRefreshCookies(c, refresh))
		c.Status(204)
	})
	r.GET("/login-access", func(c *gin.Context) {
		access := ginjwttest.Access(t, m, "alice")
		require.NoError(t, m.SetAccessCookies(c, access))
		c.Status(204)
	})
	r.GET("/logout", func(c *gin.Context) { m.UnsetJWTCookies(c); c.Status(204) })
	h := func(c *gin.Context) { c.JSON(200, gin.H{"who": ginjwt.CurrentIdentity(c)}) }
	r.Any("/protected", m.JWTRequired(), h)
	r.Any("/optional", m.JWTRequired(ginjwt.Optional()), h)
	r.Any("/refresh", m.RefreshRequired(), h)
	return r
}

// setCookies parses a response's Set-Cookie headers by name.
func setCookies(t *testing.T, w *httptest.ResponseRecorder) map[string]*http.Cookie {
	t.Helper()
	out := map[string]*http.Cookie{}
	for _, line := range w.Header().Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		require.NoError(t, err, line)
		out[c.Name] = c
	}
	return out
}

func cookieValues(cs map[string]*http.Cookie) map[string]string {
	out := map[string]string{}
	for k, c := range cs {
		out[k] = c.Value
	}
	return out
}

func TestSetCookies(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies))
	w := req{target: "/login"}.send(cookieApp(t, m))
	require.Equal(t, 204, w.Code)
	require.Len(t, w.Header().Values("Set-Cookie"), 4, "two per token kind")
	cs := setCookies(t, w)

	access := cs["access_token_cookie"]
	require.NotNil(t, access)
	assert.True(t, access.HttpOnly, "JavaScript cannot read the JWT")
	assert.True(t, access.Secure, "Secure by default")
	assert.Equal(t, "/", access.Path)
	assert.Zero(t, access.MaxAge, "a session cookie by default")
	assert.True(t, access.Expires.IsZero())
	assert.Equal(t, http.SameSite(0), access.SameSite, "no SameSite attribute by default")

	csrf := cs["csrf_access_token"]
	require.NotNil(t, csrf)
	assert.False(t, csrf.HttpOnly, "the front end reads the CSRF cookie")
	assert.True(t, csrf.Secure)
	tok, err := m.DecodeToken(access.Value)
	require.NoError(t, err)
	assert.Equal(t, tok.Claims.CSRF, csrf.Value)
	got, err := m.GetCSRFToken(access.Value)
	require.NoError(t, err)
	assert.Equal(t, csrf.Value, got)

	refresh := cs["refresh_token_cookie"]
	require.NotNil(t, refresh)
	assert.True(t, refresh.HttpOnly)
	rtok, err := m.DecodeToken(refresh.Value)
	require.NoError(t, err)
	assert.Equal(t, "refresh", rtok.Claims.Type)
	assert.Equal(t, rtok.Claims.CSRF, cs["csrf_refresh_token"].Value)
}

func TestCookieAttributes(t *testing.T) {
	now := time.Unix(1795566329, 0)
	m := newManager(t,
		ginjwt.WithClock(func() time.Time { return now }),
		ginjwt.WithTokenLocations(ginjwt.InHeaders, ginjwt.InCookies),
		ginjwt.WithCookies(ginjwt.CookieConfig{
			Insecure: true, Domain: ".example.com",
			SameSite: http.SameSiteStrictMode, Persistent: true,
			AccessPath: "/api", RefreshPath: "/refresh",
			AccessName: "a_cookie", RefreshName: "r_cookie",
			CSRF: ginjwt.CSRFConfig{AccessCookiePath: "/", RefreshCookiePath: "/", AccessCookieName: "a_csrf", RefreshCookieName: "r_csrf"},
		}),
	)
	w := req{target: "/login"}.send(cookieApp(t, m))
	cs := setCookies(t, w)
	require.Len(t, cs, 4)
	for name, path := range map[string]string{"a_cookie": "/api", "r_cookie": "/refresh", "a_csrf": "/", "r_csrf": "/"} {
		c := cs[name]
		require.NotNil(t, c, name)
		assert.False(t, c.Secure, name)
		assert.Equal(t, "example.com", c.Domain, name)
		assert.Equal(t, http.SameSiteStrictMode, c.SameSite, name)
		assert.Equal(t, 31540000, c.MaxAge, name)
		assert.Equal(t, now.Add(31540000*time.Second).UTC(), c.Expires.UTC(), name)
		assert.Equal(t, path, c.Path, name)
	}
	// flask's default header, byte for byte, once Secure is off.
	plain := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithCookies(ginjwt.CookieConfig{Insecure: true}))
	w = req{target: "/login-access"}.send(cookieApp(t, plain))
	lines := w.Header().Values("Set-Cookie")
	require.Len(t, lines, 2)
	assert.Regexp(t, `^access_token_cookie=[\w-]+\.[\w-]+\.[\w-]+; Path=/; HttpOnly$`, lines[0])
	assert.Regexp(t, `^csrf_access_token=[0-9a-f-]{36}; Path=/$`, lines[1])
}

func TestUnsetCookies(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithCookies(ginjwt.CookieConfig{Insecure: true}))
	w := req{target: "/logout"}.send(cookieApp(t, m))
	lines := w.Header().Values("Set-Cookie")
	assert.Equal(t, []string{
		"access_token_cookie=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly",
		"csrf_access_token=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
		"refresh_token_cookie=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly",
		"csrf_refresh_token=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
	}, lines)
	// A browser that applied them sends no cookie: the guard says so.
	w = req{}.send(cookieApp(t, m))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, `Missing cookie "access_token_cookie"`)
	w = req{target: "/refresh"}.send(cookieApp(t, m))
	assertMsg(t, w, `Missing cookie "refresh_token_cookie"`)
}

// loggedIn logs in through the app and returns the cookies a browser keeps.
func loggedIn(t *testing.T, r http.Handler) map[string]string {
	t.Helper()
	w := req{target: "/login"}.send(r)
	require.Equal(t, 204, w.Code)
	return cookieValues(setCookies(t, w))
}

func TestCSRFDoubleSubmit(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies))
	r := cookieApp(t, m)
	jar := loggedIn(t, r)
	access := map[string]string{"access_token_cookie": jar["access_token_cookie"], "csrf_access_token": jar["csrf_access_token"]}
	good := map[string]string{"X-CSRF-TOKEN": jar["csrf_access_token"]}

	w := req{method: "OPTIONS", cookies: access}.send(r)
	assert.Equal(t, 204, w.Code, "the guard answers OPTIONS itself")
	assert.Empty(t, w.Body.String(), "no handler ran for OPTIONS")
	for _, method := range []string{"GET", "HEAD"} {
		w := req{method: method, cookies: access}.send(r)
		assert.Equal(t, 200, w.Code, "%s needs no CSRF value", method)
		switch method {
		case "GET":
			assert.JSONEq(t, `{"who":"alice"}`, w.Body.String(), "the cookie's identity")
		}
	}
	for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		w := req{method: method, cookies: access}.send(r)
		assert.Equal(t, 401, w.Code, method)
		assertMsg(t, w, "Missing CSRF token")

		w = req{method: method, cookies: access, headers: good}.send(r)
		assert.Equal(t, 200, w.Code, method)

		w = req{method: method, cookies: access, headers: map[string]string{"X-CSRF-TOKEN": "not-the-value"}}.send(r)
		assert.Equal(t, 401, w.Code, method)
		assertMsg(t, w, "CSRF double submit tokens do not match")

		// The header name is case-insensitive, as HTTP headers are.
		w = req{method: method, cookies: access, headers: map[string]string{"x-csrf-token": jar["csrf_access_token"]}}.send(r)
		assert.Equal(t, 200, w.Code, method)
	}

	// The refresh route checks the refresh cookie's CSRF value.
	refresh := map[string]string{"refresh_token_cookie": jar["refresh_token_cookie"]}
	w = req{method: "POST", target: "/refresh", cookies: refresh, headers: good}.send(r)
	assert.Equal(t, 401, w.Code, "the access CSRF value does not fit the refresh token")
	assertMsg(t, w, "CSRF double submit tokens do not match")
	w = req{method: "POST", target: "/refresh", cookies: refresh, headers: map[string]string{"X-CSRF-TOKEN": jar["csrf_refresh_token"]}}.send(r)
	assert.Equal(t, 200, w.Code)
}

func TestCSRFOnOptionalRoute(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies))
	r := cookieApp(t, m)
	jar := loggedIn(t, r)
	w := req{method: "POST", target: "/optional"}.send(r)
	assert.Equal(t, 200, w.Code, "no cookie: anonymous")
	w = req{method: "POST", target: "/optional", cookies: map[string]string{"access_token_cookie": jar["access_token_cookie"]}}.send(r)
	assert.Equal(t, 401, w.Code, "a cookie without its CSRF value is not anonymous")
	assertMsg(t, w, "Missing CSRF token")
}

func TestCSRFFormFieldAndCustomNames(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithCookies(ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{
		CheckForm: true, AccessHeader: "X-XSRF", RefreshHeader: "X-XSRF-R", AccessField: "xsrf", RefreshField: "xsrf_r"}}))
	r := cookieApp(t, m)
	r.POST("/form", m.JWTRequired(), func(c *gin.Context) { c.JSON(200, gin.H{"name": c.PostForm("name")}) })
	jar := loggedIn(t, r)
	cookies := map[string]string{"access_token_cookie": jar["access_token_cookie"]}

	w := req{method: "POST", target: "/form", cookies: cookies, body: "name=bob&xsrf=" + jar["csrf_access_token"],
		contentType: "application/x-www-form-urlencoded"}.send(r)
	assert.Equal(t, 200, w.Code, w.Body.String())
	assert.JSONEq(t, `{"name":"bob"}`, w.Body.String(), "the handler still reads the form")
	w = req{method: "POST", target: "/form", cookies: cookies, headers: map[string]string{"X-XSRF": jar["csrf_access_token"]}}.send(r)
	assert.Equal(t, 200, w.Code)
	w = req{method: "POST", target: "/form", cookies: cookies, headers: map[string]string{"X-CSRF-TOKEN": jar["csrf_access_token"]}}.send(r)
	assert.Equal(t, 401, w.Code, "the default header name no longer counts")

	// The form is read within the body limit: a field beyond it is not seen.
	small := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithCookies(ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{CheckForm: true}}), ginjwt.WithMaxBodySize(1024))
	rs := cookieApp(t, small)
	jarS := loggedIn(t, rs)
	w = req{method: "POST", cookies: map[string]string{"access_token_cookie": jarS["access_token_cookie"]},
		body:        "pad=" + strings.Repeat("x", 2048) + "&csrf_token=" + jarS["csrf_access_token"],
		contentType: "application/x-www-form-urlencoded"}.send(rs)
	assert.Equal(t, 401, w.Code, "a form above the limit is not read")
	assertMsg(t, w, "Missing CSRF token")
	w = req{method: "POST", cookies: map[string]string{"access_token_cookie": jarS["access_token_cookie"]},
		body: "csrf_token=" + jarS["csrf_access_token"], contentType: "application/x-www-form-urlencoded"}.send(rs)
	assert.Equal(t, 200, w.Code, "within the limit it is")

	noForm := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies))
	r2 := cookieApp(t, noForm)
	jar2 := loggedIn(t, r2)
	w = req{method: "POST", cookies: map[string]string{"access_token_cookie": jar2["access_token_cookie"]},
		body: "csrf_token=" + jar2["csrf_access_token"], contentType: "application/x-www-form-urlencoded"}.send(r2)
	assert.Equal(t, 401, w.Code, "the form field counts only with CSRF.CheckForm")
}

func TestCustomCSRFMethods(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithCookies(ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{Methods: []string{"GET"}}}))
	r := cookieApp(t, m)
	jar := loggedIn(t, r)
	cookies := map[string]string{"access_token_cookie": jar["access_token_cookie"]}
	assert.Equal(t, 401, req{cookies: cookies}.send(r).Code)
	assert.Equal(t, 200, req{method: "POST", cookies: cookies}.send(r).Code)
}

func TestCSRFDisabled(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithCookies(ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{Disabled: true}}))
	r := cookieApp(t, m)
	w := req{target: "/login-access"}.send(r)
	require.Len(t, w.Header().Values("Set-Cookie"), 1, "no CSRF cookie")
	access := setCookies(t, w)["access_token_cookie"].Value
	tok, err := m.DecodeToken(access)
	require.NoError(t, err)
	assert.Empty(t, tok.Claims.CSRF, "no csrf claim")
	assert.Equal(t, 200, req{method: "POST", cookies: map[string]string{"access_token_cookie": access}}.send(r).Code)
}

// A token without a csrf claim (say, from a Flask app with CSRF protection
// off) sent as a cookie with a CSRF value.
func TestCSRFClaimMissing(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies))
	w := req{method: "POST", cookies: map[string]string{"access_token_cookie": signPayload(`{"sub":"a"}`)},
		headers: map[string]string{"X-CSRF-TOKEN": "x"}}.send(cookieApp(t, m))
	assert.Equal(t, 422, w.Code)
	assertMsg(t, w, "Missing claim: csrf")
}

func TestCSRFInCookiesOff(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithCookies(ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{OmitCookies: true}}))
	w := req{target: "/login-access"}.send(cookieApp(t, m))
	lines := w.Header().Values("Set-Cookie")
	require.Len(t, lines, 1)
	assert.True(t, strings.HasPrefix(lines[0], "access_token_cookie="))
}

func TestSetCookiesRefusesBadTokens(t *testing.T) {
	m := newManager(t)
	r := newRouter()
	r.GET("/", func(c *gin.Context) {
		err := m.SetAccessCookies(c, "a.b.c")
		assert.ErrorIs(t, err, ginjwt.ErrTokenMalformed)
		c.Status(204)
	})
	w := req{target: "/"}.send(r)
	assert.Empty(t, w.Header().Values("Set-Cookie"))
}

func TestImplicitRefresh(t *testing.T) {
	clock := newFakeClock()
	m := newManager(t, clock.option(), ginjwt.WithTokenLocations(ginjwt.InCookies, ginjwt.InHeaders),
		ginjwt.WithImplicitRefresh(5*time.Minute))
	r := cookieApp(t, m)
	access := ginjwttest.Access(t, m, "alice") // expires in 15 minutes

	w := req{cookies: map[string]string{"access_token_cookie": access}}.send(r)
	require.Equal(t, 200, w.Code)
	assert.Empty(t, w.Header().Values("Set-Cookie"), "outside the window: no new cookie")

	clock.Sleep(11 * time.Minute)
	w = req{cookies: map[string]string{"access_token_cookie": access}}.send(r)
	require.Equal(t, 200, w.Code)
	cs := setCookies(t, w)
	require.Contains(t, cs, "access_token_cookie", "inside the window: a new access cookie")
	renewed, err := m.DecodeToken(cs["access_token_cookie"].Value)
	require.NoError(t, err)
	assert.Equal(t, "alice", renewed.Claims.Identity)
	assert.Equal(t, clock.Now().Add(15*time.Minute).Unix(), renewed.Claims.ExpiresAt().Unix())
	assert.Equal(t, renewed.Claims.CSRF, cs["csrf_access_token"].Value)

	w = get(r, "/protected", bearer(access))
	require.Equal(t, 200, w.Code)
	assert.Empty(t, w.Header().Values("Set-Cookie"), "header tokens are left alone")

	// The renewed cookie has the attributes of the one it replaces.
	clock.Sleep(11 * time.Minute)
	w = req{cookies: map[string]string{"access_token_cookie": cs["access_token_cookie"].Value}}.send(r)
	require.Equal(t, 200, w.Code)
	again := setCookies(t, w)["access_token_cookie"]
	require.NotNil(t, again)
	assert.True(t, again.HttpOnly)
	assert.True(t, again.Secure)
	assert.Equal(t, "/", again.Path)
}

// A request the user lookup refuses gets no renewed cookie: the renewal
// comes after every check.
func TestImplicitRefreshNotOnRefusedRequest(t *testing.T) {
	clock := newFakeClock()
	m := newManager(t, clock.option(), ginjwt.WithTokenLocations(ginjwt.InCookies),
		ginjwt.WithImplicitRefresh(5*time.Minute),
		ginjwt.WithUserLookup(func(_ *gin.Context, tok *ginjwt.Token) (string, error) {
			if tok.Claims.Identity == "deleted" {
				return "", ginjwt.ErrUserNotFound
			}
			return tok.Claims.Identity, nil
		}))
	r := newRouter()
	handled := false
	r.GET("/me", m.JWTRequired(ginjwt.LoadUser()), func(c *gin.Context) { handled = true })
	send := func(identity string) *httptest.ResponseRecorder {
		access := ginjwttest.Access(t, m, identity)
		clock.Sleep(11 * time.Minute) // inside the renewal window
		return req{target: "/me", cookies: map[string]string{"access_token_cookie": access}}.send(r)
	}

	w := send("deleted")
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Error loading the user deleted")
	assert.Empty(t, w.Header().Values("Set-Cookie"), "no renewed cookie for a refused request")
	assert.False(t, handled)

	w = send("alice")
	require.Equal(t, 200, w.Code)
	assert.Contains(t, setCookies(t, w), "access_token_cookie", "an accepted request is renewed")
}

// A renewal keeps the token's custom claims, even when the claims loader
// takes the application's user type and cannot read the identity string.
func TestRenewalsKeepCustomClaims(t *testing.T) {
	type user struct {
		Name  string
		Roles []string
	}
	clock := newFakeClock()
	m := newManager(t, clock.option(), ginjwt.WithTokenLocations(ginjwt.InCookies, ginjwt.InHeaders),
		ginjwt.WithImplicitRefresh(5*time.Minute),
		ginjwt.WithUserIdentityLoader(func(u user) (string, error) { return u.Name, nil }),
		ginjwt.WithAdditionalClaimsLoader(func(u user) (map[string]any, error) {
			return map[string]any{"roles": u.Roles, "uid": int64(1234567890123456789)}, nil
		}))
	alice := user{"alice", []string{"admin"}}
	roles := func(raw string) (any, any) {
		tok, err := m.DecodeToken(raw)
		require.NoError(t, err)
		require.Equal(t, "alice", tok.Claims.Identity)
		r, _ := tok.Claims.Get("roles")
		var exact struct {
			UID int64 `json:"uid"`
		}
		require.NoError(t, tok.Claims.Decode(&exact))
		return r, exact.UID
	}
	wantRoles, wantUID := []any{"admin"}, int64(1234567890123456789)

	t.Run("implicit refresh", func(t *testing.T) {
		r := cookieApp(t, m)
		access := ginjwttest.Access(t, m, alice)
		clock.Sleep(11 * time.Minute)
		w := req{cookies: map[string]string{"access_token_cookie": access}}.send(r)
		require.Equal(t, 200, w.Code)
		renewed := setCookies(t, w)["access_token_cookie"]
		require.NotNil(t, renewed, "a new access cookie: %v", w.Result().Header)
		gotRoles, gotUID := roles(renewed.Value)
		assert.Equal(t, wantRoles, gotRoles)
		assert.Equal(t, wantUID, gotUID, "big numbers keep every digit")
	})
	t.Run("refresh", func(t *testing.T) {
		_, refresh, err := m.CreateTokenPair(alice)
		require.NoError(t, err)
		r := newRouter()
		r.POST("/refresh", m.RefreshRequired(), func(c *gin.Context) {
			token, err := m.RefreshAccessToken(c)
			if err != nil {
				m.Abort(c, err)
				return
			}
			c.JSON(200, gin.H{"access_token": token})
		})
		w := request(r, http.MethodPost, "/refresh", bearer(refresh))
		require.Equal(t, 200, w.Code, w.Body.String())
		gotRoles, _ := roles(decodeBody(t, w)["access_token"].(string))
		assert.Equal(t, wantRoles, gotRoles)
	})
	t.Run("rotation", func(t *testing.T) {
		m := newManager(t, ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)), ginjwt.WithRefreshRotation(),
			ginjwt.WithAdditionalClaimsLoader(func(u user) (map[string]any, error) { return map[string]any{"roles": u.Roles}, nil }),
			ginjwt.WithUserIdentityLoader(func(u user) (string, error) { return u.Name, nil }))
		_, refresh, err := m.CreateTokenPair(alice)
		require.NoError(t, err)
		w := request(rotationRouter(m), http.MethodPost, "/refresh", bearer(refresh))
		require.Equal(t, 200, w.Code, w.Body.String())
		for _, key := range []string{"access_token", "refresh_token"} {
			tok, err := m.DecodeToken(decodeBody(t, w)[key].(string))
			require.NoError(t, err)
			got, _ := tok.Claims.Get("roles")
			assert.Equal(t, wantRoles, got, key)
		}
	})
	t.Run("a loader's own error still fails", func(t *testing.T) {
		failing := newManager(t, ginjwt.WithAdditionalClaimsLoader(func(any) (map[string]any, error) {
			return nil, errors.New("directory down")
		}))
		_, err := failing.CreateAccessToken("alice")
		assert.ErrorContains(t, err, "directory down")
	})
}

// flask's max_age= and domain= arguments, per call.
func TestCookieOptionsPerCall(t *testing.T) {
	clock := newFakeClock()
	m := newManager(t, clock.option(), ginjwt.WithTokenLocations(ginjwt.InHeaders, ginjwt.InCookies), ginjwt.WithCookies(ginjwt.CookieConfig{Domain: "example.com"}))
	access := ginjwttest.Access(t, m, "alice")
	refresh := ginjwttest.Refresh(t, m, "alice")
	r := newRouter()
	r.GET("/set", func(c *gin.Context) {
		_ = m.SetAccessCookies(c, access, ginjwt.CookieMaxAge(2*time.Hour), ginjwt.CookieDomain("api.example.com"))
		_ = m.SetRefreshCookies(c, refresh)
	})
	r.GET("/bad", func(c *gin.Context) {
		if err := m.SetAccessCookies(c, access, ginjwt.CookieDomain("bad domain")); err != nil {
			c.String(400, err.Error())
		}
	})
	r.GET("/unset", func(c *gin.Context) { m.UnsetJWTCookies(c, ginjwt.CookieDomain("api.example.com")) })

	cs := setCookies(t, get(r, "/set"))
	for _, name := range []string{"access_token_cookie", "csrf_access_token"} {
		require.Contains(t, cs, name)
		assert.Equal(t, 7200, cs[name].MaxAge, name)
		assert.Equal(t, clock.Now().Add(2*time.Hour).UTC().Truncate(time.Second), cs[name].Expires.UTC(), name)
		assert.Equal(t, "api.example.com", cs[name].Domain, name)
	}
	for _, name := range []string{"refresh_token_cookie", "csrf_refresh_token"} {
		require.Contains(t, cs, name)
		assert.Zero(t, cs[name].MaxAge, "%s: a session cookie, the Manager's default", name)
		assert.Equal(t, "example.com", cs[name].Domain, "%s: the Manager's domain", name)
	}

	w := get(r, "/bad")
	assert.Equal(t, 400, w.Code)
	assert.Contains(t, w.Body.String(), "CookieDomain")
	assert.Empty(t, w.Header().Values("Set-Cookie"), "nothing set")

	cs = setCookies(t, get(r, "/unset"))
	require.Len(t, cs, 4)
	for name, c := range cs {
		assert.Equal(t, "api.example.com", c.Domain, name)
		assert.Equal(t, time.Unix(0, 0).UTC(), c.Expires.UTC(), name)
	}
}

// Prefixed cookies that New accepts are set as browsers require, and a
// per-call Domain cannot break a __Host- cookie.
func TestPrefixedCookies(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies),
		ginjwt.WithCookies(ginjwt.CookieConfig{AccessName: "__Host-access", RefreshName: "__Secure-refresh",
			CSRF: ginjwt.CSRFConfig{AccessCookieName: "__Host-csrf", RefreshCookieName: "__Secure-csrf-r"}}))
	r := newRouter()
	r.GET("/login", func(c *gin.Context) {
		access, refresh, err := m.CreateTokenPair("alice")
		require.NoError(t, err)
		require.NoError(t, m.SetAccessCookies(c, access))
		require.NoError(t, m.SetRefreshCookies(c, refresh))
		c.Status(204)
	})
	r.GET("/login-elsewhere", func(c *gin.Context) {
		access := ginjwttest.Access(t, m, "alice")
		err := m.SetAccessCookies(c, access, ginjwt.CookieDomain("example.com"))
		c.JSON(500, gin.H{"err": fmt.Sprint(err)})
	})
	w := get(r, "/login")
	require.Equal(t, 204, w.Code)
	cookies := w.Result().Cookies()
	require.Len(t, cookies, 4)
	for _, ck := range cookies {
		assert.True(t, ck.Secure, ck.Name)
		assert.Empty(t, ck.Domain, ck.Name)
		assert.Equal(t, "/", ck.Path, ck.Name)
	}
	w = get(r, "/login-elsewhere")
	assert.Contains(t, w.Body.String(), "__Host- cookies cannot have a Domain")
	assert.Empty(t, w.Result().Cookies(), "no cookie is set")
}

// SetJWTCookies sets both cookies or none: a refresh token that does not
// verify leaves the response without a single cookie.
func TestSetJWTCookiesAllOrNothing(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies))
	access, refresh, err := m.CreateTokenPair("alice")
	require.NoError(t, err)
	set := func(access, refresh string) (*httptest.ResponseRecorder, error) {
		var got error
		r := newRouter()
		r.GET("/login", func(c *gin.Context) {
			if got = m.SetJWTCookies(c, access, refresh); got != nil {
				m.Abort(c, got)
				return
			}
			c.Status(204)
		})
		return get(r, "/login"), got
	}

	w, err := set(access, "not.a.token")
	require.Error(t, err)
	assert.Equal(t, 422, w.Code)
	assert.Empty(t, w.Result().Cookies(), "the valid access token set no cookie either")

	w, err = set(access, refresh)
	require.NoError(t, err)
	assert.Len(t, w.Result().Cookies(), 4)
	w, err = set("", refresh)
	require.NoError(t, err)
	names := []string{}
	for _, ck := range w.Result().Cookies() {
		names = append(names, ck.Name)
	}
	assert.ElementsMatch(t, []string{"refresh_token_cookie", "csrf_refresh_token"}, names, "an empty token is skipped")
}

// Repeated CSRF headers are one comma-joined value, as flask sees them (and
// as repeated Authorization headers are read): a right value next to a
// wrong one no longer passes. A repeated form field is read as flask's
// request.form.get reads it: its first value.
func TestRepeatedCSRFValues(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithCookies(ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{CheckForm: true}}))
	r := newRouter()
	r.POST("/p", m.JWTRequired(), func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"foo": "bar"}) })
	access := ginjwttest.Access(t, m, "alice")
	csrf, err := m.GetCSRFToken(access)
	require.NoError(t, err)
	send := func(form string, csrfHeaders ...string) *httptest.ResponseRecorder {
		hr := httptest.NewRequest(http.MethodPost, "/p", strings.NewReader(form))
		hr.Header.Set("Cookie", "access_token_cookie="+access)
		if form != "" {
			hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for _, v := range csrfHeaders {
			hr.Header.Add("X-CSRF-TOKEN", v)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, hr)
		return w
	}
	const mismatch = "CSRF double submit tokens do not match"
	expectMsg(t, send("", csrf, "wrong"), 401, mismatch)
	expectMsg(t, send("", "wrong", csrf), 401, mismatch)
	expectMsg(t, send("", csrf, csrf), 401, mismatch)
	expectMsg(t, send("", "", ""), 401, mismatch)
	expectJSON(t, send("", csrf), 200, `{"foo":"bar"}`)

	expectJSON(t, send("csrf_token="+csrf+"&csrf_token=wrong"), 200, `{"foo":"bar"}`)
	expectMsg(t, send("csrf_token=wrong&csrf_token="+csrf), 401, mismatch)
}

// The Cookie header is read as Werkzeug reads it: white space around "="
// and around the value, and quotes around it, are not part of the token.
// Go's Request.Cookie kept the space in the value (422 "Invalid header
// padding") and dropped a value after a tab (401 "Missing cookie").
func TestCookieHeaderReadAsWerkzeugDoes(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies))
	r := newRouter()
	r.GET("/p", m.JWTRequired(), func(c *gin.Context) { c.JSON(200, gin.H{"who": ginjwt.CurrentIdentity(c)}) })
	access := ginjwttest.Access(t, m, "alice")
	for _, format := range []string{
		"access_token_cookie=%s", "access_token_cookie = %s", "access_token_cookie= %s", "access_token_cookie =%s",
		"access_token_cookie=\t%s", `access_token_cookie = "%s"`, "a=1; access_token_cookie=%s ; b=2", "access_token_cookie=%s;",
	} {
		hr := httptest.NewRequest(http.MethodGet, "/p", nil)
		hr.Header.Set("Cookie", fmt.Sprintf(format, access))
		w := httptest.NewRecorder()
		r.ServeHTTP(w, hr)
		expectJSON(t, w, 200, `{"who":"alice"}`)
	}
	// The first cookie of the name counts, as request.cookies.get reads it.
	hr := httptest.NewRequest(http.MethodGet, "/p", nil)
	hr.Header.Set("Cookie", "access_token_cookie=; access_token_cookie="+access)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, hr)
	expectMsg(t, w, 401, `Missing cookie "access_token_cookie"`)
}
