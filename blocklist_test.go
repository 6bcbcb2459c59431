package ginjwt_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/blocklisttest"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Unix(1795566329, 0).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time        { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Sleep(d time.Duration) { c.ns.Add(int64(d)) }
func (c *fakeClock) option() ginjwt.Option { return ginjwt.WithClock(c.Now) }

func TestMemoryBlocklistConformance(t *testing.T) {
	clock := newFakeClock()
	blocklisttest.Run(t, blocklisttest.Harness{
		New:   func(*testing.T) ginjwt.Blocklist { return ginjwt.NewMemoryBlocklist(clock.Now) },
		Now:   clock.Now,
		Sleep: clock.Sleep,
	})
}

// Revoking many short-lived tokens does not grow the store for ever, and
// no single write pays for sweeping them all: the lock that guarded
// requests read under is never held for a whole sweep.
func TestMemoryBlocklistForgetsExpiredTokens(t *testing.T) {
	clock := newFakeClock()
	b := ginjwt.NewMemoryBlocklist(clock.Now)
	ctx := context.Background()
	for i := range 10000 {
		require.NoError(t, b.Revoke(ctx, "short-"+itoa(i), clock.Now().Add(time.Minute)))
	}
	require.Equal(t, 10000, ginjwt.MemoryBlocklistLen(b))
	clock.Sleep(2 * time.Minute)
	require.NoError(t, b.Revoke(ctx, "later-0", clock.Now().Add(time.Hour)))
	swept := 10000 + 1 - ginjwt.MemoryBlocklistLen(b)
	assert.Positive(t, swept, "a write sweeps expired entries")
	assert.LessOrEqual(t, swept, 16, "one write sweeps a bounded number of entries")
	for i := 1; i < 700; i++ {
		require.NoError(t, b.Revoke(ctx, "later-"+itoa(i), clock.Now().Add(time.Hour)))
	}
	assert.Equal(t, 700, ginjwt.MemoryBlocklistLen(b), "expired entries are all gone after enough writes")
	revoked, err := b.IsRevoked(ctx, "later-3", "short-3")
	require.NoError(t, err)
	assert.True(t, revoked)
	revoked, err = b.IsRevoked(ctx, "short-3")
	require.NoError(t, err)
	assert.False(t, revoked)
}

// logoutRouter is flask's blocklist example: login, DELETE /logout revokes,
// the protected route then answers 401 revoked.
func logoutRouter(t *testing.T, m *ginjwt.Manager) *gin.Engine {
	r := newRouter()
	r.GET("/protected", m.JWTRequired(), echoToken)
	r.GET("/status", m.JWTRequired(ginjwt.SkipRevocationCheck()), echoToken)
	r.POST("/refresh", m.RefreshRequired(), func(c *gin.Context) {
		token, err := m.RefreshAccessToken(c)
		if err != nil {
			m.Abort(c, err)
			return
		}
		c.JSON(200, gin.H{"access_token": token})
	})
	r.DELETE("/logout", m.JWTRequired(ginjwt.VerifyType(false)), func(c *gin.Context) {
		if err := m.Logout(c); err != nil {
			m.Abort(c, err)
			return
		}
		c.JSON(200, gin.H{"msg": "Token revoked"})
	})
	return r
}

func TestRevocation(t *testing.T) {
	clock := newFakeClock()
	store := ginjwt.NewMemoryBlocklist(clock.Now)
	m := newManager(t, clock.option(), ginjwt.WithBlocklist(store))
	r := logoutRouter(t, m)
	access, refresh, err := m.CreateTokenPair("alice")
	require.NoError(t, err)

	require.Equal(t, 200, get(r, "/protected", bearer(access)).Code)
	w := request(r, http.MethodDelete, "/logout", bearer(access))
	require.Equal(t, 200, w.Code, w.Body.String())

	w = get(r, "/protected", bearer(access))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Token has been revoked")
	assert.Equal(t, 200, get(r, "/status", bearer(access)).Code, "skip_revocation_check")

	// The logout ended the session: its refresh token goes too.
	w = request(r, http.MethodPost, "/refresh", bearer(refresh))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Token has been revoked")

	// flask's order: the type check comes before the blocklist.
	w = get(r, "/protected", bearer(refresh))
	assert.Equal(t, 422, w.Code)
	assertMsg(t, w, "Only non-refresh tokens are allowed")

	// The entry lives as long as the token, then goes.
	clock.Sleep(16 * time.Minute)
	revoked, err := store.IsRevoked(context.Background(), mustDecode(t, m, access).Claims.JTI)
	require.NoError(t, err)
	assert.False(t, revoked, "entry expired with the access token")
}

