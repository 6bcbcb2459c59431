package rueidisblocklist_test

import (
	"context"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/rueidisblocklist/internal/rueidistest"
)

// BenchmarkIsRevokedCached is one cached check, without ginjwt around it:
// with a plain context, the guards' IsRevokedFor (three answers), and
// with a context.WithTimeout around each (what ginjwt did before its
// check context started its timer only when waited on). The store pings
// Redis in the background as checks come, to stay fresh.
func BenchmarkIsRevokedCached(b *testing.B) {
	srv := rueidistest.Start(b)
	store := mustNew(b, srv.Client(b, "bench", nil))
	const jti = "0b8d4bd1-4d1c-4a5e-9d5c-6f7e8a9b0c1d"
	for range 10 { // the tracking connection comes up, the answers are cached
		if _, err := store.IsRevoked(context.Background(), jti); err != nil {
			b.Fatal(err)
		}
		if _, err := store.IsRevokedFor(context.Background(), "alice", time.Now(), jti, "fam:"+jti); err != nil {
			b.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if revoked, err := store.IsRevoked(context.Background(), jti); err != nil || revoked {
				b.Fatal(revoked, err)
			}
		}
	})
	b.Run("store_for_identity", func(b *testing.B) {
		// The guards' question: the token, its session, its user's cutoff.
		issued := time.Now()
		keys := []string{jti, "fam:" + jti}
		b.ReportAllocs()
		for b.Loop() {
			if revoked, err := store.IsRevokedFor(context.Background(), "alice", issued, keys...); err != nil || revoked {
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
}
