package rueidisblocklist_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/rueidisblocklist"
	"github.com/ginjwt/ginjwt/rueidisblocklist/rueidistest"
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

// A partition between B and Redis (nothing closed, nothing answered)
// while the token is revoked through A: B cannot get the invalidation. Its
// pings find the connection silent and close it, which drops the cache;
// from then on B fails closed until Redis is reachable again. The window
// in which B still answers from its cache is bounded by
// 2*DefaultPingEvery + DefaultConnTimeout (ClientOption: a ping goes out
// after a whole gap without replies, then waits for its own), and logged.
func TestPartitionDropsTheCacheWithinThePingBound(t *testing.T) {
	srv := rueidistest.Start(t)
	px := startProxy(t, srv.Addr)
	a := rueidisblocklist.New(srv.Client(t, "instance-a", nil))
	opt := rueidisblocklist.ClientOption(px.addr)
	opt.ClientName = "instance-b"
	clientB, err := rueidis.NewClient(opt)
	require.NoError(t, err)
	t.Cleanup(clientB.Close)
	b := rueidisblocklist.New(clientB, rueidisblocklist.WithCacheTTL(time.Hour))
	check := func() (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		return b.IsRevoked(ctx, "jti-1")
	}
	for range 2 {
		revoked, err := check()
		require.NoError(t, err)
		require.False(t, revoked)
	}

	px.cut.Store(true)
	require.NoError(t, a.Revoke(context.Background(), "jti-1", time.Now().Add(time.Hour)))
	cut := time.Now()
	var stale time.Duration
	for {
		revoked, err := check()
		if err != nil || revoked {
			break
		}
		stale = time.Since(cut)
		require.Less(t, stale, 10*time.Second, "B kept its cache through the partition")
	}
	bound := 2*rueidisblocklist.DefaultPingEvery + rueidisblocklist.DefaultConnTimeout
	t.Logf("partition: B answered from its cache for %v after the revocation (bound %v)", stale, bound)
	assert.Less(t, stale, bound+time.Second, "the bound, with room for a loaded machine")
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		revoked, err := check()
		require.False(t, err == nil && !revoked, "B answered 'not revoked' after dropping its cache")
	}

	px.cut.Store(false) // old connections stay swallowed; B dials anew
	require.Eventually(t, func() bool {
		revoked, err := check()
		return err == nil && revoked
	}, 10*time.Second, 50*time.Millisecond, "B is back on Redis and sees the revocation")
}
