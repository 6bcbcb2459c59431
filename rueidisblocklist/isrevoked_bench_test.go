package rueidisblocklist_test

import (
	"context"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/rueidisblocklist"
	"github.com/ginjwt/ginjwt/rueidisblocklist/rueidistest"
)

// BenchmarkIsRevokedCached is one cached check, without ginjwt around it:
// with a plain context, and with the per-check timeout ginjwt adds.
func BenchmarkIsRevokedCached(b *testing.B) {
	srv := rueidistest.Start(b)
	store := rueidisblocklist.New(srv.Client(b, "bench", nil))
	const jti = "0b8d4bd1-4d1c-4a5e-9d5c-6f7e8a9b0c1d"
	if _, err := store.IsRevoked(context.Background(), jti); err != nil {
		b.Fatal(err)
	}
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if revoked, err := store.IsRevoked(context.Background(), jti); err != nil || revoked {
				b.Fatal(revoked, err)
			}
		}
	})
	b.Run("store_with_timeout_context", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			if revoked, err := store.IsRevoked(ctx, jti); err != nil || revoked {
				b.Fatal(revoked, err)
			}
			cancel()
		}
	})
	// An instance that logged someone out longer ago than the cache TTL
	// checks as one that never did: without the lock of its own
	// revocations.
	b.Run("store_after_an_old_logout", func(b *testing.B) {
		now := time.Now()
		clock := func() time.Time { return now }
		other := rueidisblocklist.New(srv.Client(b, "bench-old-logout", nil), rueidisblocklist.WithClock(clock))
		if err := other.Revoke(context.Background(), "someone-else", time.Time{}); err != nil {
			b.Fatal(err)
		}
		now = now.Add(time.Hour)
		if _, err := other.IsRevoked(context.Background(), jti); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if revoked, err := other.IsRevoked(context.Background(), jti); err != nil || revoked {
				b.Fatal(revoked, err)
			}
		}
	})
}
