package redisblocklist_test

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/ginjwt/ginjwt/redisblocklist/internal/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	// hangTimeout is WithBlocklistTimeout in the hang tests.
	hangTimeout = 300 * time.Millisecond
	// margin is how much later than the timeout a hung store may answer:
	// scheduling on a busy 2-core machine, not Redis.
	margin = 100 * time.Millisecond
)

// guarded is a service with a guarded route, a logout and a refresh
// route, recording the errors its handlers and guards saw.
type guarded struct {
	r      *gin.Engine
	m      *ginjwt.Manager
	ran    atomic.Int32 // times the protected handler ran
	mu     sync.Mutex
	errors []error
}

func newGuarded(t testing.TB, store ginjwt.Blocklist, opts ...ginjwt.Option) *guarded {
	t.Helper()
	m, err := ginjwt.New(append([]ginjwt.Option{ginjwt.WithSecretKey([]byte(secret)), ginjwt.WithBlocklist(store)}, opts...)...)
	require.NoError(t, err)
	g := &guarded{m: m}
	gin.SetMode(gin.TestMode)
	g.r = gin.New()
	g.r.Use(func(c *gin.Context) {
		c.Next()
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, e := range c.Errors {
			g.errors = append(g.errors, e.Err)
		}
	})
	g.r.GET("/protected", m.JWTRequired(), func(c *gin.Context) {
		g.ran.Add(1)
		c.JSON(200, gin.H{"hello": "world"})
	})
	g.r.DELETE("/logout", m.JWTRequired(ginjwt.VerifyType(false)), func(c *gin.Context) {
		if err := m.Logout(c); err != nil {
			_ = c.Error(err)
			c.JSON(503, gin.H{"msg": "Logout failed, try again"})
			return
		}
		c.JSON(200, gin.H{"msg": "Access token revoked"})
	})
	g.r.POST("/refresh", m.RefreshRequired(), func(c *gin.Context) {
		access, refresh, err := m.RotateRefreshToken(c)
		if err != nil {
			m.Abort(c, err)
			return
		}
		c.JSON(200, gin.H{"access_token": access, "refresh_token": refresh})
	})
	return g
}

func (g *guarded) lastError() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.errors) == 0 {
		return nil
	}
	return g.errors[len(g.errors)-1]
}

// hang is a store that accepts connections and never answers.
type hang struct {
	name string
	// start returns the address of a hung store and, for a paused
	// redis-server, a function that un-hangs it.
	start func(t *testing.T) (addr string, resume func())
}

var hangs = []hang{
	{"paused_redis_server", func(t *testing.T) (string, func()) {
		srv := redistest.Start(t)
		srv.Pause(t)
		return srv.Addr, srv.Resume
	}},
	{"tcp_blackhole", func(t *testing.T) (string, func()) {
		return redistest.Blackhole(t), func() {}
	}},
}

// clientBuilds are clients as applications build them: go-redis's
// defaults (5 s read timeout, 3 retries, context deadlines ignored on
// reads), and worse.
var clientBuilds = []struct {
	name string
	opts func(addr string) *redis.Options
}{
	{"defaults", func(addr string) *redis.Options { return &redis.Options{Addr: addr} }},
	{"no_read_timeout", func(addr string) *redis.Options {
		return &redis.Options{Addr: addr, ReadTimeout: -1, WriteTimeout: -1, PoolTimeout: time.Minute}
	}},
	{"many_retries", func(addr string) *redis.Options {
		return &redis.Options{Addr: addr, MaxRetries: 10, ReadTimeout: 2 * time.Second}
	}},
	{"context_timeout_enabled", func(addr string) *redis.Options {
		return &redis.Options{Addr: addr, ContextTimeoutEnabled: true}
	}},
}

