package sqlblocklist_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/sqlblocklist"
	"github.com/ginjwt/ginjwt/sqlblocklist/internal/pgtest"
	"github.com/stretchr/testify/require"
)

// One guarded request with the SQL blocklist (SQLite file, PostgreSQL on
// loopback), against the same request with the in-memory store and
// without revocation.
func BenchmarkGuardedRequest(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	ctx := context.Background()
	sqlite, err := sqlblocklist.New(ctx, openSQLite(b, filepath.Join(b.TempDir(), "bench.db")), sqlblocklist.SQLite)
	require.NoError(b, err)
	pgdb, err := sql.Open("pgx", pgtest.Start(b).DSN)
	require.NoError(b, err)
	b.Cleanup(func() { _ = pgdb.Close() })
	pg, err := sqlblocklist.New(ctx, pgdb, sqlblocklist.Postgres)
	require.NoError(b, err)
	for _, tc := range []struct {
		name  string
		store ginjwt.Blocklist
	}{{"no_blocklist", nil}, {"memory", ginjwt.NewMemoryBlocklist(nil)}, {"sqlite_file", sqlite}, {"postgres_loopback", pg}} {
		opts := []ginjwt.Option{ginjwt.WithSecretKey([]byte(secret))}
		if tc.store != nil {
			opts = append(opts, ginjwt.WithBlocklist(tc.store))
		}
		m, err := ginjwt.New(opts...)
		require.NoError(b, err)
		r := gin.New()
		r.GET("/protected", m.JWTRequired(), func(c *gin.Context) { c.JSON(200, gin.H{"logged_in_as": ginjwt.CurrentIdentity(c)}) })
		token, err := m.CreateAccessToken("alice")
		require.NoError(b, err)
		req := httptest.NewRequest(http.MethodGet, "/protected", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				r.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatal(w.Code, w.Body)
				}
			}
		})
	}
}

// One Rotate, the write behind every refresh under WithRefreshRotation.
func BenchmarkRotate(b *testing.B) {
	ctx := context.Background()
	for _, be := range []struct {
		name string
		open func(b *testing.B) (*sql.DB, sqlblocklist.Dialect)
	}{
		{"sqlite_file", func(b *testing.B) (*sql.DB, sqlblocklist.Dialect) {
			return openSQLite(b, filepath.Join(b.TempDir(), "bench.db")), sqlblocklist.SQLite
		}},
		{"postgres_loopback", func(b *testing.B) (*sql.DB, sqlblocklist.Dialect) {
			db, err := sql.Open("pgx", pgtest.Start(b).DSN)
			require.NoError(b, err)
			b.Cleanup(func() { _ = db.Close() })
			return db, sqlblocklist.Postgres
		}},
	} {
		b.Run(be.name, func(b *testing.B) {
			db, d := be.open(b)
			s, err := sqlblocklist.New(ctx, db, d)
			require.NoError(b, err)
			prev, i := "", 0
			b.ReportAllocs()
			for b.Loop() {
				i++
				next := fmt.Sprint("r", i)
				won, err := s.Rotate(ctx, "family", prev, next, time.Now().Add(time.Hour))
				if err != nil || !won {
					b.Fatal(won, err)
				}
				prev = next
			}
		})
	}
}

// The guards' check with IsRevokedFor (a token's keys and its identity's
// cutoff, one statement) against IsRevoked (the keys alone), on tables of
// 1,000 revoked keys and 1,000 identity records; the token is not
// revoked, so both EXISTS run to the end. "ratio" reports IsRevokedFor's
// median time over IsRevoked's.
func BenchmarkIsRevokedFor(b *testing.B) {
	ctx := context.Background()
	for _, be := range []struct {
		name string
		open func(b *testing.B) (*sql.DB, sqlblocklist.Dialect)
	}{
		{"sqlite_file", func(b *testing.B) (*sql.DB, sqlblocklist.Dialect) {
			return openSQLite(b, filepath.Join(b.TempDir(), "bench.db")), sqlblocklist.SQLite
		}},
		{"postgres_loopback", func(b *testing.B) (*sql.DB, sqlblocklist.Dialect) {
			db, err := sql.Open("pgx", pgtest.Start(b).DSN)
			require.NoError(b, err)
			b.Cleanup(func() { _ = db.Close() })
			return db, sqlblocklist.Postgres
		}},
	} {
		b.Run(be.name, func(b *testing.B) {
			db, d := be.open(b)
			s, err := sqlblocklist.New(ctx, db, d)
			require.NoError(b, err)
			now := time.Now()
			for i := range 1000 {
				require.NoError(b, s.Revoke(ctx, fmt.Sprint("jti-", i), now.Add(time.Hour)))
				require.NoError(b, s.RevokeIdentity(ctx, fmt.Sprint("user-", i), now, now.Add(time.Hour)))
			}
			keys := []string{"0190a0b4-8c1e-7d2a-9f3b-4c5d6e7f8a9b", "fam:0190a0b4-8c1e-7d2a-9f3b-000000000000"}
			b.Run("IsRevoked", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if revoked, err := s.IsRevoked(ctx, keys...); err != nil || revoked {
						b.Fatal(revoked, err)
					}
				}
			})
			b.Run("IsRevokedFor", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if revoked, err := s.IsRevokedFor(ctx, "alice", now, keys...); err != nil || revoked {
						b.Fatal(revoked, err)
					}
				}
			})
			// Both in turn, so that a shared machine's load weighs on
			// them alike: the ratio of their medians.
			b.Run("ratio", func(b *testing.B) {
				var plain, full []time.Duration
				for b.Loop() {
					start := time.Now()
					if revoked, err := s.IsRevoked(ctx, keys...); err != nil || revoked {
						b.Fatal(revoked, err)
					}
					mid := time.Now()
					if revoked, err := s.IsRevokedFor(ctx, "alice", now, keys...); err != nil || revoked {
						b.Fatal(revoked, err)
					}
					plain, full = append(plain, mid.Sub(start)), append(full, time.Since(mid))
				}
				p, f := pct(plain, 50), pct(full, 50)
				b.ReportMetric(float64(p.Nanoseconds()), "IsRevoked-p50-ns")
				b.ReportMetric(float64(f.Nanoseconds()), "IsRevokedFor-p50-ns")
				b.ReportMetric(float64(f)/float64(p), "ratio")
			})
		})
	}
}

