package ginjwt_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkPassword is the credential check of flask's examples: test/test.
func checkPassword(c *gin.Context) (any, error) {
	var in struct{ Username, Password string }
	if err := c.ShouldBindJSON(&in); err != nil || in.Username != "test" || in.Password != "test" {
		return nil, ginjwt.ErrInvalidCredentials
	}
	return in.Username, nil
}

func handlersApp(m *ginjwt.Manager) *gin.Engine {
	r := newRouter()
	r.POST("/login", m.LoginHandler(checkPassword))
	r.POST("/refresh", m.RefreshHandler())
	r.DELETE("/logout", m.LogoutHandler())
	r.POST("/protected", m.JWTRequired(), func(c *gin.Context) { c.JSON(200, gin.H{"logged_in_as": ginjwt.CurrentIdentity(c)}) })
	r.POST("/fresh", m.FreshRequired(), func(c *gin.Context) { c.Status(200) })
	return r
}

func postJSON(r http.Handler, path, body string, headers ...header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for _, h := range headers {
		req.Header.Set(h.k, h.v)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

func TestReadyMadeHandlersWithHeaders(t *testing.T) {
	m := newManager(t, ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)))
	r := handlersApp(m)

	w := postJSON(r, "/login", `{"username":"test","password":"wrong"}`)
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Bad username or password")

	w = postJSON(r, "/login", `{"username":"test","password":"test"}`)
	require.Equal(t, 200, w.Code)
	body := decodeBody(t, w)
	access, refresh := body["access_token"].(string), body["refresh_token"].(string)
	assert.Empty(t, w.Result().Cookies(), "no cookies without the Cookies location")
	assert.True(t, mustDecode(t, m, access).Claims.IsFresh(time.Now()), "a login proves the password")
	assert.Equal(t, 200, request(r, http.MethodPost, "/fresh", bearer(access)).Code)

	w = request(r, http.MethodPost, "/refresh", bearer(refresh))
	require.Equal(t, 200, w.Code)
	body = decodeBody(t, w)
	assert.NotContains(t, body, "refresh_token", "no rotation configured")
	renewed := body["access_token"].(string)
	assert.False(t, mustDecode(t, m, renewed).Claims.IsFresh(time.Now()))
	w = request(r, http.MethodPost, "/refresh", bearer(access))
	assert.Equal(t, 422, w.Code)
	assertMsg(t, w, "Only refresh tokens are allowed")

	w = request(r, http.MethodDelete, "/logout", bearer(access))
	require.Equal(t, 200, w.Code)
	assertMsg(t, w, "Access token successfully revoked")
	w = request(r, http.MethodPost, "/protected", bearer(access))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Token has been revoked")
	// The logout ended the session: its refresh token and renewals too.
	w = request(r, http.MethodPost, "/refresh", bearer(refresh))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Token has been revoked")
	w = request(r, http.MethodPost, "/protected", bearer(renewed))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Token has been revoked")
	w = request(r, http.MethodDelete, "/logout", bearer(refresh))
	assert.Equal(t, 200, w.Code, "logging out again is harmless")
	assertMsg(t, w, "Refresh token successfully revoked")

	// Another login lives on.
	w = postJSON(r, "/login", `{"username":"test","password":"test"}`)
	require.Equal(t, 200, w.Code)
	other := decodeBody(t, w)["access_token"].(string)
	assert.Equal(t, 200, request(r, http.MethodPost, "/protected", bearer(other)).Code)
}