func mustDecode(t *testing.T, m *ginjwt.Manager, raw string) *ginjwt.Token {
	t.Helper()
	tok, err := m.DecodeExpiredToken(raw)
	require.NoError(t, err)
	return tok
}

// flask users revoke both tokens at logout: the access token that guards
// the route, and the refresh token sent in the body.
func TestRevokeBothTokensAtLogout(t *testing.T) {
	m := newManager(t, ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)))
	r := logoutRouter(t, m)
	r.POST("/logout-all", m.JWTRequired(), func(c *gin.Context) {
		var body struct {
			RefreshToken string `json:"refresh_token"`
		}
		if err := c.ShouldBindJSON(&body); err != nil {
			c.JSON(400, gin.H{"msg": "Missing refresh_token"})
			return
		}
		tok, _ := ginjwt.CurrentToken(c)
		if err := m.Revoke(c.Request.Context(), tok.Raw, body.RefreshToken); err != nil {
			m.Abort(c, err)
			return
		}
		c.Status(204)
	})
	access, refresh, err := m.CreateTokenPair("alice")
	require.NoError(t, err)

	req := httptest.NewRequest(http.MethodPost, "/logout-all", strings.NewReader(`{"refresh_token":"`+refresh+`"}`))
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	require.Equal(t, 204, w.Code, w.Body.String())
	assert.Equal(t, 401, get(r, "/protected", bearer(access)).Code)
	assert.Equal(t, 401, request(r, http.MethodPost, "/refresh", bearer(refresh)).Code)

	// A forged refresh token in the body is refused, nothing revoked.
	fresh, _, err := m.CreateTokenPair("alice")
	require.NoError(t, err)
	req = httptest.NewRequest(http.MethodPost, "/logout-all", strings.NewReader(`{"refresh_token":"a.b.c"}`))
	req.Header.Set("Authorization", "Bearer "+fresh)
	req.Header.Set("Content-Type", "application/json")
	w = httptest.NewRecorder()
	r.ServeHTTP(w, req)
	assert.Equal(t, 422, w.Code)
	assert.Equal(t, 200, get(r, "/protected", bearer(fresh)).Code)

	// Without a blocklist the helpers say so.
	plain := newManager(t)
	assert.ErrorIs(t, plain.Revoke(context.Background(), access), ginjwt.ErrNoBlocklist)
}

type failingStore struct{ err error }

func (s failingStore) Revoke(context.Context, string, time.Time) error { return s.err }
func (s failingStore) Rotate(context.Context, string, string, string, time.Time) (bool, error) {
	return false, s.err
}
func (s failingStore) Current(context.Context, string) (string, error)    { return "", s.err }
func (s failingStore) IsRevoked(context.Context, ...string) (bool, error) { return false, s.err }

func TestRevocationFailsClosed(t *testing.T) {
	var ran atomic.Int32
	m := newManager(t, ginjwt.WithBlocklist(failingStore{errors.New("dial tcp 127.0.0.1:6379: connection refused")}))
	r := newRouter()
	var recorded []error
	r.Use(func(c *gin.Context) {
		c.Next()
		for _, e := range c.Errors {
			recorded = append(recorded, e.Err)
		}
	})
	r.GET("/protected", m.JWTRequired(), func(c *gin.Context) { ran.Add(1); c.Status(200) })
	w := get(r, "/protected", bearer(ginjwttest.Access(t, m, "alice")))
	assert.Equal(t, 503, w.Code)
	assertMsg(t, w, "Token revocation status is unavailable")
	assert.Zero(t, ran.Load())
	require.Len(t, recorded, 1)
	assert.ErrorIs(t, recorded[0], ginjwt.ErrRevocationUnavailable)
	assert.ErrorContains(t, recorded[0].(interface{ Unwrap() []error }).Unwrap()[1], "connection refused")
}

// slowStore answers only when its context ends.
type slowStore struct{}

func (slowStore) Revoke(ctx context.Context, _ string, _ time.Time) error {
	<-ctx.Done()
	return ctx.Err()
}
func (slowStore) Rotate(ctx context.Context, _, _, _ string, _ time.Time) (bool, error) {
	<-ctx.Done()
	return false, ctx.Err()
}
func (slowStore) Current(ctx context.Context, _ string) (string, error) {
	<-ctx.Done()
	return "", ctx.Err()
}
func (slowStore) IsRevoked(ctx context.Context, _ ...string) (bool, error) {
	<-ctx.Done()
	return false, ctx.Err()
}

