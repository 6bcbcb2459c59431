package redisblocklist_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/blocklisttest"
	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/ginjwt/ginjwt/redisblocklist/internal/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secret = "redis-test-secret-0123456789abcdef0123"

// mustNew is redisblocklist.New for options a test knows to be good.
func mustNew(t testing.TB, client redis.UniversalClient, opts ...redisblocklist.Option) *redisblocklist.Store {
	t.Helper()
	s, err := redisblocklist.New(client, opts...)
	require.NoError(t, err)
	return s
}

// New refuses the option values that used to be clamped or ignored,
// every one of them in one error, as ginjwt.New does; the values that
// mean "off" are accepted.
func TestNewReportsBadOptions(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { _ = client.Close() })
	_, err := redisblocklist.New(client,
		redisblocklist.WithKeyPrefix(""),
		redisblocklist.WithClock(nil),
		redisblocklist.WithBreaker(-1, time.Second),
		redisblocklist.WithBreaker(3, 0),
		redisblocklist.WithMaxInFlight(0),
		redisblocklist.WithReplicaAcks(-1, time.Second),
		redisblocklist.WithReplicaAcks(1, -time.Second))
	require.Error(t, err)
	for _, want := range []string{"WithKeyPrefix", "WithClock", "WithBreaker(-1, 1s)", "WithBreaker(3, 0s)",
		"WithMaxInFlight(0)", "WithReplicaAcks(-1, 1s)", "WithReplicaAcks(1, -1s)"} {
		assert.ErrorContains(t, err, want)
	}
	_, err = redisblocklist.New(nil)
	assert.ErrorContains(t, err, "nil client")

	_, err = redisblocklist.New(client, redisblocklist.WithBreaker(0, 0), redisblocklist.WithReplicaAcks(0, 0),
		redisblocklist.WithMaxInFlight(1), redisblocklist.WithKeyPrefix("app:"), redisblocklist.WithClock(time.Now))
	assert.NoError(t, err)
}

func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	n := 0
	blocklisttest.Run(t, blocklisttest.Harness{
		New: func(t *testing.T) ginjwt.Blocklist {
			n++ // each subtest in its own key space
			return mustNew(t, srv.Client(t), redisblocklist.WithKeyPrefix(fmt.Sprintf("conformance:%d:", n)))
		},
		Now:   time.Now,
		Sleep: time.Sleep,
	})
}

func TestTTLFollowsTheToken(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client(t)
	store := mustNew(t, client, redisblocklist.WithKeyPrefix("app1:revoked:"))
	ctx := context.Background()
	require.NoError(t, store.Revoke(ctx, "jti-1", time.Now().Add(15*time.Minute)))
	ttl, err := client.PTTL(ctx, "app1:revoked:jti-1").Result()
	require.NoError(t, err)
	assert.InDelta(t, float64(15*time.Minute), float64(ttl), float64(time.Second), "TTL = remaining lifetime")

	require.NoError(t, store.Revoke(ctx, "forever", time.Time{}))
	ttl, err = client.TTL(ctx, "app1:revoked:forever").Result()
	require.NoError(t, err)
	assert.Equal(t, time.Duration(-1), ttl, "no expiry: no TTL")

	require.NoError(t, store.Revoke(ctx, "past", time.Now().Add(-time.Second)))
	n, err := client.Exists(ctx, "app1:revoked:past").Result()
	require.NoError(t, err)
	assert.Zero(t, n, "an expired token is not stored")

	require.NoError(t, store.Revoke(ctx, "short", time.Now().Add(300*time.Millisecond)))
	time.Sleep(600 * time.Millisecond)
	n, err = client.Exists(ctx, "app1:revoked:short").Result()
	require.NoError(t, err)
	assert.Zero(t, n, "Redis dropped the key when the token expired")
}