// A large backlog of expired rows is swept in bounded batches while
// readers go on: the time of each batch, and the slowest IsRevoked seen
// meanwhile. Behind GINJWT_SOAK=1 (it inserts 200,000 rows per database).
func TestSweepBacklogSoak(t *testing.T) {
	if os.Getenv("GINJWT_SOAK") == "" {
		t.Skip("GINJWT_SOAK is not set: the 200,000-row sweep soak does not run")
	}
	const rows = 200_000
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db := b.open(t)
			clock := time.Now()
			var mu sync.Mutex
			now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
			s := newStore(t, b, db, sqlblocklist.WithClock(now))
			// Fill in one transaction per 10,000 rows: the soak is about
			// the sweep, not the inserts.
			for done := 0; done < rows; done += 10_000 {
				tx, err := db.Begin()
				require.NoError(t, err)
				stmt := `INSERT INTO ginjwt_revoked (id, expires_at) VALUES (?, ?)`
				if b.dialect == sqlblocklist.Postgres {
					stmt = `INSERT INTO ginjwt_revoked (id, expires_at) VALUES ($1, $2)`
				}
				for i := done; i < done+10_000; i++ {
					_, err = tx.Exec(stmt, fmt.Sprint("old-", i), clock.Add(time.Second).UnixMicro())
					require.NoError(t, err)
				}
				require.NoError(t, tx.Commit())
			}
			require.NoError(t, s.Revoke(ctx, "live", time.Time{}))
			mu.Lock()
			clock = clock.Add(time.Minute)
			mu.Unlock()

			// Readers run alone for a second (the baseline), then during
			// the sweep.
			read := func(stop <-chan struct{}) (lat []time.Duration) {
				for {
					select {
					case <-stop:
						return lat
					default:
					}
					start := time.Now()
					revoked, err := s.IsRevoked(ctx, "live", "old-5")
					lat = append(lat, time.Since(start))
					if err != nil || !revoked {
						t.Error(revoked, err)
						return lat
					}
				}
			}
			var baseline, during []time.Duration
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); baseline = read(stop) }()
			time.Sleep(time.Second)
			close(stop)
			wg.Wait()
			stop = make(chan struct{})
			wg.Add(1)
			go func() { defer wg.Done(); during = read(stop) }()
			var batches []time.Duration
			total := time.Now()
			for {
				start := time.Now()
				n, err := s.Sweep(ctx)
				require.NoError(t, err)
				batches = append(batches, time.Since(start))
				if n == 0 {
					break
				}
			}
			elapsed := time.Since(total)
			close(stop)
			wg.Wait()
			var left int
			require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM ginjwt_revoked`).Scan(&left))
			require.Equal(t, 1, left)
			t.Logf("%s: %d expired rows swept in %d batches, %v in all; batch median %v, max %v",
				b.name, rows, len(batches), elapsed.Round(time.Millisecond), pct(batches, 50), pct(batches, 100))
			t.Logf("%s: IsRevoked alone: %d calls, p50 %v, p99 %v, max %v; during the sweep: %d calls, p50 %v, p99 %v, max %v",
				b.name, len(baseline), pct(baseline, 50), pct(baseline, 99), pct(baseline, 100),
				len(during), pct(during, 50), pct(during, 99), pct(during, 100))
		})
	}
}

// pct returns the p-th percentile of d (100: the maximum), sorting d.
func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[min(len(d)-1, len(d)*p/100)].Round(time.Microsecond)
}
