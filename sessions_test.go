package ginjwt_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sessionApp serves a login, a refresh, a logout and a guarded route, with
// the ready-made handlers.
func sessionApp(m *ginjwt.Manager) *gin.Engine {
	r := newRouter()
	r.POST("/login", m.LoginHandler(checkPassword))
	r.POST("/refresh", m.RefreshHandler())
	r.POST("/logout", m.LogoutHandler())
	r.Any("/protected", m.JWTRequired(), func(c *gin.Context) {
		c.JSON(200, gin.H{"logged_in_as": ginjwt.CurrentIdentity(c)})
	})
	return r
}

func cookieLogin(t *testing.T, r http.Handler) map[string]string {
	t.Helper()
	w := postJSON(r, "/login", `{"username":"test","password":"test"}`)
	require.Equal(t, 200, w.Code, w.Body.String())
	return cookieJar(w)
}

// refreshCookie posts the refresh cookie and its CSRF value, as a browser
// front end does.
func refreshCookie(r http.Handler, jar map[string]string) *httptest.ResponseRecorder {
	return req{method: "POST", target: "/refresh",
		cookies: map[string]string{"refresh_token_cookie": jar["refresh_token_cookie"]},
		headers: map[string]string{"X-CSRF-TOKEN": jar["csrf_refresh_token"]}}.send(r)
}

// assertCookiesUnset checks that the response expires the four JWT and
// CSRF cookies.
func assertCookiesUnset(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	cs := setCookies(t, w)
	for _, name := range []string{"access_token_cookie", "csrf_access_token", "refresh_token_cookie", "csrf_refresh_token"} {
		require.Contains(t, cs, name)
		assert.Empty(t, cs[name].Value, name)
		assert.True(t, cs[name].MaxAge < 0 || cs[name].Expires.Before(time.Now()), "%s is expired", name)
	}
}

// The usual browser case: the tab sat idle past the access token's
// lifetime. The logout still ends the session named by the expired access
// cookie, refresh cookie included, and unsets the cookies.
func TestLogoutWithAnExpiredAccessCookie(t *testing.T) {
	for _, rotation := range []bool{false, true} {
		t.Run(map[bool]string{false: "without rotation", true: "with rotation"}[rotation], func(t *testing.T) {
			clock := newFakeClock()
			opts := []ginjwt.Option{clock.option(), ginjwt.WithTokenLocations(ginjwt.InCookies),
				ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(clock.Now))}
			if rotation {
				opts = append(opts, ginjwt.WithRefreshRotation())
			}
			r := sessionApp(newManager(t, opts...))
			jar := cookieLogin(t, r)
			clock.Sleep(16 * time.Minute)
			w := req{method: "POST", target: "/protected", cookies: jar, headers: map[string]string{"X-CSRF-TOKEN": jar["csrf_access_token"]}}.send(r)
			require.Equal(t, 401, w.Code)
			assertMsg(t, w, "Token has expired")

			w = req{method: "POST", target: "/logout", cookies: jar, headers: map[string]string{"X-CSRF-TOKEN": jar["csrf_access_token"]}}.send(r)
			require.Equal(t, 200, w.Code, w.Body.String())
			assertMsg(t, w, "Access token successfully revoked")
			assertCookiesUnset(t, w)

			w = refreshCookie(r, jar)
			assert.Equal(t, 401, w.Code, "the refresh cookie of the logged-out session")
			assertMsg(t, w, "Token has been revoked")
		})
	}
}

