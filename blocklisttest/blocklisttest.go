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

	t.Run("revoking again keeps the longer lifetime", func(t *testing.T) {
		s := h.New(t)
		must(t, s.Revoke(ctx, "longer", h.Now().Add(time.Hour)))
		must(t, s.Revoke(ctx, "longer", h.Now().Add(ttl)))
		must(t, s.Revoke(ctx, "forever", time.Time{}))
		must(t, s.Revoke(ctx, "forever", h.Now().Add(ttl)))
		must(t, s.Revoke(ctx, "extended", h.Now().Add(ttl)))
		must(t, s.Revoke(ctx, "extended", h.Now().Add(time.Hour)))
		h.Sleep(2 * ttl)
		expect(t, s, "longer", true)
		expect(t, s, "forever", true)
		expect(t, s, "extended", true)
	})

	t.Run("rotate moves a family on, once per token", func(t *testing.T) {
		s := h.New(t)
		current(t, s, "fam-1", "")
		rotate(t, s, "fam-1", "r1", "r2", h.Now().Add(time.Hour), true)
		current(t, s, "fam-1", "r2")
		rotate(t, s, "fam-1", "r1", "r3", h.Now().Add(time.Hour), false)
		current(t, s, "fam-1", "r2")
		rotate(t, s, "fam-1", "r2", "r3", h.Now().Add(time.Hour), true)
		current(t, s, "fam-1", "r3")
		current(t, s, "fam-2", "")
		revoked, err := s.IsRevoked(ctx, "r1", "r2", "r3", "fam-1")
		must(t, err)
		if revoked {
			t.Error("a rotation revoked keys: family records and revocations must not share keys")
		}
	})

	t.Run("a family record expires with its token", func(t *testing.T) {
		s := h.New(t)
		rotate(t, s, "fam", "r1", "r2", h.Now().Add(ttl), true)
		current(t, s, "fam", "r2")
		h.Sleep(2 * ttl)
		current(t, s, "fam", "")
		rotate(t, s, "forever", "r1", "r2", time.Time{}, true)
		current(t, s, "forever", "r2")
	})

	t.Run("one winner among concurrent rotations", func(t *testing.T) {
		s := h.New(t)
		for round := range 3 {
			family := fmt.Sprintf("race-%d", round)
			var wins atomic.Int32
			var wg sync.WaitGroup
			for i := range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					won, err := s.Rotate(ctx, family, "r0", fmt.Sprintf("next-%d", i), h.Now().Add(time.Hour))
					if err != nil {
						t.Error(err)
					}
					if won {
						wins.Add(1)
					}
				}()
			}
			wg.Wait()
			if n := wins.Load(); n != 1 {
				t.Errorf("%s: %d of 50 concurrent Rotate calls won, want exactly 1", family, n)
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

func rotate(t *testing.T, s ginjwt.Blocklist, family, prev, next string, until time.Time, want bool) {
	t.Helper()
	got, err := s.Rotate(context.Background(), family, prev, next, until)
	must(t, err)
	if got != want {
		t.Errorf("Rotate(%q, %q → %q) = %v, want %v", family, prev, next, got, want)
	}
}

func current(t *testing.T, s ginjwt.Blocklist, family, want string) {
	t.Helper()
	got, err := s.Current(context.Background(), family)
	must(t, err)
	if got != want {
		t.Errorf("Current(%q) = %q, want %q", family, got, want)
	}
}
