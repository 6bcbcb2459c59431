package redisblocklist_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/ginjwt/ginjwt/redisblocklist/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// timed sends a guarded request and returns its status, body and time.
func timed(g *guarded, token string) (int, string, time.Duration) {
	start := time.Now()
	w := send(g.r, "GET", "/protected", token)
	return w.Code, w.Body.String(), time.Since(start)
}

// Once Redis is known down, guards answer 503 at once instead of each
// waiting out the timeout; one request at a time probes it; the first
// answer after SIGCONT brings the service back.
func TestBreakerFailsFastWhileRedisIsPaused(t *testing.T) {
	srv := redistest.Start(t)
	store := redisblocklist.New(srv.DefaultClient(t), redisblocklist.WithBreaker(3, 100*time.Millisecond))
	g := newGuarded(t, store, ginjwt.WithBlocklistTimeout(hangTimeout))
	access, err := g.m.CreateAccessToken("alice")
	require.NoError(t, err)
	require.Equal(t, 200, send(g.r, "GET", "/protected", access).Code)
	ran := g.ran.Load()

	srv.Pause(t)
	for i := range 3 { // three failures open it
		code, body, took := timed(g, access)
		assert.Equal(t, 503, code)
		assert.JSONEq(t, `{"msg":"Token revocation status is unavailable"}`, body)
		assert.GreaterOrEqual(t, took, hangTimeout, "request %d waited for Redis", i)
	}
	code, body, took := timed(g, access)
	assert.Equal(t, 503, code)
	assert.JSONEq(t, `{"msg":"Token revocation status is unavailable"}`, body)
	assert.Less(t, took, 20*time.Millisecond, "open: no waiting")
	assert.ErrorIs(t, g.lastError(), redisblocklist.ErrCircuitOpen)
	assert.ErrorIs(t, g.lastError(), ginjwt.ErrRevocationUnavailable)

	// A probe is due: of 50 concurrent requests one waits for Redis, the
	// others are refused at once.
	time.Sleep(150 * time.Millisecond)
	var slow, fast atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			code, body, took := timed(g, access)
			assert.Equal(t, 503, code)
			assert.JSONEq(t, `{"msg":"Token revocation status is unavailable"}`, body)
			if took >= hangTimeout {
				slow.Add(1)
			} else if took < 50*time.Millisecond {
				fast.Add(1)
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, 1, slow.Load(), "one probe at a time")
	assert.EqualValues(t, 49, fast.Load())
	assert.Equal(t, ran, g.ran.Load(), "no handler ran during the outage")

	srv.Resume()
	back := time.Now()
	for code != 200 && time.Since(back) < 3*time.Second {
		time.Sleep(5 * time.Millisecond)
		code, _, _ = timed(g, access)
	}
	recovered := time.Since(back)
	t.Logf("200 again %v after SIGCONT", recovered)
	assert.Equal(t, 200, code)
	assert.Less(t, recovered, time.Second, "back to normal within 1 s of Redis returning")
}

// A killed and restarted redis-server: refused connections open the
// breaker, and the service is back within a second of the restart.
func TestBreakerRecoversAfterRestart(t *testing.T) {
	srv := redistest.Start(t)
	store := redisblocklist.New(srv.DefaultClient(t))
	g := newGuarded(t, store, ginjwt.WithBlocklistTimeout(hangTimeout))
	access, err := g.m.CreateAccessToken("alice")
	require.NoError(t, err)
	require.Equal(t, 200, send(g.r, "GET", "/protected", access).Code)

	srv.Stop()
	for range 3 {
		code, _, _ := timed(g, access)
		assert.Equal(t, 503, code)
	}
	for i := range 20 {
		code, body, took := timed(g, access)
		assert.Equal(t, 503, code)
		assert.JSONEq(t, `{"msg":"Token revocation status is unavailable"}`, body)
		assert.LessOrEqual(t, took, hangTimeout+margin, "request %d", i)
		time.Sleep(20 * time.Millisecond)
	}
	assert.ErrorIs(t, g.lastError(), redisblocklist.ErrCircuitOpen)

	srv.Restart(t)
	back := time.Now()
	code := 0
	for code != 200 && time.Since(back) < 3*time.Second {
		code, _, _ = timed(g, access)
		time.Sleep(5 * time.Millisecond)
	}
	recovered := time.Since(back)
	t.Logf("200 again %v after the restart", recovered)
	assert.Equal(t, 200, code)
	assert.Less(t, recovered, time.Second, "back to normal within 1 s of Redis returning")
}

// The probe of an open breaker is one call; the others fail with
// ErrCircuitOpen without touching the network. Revocations and rotations
// go through the same breaker.
func TestBreakerOneProbeAtATime(t *testing.T) {
	store := redisblocklist.New(redistest.DefaultClientOf(t, redistest.Blackhole(t)),
		redisblocklist.WithBreaker(1, 50*time.Millisecond))
	call := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := store.IsRevoked(ctx, "jti")
		return err
	}
	require.ErrorIs(t, call(), context.DeadlineExceeded, "the first call finds Redis down")
	ctx := context.Background() // no deadline needed: an open breaker answers at once
	assert.ErrorIs(t, store.Revoke(ctx, "jti", time.Time{}), redisblocklist.ErrCircuitOpen)
	_, err := store.Rotate(ctx, "fam", "a", "b", time.Time{})
	assert.ErrorIs(t, err, redisblocklist.ErrCircuitOpen)
	_, err = store.Current(ctx, "fam")
	assert.ErrorIs(t, err, redisblocklist.ErrCircuitOpen)

	time.Sleep(60 * time.Millisecond)
	var probes, open atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			switch err := call(); {
			case errors.Is(err, context.DeadlineExceeded):
				probes.Add(1)
			case errors.Is(err, redisblocklist.ErrCircuitOpen):
				open.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, 1, probes.Load())
	assert.EqualValues(t, 19, open.Load())
}