// Login CSRF: a cross-site form posts text/plain with no preflight. The
// login handler takes JSON only, and sets no cookie otherwise.
func TestLoginHandlerTakesJSONOnly(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies))
	r := handlersApp(m)
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"username":"test","password":"test"}`))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		assert.Equal(t, 415, w.Code, ct)
		assertMsg(t, w, "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.")
		assert.Empty(t, w.Result().Cookies(), ct)
	}
	w := postJSON(r, "/login", `{"username":"test","password":"test"}`, header{"Content-Type", "application/json; charset=utf-8"})
	assert.Equal(t, 200, w.Code)
}

// A login that answers with tokens in the body takes a form post (seed
// tutorial 003's login form): a cross-site page cannot read the answer.
func TestLoginHandlerTakesAFormWithoutCookies(t *testing.T) {
	m := newManager(t)
	r := newRouter()
	r.POST("/login", m.LoginHandler(func(c *gin.Context) (any, error) {
		if c.PostForm("username") != "test" || c.PostForm("password") != "test" {
			return nil, ginjwt.ErrInvalidCredentials
		}
		return "test", nil
	}))
	form := func(body string) *httptest.ResponseRecorder {
		return req{method: "POST", target: "/login", body: body, contentType: "application/x-www-form-urlencoded"}.send(r)
	}
	w := form("username=test&password=test")
	require.Equal(t, 200, w.Code, w.Body.String())
	assert.Equal(t, "test", mustDecode(t, m, decodeBody(t, w)["access_token"].(string)).Claims.Identity)
	assert.Empty(t, w.Result().Cookies())
	w = form("username=test&password=wrong")
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Bad username or password")
}

func TestReadyMadeHandlersWithCookiesAndRotation(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)),
		ginjwt.WithRefreshRotation())
	r := handlersApp(m)
	w := postJSON(r, "/login", `{"username":"test","password":"test"}`)
	require.Equal(t, 200, w.Code)
	assert.JSONEq(t, `{"msg":"login successful"}`, w.Body.String(), "tokens stay in HttpOnly cookies")
	jar := cookieJar(w)
	for _, name := range []string{"access_token_cookie", "csrf_access_token", "refresh_token_cookie", "csrf_refresh_token"} {
		assert.NotEmpty(t, jar[name], name)
	}

	refreshWith := func(jar map[string]string) *httptest.ResponseRecorder {
		return req{method: "POST", target: "/refresh",
			cookies: map[string]string{"refresh_token_cookie": jar["refresh_token_cookie"]},
			headers: map[string]string{"X-CSRF-TOKEN": jar["csrf_refresh_token"]}}.send(r)
	}
	w = refreshWith(jar)
	require.Equal(t, 200, w.Code, w.Body.String())
	assert.JSONEq(t, `{"refresh":true}`, w.Body.String())
	rotated := cookieJar(w)
	assert.NotEqual(t, jar["refresh_token_cookie"], rotated["refresh_token_cookie"], "rotation sets a new refresh cookie")
	assert.NotEmpty(t, rotated["access_token_cookie"])

	w = refreshWith(jar) // the old refresh cookie, replayed
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Token has been revoked")
	assert.Equal(t, 401, refreshWith(rotated).Code, "the replay revoked the login")

	// Logout of a fresh login revokes the whole login and clears the cookies.
	jar = cookieJar(postJSON(r, "/login", `{"username":"test","password":"test"}`))
	w = req{method: "DELETE", target: "/logout", cookies: jar, headers: map[string]string{"X-CSRF-TOKEN": jar["csrf_access_token"]}}.send(r)
	require.Equal(t, 200, w.Code)
	assertMsg(t, w, "Access token successfully revoked")
	for _, ck := range w.Result().Cookies() {
		assert.Empty(t, ck.Value, ck.Name)
	}
	assert.Equal(t, 401, refreshWith(jar).Code, "the refresh token of the login is revoked with it")

	// Without a token, logout still clears the cookies.
	w = req{method: "DELETE", target: "/logout"}.send(r)
	assert.Equal(t, 200, w.Code)
	assertMsg(t, w, "logout successful")
	assert.Len(t, w.Result().Cookies(), 4)
}

func TestLoginHandlerErrors(t *testing.T) {
	m := newManager(t, ginjwt.WithBlocklist(failingStore{errors.New("down")}))
	r := newRouter()
	r.POST("/login-broken", m.LoginHandler(func(*gin.Context) (any, error) { return nil, errors.New("db: connection reset") }))
	r.POST("/login-nobody", m.LoginHandler(func(*gin.Context) (any, error) { return "", nil }))
	r.DELETE("/logout", m.LogoutHandler())
	assert.Equal(t, 500, postJSON(r, "/login-broken", `{}`).Code)
	assert.Equal(t, 500, postJSON(r, "/login-nobody", `{}`).Code, "an empty identity cannot be a token")
	w := request(r, http.MethodDelete, "/logout", bearer(ginjwttest.Access(t, m, "alice")))
	assert.Equal(t, 503, w.Code, "a logout the store did not take is not a success")
	assertMsg(t, w, "Token revocation status is unavailable")
	assert.Panics(t, func() { m.LoginHandler(nil) })
}

// cookieJar reads the cookies a response set, by name.
func cookieJar(w *httptest.ResponseRecorder) map[string]string {
	jar := map[string]string{}
	for _, ck := range w.Result().Cookies() {
		jar[ck.Name] = ck.Value
	}
	return jar
}

// Options given to a handler are shared by all its requests: a login must
// never write into them, or concurrent logins mix their tokens (seen as an
// access token in another login's session).
func TestConcurrentLoginsKeepTheirOwnPair(t *testing.T) {
	m := newManager(t, ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)), ginjwt.WithRefreshRotation())
	opts := []ginjwt.TokenOption{
		ginjwt.AdditionalClaims(map[string]any{"role": "user"}),
		ginjwt.AdditionalHeaders(map[string]any{"x": 1}),
		ginjwt.FreshFor(time.Minute),
		ginjwt.ExpiresIn(time.Minute),
		ginjwt.AdditionalClaims(map[string]any{"role": "admin"}),
	}
	r := newRouter()
	r.POST("/login", m.LoginHandler(checkPassword, opts[:4:5]...))
	r.POST("/refresh", m.RefreshHandler(opts[:4:5]...))

	famOf := func(raw string) any { // require cannot run off the test's goroutine
		tok, err := m.DecodeToken(raw)
		if err != nil {
			return nil
		}
		v, _ := tok.Claims.Get("sid")
		return v
	}
	const workers, each = 8, 100
	var wg sync.WaitGroup
	errs := make(chan string, 2*workers*each)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				w := postJSON(r, "/login", `{"username":"test","password":"test"}`)
				if w.Code != 200 {
					errs <- "login: " + w.Body.String()
					continue
				}
				var body map[string]string
				_ = json.Unmarshal(w.Body.Bytes(), &body)
				if f1, f2 := famOf(body["access_token"]), famOf(body["refresh_token"]); f1 == nil || f1 != f2 {
					errs <- fmt.Sprint("login pair in sessions ", f1, " and ", f2)
				}
				w = postJSON(r, "/refresh", "", bearer(body["refresh_token"]))
				if w.Code != 200 {
					errs <- "refresh: " + w.Body.String()
					continue
				}
				_ = json.Unmarshal(w.Body.Bytes(), &body)
				if f1, f2 := famOf(body["access_token"]), famOf(body["refresh_token"]); f1 == nil || f1 != f2 {
					errs <- fmt.Sprint("rotated pair in sessions ", f1, " and ", f2)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// oneShape answers every refusal {"code", "message"} with 401 for what a
// front end should answer by logging in again, as many services do.
func oneShape(c *gin.Context, err *ginjwt.Error) {
	status := err.Status
	if errors.Is(err, ginjwt.ErrInvalidToken) {
		status = http.StatusUnauthorized
	}
	c.JSON(status, gin.H{"code": status, "message": err.Message})
}

// rfc6749 answers the handlers' successes as an OAuth 2.0 token endpoint
// does (RFC 6749 §5.1), and a logout {"code", "message"}.
func rfc6749(c *gin.Context, r ginjwt.Response) {
	if r.Handler == ginjwt.GuardLogout {
		c.JSON(http.StatusOK, gin.H{"code": http.StatusOK, "message": "logged out " + r.Identity})
		return
	}
	body := gin.H{"access_token": r.AccessToken, "token_type": "Bearer", "expires_in": r.ExpiresIn()}
	if r.RefreshToken != "" {
		body["refresh_token"] = r.RefreshToken
	}
	c.JSON(http.StatusOK, body)
}

// With an error handler and a responder, each ready-made handler answers
// its successes and its failures in the service's own shape.
func TestResponderAndErrorHandlerGiveOneShape(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	m := newManager(t, ginjwt.WithClock(clock), ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(clock)),
		ginjwt.WithRefreshRotation(), ginjwt.WithAccessExpires(time.Hour),
		ginjwt.WithErrorHandler(oneShape), ginjwt.WithResponder(rfc6749))
	r := handlersApp(m)
	fail := func(status int, msg string) map[string]any {
		return map[string]any{"code": float64(status), "message": msg}
	}

	// Login.
	w := postJSON(r, "/login", `{"username":"test","password":"wrong"}`)
	assert.Equal(t, 401, w.Code)
	assert.Equal(t, fail(401, "Bad username or password"), decodeBody(t, w))
	w = postJSON(r, "/login", `{"username":"test","password":"test"}`)
	require.Equal(t, 200, w.Code)
	body := decodeBody(t, w)
	access, refresh := body["access_token"].(string), body["refresh_token"].(string)
	assert.Equal(t, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": float64(3600),
		"refresh_token": refresh}, body)
	assert.Equal(t, "test", mustDecode(t, m, access).Claims.Identity)
	assert.Equal(t, ginjwt.TypeRefresh, mustDecode(t, m, refresh).Claims.Type)

	// Refresh, rotating.
	w = request(r, http.MethodPost, "/refresh", bearer(access))
	assert.Equal(t, 401, w.Code, "422 mapped to 401 by the error handler")
	assert.Equal(t, fail(401, "Only refresh tokens are allowed"), decodeBody(t, w))
	w = request(r, http.MethodPost, "/refresh", bearer(refresh))
	require.Equal(t, 200, w.Code)
	body = decodeBody(t, w)
	renewed, rotated := body["access_token"].(string), body["refresh_token"].(string)
	assert.Equal(t, map[string]any{"access_token": renewed, "token_type": "Bearer", "expires_in": float64(3600),
		"refresh_token": rotated}, body)
	w = request(r, http.MethodPost, "/refresh", bearer(refresh))
	assert.Equal(t, 401, w.Code)
	assert.Equal(t, fail(401, "Token has been revoked"), decodeBody(t, w), "a replayed refresh token")

	// Logout.
	login := decodeBody(t, postJSON(r, "/login", `{"username":"test","password":"test"}`))
	w = request(r, http.MethodDelete, "/logout", bearer("not-a-token"))
	assert.Equal(t, 401, w.Code)
	assert.Equal(t, fail(401, "Not enough segments"), decodeBody(t, w))
	w = request(r, http.MethodDelete, "/logout", bearer(login["access_token"].(string)))
	require.Equal(t, 200, w.Code)
	assert.Equal(t, map[string]any{"code": float64(200), "message": "logged out test"}, decodeBody(t, w))
	w = request(r, http.MethodPost, "/protected", bearer(login["access_token"].(string)))
	assert.Equal(t, 401, w.Code)
	assert.Equal(t, fail(401, "Token has been revoked"), decodeBody(t, w), "the responder does not stop the logout")
	w = request(r, http.MethodDelete, "/logout")
	require.Equal(t, 200, w.Code)
	assert.Equal(t, map[string]any{"code": float64(200), "message": "logged out "}, decodeBody(t, w), "no session ended")
}

// The Manager sets and unsets its cookies whatever the responder writes,
// and says so in Response.Cookies.
func TestResponderWithCookies(t *testing.T) {
	var seen []ginjwt.Response
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)),
		ginjwt.WithResponder(func(c *gin.Context, r ginjwt.Response) {
			seen = append(seen, r)
			c.JSON(http.StatusOK, gin.H{"code": http.StatusOK, "handler": r.Handler})
		}))
	r := handlersApp(m)

	w := postJSON(r, "/login", `{"username":"test","password":"test"}`)
	require.Equal(t, 200, w.Code)
	assert.JSONEq(t, `{"code":200,"handler":"login"}`, w.Body.String())
	jar := cookieJar(w)
	require.Len(t, seen, 1)
	assert.True(t, seen[0].Cookies)
	assert.Equal(t, jar["access_token_cookie"], seen[0].AccessToken)
	assert.Equal(t, jar["refresh_token_cookie"], seen[0].RefreshToken)
	assert.Equal(t, mustDecode(t, m, seen[0].AccessToken).Claims.ExpiresAt(), seen[0].AccessExpires)
	assert.Equal(t, mustDecode(t, m, seen[0].RefreshToken).Claims.ExpiresAt(), seen[0].RefreshExpires)
	assert.Equal(t, int64(15*60), seen[0].ExpiresIn())

	w = req{method: "POST", target: "/refresh", cookies: map[string]string{"refresh_token_cookie": jar["refresh_token_cookie"]},
		headers: map[string]string{"X-CSRF-TOKEN": jar["csrf_refresh_token"]}}.send(r)
	require.Equal(t, 200, w.Code, w.Body.String())
	assert.JSONEq(t, `{"code":200,"handler":"refresh"}`, w.Body.String())
	assert.NotEmpty(t, cookieJar(w)["access_token_cookie"], "the new access cookie is set")
	require.Len(t, seen, 2)
	assert.True(t, seen[1].Cookies)
	assert.Empty(t, seen[1].RefreshToken, "no rotation: no new refresh token")
	assert.True(t, seen[1].RefreshExpires.IsZero())

	w = req{method: "DELETE", target: "/logout", cookies: jar, headers: map[string]string{"X-CSRF-TOKEN": jar["csrf_access_token"]}}.send(r)
	require.Equal(t, 200, w.Code)
	assert.JSONEq(t, `{"code":200,"handler":"logout"}`, w.Body.String())
	assert.Len(t, w.Result().Cookies(), 4, "the cookies are unset")
	for _, ck := range w.Result().Cookies() {
		assert.Empty(t, ck.Value, ck.Name)
	}
	require.Len(t, seen, 3)
	assert.Equal(t, ginjwt.Response{Handler: ginjwt.GuardLogout, Identity: "test"}, seen[2])
}

// A responder that writes nothing leaves flask's answer; one that sets a
// status alone sends it with no body.
func TestResponderFallsThrough(t *testing.T) {
	m := newManager(t, ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)),
		ginjwt.WithResponder(func(c *gin.Context, r ginjwt.Response) {
			if r.Handler == ginjwt.GuardLogout {
				c.Status(http.StatusNoContent)
			}
		}))
	r := handlersApp(m)
	w := postJSON(r, "/login", `{"username":"test","password":"test"}`)
	require.Equal(t, 200, w.Code)
	body := decodeBody(t, w)
	assert.Equal(t, []string{"access_token", "refresh_token"}, slices.Sorted(maps.Keys(body)), "flask's login body")
	w = request(r, http.MethodPost, "/refresh", bearer(body["refresh_token"].(string)))
	require.Equal(t, 200, w.Code)
	assert.Contains(t, decodeBody(t, w), "access_token")
	w = request(r, http.MethodDelete, "/logout", bearer(body["access_token"].(string)))
	assert.Equal(t, http.StatusNoContent, w.Code)
	assert.Empty(t, w.Body.String())
	assert.Equal(t, 401, request(r, http.MethodPost, "/protected", bearer(body["access_token"].(string))).Code)
}
