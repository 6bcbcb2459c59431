package rueidisblocklist_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/blocklisttest"
	"github.com/ginjwt/ginjwt/rueidisblocklist"
	"github.com/ginjwt/ginjwt/rueidisblocklist/internal/rueidistest"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secret = "rueidis-test-secret-0123456789abcdef012"

// mustNew is rueidisblocklist.New for options a test knows to be good.
func mustNew(t testing.TB, client rueidis.Client, opts ...rueidisblocklist.Option) *rueidisblocklist.Store {
	t.Helper()
	s, err := rueidisblocklist.New(client, opts...)
	require.NoError(t, err)
	return s
}

// New refuses the option values that used to be replaced by defaults,
// every one of them in one error, as ginjwt.New does; 0 answers kept
// (no cache) is accepted.
func TestNewReportsBadOptions(t *testing.T) {
	client := rueidistest.Start(t).Client(t, "options", nil)
	_, err := rueidisblocklist.New(client,
		rueidisblocklist.WithKeyPrefix(""),
		rueidisblocklist.WithClock(nil),
		rueidisblocklist.WithCacheTTL(0),
		rueidisblocklist.WithCacheBytes(-1),
		rueidisblocklist.WithCacheBytes(1000),
		rueidisblocklist.WithFreshness(-time.Millisecond))
	require.Error(t, err)
	for _, want := range []string{"WithKeyPrefix", "WithClock", "WithCacheTTL(0s)", "WithCacheBytes(-1)", "WithCacheBytes(1000)", "WithFreshness(-1ms)"} {
		assert.ErrorContains(t, err, want)
	}
	_, err = rueidisblocklist.New(nil)
	assert.ErrorContains(t, err, "nil client")

	_, err = rueidisblocklist.New(client, rueidisblocklist.WithCacheBytes(0), rueidisblocklist.WithKeyPrefix("app:"),
		rueidisblocklist.WithClock(time.Now), rueidisblocklist.WithCacheTTL(time.Second), rueidisblocklist.WithFreshness(time.Second))
	assert.NoError(t, err)
}

func TestConformance(t *testing.T) {
	srv := rueidistest.Start(t)
	client := srv.Client(t, "conformance", nil)
	n := 0
	blocklisttest.Run(t, blocklisttest.Harness{
		New: func(t *testing.T) ginjwt.Blocklist {
			n++ // each subtest in its own key space
			return mustNew(t, client, rueidisblocklist.WithKeyPrefix(fmt.Sprintf("conformance:%d:", n)))
		},
		Now:   time.Now,
		Sleep: time.Sleep,
	})
}

// warm checks keys until an answer comes from memory (the first checks
// of a store also open its tracking connection, and are not cached until
// it is up).
func warm(t *testing.T, store *rueidisblocklist.Store, raw func() int, keys ...string) {
	t.Helper()
	require.Eventually(t, func() bool {
		before := raw()
		_, err := store.IsRevoked(context.Background(), keys...)
		require.NoError(t, err)
		return raw() == before
	}, 5*time.Second, 5*time.Millisecond, "the store never answered from memory")
}

// Checks of one key are answered from memory: the server runs GET once
// for a thousand checks, and again only after the key changed. (A window
// of a second: this test counts round trips, not the pace of pings on a
// loaded machine.)
func TestChecksAreAnsweredFromMemory(t *testing.T) {
	srv := rueidistest.Start(t)
	raw := srv.Raw(t)
	gets := func() int { return rueidistest.CommandCalls(t, raw, "get") }
	window := rueidisblocklist.WithFreshness(time.Second)
	store := mustNew(t, srv.Client(t, "app", nil), window)
	ctx := context.Background()
	warm(t, store, gets, "jti-0")
	before := gets()
	for range 1000 {
		revoked, err := store.IsRevoked(ctx, "jti-1")
		require.NoError(t, err)
		require.False(t, revoked)
		revoked, err = store.IsRevoked(ctx, "jti-2", "fam:f1")
		require.NoError(t, err)
		require.False(t, revoked)
	}
	assert.Equal(t, 3, gets()-before, "one GET per key, then memory")

	// Another instance revokes: the invalidation reaches this one's cache
	// before the revocation returns.
	other := mustNew(t, srv.Client(t, "other", nil), window)
	require.NoError(t, other.Revoke(ctx, "fam:f1", time.Now().Add(time.Hour)))
	revoked, err := store.IsRevoked(ctx, "jti-2", "fam:f1")
	require.NoError(t, err)
	assert.True(t, revoked)
	assert.Equal(t, 5, gets()-before, "the revocation invalidated one cached key; the check asked for both again")

	// This instance revokes: refused at once.
	require.NoError(t, store.Revoke(ctx, "jti-1", time.Now().Add(time.Hour)))
	revoked, err = store.IsRevoked(ctx, "jti-1")
	require.NoError(t, err)
	assert.True(t, revoked, "a logout on this instance holds for the very next request")
}