// A cookie logout needs its CSRF value: a cross-site request carries the
// cookies but not the value, and must log nobody out. A wrong value is
// refused too. A logout naming the session by the refresh cookie alone
// (the access cookie gone) works with the refresh CSRF value.
func TestCookieLogoutNeedsCSRF(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)))
	r := sessionApp(m)
	jar := cookieLogin(t, r)

	w := req{method: "POST", target: "/logout", cookies: jar}.send(r)
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Missing CSRF token")
	assert.Empty(t, w.Header().Values("Set-Cookie"), "a refused logout unsets nothing")
	w = req{method: "POST", target: "/logout", cookies: jar, headers: map[string]string{"X-CSRF-TOKEN": "forged"}}.send(r)
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "CSRF double submit tokens do not match")
	assert.Empty(t, w.Header().Values("Set-Cookie"))
	require.Equal(t, 200, refreshCookie(r, jar).Code, "the session lives on")

	refreshOnly := map[string]string{"refresh_token_cookie": jar["refresh_token_cookie"]}
	w = req{method: "POST", target: "/logout", cookies: refreshOnly, headers: map[string]string{"X-CSRF-TOKEN": jar["csrf_refresh_token"]}}.send(r)
	require.Equal(t, 200, w.Code, w.Body.String())
	assertMsg(t, w, "Refresh token successfully revoked")
	assert.Equal(t, 401, refreshCookie(r, jar).Code)
	w = req{method: "POST", target: "/protected", cookies: jar, headers: map[string]string{"X-CSRF-TOKEN": jar["csrf_access_token"]}}.send(r)
	assert.Equal(t, 401, w.Code, "the access cookie of the session too")
	assertMsg(t, w, "Token has been revoked")

	// A cookie that is no token ends nothing and is unset; repeating a
	// logout is harmless.
	w = req{method: "POST", target: "/logout", cookies: map[string]string{"access_token_cookie": "garbage"}}.send(r)
	assert.Equal(t, 200, w.Code)
	assertMsg(t, w, "logout successful")
	assertCookiesUnset(t, w)
	w = req{method: "POST", target: "/logout", cookies: jar, headers: map[string]string{"X-CSRF-TOKEN": jar["csrf_access_token"]}}.send(r)
	assert.Equal(t, 200, w.Code)
	assertMsg(t, w, "Access token successfully revoked")
}

// Without rotation, a logout with one token of a session ends the others:
// the access token ends the refresh token, and a front end that sends the
// refresh token (seed tutorial 004's, in the JSON body or the header) ends
// the access token.
func TestLogoutEndsTheWholeSession(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InHeaders, ginjwt.InJSONBody), ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)))
	r := sessionApp(m)
	login := func() (string, string) {
		w := postJSON(r, "/login", `{"username":"test","password":"test"}`)
		require.Equal(t, 200, w.Code)
		body := decodeBody(t, w)
		return body["access_token"].(string), body["refresh_token"].(string)
	}

	access, refresh := login()
	w := postJSON(r, "/logout", "", bearer(access))
	require.Equal(t, 200, w.Code)
	assertMsg(t, w, "Access token successfully revoked")
	w = postJSON(r, "/refresh", "", bearer(refresh))
	assert.Equal(t, 401, w.Code, "the refresh token of the logged-out session")
	assertMsg(t, w, "Token has been revoked")

	access, refresh = login()
	w = postJSON(r, "/logout", `{"refresh_token":"`+refresh+`"}`)
	require.Equal(t, 200, w.Code, w.Body.String())
	assertMsg(t, w, "Refresh token successfully revoked")
	w = postJSON(r, "/protected", "", bearer(access))
	assert.Equal(t, 401, w.Code, "the access token of the session named by the refresh token")
	assertMsg(t, w, "Token has been revoked")

	access, refresh = login()
	require.Equal(t, 200, postJSON(r, "/logout", "", bearer(refresh)).Code)
	assert.Equal(t, 401, postJSON(r, "/protected", "", bearer(access)).Code)

	// A token that is not valid ends nothing: the guard's answer.
	access, _ = login()
	w = postJSON(r, "/logout", "", bearer(access[:len(access)-4]+"AAAA"))
	assert.Equal(t, 422, w.Code)
	assertMsg(t, w, "Signature verification failed")
	assert.Equal(t, 200, postJSON(r, "/protected", "", bearer(access)).Code)
}

// A copied access cookie kept alive by implicit refresh: each renewal
// stays in the login's session, so the victim's logout ends it, and no
// renewal passes the login's end (the refresh token's lifetime, 24 h).
func TestImplicitRefreshIsBoundedByTheLogin(t *testing.T) {
	clock := newFakeClock()
	m := newManager(t, clock.option(), ginjwt.WithTokenLocations(ginjwt.InCookies),
		ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(clock.Now)),
		ginjwt.WithRefreshExpires(24*time.Hour), ginjwt.WithImplicitRefresh(5*time.Minute))
	r := sessionApp(m)

	// The thief keeps a copy alive with a GET before each expiry.
	keepAlive := func(cookie string, until time.Duration) (string, int) {
		for elapsed := time.Duration(0); elapsed < until; elapsed += 11 * time.Minute {
			w := req{cookies: map[string]string{"access_token_cookie": cookie}}.send(r)
			if w.Code != 200 {
				return cookie, w.Code
			}
			if renewed := setCookies(t, w)["access_token_cookie"]; renewed != nil {
				cookie = renewed.Value
			}
			clock.Sleep(11 * time.Minute)
		}
		return cookie, 200
	}
	login := func() map[string]string { return cookieLogin(t, r) }

	start := clock.Now()
	stolen, code := keepAlive(login()["access_token_cookie"], 30*time.Hour)
	assert.Equal(t, 401, code, "the copy dies with its login")
	assert.WithinDuration(t, start.Add(24*time.Hour), clock.Now(), 15*time.Minute)
	tok, err := m.DecodeExpiredToken(stolen)
	require.NoError(t, err)
	assert.Equal(t, start.Add(24*time.Hour).Unix(), tok.Claims.ExpiresAt().Unix(), "the last renewal ends with the login")

	// The victim logs out: every renewal of the copy is refused at once.
	victim := login()
	stolen, code = keepAlive(victim["access_token_cookie"], time.Hour)
	require.Equal(t, 200, code)
	w := req{method: "POST", target: "/logout", cookies: victim, headers: map[string]string{"X-CSRF-TOKEN": victim["csrf_access_token"]}}.send(r)
	require.Equal(t, 200, w.Code)
	w = req{cookies: map[string]string{"access_token_cookie": stolen}}.send(r)
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Token has been revoked")
}