func TestSlowStoreTimesOut(t *testing.T) {
	m := newManager(t, ginjwt.WithBlocklist(slowStore{}), ginjwt.WithBlocklistTimeout(50*time.Millisecond))
	r := newRouter()
	r.GET("/protected", m.JWTRequired(), echoToken)
	start := time.Now()
	w := get(r, "/protected", bearer(ginjwttest.Access(t, m, "alice")))
	assert.Equal(t, 503, w.Code)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestTokenInBlocklistLoader(t *testing.T) {
	var seen []string
	m := newManager(t, ginjwt.WithTokenInBlocklistLoader(func(c *gin.Context, tok *ginjwt.Token) (bool, error) {
		seen = append(seen, tok.Header.Alg+"/"+tok.Claims.Identity)
		if tok.Claims.Identity == "down" {
			return false, errors.New("db down")
		}
		return tok.Claims.Identity == "mallory", nil
	}), handleKind(ginjwt.ErrRevoked, func(c *gin.Context, err *ginjwt.Error) {
		c.JSON(404, gin.H{"baz": "foo"})
	}))
	g := newGuarded(m)
	assert.Equal(t, 200, get(g.r, "/protected", bearer(ginjwttest.Access(t, m, "alice"))).Code)
	w := get(g.r, "/protected", bearer(ginjwttest.Access(t, m, "mallory")))
	assert.Equal(t, 404, w.Code)
	assert.JSONEq(t, `{"baz":"foo"}`, w.Body.String())
	assert.Equal(t, 503, get(g.r, "/protected", bearer(ginjwttest.Access(t, m, "down"))).Code)
	assert.Equal(t, []string{"HS256/alice", "HS256/mallory", "HS256/down"}, seen)
}

func TestBlocklistNeedsJTI(t *testing.T) {
	m := newManager(t, ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)))
	r := newRouter()
	r.GET("/protected", m.JWTRequired(), echoToken)
	w := get(r, "/protected", bearer(signPayload(`{"sub":"a"}`)))
	assert.Equal(t, 422, w.Code)
	assertMsg(t, w, "Missing claim: jti")
}

func TestRefreshRotation(t *testing.T) {
	clock := newFakeClock()
	store := ginjwt.NewMemoryBlocklist(clock.Now)
	m := newManager(t, clock.option(), ginjwt.WithBlocklist(store), ginjwt.WithRefreshRotation())
	r := rotationRouter(m)

	access, refresh, err := m.CreateTokenPair("alice", ginjwt.Fresh())
	require.NoError(t, err)
	assert.True(t, mustDecode(t, m, access).Claims.IsFresh(time.Now()))
	assert.False(t, mustDecode(t, m, refresh).Claims.IsFresh(time.Now()))
	assert.Equal(t, session(t, m, access), session(t, m, refresh))

	w := request(r, http.MethodPost, "/refresh", bearer(refresh))
	require.Equal(t, 200, w.Code, w.Body.String())
	body := decodeBody(t, w)
	access2, refresh2 := body["access_token"].(string), body["refresh_token"].(string)
	assert.Equal(t, session(t, m, refresh), session(t, m, refresh2), "the new pair stays in the session")
	assert.False(t, mustDecode(t, m, access2).Claims.IsFresh(time.Now()), "rotation proves no password")
	assert.Equal(t, 200, get(r, "/protected", bearer(access2)).Code)
	assert.Equal(t, 200, get(r, "/protected", bearer(access)).Code, "older access tokens live on until reuse")

	// The old refresh token comes back: reuse. The whole session goes.
	w = request(r, http.MethodPost, "/refresh", bearer(refresh))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Token has been revoked")
	for _, tok := range []string{access, access2} {
		w = get(r, "/protected", bearer(tok))
		assert.Equal(t, 401, w.Code)
		assertMsg(t, w, "Token has been revoked")
	}
	w = request(r, http.MethodPost, "/refresh", bearer(refresh2))
	assert.Equal(t, 401, w.Code, "the newest refresh token of the session is revoked too")
	// Until the end of its life: the session's revocation outlasts it.
	clock.Sleep(30*24*time.Hour - time.Minute)
	w = request(r, http.MethodPost, "/refresh", bearer(refresh2))
	assert.Equal(t, 401, w.Code, "a minute before the refresh token expires, still revoked")
	assertMsg(t, w, "Token has been revoked")

	// Another login is another session, untouched.
	other, _, err := m.CreateTokenPair("alice")
	require.NoError(t, err)
	assert.Equal(t, 200, get(r, "/protected", bearer(other)).Code)
}