// The case: a paused redis-server (or a blackhole) made every
// guarded request wait go-redis's 5 s read timeout. Now guards, logouts
// and rotations answer by WithBlocklistTimeout whatever the client's
// options, and the handler does not run.
func TestHungStoreAnswersWithinTheTimeout(t *testing.T) {
	for _, h := range hangs {
		for _, cb := range clientBuilds {
			t.Run(h.name+"/"+cb.name, func(t *testing.T) {
				t.Parallel() // each waits out timeouts; side by side they take as long as one
				var client *redis.Client
				// Closed after the hang ends: a client stuck on it may wait for it to close.
				t.Cleanup(func() { _ = client.Close() })
				addr, _ := h.start(t)
				client = redis.NewClient(cb.opts(addr))
				// Breaker off: every call must wait, and stop, at the timeout.
				store := mustNew(t, client, redisblocklist.WithBreaker(0, 0))
				g := newGuarded(t, store, ginjwt.WithBlocklistTimeout(hangTimeout), ginjwt.WithRefreshRotation())
				access, refresh, err := g.m.CreateTokenPair("alice")
				require.NoError(t, err)

				for i := range 2 { // a second request finds the first one's connection still stuck
					start := time.Now()
					w := send(g.r, "GET", "/protected", access)
					took := time.Since(start)
					assert.Equal(t, http.StatusServiceUnavailable, w.Code, "request %d", i)
					assert.JSONEq(t, `{"msg":"Token revocation status is unavailable"}`, w.Body.String())
					assert.GreaterOrEqual(t, took, hangTimeout)
					assert.Less(t, took, hangTimeout+margin, "request %d answered after %v", i, took)
					assert.ErrorIs(t, g.lastError(), ginjwt.ErrRevocationUnavailable)
					assert.ErrorIs(t, g.lastError(), context.DeadlineExceeded)
				}
				assert.Zero(t, g.ran.Load(), "the handler did not run")

				start := time.Now()
				w := send(g.r, "POST", "/refresh", refresh)
				took := time.Since(start)
				assert.Equal(t, http.StatusServiceUnavailable, w.Code)
				assert.JSONEq(t, `{"msg":"Token revocation status is unavailable"}`, w.Body.String())
				assert.Less(t, took, hangTimeout+margin, "refresh answered after %v", took)

				// Writes: the logout handler learns of the failure in time.
				start = time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
				defer cancel()
				err = store.Revoke(ctx, "jti-1", time.Now().Add(time.Hour))
				took = time.Since(start)
				require.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Less(t, took, hangTimeout+margin, "Revoke answered after %v", took)

				start = time.Now()
				ctx, cancel = context.WithTimeout(context.Background(), hangTimeout)
				defer cancel()
				ok, err := store.Rotate(ctx, "fam-1", "r1", "r2", time.Now().Add(time.Hour))
				took = time.Since(start)
				require.ErrorIs(t, err, context.DeadlineExceeded)
				assert.False(t, ok)
				assert.Less(t, took, hangTimeout+margin, "Rotate answered after %v", took)

				start = time.Now()
				ctx, cancel = context.WithTimeout(context.Background(), hangTimeout)
				defer cancel()
				_, err = store.Current(ctx, "fam-1")
				took = time.Since(start)
				require.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Less(t, took, hangTimeout+margin, "Current answered after %v", took)
			})
		}
	}
}

// A logout through Gin against a paused Redis: the handler gets the error
// by the timeout, not after go-redis's 5 s.
func TestLogoutAgainstPausedRedisFailsInTime(t *testing.T) {
	srv := redistest.Start(t)
	store := mustNew(t, srv.DefaultClient(t), redisblocklist.WithBreaker(0, 0))
	g := newGuarded(t, store, ginjwt.WithBlocklistTimeout(hangTimeout))
	access, err := g.m.CreateAccessToken("alice")
	require.NoError(t, err)
	require.Equal(t, 200, send(g.r, "GET", "/protected", access).Code)

	// Pause between the guard's check and the revocation: the guard
	// answers from Redis, then the handler's Revoke finds it stuck.
	g.r.DELETE("/logout-paused", g.m.JWTRequired(ginjwt.VerifyType(false)), func(c *gin.Context) {
		srv.Pause(t)
		start := time.Now()
		err := g.m.Logout(c)
		took := time.Since(start)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, took, hangTimeout+margin, "RevokeCurrent answered after %v", took)
		if err != nil {
			c.JSON(503, gin.H{"msg": "Logout failed, try again"})
			return
		}
		c.JSON(200, gin.H{"msg": "Access token revoked"})
	})
	w := send(g.r, "DELETE", "/logout-paused", access)
	assert.Equal(t, 503, w.Code)
	assert.JSONEq(t, `{"msg":"Logout failed, try again"}`, w.Body.String())
}

