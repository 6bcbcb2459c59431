package redisblocklist_test

import (
	"context"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/ginjwt/ginjwt/redisblocklist/internal/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSoakOutage runs 200 concurrent clients against a guarded route
// during a Redis outage and reports latency, goroutines and recovery.
// It takes about 40 s: GINJWT_SOAK=1 runs it.
//
//	GINJWT_SOAK=1 go test -run TestSoakOutage -v .
func TestSoakOutage(t *testing.T) {
	if os.Getenv("GINJWT_SOAK") == "" {
		t.Skip("soak: set GINJWT_SOAK=1 to run it (about 40 s)")
	}
	for _, tc := range []struct {
		name    string
		breaker bool
		kill    bool
	}{
		{"paused/breaker", true, false},
		{"paused/no_breaker", false, false},
		{"killed_restarted/breaker", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) { soak(t, tc.breaker, tc.kill) })
	}
}

type sample struct {
	start, end time.Time
	code       int
	revoked    bool
}

func soak(t *testing.T, breaker, kill bool) {
	const (
		clients = 200
		think   = 20 * time.Millisecond // per client between requests
		warm    = time.Second
		outage  = 5 * time.Second
		after   = 2 * time.Second
	)
	// Calls a previous run left waiting on its paused server are gone.
	require.Eventually(t, func() bool { return runtime.NumGoroutine() < 20 }, 10*time.Second, 10*time.Millisecond)
	// The AOF, as the README asks: a restart keeps the revocations.
	srv := redistest.StartWith(t, redistest.ServerConfig{AppendOnly: true})
	var opts []redisblocklist.Option
	if !breaker {
		opts = append(opts, redisblocklist.WithBreaker(0, 0))
	}
	store := mustNew(t, srv.DefaultClient(t), opts...)
	g := newGuarded(t, store) // ginjwt's default 1 s WithBlocklistTimeout
	valid, err := g.m.CreateAccessToken("alice")
	require.NoError(t, err)
	revoked, err := g.m.CreateAccessToken("mallory")
	require.NoError(t, err)
	require.Equal(t, 200, send(g.r, "DELETE", "/logout", revoked).Code)

	var stop atomic.Bool
	var mu sync.Mutex
	var samples []sample
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			var mine []sample
			for n := 0; !stop.Load(); n++ {
				isRevoked := (i+n)%10 == 0 // one request in ten replays a revoked token
				tok := valid
				if isRevoked {
					tok = revoked
				}
				s := sample{start: time.Now(), revoked: isRevoked}
				s.code = send(g.r, "GET", "/protected", tok).Code
				s.end = time.Now()
				mine = append(mine, s)
				time.Sleep(think)
			}
			mu.Lock()
			samples = append(samples, mine...)
			mu.Unlock()
		})
	}
	var maxG, baseG atomic.Int64
	sampling := make(chan struct{})
	go func() {
		defer close(sampling)
		for !stop.Load() {
			n := int64(runtime.NumGoroutine())
			if n > maxG.Load() {
				maxG.Store(n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()

	time.Sleep(warm)
	baseG.Store(int64(runtime.NumGoroutine()))
	maxG.Store(0)
	if kill {
		srv.Stop()
	} else {
		srv.Pause(t)
	}
	down := time.Now()
	time.Sleep(outage)
	outageMaxG := maxG.Load()
	if kill {
		srv.Restart(t)
	} else {
		srv.Resume()
	}
	up := time.Now()
	time.Sleep(after)
	stop.Store(true)
	wg.Wait()
	<-sampling

	var during []time.Duration
	var healthy []time.Duration
	firstOK, lastBad := time.Time{}, time.Time{}
	for _, s := range samples {
		assert.False(t, s.revoked && s.code == 200, "a revoked token was answered 200")
		switch {
		case s.start.Before(down):
			if s.end.Before(down) {
				healthy = append(healthy, s.end.Sub(s.start))
			}
		case s.start.Before(up):
			during = append(during, s.end.Sub(s.start))
			if s.end.Before(up) {
				assert.Equal(t, 503, s.code, "answered during the outage")
			}
		default:
			if s.code == 200 && (firstOK.IsZero() || s.end.Before(firstOK)) {
				firstOK = s.end
			}
			if !s.revoked && s.code != 200 && s.end.After(lastBad) {
				lastBad = s.end
			}
		}
	}
	require.NotEmpty(t, during)
	require.False(t, firstOK.IsZero(), "never recovered")
	recoveredAll := time.Duration(0)
	if lastBad.After(up) {
		recoveredAll = lastBad.Sub(up)
	}
	t.Logf("%d clients, outage %v: %d requests during it: p50 %v, p99 %v, max %v (healthy before: p50 %v, p99 %v, %d requests)",
		clients, outage, len(during), pct(during, 50), pct(during, 99), pct(during, 100),
		pct(healthy, 50), pct(healthy, 99), len(healthy))
	t.Logf("goroutines: %d before the outage (the %d clients included), at most %d during it",
		baseG.Load(), clients, outageMaxG)
	t.Logf("recovery: first 200 %v after Redis returned, last 503 %v after", firstOK.Sub(up), recoveredAll)
	assert.Less(t, firstOK.Sub(up), time.Second)
	assert.Less(t, recoveredAll, time.Second)
	// The clients, the calls out to Redis, and a few being born or ending.
	assert.LessOrEqual(t, outageMaxG, int64(clients+2*redisblocklist.DefaultMaxInFlight+20), "goroutines pile up")
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(len(s)*p/100, len(s)-1)
	return s[i].Round(10 * time.Microsecond)
}

// The cost of answering by the deadline whatever the client options: a
// check through the Store (a goroutine per call when the context has a
// deadline) against the bare go-redis EXISTS, on loopback.
func BenchmarkIsRevoked(b *testing.B) {
	srv := redistest.Start(b)
	client := srv.DefaultClient(b)
	store := mustNew(b, client)
	ctx := context.Background()
	b.Run("go-redis_exists", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, cancel := context.WithTimeout(ctx, time.Second)
			if err := client.Exists(c, "ginjwt:revoked:jti").Err(); err != nil {
				b.Fatal(err)
			}
			cancel()
		}
	})
	b.Run("store_is_revoked", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, cancel := context.WithTimeout(ctx, time.Second)
			if _, err := store.IsRevoked(c, "jti"); err != nil {
				b.Fatal(err)
			}
			cancel()
		}
	})
	b.Run("store_is_revoked_parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c, cancel := context.WithTimeout(ctx, time.Second)
				if _, err := store.IsRevoked(c, "jti"); err != nil {
					b.Error(err)
				}
				cancel()
			}
		})
	})
	b.Run("go-redis_exists_parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c, cancel := context.WithTimeout(ctx, time.Second)
				if err := client.Exists(c, "ginjwt:revoked:jti").Err(); err != nil {
					b.Error(err)
				}
				cancel()
			}
		})
	})
}
