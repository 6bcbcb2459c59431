// Package blocklisttest is the conformance suite every ginjwt.Blocklist
// passes: the in-memory store, the Redis store, and yours.
//
//	func TestMyStore(t *testing.T) {
//		blocklisttest.Run(t, blocklisttest.Harness{
//			New:   func(t *testing.T) ginjwt.Blocklist { return newMyStore(t) },
//			Now:   time.Now,
//			Sleep: time.Sleep,
//		})
//	}
package blocklisttest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
)

// Harness describes the store under test.
type Harness struct {
	// New returns an empty store; each subtest gets its own.
	New func(t *testing.T) ginjwt.Blocklist
	// Now is the clock the store expires entries by.
	Now func() time.Time
	// Sleep lets d pass on that clock: a fake clock advances, a real one
	// sleeps. The suite lets at most a few seconds pass in all.
	Sleep func(d time.Duration)
}

// Run runs the conformance suite against h.
func Run(t *testing.T, h Harness) {
	ctx := context.Background()
	const ttl = 500 * time.Millisecond

	t.Run("revoked keys are revoked, others not", func(t *testing.T) {
		s := h.New(t)
		must(t, s.Revoke(ctx, "jti-1", h.Now().Add(time.Hour)))
		expect(t, s, "jti-1", true)
		expect(t, s, "jti-2", false)
		revoked, err := s.IsRevoked(ctx, "jti-2", "jti-1")
		must(t, err)
		if !revoked {
			t.Error("IsRevoked(jti-2, jti-1) = false, want true: any revoked key counts")
		}
		revoked, err = s.IsRevoked(ctx, "jti-2", "jti-3")
		must(t, err)
		if revoked {
			t.Error("IsRevoked(jti-2, jti-3) = true, want false")
		}
	})

	t.Run("entries expire with the token", func(t *testing.T) {
		s := h.New(t)
		must(t, s.Revoke(ctx, "short", h.Now().Add(ttl)))
		must(t, s.Revoke(ctx, "long", h.Now().Add(time.Hour)))
		must(t, s.Revoke(ctx, "forever", time.Time{}))
		expect(t, s, "short", true)
		h.Sleep(2 * ttl)
		expect(t, s, "short", false)
		expect(t, s, "long", true)
		expect(t, s, "forever", true)
	})

	t.Run("an already expired token is not kept", func(t *testing.T) {
		s := h.New(t)
		must(t, s.Revoke(ctx, "past", h.Now().Add(-time.Minute)))
		expect(t, s, "past", false)
	})

	t.Run("revoke once", func(t *testing.T) {
		s := h.New(t)
		first, err := s.RevokeOnce(ctx, "refresh-1", h.Now().Add(ttl))
		must(t, err)
		again, err := s.RevokeOnce(ctx, "refresh-1", h.Now().Add(ttl))
		must(t, err)
		if !first || again {
			t.Errorf("RevokeOnce twice = %v, %v; want true, false", first, again)
		}
		expect(t, s, "refresh-1", true)
		h.Sleep(2 * ttl)
		first, err = s.RevokeOnce(ctx, "refresh-1", h.Now().Add(ttl))
		must(t, err)
		if !first {
			t.Error("RevokeOnce after expiry = false, want true")
		}
	})

	t.Run("revoke once after revoke", func(t *testing.T) {
		s := h.New(t)
		must(t, s.Revoke(ctx, "k", h.Now().Add(time.Hour)))
		first, err := s.RevokeOnce(ctx, "k", h.Now().Add(time.Hour))
		must(t, err)
		if first {
			t.Error("RevokeOnce of a revoked key = true, want false")
		}
	})

	t.Run("one winner among concurrent RevokeOnce", func(t *testing.T) {
		s := h.New(t)
		for round := range 3 {
			key := fmt.Sprintf("race-%d", round)
			var wins atomic.Int32
			var wg sync.WaitGroup
			for range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					first, err := s.RevokeOnce(ctx, key, h.Now().Add(time.Hour))
					if err != nil {
						t.Error(err)
					}
					if first {
						wins.Add(1)
					}
				}()
			}
			wg.Wait()
			if n := wins.Load(); n != 1 {
				t.Errorf("%s: %d of 50 concurrent RevokeOnce calls won, want exactly 1", key, n)
			}
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func expect(t *testing.T, s ginjwt.Blocklist, key string, want bool) {
	t.Helper()
	got, err := s.IsRevoked(context.Background(), key)
	must(t, err)
	if got != want {
		t.Errorf("IsRevoked(%q) = %v, want %v", key, got, want)
	}
}