// No token of a session outlives how long an ended session stays revoked
// (its lifetime); a longer one would come back to life.
func TestSessionLifetimeBoundsTokens(t *testing.T) {
	m := newManager(t, ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)), ginjwt.WithRefreshRotation())
	_, _, err := m.CreateTokenPair("alice", ginjwt.ExpiresIn(90*24*time.Hour))
	assert.ErrorContains(t, err, "ExpiresIn(2160h0m0s) goes past the login's end, WithSessionLifetime(720h0m0s)")
	_, err = m.CreateRefreshToken("alice", ginjwt.ExpiresIn(90*24*time.Hour))
	assert.Error(t, err)
	_, _, err = m.CreateTokenPair("alice", ginjwt.ExpiresIn(30*24*time.Hour))
	assert.NoError(t, err, "as long as the session lifetime is fine")
	access, refresh, err := m.CreateTokenPair("alice", ginjwt.ExpiresIn(ginjwt.NeverExpires))
	assert.NoError(t, err, "a token that never expires starts a session without an end")
	assert.True(t, mustDecode(t, m, access).Claims.AuthTime().IsZero())
	assert.True(t, mustDecode(t, m, refresh).Claims.ExpiresAt().IsZero())

	// A longer access expiry is cut to the session's end, the refresh
	// token's; an ended session stays revoked to that end.
	clock := newFakeClock()
	m = newManager(t, clock.option(), ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(clock.Now)), ginjwt.WithRefreshRotation(),
		ginjwt.WithAccessExpires(60*24*time.Hour))
	r := rotationRouter(m)
	access, refresh, err = m.CreateTokenPair("alice")
	require.NoError(t, err)
	assert.Equal(t, clock.Now().Add(30*24*time.Hour).Unix(), mustDecode(t, m, access).Claims.ExpiresAt().Unix())
	require.Equal(t, 200, request(r, http.MethodPost, "/refresh", bearer(refresh)).Code)
	require.Equal(t, 401, request(r, http.MethodPost, "/refresh", bearer(refresh)).Code, "reuse")
	clock.Sleep(30*24*time.Hour - time.Minute)
	w := get(r, "/protected", bearer(access))
	assert.Equal(t, 401, w.Code, "the access token of the reused session stays revoked to its end")
	assertMsg(t, w, "Token has been revoked")
	clock.Sleep(time.Minute)
	w = get(r, "/protected", bearer(access))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Token has expired")
}

func rotationRouter(m *ginjwt.Manager) *gin.Engine {
	r := newRouter()
	r.GET("/protected", m.JWTRequired(), echoToken)
	r.POST("/refresh", m.RefreshRequired(), func(c *gin.Context) {
		access, refresh, err := m.RotateRefreshToken(c)
		if err != nil {
			m.Abort(c, err)
			return
		}
		c.JSON(200, gin.H{"access_token": access, "refresh_token": refresh})
	})
	return r
}

func session(t *testing.T, m *ginjwt.Manager, raw string) string {
	t.Helper()
	id := mustDecode(t, m, raw).Claims.SessionID()
	require.NotEmpty(t, id, "token has a session")
	return id
}

func TestMemoryBlocklistBehindGuards(t *testing.T) {
	blocklisttest.RunGuarded(t, func(*testing.T) ginjwt.Blocklist { return ginjwt.NewMemoryBlocklist(nil) })
}

func TestRotationNeedsBlocklist(t *testing.T) {
	_, err := ginjwt.New(ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithRefreshRotation())
	assert.ErrorContains(t, err, "WithRefreshRotation needs WithBlocklist")
}

// A logout the store did not take is not a success: Abort answers 503
// with flask's body, never a 500 with none.
func TestLogoutWhenTheStoreFails(t *testing.T) {
	down := errors.New("dial tcp 127.0.0.1:6379: connection refused")
	m := newManager(t, ginjwt.WithBlocklist(failingWrites{ginjwt.NewMemoryBlocklist(nil), down}))
	r := newRouter()
	var got error
	r.DELETE("/logout", m.JWTRequired(), func(c *gin.Context) {
		if got = m.Logout(c); got != nil {
			m.Abort(c, got)
			return
		}
		c.Status(200)
	})
	access := ginjwttest.Access(t, m, "alice")
	w := request(r, http.MethodDelete, "/logout", bearer(access))
	assert.Equal(t, 503, w.Code)
	assertMsg(t, w, "Token revocation status is unavailable")
	assert.ErrorIs(t, got, ginjwt.ErrRevocationUnavailable)
	assert.ErrorIs(t, got, down)
	err := m.Revoke(context.Background(), access)
	assert.ErrorIs(t, err, ginjwt.ErrRevocationUnavailable)
	assert.ErrorIs(t, err, down)
}