// app is flask's blocklist_redis.py through a real gin.Engine.
func app(t *testing.T, m *ginjwt.Manager, ran *atomic.Int32) *gin.Engine {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.GET("/protected", m.JWTRequired(), func(c *gin.Context) {
		ran.Add(1)
		c.JSON(200, gin.H{"hello": "world"})
	})
	r.DELETE("/logout", m.JWTRequired(ginjwt.VerifyType(false)), func(c *gin.Context) {
		if err := m.Logout(c); err != nil {
			m.Abort(c, err)
			return
		}
		c.JSON(200, gin.H{"msg": "Access token revoked"})
	})
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

func send(r http.Handler, method, path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

func TestLogoutAndFailClosed(t *testing.T) {
	srv := redistest.Start(t)
	m, err := ginjwt.New(ginjwt.WithSecretKey([]byte(secret)),
		ginjwt.WithBlocklist(mustNew(t, srv.Client(t))),
		ginjwt.WithBlocklistTimeout(500*time.Millisecond))
	require.NoError(t, err)
	var ran atomic.Int32
	r := app(t, m, &ran)
	var recorded []error
	access, err := m.CreateAccessToken("alice")
	require.NoError(t, err)
	other, err := m.CreateAccessToken("bob")
	require.NoError(t, err)

	require.Equal(t, 200, send(r, "GET", "/protected", access).Code)
	w := send(r, "DELETE", "/logout", access)
	require.Equal(t, 200, w.Code, w.Body.String())
	w = send(r, "GET", "/protected", access)
	assert.Equal(t, 401, w.Code)
	assert.JSONEq(t, `{"msg":"Token has been revoked"}`, w.Body.String())
	require.Equal(t, 200, send(r, "GET", "/protected", other).Code)

	// Redis goes away mid-test: guarded routes fail closed.
	srv.Stop()
	before := ran.Load()
	r2 := gin.New()
	r2.Use(func(c *gin.Context) {
		c.Next()
		for _, e := range c.Errors {
			recorded = append(recorded, e.Err)
		}
	})
	r2.GET("/protected", m.JWTRequired(), func(c *gin.Context) { ran.Add(1); c.Status(200) })
	start := time.Now()
	w = send(r2, "GET", "/protected", other)
	assert.Equal(t, 503, w.Code)
	assert.JSONEq(t, `{"msg":"Token revocation status is unavailable"}`, w.Body.String())
	assert.Equal(t, before, ran.Load(), "the handler did not run")
	assert.Less(t, time.Since(start), 5*time.Second)
	require.Len(t, recorded, 1)
	assert.True(t, errors.Is(recorded[0], ginjwt.ErrRevocationUnavailable))
	assert.Equal(t, 503, send(r, "GET", "/protected", access).Code, "no fallback to 'not revoked'")
}

// Revocation and the 50-way rotation race through real guards.
func TestRedisBehindGuards(t *testing.T) {
	srv := redistest.Start(t)
	n := 0
	blocklisttest.RunGuarded(t, func(t *testing.T) ginjwt.Blocklist {
		n++ // a key prefix per subtest: each store starts empty
		return mustNew(t, srv.Client(t), redisblocklist.WithKeyPrefix(fmt.Sprintf("guarded%d:", n)))
	})
}

// One guarded request with the Redis blocklist on loopback, against the
// same request with the in-memory store and without revocation.
func BenchmarkGuardedRequest(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	srv := redistest.Start(b)
	for _, tc := range []struct {
		name  string
		store ginjwt.Blocklist
	}{{"no_blocklist", nil}, {"memory", ginjwt.NewMemoryBlocklist(nil)}, {"redis_loopback", mustNew(b, srv.Client(b))}} {
		opts := []ginjwt.Option{ginjwt.WithSecretKey([]byte(secret))}
		if tc.store != nil {
			opts = append(opts, ginjwt.WithBlocklist(tc.store))
		}
		m, err := ginjwt.New(opts...)
		if err != nil {
			b.Fatal(err)
		}
		r := gin.New()
		r.GET("/protected", m.JWTRequired(), func(c *gin.Context) { c.JSON(200, gin.H{"logged_in_as": ginjwt.CurrentIdentity(c)}) })
		token, err := m.CreateAccessToken("alice")
		if err != nil {
			b.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "/protected", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				r.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatal(w.Code, w.Body)
				}
			}
		})
	}
}

// What RevokeIdentity and the session list leave in Redis: one key per
// identity for its cutoff, with the TTL asked, and one hash per identity
// for its sessions, whose TTL is the latest expiry, swept of expired
// sessions by every write and gone with the last one. Identities are hex
// in the keys, after a byte no token ID can hold.
func TestIdentityAndSessionKeys(t *testing.T) {
	client := redistest.Start(t).Client(t)
	store := mustNew(t, client, redisblocklist.WithKeyPrefix("app:"))
	ctx := context.Background()
	now := time.Now()
	pttl := func(key string) time.Duration {
		t.Helper()
		d, err := client.PTTL(ctx, key).Result()
		require.NoError(t, err)
		return d
	}

	require.NoError(t, store.RevokeIdentity(ctx, "alice", now.Add(500*time.Microsecond), now.Add(time.Hour)))
	cutoff, err := client.Get(ctx, "app:\xffi:616c696365").Result()
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprint(now.Add(500*time.Microsecond).UnixMilli()+1), cutoff, "the cutoff in ms, rounded up")
	assert.InDelta(t, float64(time.Hour), float64(pttl("app:\xffi:616c696365")), float64(time.Second))
	require.NoError(t, store.RevokeIdentity(ctx, "bob", now, time.Time{}))
	assert.Equal(t, time.Duration(-1), pttl("app:\xffi:626f62"), "no expiry asked: none")

	sessions := "app:\xffs:616c696365"
	save := func(id string, expires time.Time) {
		t.Helper()
		require.NoError(t, store.SaveSession(ctx, ginjwt.Session{ID: id, Identity: "alice", Created: now, Expires: expires}))
	}
	save("s-1", now.Add(time.Hour))
	save("s-2", now.Add(2*time.Hour))
	assert.InDelta(t, float64(2*time.Hour), float64(pttl(sessions)), float64(time.Second), "the hash lives as long as its latest session")
	save("short", now.Add(200*time.Millisecond))
	time.Sleep(400 * time.Millisecond)
	require.NoError(t, store.DeleteSession(ctx, "alice", "s-1"))
	fields, err := client.HKeys(ctx, sessions).Result()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"s-2"}, fields, "a write swept the expired session")
	assert.InDelta(t, float64(2*time.Hour), float64(pttl(sessions)), float64(time.Second))
	save("forever", time.Time{})
	assert.Equal(t, time.Duration(-1), pttl(sessions), "a session without an end keeps the hash")
	require.NoError(t, store.DeleteSession(ctx, "alice", "forever"))
	assert.InDelta(t, float64(2*time.Hour), float64(pttl(sessions)), float64(time.Second), "and its end brings the TTL back")
	require.NoError(t, store.DeleteSession(ctx, "alice", "s-2"))
	n, err := client.Exists(ctx, sessions).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "the last session gone, the hash is gone")
}