// No renewal carries a login past WithSessionLifetime: a refresh near the
// end makes a token that expires at the end, and one after it is refused.
func TestSessionLifetimeBoundsRenewals(t *testing.T) {
	for _, rotation := range []bool{false, true} {
		t.Run(map[bool]string{false: "refresh", true: "rotation"}[rotation], func(t *testing.T) {
			clock := newFakeClock()
			opts := []ginjwt.Option{clock.option(), ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(clock.Now)),
				ginjwt.WithRefreshExpires(2 * time.Hour), ginjwt.WithSessionLifetime(3 * time.Hour)}
			if rotation {
				opts = append(opts, ginjwt.WithRefreshRotation())
			}
			m := newManager(t, opts...)
			r := sessionApp(m)
			start := clock.Now()
			w := postJSON(r, "/login", `{"username":"test","password":"test"}`)
			require.Equal(t, 200, w.Code)
			refresh := decodeBody(t, w)["refresh_token"].(string)
			assert.Equal(t, start.Add(2*time.Hour).Unix(), mustDecode(t, m, refresh).Claims.ExpiresAt().Unix())

			clock.Sleep(110 * time.Minute)
			w = postJSON(r, "/refresh", "", bearer(refresh))
			require.Equal(t, 200, w.Code, w.Body.String())
			body := decodeBody(t, w)
			access := mustDecode(t, m, body["access_token"].(string))
			assert.Equal(t, start.Unix(), access.Claims.AuthTime().Unix(), "the login time is carried")
			if rotation {
				refresh = body["refresh_token"].(string)
				assert.Equal(t, start.Add(3*time.Hour).Unix(), mustDecode(t, m, refresh).Claims.ExpiresAt().Unix(),
					"a rotated refresh token ends with the login")
			}
			clock.Sleep(65 * time.Minute) // 2 h 55 min after the login
			w = postJSON(r, "/refresh", "", bearer(refresh))
			if !rotation {
				assert.Equal(t, 401, w.Code, "the refresh token itself has expired")
				assertMsg(t, w, "Token has expired")
				return
			}
			require.Equal(t, 200, w.Code)
			refresh = decodeBody(t, w)["refresh_token"].(string)
			renewed := mustDecode(t, m, decodeBody(t, w)["access_token"].(string))
			assert.Equal(t, start.Add(3*time.Hour).Unix(), renewed.Claims.ExpiresAt().Unix(), "cut at the login's end")
			clock.Sleep(5 * time.Minute)
			w = postJSON(r, "/refresh", "", bearer(refresh))
			assert.Equal(t, 401, w.Code)
			assertMsg(t, w, "Token has expired")
		})
	}
}

// A renewal asked at the login's end by hand gets the error a guard would
// give, with ErrSessionExpired as its cause.
func TestRenewalPastTheLoginsEnd(t *testing.T) {
	clock := newFakeClock()
	m := newManager(t, clock.option(), ginjwt.WithRefreshExpires(3*time.Hour), ginjwt.WithSessionLifetime(time.Hour))
	r := newRouter()
	r.POST("/refresh", m.RefreshRequired(), func(c *gin.Context) {
		_, err := m.RefreshAccessToken(c)
		assert.ErrorIs(t, err, ginjwt.ErrSessionExpired)
		assert.ErrorIs(t, err, ginjwt.ErrTokenExpired)
		m.Abort(c, err)
	})
	_, refresh, err := m.CreateTokenPair("alice")
	require.NoError(t, err)
	assert.Equal(t, clock.Now().Add(time.Hour).Unix(), mustDecode(t, m, refresh).Claims.ExpiresAt().Unix(),
		"a refresh token ends with its login too")
	// A refresh token from before a shorter lifetime was configured.
	long := newManager(t, clock.option(), ginjwt.WithRefreshExpires(3*time.Hour))
	_, refresh, err = long.CreateTokenPair("alice")
	require.NoError(t, err)
	clock.Sleep(90 * time.Minute)
	w := postJSON(r, "/refresh", "", bearer(refresh))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Token has expired")
}