// failingWrites answers checks but cannot store revocations.
type failingWrites struct {
	ginjwt.Blocklist
	err error
}

func (f failingWrites) Revoke(context.Context, string, time.Time) error { return f.err }

// appleboyToken is a token as appleboy/gin-jwt v2 and v3 make it with their
// README's IdentityKey "id" (MapClaims, so in name order): the identity,
// "exp" and "orig_iat", the issue time; no "iat", "jti", "sub" or "type".
func appleboyToken(identity string, issued time.Time, life time.Duration) string {
	return signPayload(fmt.Sprintf(`{"exp":%d,"id":%q,"orig_iat":%d}`,
		issued.Add(life).Unix(), identity, issued.Unix()))
}

// recordingRevoker is an IdentityRevoker that is not a MemoryBlocklist, so
// the guards ask it as they ask a store over the network; it records the
// keys of each question.
type recordingRevoker struct {
	*ginjwt.MemoryBlocklist
	mu    sync.Mutex
	asked [][]string
}

func (s *recordingRevoker) IsRevokedFor(ctx context.Context, identity string, issued time.Time, keys ...string) (bool, error) {
	s.mu.Lock()
	s.asked = append(s.asked, keys)
	s.mu.Unlock()
	return s.MemoryBlocklist.IsRevokedFor(ctx, identity, issued, keys...)
}

// plainBlocklist has the core methods only, and counts the questions.
type plainBlocklist struct {
	ginjwt.Blocklist
	asked atomic.Int32
}

func (s *plainBlocklist) IsRevoked(ctx context.Context, keys ...string) (bool, error) {
	s.asked.Add(1)
	return s.Blocklist.IsRevoked(ctx, keys...)
}

// Turning revocation on does not log out the users of the service ginjwt
// replaces: their tokens, without "jti", pass until the window closes,
// and nothing weakens when the option is not given.
func TestLegacyTokensUntil(t *testing.T) {
	stores := map[string]func(clock *fakeClock) ginjwt.Blocklist{
		"MemoryBlocklist": func(clock *fakeClock) ginjwt.Blocklist { return ginjwt.NewMemoryBlocklist(clock.Now) },
		"an IdentityRevoker": func(clock *fakeClock) ginjwt.Blocklist {
			return &recordingRevoker{MemoryBlocklist: ginjwt.NewMemoryBlocklist(clock.Now)}
		},
		"a plain Blocklist": func(clock *fakeClock) ginjwt.Blocklist {
			return &plainBlocklist{Blocklist: ginjwt.NewMemoryBlocklist(clock.Now)}
		},
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			clock := newFakeClock()
			store := newStore(clock)
			until := clock.Now().Add(2 * time.Hour)
			m := newManager(t, clock.option(), ginjwt.WithClaims(ginjwt.ClaimsConfig{IdentityClaim: "id"}),
				ginjwt.WithBlocklist(store), ginjwt.WithLegacyTokensUntil(until))
			r := logoutRouter(t, m)
			r.DELETE("/logout-handler", m.LogoutHandler())
			old := appleboyToken("admin", clock.Now(), 3*time.Hour)

			w := get(r, "/protected", bearer(old))
			require.Equal(t, 200, w.Code, w.Body.String())
			assert.Equal(t, "admin", decodeBody(t, w)["identity"])
			if s, ok := store.(*plainBlocklist); ok {
				assert.Zero(t, s.asked.Load(), "a plain store has nothing to say about a token without keys")
			}

			// A token with a session but no ID is not one of the old
			// service's: it stays refused.
			withSID := signPayload(fmt.Sprintf(`{"exp":%d,"id":"admin","sid":"s-1"}`, clock.Now().Add(time.Hour).Unix()))
			w = get(r, "/protected", bearer(withSID))
			assert.Equal(t, 422, w.Code)
			assertMsg(t, w, "Missing claim: jti")

			// The trade-off: a logout cannot end such a token.
			w = request(r, http.MethodDelete, "/logout-handler", bearer(old))
			require.Equal(t, 200, w.Code)
			assertMsg(t, w, "logout successful")
			assert.Equal(t, 200, get(r, "/protected", bearer(old)).Code, "nothing names it on the blocklist")
			assert.ErrorIs(t, m.Revoke(context.Background(), old), ginjwt.ErrInvalidClaims)

			// The window closes at until, before the token expires.
			clock.Sleep(until.Add(-time.Second).Sub(clock.Now()))
			assert.Equal(t, 200, get(r, "/protected", bearer(old)).Code, "a second before until")
			clock.Sleep(time.Second)
			w = get(r, "/protected", bearer(old))
			assert.Equal(t, 422, w.Code, "at until")
			assertMsg(t, w, "Missing claim: jti")
		})
	}

	t.Run("without the option", func(t *testing.T) {
		clock := newFakeClock()
		m := newManager(t, clock.option(), ginjwt.WithClaims(ginjwt.ClaimsConfig{IdentityClaim: "id"}),
			ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(clock.Now)))
		w := get(logoutRouter(t, m), "/protected", bearer(appleboyToken("admin", clock.Now(), time.Hour)))
		assert.Equal(t, 422, w.Code)
		assertMsg(t, w, "Missing claim: jti")
	})
}

