package rueidisblocklist_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/rueidisblocklist"
	"github.com/ginjwt/ginjwt/rueidisblocklist/internal/rueidistest"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// proxy forwards loopback TCP connections to a server until cut, after
// which it swallows everything both ways without closing anything: a
// network partition as a client sees it, no FIN, no RST, no answers.
type proxy struct {
	addr string
	cut  atomic.Bool
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{addr: ln.Addr().String()}
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if err != nil {
				_ = dst.Close()
				return
			}
			if !p.cut.Load() {
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed at cleanup
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			mu.Unlock()
			wg.Add(2)
			go pipe(s, c)
			go pipe(c, s)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return p
}

// A partition between B and Redis (a relay that swallows everything and
// closes nothing) while the token is revoked through A: B cannot get the
// invalidation. It answers from its cache only while its last exchange
// with Redis is younger than the freshness window (WithFreshness, with the
// default and with 200 ms), so it never answers "not revoked" after A's
// Revoke returned; then it fails (503 through ginjwt), at once once its
// ping has gone unanswered; and it sees the revocation once the relay
// forwards again.
func TestPartitionAnswersFromMemoryAtMostTheWindow(t *testing.T) {
	for _, window := range []time.Duration{rueidisblocklist.DefaultFreshness, 200 * time.Millisecond} {
		t.Run(window.String(), func(t *testing.T) {
			srv := rueidistest.Start(t)
			px := startProxy(t, srv.Addr)
			a := mustNew(t, srv.Client(t, "instance-a", nil), rueidisblocklist.WithFreshness(window))
			opt := rueidisblocklist.ClientOption(px.addr)
			opt.ClientName = "instance-b"
			clientB, err := rueidis.NewClient(opt)
			require.NoError(t, err)
			t.Cleanup(clientB.Close)
			b := mustNew(t, clientB, rueidisblocklist.WithCacheTTL(time.Hour), rueidisblocklist.WithFreshness(window))
			check := func() (bool, error) {
				ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				defer cancel()
				return b.IsRevoked(ctx, "jti-1")
			}
			raw := srv.Raw(t)
			warm(t, b, func() int { return rueidistest.CommandCalls(t, raw, "get") }, "jti-1")

			type answer struct {
				start   time.Time
				revoked bool
				err     error
				took    time.Duration
			}
			var answers []answer
			done := make(chan struct{})
			stop := make(chan struct{})
			go func() { // B's checks, as requests come
				defer close(done)
				for {
					select {
					case <-stop:
						return
					default:
					}
					start := time.Now()
					revoked, err := check()
					answers = append(answers, answer{start, revoked, err, time.Since(start)})
					time.Sleep(100 * time.Microsecond)
				}
			}()
			time.Sleep(50 * time.Millisecond)
			px.cut.Store(true)
			cut := time.Now()
			require.NoError(t, a.Revoke(context.Background(), "jti-1", time.Now().Add(time.Hour)))
			acked := time.Now()
			time.Sleep(window + 2*rueidisblocklist.DefaultConnTimeout)
			close(stop)
			<-done

			var stale time.Duration
			late, failed, fast := 0, 0, 0
			for _, a := range answers {
				if a.err == nil && !a.revoked && a.start.After(cut) {
					stale = max(stale, a.start.Sub(cut))
					if a.start.After(acked) {
						late++
					}
				}
				if a.err != nil {
					failed++
					if a.start.After(cut.Add(window+rueidisblocklist.DefaultConnTimeout+100*time.Millisecond)) && a.took < 10*time.Millisecond {
						fast++
					}
				}
			}
			t.Logf("window %v: B answered from its cache for %v after the cut, Revoke on A took %v; then %d checks failed (%d at once, the breaker open)",
				window, stale.Round(time.Microsecond), acked.Sub(cut).Round(time.Microsecond), failed, fast)
			assert.Zero(t, late, "B answered 'not revoked' after the revocation was acknowledged")
			assert.Less(t, stale, window+5*time.Millisecond, "B answered from its cache beyond the window")
			assert.Positive(t, fast, "the breaker opened once the ping went unanswered")

			px.cut.Store(false) // old connections stay swallowed; B dials anew
			require.Eventually(t, func() bool {
				revoked, err := check()
				return err == nil && revoked
			}, 10*time.Second, 50*time.Millisecond, "B is back on Redis and sees the revocation")
		})
	}
}