// RevokeIdentity ends every session of a user, in the same second as a
// login before it and one after it: the token IDs' milliseconds tell them
// apart. Other users are untouched.
func TestRevokeIdentityToTheMillisecond(t *testing.T) {
	clock := newFakeClock()
	store := ginjwt.NewMemoryBlocklist(clock.Now)
	m := newManager(t, clock.option(), ginjwt.WithBlocklist(store))
	r := sessionApp(m)
	ctx := context.Background()

	before, beforeRefresh, err := m.CreateTokenPair("alice")
	require.NoError(t, err)
	bob, _, err := m.CreateTokenPair("bob")
	require.NoError(t, err)
	clock.Sleep(400 * time.Millisecond)
	flaskSameSecond := flaskToken("access", "alice", clock.Now(), time.Hour)
	require.NoError(t, m.RevokeIdentity(ctx, "alice"))
	clock.Sleep(time.Millisecond) // the call waits the clock past its millisecond
	after, afterRefresh, err := m.CreateTokenPair("alice")
	require.NoError(t, err)
	require.Equal(t, mustDecode(t, m, before).Claims.IssuedAt(), mustDecode(t, m, after).Claims.IssuedAt(), "one second")

	for name, tok := range map[string]string{"access before": before, "flask, same second": flaskSameSecond} {
		w := get(r, "/protected", bearer(tok))
		assert.Equal(t, 401, w.Code, name)
		assertMsg(t, w, "Token has been revoked")
	}
	w := postJSON(r, "/refresh", "", bearer(beforeRefresh))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Token has been revoked")
	assert.Equal(t, 200, get(r, "/protected", bearer(after)).Code, "a login after the call")
	assert.Equal(t, 200, postJSON(r, "/refresh", "", bearer(afterRefresh)).Code)
	assert.Equal(t, 200, get(r, "/protected", bearer(bob)).Code, "another user")

	// One record per identity, gone when every earlier token has expired.
	n := ginjwt.MemoryBlocklistLen(store)
	require.NoError(t, m.RevokeIdentity(ctx, "alice"))
	assert.Equal(t, n, ginjwt.MemoryBlocklistLen(store), "revoking again keeps one record")
	clock.Sleep(31 * 24 * time.Hour)
	require.NoError(t, m.RevokeIdentity(ctx, "carol")) // a write sweeps
	assert.Equal(t, 1, ginjwt.MemoryBlocklistLen(store), "alice's record expired with her tokens")
}

// A store without IdentityRevoker: RevokeIdentity says so, with
// errors.ErrUnsupported, and the guards keep working.
func TestRevokeIdentityNeedsTheCapability(t *testing.T) {
	m := newManager(t, ginjwt.WithBlocklist(minimalStore{ginjwt.NewMemoryBlocklist(nil)}))
	err := m.RevokeIdentity(context.Background(), "alice")
	assert.ErrorIs(t, err, errors.ErrUnsupported)
	access, _, err := m.CreateTokenPair("alice")
	require.NoError(t, err)
	r := sessionApp(m)
	assert.Equal(t, 200, get(r, "/protected", bearer(access)).Code)
	require.Equal(t, 200, postJSON(r, "/logout", "", bearer(access)).Code)
	assert.Equal(t, 401, get(r, "/protected", bearer(access)).Code)

	_, err = ginjwt.New(ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithBlocklist(minimalStore{ginjwt.NewMemoryBlocklist(nil)}),
		ginjwt.WithRefreshRotation(), ginjwt.WithSessionList(0))
	require.ErrorIs(t, err, ginjwt.ErrConfig)
	assert.ErrorContains(t, err, "WithRefreshRotation needs WithBlocklist with a store that implements ginjwt.RotationStore")
	assert.ErrorContains(t, err, "WithSessionList needs WithBlocklist with a store that implements ginjwt.SessionStore")
}