// "Log out everywhere" ends the old service's tokens during the window,
// by their "iat", or appleboy's "orig_iat" when they have none.
func TestRevokeIdentityEndsLegacyTokens(t *testing.T) {
	stores := map[string]func(clock *fakeClock) ginjwt.IdentityRevoker{
		"MemoryBlocklist": func(clock *fakeClock) ginjwt.IdentityRevoker { return ginjwt.NewMemoryBlocklist(clock.Now) },
		"an IdentityRevoker": func(clock *fakeClock) ginjwt.IdentityRevoker {
			return &recordingRevoker{MemoryBlocklist: ginjwt.NewMemoryBlocklist(clock.Now)}
		},
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			clock := newFakeClock()
			store := newStore(clock)
			// This Manager's tokens live two minutes at most; the old
			// service's a day.
			m := newManager(t, clock.option(), ginjwt.WithClaims(ginjwt.ClaimsConfig{IdentityClaim: "id"}),
				ginjwt.WithAccessExpires(time.Minute), ginjwt.WithRefreshExpires(2*time.Minute),
				ginjwt.WithBlocklist(store), ginjwt.WithLegacyTokensUntil(clock.Now().Add(24*time.Hour)))
			r := logoutRouter(t, m)
			now, exp := clock.Now(), clock.Now().Add(12*time.Hour).Unix()
			tokens := map[string]string{
				"orig_iat (v2, v3)":        appleboyToken("admin", now.Add(-time.Minute), 12*time.Hour),
				"iat set by a PayloadFunc": signPayload(fmt.Sprintf(`{"exp":%d,"iat":%d,"id":"admin"}`, exp, now.Unix())),
				"neither":                  signPayload(fmt.Sprintf(`{"exp":%d,"id":"admin"}`, exp)),
			}
			other := appleboyToken("bob", now, 12*time.Hour)
			for kind, tok := range tokens {
				require.Equal(t, 200, get(r, "/protected", bearer(tok)).Code, kind)
			}
			if s, ok := store.(*recordingRevoker); ok {
				require.NotEmpty(t, s.asked)
				for _, keys := range s.asked {
					assert.Empty(t, keys, "a legacy token has no ID or session to ask about")
				}
			}

			require.NoError(t, m.RevokeIdentity(context.Background(), "admin"))
			for kind, tok := range tokens {
				w := get(r, "/protected", bearer(tok))
				assert.Equal(t, 401, w.Code, kind)
				assertMsg(t, w, "Token has been revoked")
			}
			assert.Equal(t, 200, get(r, "/protected", bearer(other)).Code, "another user's token")

			// Tokens issued after the call work, from either service.
			clock.Sleep(time.Second)
			assert.Equal(t, 200, get(r, "/protected", bearer(appleboyToken("admin", clock.Now(), time.Hour))).Code)
			assert.Equal(t, 200, get(r, "/protected", bearer(ginjwttest.Access(t, m, "admin"))).Code)

			// The cutoff outlives this Manager's two-minute tokens: the old
			// ones live longer.
			clock.Sleep(time.Hour)
			w := get(r, "/protected", bearer(tokens["orig_iat (v2, v3)"]))
			assert.Equal(t, 401, w.Code, "an hour later")
			assertMsg(t, w, "Token has been revoked")
		})
	}
}
