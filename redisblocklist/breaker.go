package redisblocklist

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrCircuitOpen is the error of a call refused without asking Redis
// because Redis is known to be down (see WithBreaker). ginjwt answers it
// with 503, at once.
var ErrCircuitOpen = errors.New("redisblocklist: Redis is down (circuit open), not asked")

// ErrTooBusy is the error of a call that found WithMaxInFlight calls
// already waiting on Redis until its deadline.
var ErrTooBusy = errors.New("redisblocklist: too many calls waiting on Redis")

// breaker fails calls fast while Redis is down. It opens after `failures`
// consecutive failures (timeouts, network errors, LOADING and the like);
// while open it fails every call at once and, when one comes and a probe
// is due (at most every probeEvery, one at a time), sends a PING of its
// own in the background. It closes on the first success, a probe's or a
// late answer to a call whose caller had given up. No request waits for a
// probe: go-redis may retry dials for a second under it.
type breaker struct {
	failures   int32
	probeEvery time.Duration

	open   atomic.Bool  // the fast path reads only this and failed
	failed atomic.Int32 // consecutive failures

	mu        sync.Mutex
	probing   bool      // a probe is out
	nextProbe time.Time // no probe before then
}

// outcome is what a call tells about Redis's health.
type outcome int

const (
	healthy      outcome = iota // Redis answered
	failed                      // Redis did not answer, or answered it cannot serve
	inconclusive                // the caller went away; says nothing either way
)

// allow reports whether a call may go to Redis and, when it may not,
// whether the caller must start a probe (then its outcome must be
// recorded as a probe's).
func (b *breaker) allow() (ok, probe bool) {
	if b == nil || !b.open.Load() {
		return true, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open.Load() {
		return true, false
	}
	if b.probing || time.Now().Before(b.nextProbe) {
		return false, false
	}
	b.probing = true
	return false, true
}

// record takes a call's outcome.
func (b *breaker) record(probe bool, o outcome) {
	if b == nil {
		return
	}
	if o == healthy && !probe && !b.open.Load() && b.failed.Load() == 0 {
		return // the common case, without the lock
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.probing = false
	}
	switch o {
	case healthy:
		b.failed.Store(0)
		b.open.Store(false)
	case failed:
		n := b.failed.Add(1)
		switch {
		case b.open.Load():
			if probe {
				b.nextProbe = time.Now().Add(b.probeEvery)
			}
		case n >= b.failures:
			b.open.Store(true)
			b.nextProbe = time.Now().Add(b.probeEvery)
		}
	case inconclusive:
	}
}

// classify turns a call's error into an outcome. Replies of a server that
// is up (WRONGTYPE, READONLY, too few replica acks...) do not open the
// breaker; those of a server that cannot serve do.
func classify(ctx context.Context, err error) outcome {
	var reply redis.Error
	switch {
	case err == nil:
		return healthy
	case errors.Is(err, ErrReplicaAcks):
		return inconclusive
	case errors.Is(err, context.Canceled) && errors.Is(ctx.Err(), context.Canceled):
		return inconclusive // the client went away
	case errors.As(err, &reply):
		for _, prefix := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "BUSY"} {
			if redis.HasErrorPrefix(err, prefix) {
				return failed
			}
		}
		return inconclusive
	default:
		return failed
	}
}

// run calls fn with ctx and returns its answer, or gives up when ctx is
// done: whatever options the client was built with (go-redis ignores
// context deadlines on socket reads without ContextTimeoutEnabled, and its
// own timeouts are 5 s), the caller is answered by its deadline. fn then
// finishes in the background, bounded by go-redis's timeouts, and at most
// maxInFlight calls are ever out, so goroutines cannot pile up.
func run[T any](s *Store, ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	ok, probe := s.breaker.allow()
	if probe {
		go s.probe() //nolint:gosec // G118: the probe outlives the request that started it, on purpose
	}
	if !ok {
		return zero, ErrCircuitOpen
	}
	select {
	case s.inFlight <- struct{}{}:
	case <-ctx.Done():
		s.record(ctx, false, ctx.Err())
		return zero, errors.Join(ErrTooBusy, ctx.Err())
	}
	if ctx.Done() == nil { // nothing to give up on: no goroutine
		v, err := fn(ctx)
		<-s.inFlight
		s.record(ctx, false, err)
		return v, err
	}
	type answer struct {
		v   T
		err error
	}
	done := make(chan answer)
	gaveUp := make(chan struct{})
	go func() {
		v, err := fn(ctx)
		<-s.inFlight
		select {
		case done <- answer{v, err}:
		case <-gaveUp:
			// A late answer still tells whether Redis is back.
			s.record(ctx, false, err)
		}
	}()
	select {
	case a := <-done:
		s.record(ctx, false, a.err)
		return a.v, a.err
	case <-ctx.Done():
		close(gaveUp)
		s.record(ctx, false, ctx.Err())
		return zero, ctx.Err()
	}
}

// probeTimeout bounds a probe of an open breaker. It runs in the
// background, so no request waits for it; a Redis slower than that to
// answer a PING stays counted as down.
const probeTimeout = time.Second

// probe sends a PING to find out whether Redis is back, and records the
// answer on the breaker.
func (s *Store) probe() {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.client.Ping(ctx).Err() }() // go-redis may ignore ctx on reads
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.record(ctx, true, err)
}

// record notes a call's outcome on the breaker and, when Redis failed a
// Cluster client, has it re-read the slot map: go-redis does so only on
// MOVED or ASK and every ClusterStateReloadInterval (60 s by default), so
// after a failover the slots of the dead master would keep failing that
// long. ReloadState is lazy, at most one reload per 200 ms.
func (s *Store) record(ctx context.Context, probe bool, err error) {
	o := classify(ctx, err)
	s.breaker.record(probe, o)
	if o == failed {
		if cc, ok := s.client.(*redis.ClusterClient); ok {
			cc.ReloadState(context.Background())
		}
	}
}
