package redisblocklist_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/ginjwt/ginjwt/redisblocklist/internal/redistest"
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
// waiting out the timeout, including when a probe is due (it runs in the
// background); the first answer after SIGCONT brings the service back.
func TestBreakerFailsFastWhileRedisIsPaused(t *testing.T) {
	srv := redistest.Start(t)
	store := mustNew(t, srv.DefaultClient(t), redisblocklist.WithBreaker(3, 100*time.Millisecond))
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

	// A probe is due: 50 concurrent requests are all refused at once.
	time.Sleep(150 * time.Millisecond)
	var fast atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			code, body, took := timed(g, access)
			assert.Equal(t, 503, code)
			assert.JSONEq(t, `{"msg":"Token revocation status is unavailable"}`, body)
			if took < 50*time.Millisecond {
				fast.Add(1)
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, 50, fast.Load(), "no request waits for the probe")
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
	store := mustNew(t, srv.DefaultClient(t))
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

// countingBlackhole is redistest.Blackhole that counts the connections
// it accepted.
func countingBlackhole(t *testing.T) (string, *atomic.Int32) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var n atomic.Int32
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range conns {
					_ = c.Close()
				}
				return
			}
			n.Add(1)
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); <-done })
	return ln.Addr().String(), &n
}

// While the breaker is open every call fails with ErrCircuitOpen without
// touching the network, revocations and rotations too; one probe at a
// time goes out, in the background (against a listener that never
// answers, one PING holds the only new connection until it gives up).
func TestBreakerOneProbeAtATime(t *testing.T) {
	addr, conns := countingBlackhole(t)
	store := mustNew(t, redistest.DefaultClientOf(t, addr), redisblocklist.WithBreaker(1, 50*time.Millisecond))
	call := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := store.IsRevoked(ctx, "jti")
		return err
	}
	require.ErrorIs(t, call(), context.DeadlineExceeded, "the first call finds Redis down")
	require.EqualValues(t, 1, conns.Load())
	ctx := context.Background() // no deadline needed: an open breaker answers at once
	assert.ErrorIs(t, store.Revoke(ctx, "jti", time.Time{}), redisblocklist.ErrCircuitOpen)
	_, err := store.Rotate(ctx, "fam", "a", "b", time.Time{})
	assert.ErrorIs(t, err, redisblocklist.ErrCircuitOpen)
	_, err = store.Current(ctx, "fam")
	assert.ErrorIs(t, err, redisblocklist.ErrCircuitOpen)

	time.Sleep(60 * time.Millisecond)
	var open atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		for range 5 { // 100 calls over 250 ms, 5 probe intervals
			wg.Go(func() {
				start := time.Now()
				err := call()
				if errors.Is(err, redisblocklist.ErrCircuitOpen) && time.Since(start) < 50*time.Millisecond {
					open.Add(1)
				} else {
					t.Error(err, time.Since(start))
				}
			})
			time.Sleep(time.Millisecond)
		}
		time.Sleep(10 * time.Millisecond)
	}
	wg.Wait()
	assert.EqualValues(t, 100, open.Load(), "every call refused at once")
	assert.EqualValues(t, 2, conns.Load(), "one probe at a time: it holds the one new connection")
}

// Finding 4 of issue 21: with sparse traffic during an outage (Redis
// killed: connections refused), every request after the breaker opened
// answers 503 within 50 ms, including those that come when a probe is
// due: probes run in the background (a PING of their own), and go-redis's
// dial retries under a probe cost no request its timeout. Once Redis is
// back, a probe closes the breaker.
func TestSparseRequestsDuringAnOutageFailFast(t *testing.T) {
	srv := redistest.Start(t)
	g := newGuarded(t, mustNew(t, srv.DefaultClient(t)), ginjwt.WithBlocklistTimeout(time.Second))
	access, err := g.m.CreateAccessToken("alice")
	require.NoError(t, err)
	require.Equal(t, 200, send(g.r, "GET", "/protected", access).Code)

	srv.Stop()
	for range redisblocklist.DefaultBreakerFailures { // the first failures open the breaker
		code, _, _ := timed(g, access)
		require.Equal(t, 503, code)
	}
	var slow []time.Duration
	for i := range 10 { // more than DefaultProbeEvery apart: a probe is due each time
		time.Sleep(150 * time.Millisecond)
		code, body, took := timed(g, access)
		assert.Equal(t, 503, code, "request %d", i)
		assert.JSONEq(t, `{"msg":"Token revocation status is unavailable"}`, body)
		if took > 50*time.Millisecond {
			slow = append(slow, took)
		}
	}
	assert.Empty(t, slow, "requests during the outage that waited for Redis")
	assert.ErrorIs(t, g.lastError(), redisblocklist.ErrCircuitOpen)

	srv.Restart(t)
	back := time.Now()
	code := 0
	for code != 200 && time.Since(back) < 5*time.Second {
		time.Sleep(20 * time.Millisecond)
		code, _, _ = timed(g, access)
	}
	t.Logf("200 again %v after the restart", time.Since(back).Round(time.Millisecond))
	assert.Equal(t, 200, code, "a probe found Redis back")
}