// Against a store that never answers, requests keep coming; the calls
// left waiting in go-redis after their callers gave up stay within
// WithMaxInFlight instead of growing with the traffic, and go away when
// Redis answers again.
func TestNoGoroutinePileUp(t *testing.T) {
	srv := redistest.Start(t)
	const maxInFlight = 8
	store := mustNew(t, srv.DefaultClient(t), redisblocklist.WithBreaker(0, 0), redisblocklist.WithMaxInFlight(maxInFlight))
	g := newGuarded(t, store, ginjwt.WithBlocklistTimeout(100*time.Millisecond))
	access, err := g.m.CreateAccessToken("alice")
	require.NoError(t, err)
	require.Equal(t, 200, send(g.r, "GET", "/protected", access).Code)
	base := runtime.NumGoroutine()

	srv.Pause(t)
	for wave := range 5 {
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() {
				w := send(g.r, "GET", "/protected", access)
				assert.Equal(t, 503, w.Code)
			})
		}
		wg.Wait()
		n := runtime.NumGoroutine()
		t.Logf("wave %d: %d goroutines (%d before the outage)", wave, n, base)
		// maxInFlight abandoned calls, and go-redis's own few (its
		// connection reaper, a dialer).
		assert.LessOrEqual(t, n, base+maxInFlight+4, "wave %d: goroutines pile up", wave)
	}
	g.mu.Lock()
	busy := 0
	for _, err := range g.errors {
		if errors.Is(err, redisblocklist.ErrTooBusy) {
			busy++
		}
	}
	g.mu.Unlock()
	assert.Greater(t, busy, 100, "callers beyond the bound waited for a slot, then gave up")
	srv.Resume()
	assert.Eventually(t, func() bool { return runtime.NumGoroutine() <= base+2 }, 2*time.Second, 10*time.Millisecond,
		"the abandoned calls end once Redis answers")
	assert.Equal(t, 200, send(g.r, "GET", "/protected", access).Code)
	assert.EqualValues(t, 2, g.ran.Load())
}

// The bound is the Store's, not the client's: Cluster and Sentinel
// clients whose first step (CLUSTER SLOTS, asking a sentinel for the
// master) hangs are cut off at the deadline too.
func TestHungStoreAnswersWithinTheTimeoutOnClusterAndSentinelClients(t *testing.T) {
	for _, h := range hangs {
		for _, kind := range []struct {
			name string
			new  func(addr string) redis.UniversalClient
		}{
			{"cluster", func(addr string) redis.UniversalClient {
				return redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}})
			}},
			{"sentinel_failover", func(addr string) redis.UniversalClient {
				return redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "mymaster", SentinelAddrs: []string{addr}})
			}},
			{"universal", func(addr string) redis.UniversalClient {
				return redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{addr}})
			}},
		} {
			t.Run(h.name+"/"+kind.name, func(t *testing.T) {
				t.Parallel()
				var client redis.UniversalClient
				// Closed after the hang ends: a client stuck on it may wait for it to close.
				t.Cleanup(func() { _ = client.Close() })
				addr, _ := h.start(t)
				client = kind.new(addr)
				store := mustNew(t, client, redisblocklist.WithBreaker(0, 0))
				g := newGuarded(t, store, ginjwt.WithBlocklistTimeout(hangTimeout))
				access, err := g.m.CreateAccessToken("alice")
				require.NoError(t, err)
				start := time.Now()
				w := send(g.r, "GET", "/protected", access)
				took := time.Since(start)
				assert.Equal(t, http.StatusServiceUnavailable, w.Code)
				assert.JSONEq(t, `{"msg":"Token revocation status is unavailable"}`, w.Body.String())
				assert.Less(t, took, hangTimeout+margin, "answered after %v", took)
				assert.Zero(t, g.ran.Load())

				ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
				defer cancel()
				start = time.Now()
				_, err = store.Rotate(ctx, "fam", "", "r1", time.Now().Add(time.Hour))
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Less(t, time.Since(start), hangTimeout+margin)
			})
		}
	}
}
