package rueidisblocklist

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// Why a cached answer can be trusted.
//
// Redis writes to one connection in order: an invalidation caused by a
// write that ran before Redis read command X from the connection reaches
// the connection before X's reply. The tracking connection of a tracker is
// in BCAST mode on the key prefix, so every write to a key of the store
// (a revocation by any instance, with either Redis store, or an expiry)
// sends it an invalidation. Its reader applies invalidations and replies in
// that order, so once the reply to a PING sent at time s has arrived,
// every revocation Redis ran before s has been applied to the cache.
//
// A check answers from the cache only while that s is less than the
// freshness window (WithFreshness) old, and Revoke returns the window after
// Redis took the revocation. A request that arrives after a logout was
// acknowledged therefore finds, on any instance, either a cache that
// already applied the revocation, or a cache too old to be used (the check
// then asks Redis). No clock is compared across machines: each side
// measures one duration on its own monotonic clock.

// epoch is the origin of mono.
var epoch = time.Now()

// mono returns nanoseconds on the monotonic clock.
func mono() int64 { return int64(time.Since(epoch)) }

// idleAfter is how long a tracker keeps its connection without a check
// wanting it; then it closes it, and the next check opens a new one.
const idleAfter = 10 * time.Second

// errConnectTimeout is a tracking connection that could not be set up in
// time, as against a hung Redis.
var errConnectTimeout = errors.New("rueidisblocklist: no tracking connection within the timeout")

// tracker keeps one tracking connection to a Redis master: it opens it,
// pings it when checks want a fresher barrier, and replaces it when it
// breaks or does not answer. While it has none after a failure, the store
// fails calls at once (the circuit breaker).
type tracker struct {
	s    *Store
	dial func() (rueidis.DedicatedClient, error)

	conn    atomic.Pointer[trackedConn] // nil while there is none
	down    atomic.Bool                 // the last connection broke or could not be made
	lastErr atomic.Pointer[error]
	running atomic.Bool // a keeper goroutine runs
	wanted  atomic.Bool // a ping (or a connection) is asked for and not yet done
	kick    chan struct{}
}

// trackedConn is one tracking connection.
type trackedConn struct {
	dc     rueidis.DedicatedClient
	closed <-chan error // closed when rueidis will call the hook no more
	synced atomic.Int64 // mono time a command answered on it was sent
}

func newTracker(s *Store, dial func() (rueidis.DedicatedClient, error)) *tracker {
	return &tracker{s: s, dial: dial, kick: make(chan struct{}, 1)}
}

// fresh reports whether checks may answer from the cache, and asks for a
// ping ahead of time, at half the window, so that a busy instance keeps
// answering from memory.
func (t *tracker) fresh(now int64) bool {
	c := t.conn.Load()
	if c == nil {
		t.want()
		return false
	}
	age := now - c.synced.Load()
	if age >= int64(t.s.freshness/2) {
		t.want()
	}
	return age < int64(t.s.freshness)
}