// minimalStore has the core methods only.
type minimalStore struct{ b ginjwt.Blocklist }

func (s minimalStore) Revoke(ctx context.Context, key string, until time.Time) error {
	return s.b.Revoke(ctx, key, until)
}

func (s minimalStore) IsRevoked(ctx context.Context, keys ...string) (bool, error) {
	return s.b.IsRevoked(ctx, keys...)
}

// The session list: logins with their user agent and address, renewals
// that update them, a session ended from the list refused at once, the
// oldest ended beyond the bound, and RevokeIdentity emptying it.
func TestSessionList(t *testing.T) {
	clock := newFakeClock()
	m := newManager(t, clock.option(), ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(clock.Now)),
		ginjwt.WithRefreshRotation(), ginjwt.WithSessionList(3))
	r := sessionApp(m)
	ctx := context.Background()
	login := func(agent string) (access, refresh string) {
		w := postJSON(r, "/login", `{"username":"test","password":"test"}`, header{"User-Agent", agent})
		require.Equal(t, 200, w.Code)
		body := decodeBody(t, w)
		return body["access_token"].(string), body["refresh_token"].(string)
	}
	_, phoneRefresh := login("phone")
	clock.Sleep(time.Minute)
	_, laptopRefresh := login("laptop " + string(make([]byte, 300)))

	list, err := m.Sessions(ctx, "test")
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, mustDecode(t, m, phoneRefresh).Claims.SessionID(), list[0].ID, "oldest first")
	assert.Equal(t, "phone", list[0].UserAgent)
	assert.Equal(t, "192.0.2.1", list[0].ClientIP, "httptest's client")
	assert.Equal(t, clock.Now().Add(-time.Minute).Unix(), list[0].Created.Unix())
	assert.True(t, list[0].Renewed.IsZero())
	assert.Equal(t, clock.Now().Add(-time.Minute).Add(30*24*time.Hour).Unix(), list[0].Expires.Unix())
	assert.Len(t, list[1].UserAgent, 256, "a user agent is kept to 256 bytes")

	clock.Sleep(time.Hour)
	w := postJSON(r, "/refresh", "", bearer(phoneRefresh))
	require.Equal(t, 200, w.Code)
	phone := decodeBody(t, w)["access_token"].(string)
	list, err = m.Sessions(ctx, "test")
	require.NoError(t, err)
	assert.Equal(t, clock.Now().Unix(), list[0].Renewed.Unix(), "a renewal is recorded")

	require.NoError(t, m.EndSession(ctx, "test", list[1].ID))
	w = postJSON(r, "/refresh", "", bearer(laptopRefresh))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Token has been revoked")
	assert.ErrorIs(t, m.EndSession(ctx, "test", list[1].ID), ginjwt.ErrSessionNotFound)
	assert.ErrorIs(t, m.EndSession(ctx, "mallory", list[0].ID), ginjwt.ErrSessionNotFound, "only one's own")
	assert.Equal(t, 200, get(r, "/protected", bearer(phone)).Code)

	// Beyond three sessions, the oldest ends.
	for _, agent := range []string{"b", "c", "d"} {
		clock.Sleep(time.Second)
		login(agent)
	}
	list, err = m.Sessions(ctx, "test")
	require.NoError(t, err)
	require.Len(t, list, 3)
	assert.Equal(t, []string{"b", "c", "d"}, []string{list[0].UserAgent, list[1].UserAgent, list[2].UserAgent})
	w = get(r, "/protected", bearer(phone))
	assert.Equal(t, 401, w.Code, "the oldest session was ended")
	assertMsg(t, w, "Token has been revoked")

	// A logout takes its session off the list; RevokeIdentity all of them.
	clock.Sleep(time.Second)
	access, _ := login("e") // ends b
	require.Equal(t, 200, postJSON(r, "/logout", "", bearer(access)).Code)
	list, err = m.Sessions(ctx, "test")
	require.NoError(t, err)
	assert.Len(t, list, 2)
	require.NoError(t, m.RevokeIdentity(ctx, "test"))
	list, err = m.Sessions(ctx, "test")
	require.NoError(t, err)
	assert.Empty(t, list)

	// Expired sessions disappear.
	login("f")
	clock.Sleep(31 * 24 * time.Hour)
	list, err = m.Sessions(ctx, "test")
	require.NoError(t, err)
	assert.Empty(t, list)

	_, err = newManager(t).Sessions(ctx, "test")
	assert.ErrorContains(t, err, "WithSessionList")
}