// WithCacheTTL bounds how long an answer is kept without asking Redis;
// WithCacheBytes(0) keeps none, so every check asks Redis.
func TestCacheTTLAndBytes(t *testing.T) {
	srv := rueidistest.Start(t)
	raw := srv.Raw(t)
	gets := func() int { return rueidistest.CommandCalls(t, raw, "get") }
	ctx := context.Background()
	check := func(s *rueidisblocklist.Store, key string) {
		t.Helper()
		revoked, err := s.IsRevoked(ctx, key)
		require.NoError(t, err)
		require.False(t, revoked)
	}
	short := mustNew(t, srv.Client(t, "short", nil), rueidisblocklist.WithCacheTTL(100*time.Millisecond),
		rueidisblocklist.WithFreshness(time.Second))
	warm(t, short, gets, "jti-1")
	before := gets()
	check(short, "jti-1")
	assert.Equal(t, 0, gets()-before, "the answer is from memory")
	time.Sleep(150 * time.Millisecond)
	check(short, "jti-1")
	assert.Equal(t, 1, gets()-before, "asked again once the TTL passed")

	uncached := mustNew(t, srv.Client(t, "uncached", nil), rueidisblocklist.WithCacheBytes(0))
	before = gets()
	for range 3 {
		check(uncached, "jti-2")
	}
	assert.Equal(t, 3, gets()-before, "without a cache every check is a round trip")
	require.NoError(t, short.Revoke(ctx, "jti-2", time.Now().Add(time.Hour)))
	revoked, err := uncached.IsRevoked(ctx, "jti-2")
	require.NoError(t, err)
	assert.True(t, revoked)
}

// quantile returns the q quantile of sorted durations.
func quantile(d []time.Duration, q float64) time.Duration { return d[int(q*float64(len(d)-1))] }

// Two instances on one Redis, nothing failing: B has "not revoked"
// cached; A revokes; the first check on B after A's Revoke returned is
// refused, in every trial. Also measured and logged: what a Revoke costs
// (the freshness window plus a round trip), and how soon B refuses the
// token counting from Revoke's call (go test -v -run TestRevocationRefusedByOthersOnceAcknowledged).
func TestRevocationRefusedByOthersOnceAcknowledged(t *testing.T) {
	srv := rueidistest.Start(t)
	a := mustNew(t, srv.Client(t, "instance-a", nil))
	b := mustNew(t, srv.Client(t, "instance-b", nil))
	ctx := context.Background()
	const trials = 200
	var revokeTook, seen []time.Duration
	for i := range trials {
		key := fmt.Sprintf("jti-%d", i)
		for range 2 {
			revoked, err := b.IsRevoked(ctx, key)
			require.NoError(t, err)
			require.False(t, revoked)
		}
		// B checks as requests come while A revokes.
		start := time.Now()
		var refusedAt atomic.Int64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if revoked, err := b.IsRevoked(ctx, key); err == nil && revoked {
					refusedAt.CompareAndSwap(0, int64(time.Since(start)))
				}
				time.Sleep(50 * time.Microsecond)
			}
		}()
		require.NoError(t, a.Revoke(ctx, key, time.Now().Add(time.Hour)))
		acked := time.Since(start)
		revoked, err := b.IsRevoked(ctx, key)
		close(stop)
		<-done
		require.NoError(t, err)
		require.True(t, revoked, "trial %d: B answered 'not revoked' after A's Revoke returned", i)
		revokeTook = append(revokeTook, acked)
		if at := refusedAt.Load(); at != 0 {
			seen = append(seen, time.Duration(at))
		}
	}
	slices.Sort(revokeTook)
	slices.Sort(seen)
	t.Logf("Revoke took p50 %v p99 %v max %v (window %v)", quantile(revokeTook, .5), quantile(revokeTook, .99),
		revokeTook[len(revokeTook)-1], rueidisblocklist.DefaultFreshness)
	t.Logf("B refused the token, from Revoke's call: p50 %v p99 %v (%d of %d trials before Revoke returned)",
		quantile(seen, .5), quantile(seen, .99), len(seen), trials)
}

// app is a guarded route and a refresh route through a real gin.Engine.
func app(m *ginjwt.Manager, ran *atomic.Int32) *gin.Engine {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.GET("/protected", m.JWTRequired(), func(c *gin.Context) {
		ran.Add(1)
		c.JSON(200, gin.H{"hello": "world"})
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

// Revocation and the 50-way rotation race through real guards.
func TestBehindGuards(t *testing.T) {
	srv := rueidistest.Start(t)
	n := 0
	blocklisttest.RunGuarded(t, func(t *testing.T) ginjwt.Blocklist {
		n++ // a key prefix per subtest: each store starts empty
		return mustNew(t, srv.Client(t, fmt.Sprintf("guarded%d", n), nil), rueidisblocklist.WithKeyPrefix(fmt.Sprintf("guarded%d:", n)))
	})
}