// want asks the keeper for a ping (or a connection), starting it if
// needed. Concurrent calls send one request.
func (t *tracker) want() {
	if t.wanted.Load() || !t.wanted.CompareAndSwap(false, true) {
		return
	}
	if t.running.CompareAndSwap(false, true) {
		go t.keep()
		return
	}
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// failing returns the error to fail calls with at once, nil when calls
// may go to Redis.
func (t *tracker) failing() error {
	if !t.down.Load() {
		return nil
	}
	t.want() // so that the keeper keeps probing while checks come
	err := ErrCircuitOpen
	if last := t.lastErr.Load(); last != nil {
		err = fmt.Errorf("%w: %w", ErrCircuitOpen, *last)
	}
	return err
}

// keep runs the keeper until it has been idle, and again if a check
// asked for it meanwhile.
func (t *tracker) keep() {
	for {
		t.run()
		t.running.Store(false)
		if !t.wanted.Load() || !t.running.CompareAndSwap(false, true) {
			return
		}
	}
}

// run connects, serves pings, and reconnects every probe interval after a
// failure, until no check has wanted it for idleAfter.
func (t *tracker) run() {
	idle := time.NewTimer(idleAfter)
	defer idle.Stop()
	for {
		c, err := t.connect()
		if err != nil {
			if errors.Is(err, rueidis.ErrClosing) { // the client was closed
				t.down.Store(false)
				return
			}
			t.fail(err)
			probe := time.NewTimer(t.s.probeEvery)
			for waiting := true; waiting; {
				select {
				case <-t.kick: // checks still come: stay
					t.wanted.Store(false)
					idle.Reset(idleAfter)
				case <-probe.C:
					waiting = false
				case <-idle.C:
					probe.Stop()
					t.down.Store(false) // unknown, as at the start
					return
				}
			}
			continue
		}
		t.s.cache.flush() // an answer fetched before now is not covered by c
		t.conn.Store(c)
		t.down.Store(false)
		t.wanted.Store(false)
		hung, err := t.serve(c, idle)
		t.conn.Store(nil)
		t.s.cache.flush()
		go c.dc.Close() // may wait on a hung socket
		switch {
		case err == nil:
			return // idle
		case hung:
			// A ping went unanswered: Redis is down for calls now, not
			// after a connection attempt has waited as long again.
			t.fail(err)
		}
		// A connection that closed is replaced at once; the breaker opens
		// only if that fails.
	}
}

// fail records a failure: calls fail fast until a connection is up
// again, and those waiting on Redis give up now.
func (t *tracker) fail(err error) {
	t.lastErr.Store(&err)
	if !t.down.Swap(true) {
		t.s.trip()
	}
}

// serve pings c whenever a check asks, until c closes, or a ping is not
// answered in time (hung), or nothing asked for idleAfter (a nil error).
func (t *tracker) serve(c *trackedConn, idle *time.Timer) (hung bool, err error) {
	for {
		select {
		case err := <-c.closed:
			if err == nil {
				err = errors.New("rueidisblocklist: the tracking connection closed")
			}
			return false, err
		case <-idle.C:
			return false, nil
		case <-t.kick:
			idle.Reset(idleAfter)
			if err := t.ping(c); err != nil {
				// Unanswered: hung. Else the connection closed under it.
				return errors.Is(err, context.DeadlineExceeded), err
			}
			t.wanted.Store(false)
		}
	}
}

// ping sends PING on c and, once it is answered, moves c's barrier to the
// time it was sent.
func (t *tracker) ping(c *trackedConn) error {
	sent := mono()
	ctx, cancel := context.WithTimeout(context.Background(), t.s.pingTimeout)
	defer cancel()
	if err := c.dc.Do(ctx, c.dc.B().Ping().Build().Pin()).Error(); err != nil {
		return fmt.Errorf("rueidisblocklist: ping: %w", err)
	}
	c.synced.Store(sent)
	return nil
}

// connect opens a tracking connection, giving up after the ping timeout
// (a connection that comes later is closed).
func (t *tracker) connect() (*trackedConn, error) {
	type result struct {
		c   *trackedConn
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := t.open()
		done <- result{c, err}
	}()
	timer := time.NewTimer(t.s.pingTimeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.c, r.err
	case <-timer.C:
		go func() {
			if r := <-done; r.c != nil {
				r.c.dc.Close()
			}
		}()
		return nil, errConnectTimeout
	}
}

// open takes a dedicated connection from the client (its options: auth,
// TLS, database) and turns on BCAST tracking of the prefix there.
func (t *tracker) open() (*trackedConn, error) {
	dc, err := t.dial()
	if err != nil {
		return nil, err
	}
	c := &trackedConn{dc: dc, closed: dc.SetOnInvalidations(t.s.cache.invalidate)}
	ctx, cancel := context.WithTimeout(context.Background(), t.s.pingTimeout)
	defer cancel()
	sent := mono()
	res := dc.DoMulti(ctx,
		// Off first: a client with rueidis's own caching tracks in OPTIN
		// mode, and Redis switches mode only from off.
		dc.B().Arbitrary("CLIENT", "TRACKING").Args("OFF").Build().Pin(),
		dc.B().Arbitrary("CLIENT", "TRACKING").Args("ON", "BCAST", "PREFIX", t.s.keys.Prefix).Build().Pin(),
		dc.B().ClientInfo().Build().Pin()) // pinned: see Store.run
	for _, r := range res {
		if err := r.Error(); err != nil {
			dc.Close()
			return nil, err
		}
	}
	// Invalidations reach the connection itself only under RESP3.
	if info, _ := res[2].ToString(); !strings.Contains(info, " resp=3") {
		dc.Close()
		return nil, errors.New("rueidisblocklist: the connection does not speak RESP3, which tracking needs: " + info)
	}
	c.synced.Store(sent)
	return c, nil
}
