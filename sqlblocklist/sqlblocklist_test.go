package sqlblocklist_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/blocklisttest"
	"github.com/ginjwt/ginjwt/sqlblocklist"
	"github.com/ginjwt/ginjwt/sqlblocklist/internal/pgtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

const secret = "sql-test-secret-0123456789abcdef01234567"

// openSQLite opens a database file as an application would: several
// connections, a busy timeout so writers wait for each other, WAL so
// readers never wait for a writer.
func openSQLite(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// backend is one database the tests run on.
type backend struct {
	name    string
	dialect sqlblocklist.Dialect
	open    func(t *testing.T) *sql.DB // a new, empty database
}

// backends are the databases the tests run on; open starts with an empty
// database (for PostgreSQL, on a server of its own, stopped when t ends).
var backends = []backend{
	{"sqlite", sqlblocklist.SQLite, func(t *testing.T) *sql.DB {
		return openSQLite(t, filepath.Join(t.TempDir(), "blocklist.db"))
	}},
	{"postgres", sqlblocklist.Postgres, func(t *testing.T) *sql.DB {
		return pgtest.Start(t).DB(t)
	}},
}

func newStore(t *testing.T, b backend, db *sql.DB, opts ...sqlblocklist.Option) *sqlblocklist.Store {
	t.Helper()
	s, err := sqlblocklist.New(context.Background(), db, b.dialect, opts...)
	require.NoError(t, err)
	return s
}

func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t)
			n := 0
			blocklisttest.Run(t, blocklisttest.Harness{
				New: func(t *testing.T) ginjwt.Blocklist {
					n++ // each subtest in its own tables
					return newStore(t, b, db, sqlblocklist.WithTablePrefix(fmt.Sprintf("conf%d_", n)))
				},
				Now:   time.Now,
				Sleep: time.Sleep,
			})
		})
	}
}

// app is flask's blocklist_database.py through a real gin.Engine: a
// protected route, a logout that revokes the token it is called with, and
// a refresh route that rotates.
func app(m *ginjwt.Manager, ran *atomic.Int32) *gin.Engine {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.GET("/protected", m.JWTRequired(), func(c *gin.Context) {
		ran.Add(1)
		c.JSON(200, gin.H{"hello": "world"})
	})
	r.DELETE("/logout", m.JWTRequired(ginjwt.VerifyType(false)), func(c *gin.Context) {
		if err := m.Logout(c); err != nil {
			m.Abort(c, err)
			return
		}
		c.JSON(200, gin.H{"msg": "Token revoked"})
	})
	r.POST("/refresh", m.RefreshRequired(), func(c *gin.Context) {
		ran.Add(1)
		access, refresh, err := m.RotateRefreshToken(c)
		if err != nil {
			m.Abort(c, err)
			return
		}
		c.JSON(200, gin.H{"access_token": access, "refresh_token": refresh})
	})
	return r
}

func send(r http.Handler, method, path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

func manager(t *testing.T, store ginjwt.Blocklist, opts ...ginjwt.Option) *ginjwt.Manager {
	t.Helper()
	m, err := ginjwt.New(append([]ginjwt.Option{ginjwt.WithSecretKey([]byte(secret)), ginjwt.WithBlocklist(store), ginjwt.WithRefreshRotation()}, opts...)...)
	require.NoError(t, err)
	return m
}

// A logout and a "log out everywhere" outlive the process: the next
// process on the same database still refuses their tokens (the in-memory
// store would forget them).
func TestRevocationSurvivesRestart(t *testing.T) {
	check := func(t *testing.T, dialect sqlblocklist.Dialect, open func() *sql.DB, restart func()) {
		db := open()
		m := manager(t, newStore(t, backend{dialect: dialect}, db))
		var ran atomic.Int32
		access, refresh, err := m.CreateTokenPair("alice")
		require.NoError(t, err)
		other, err := m.CreateAccessToken("bob")
		require.NoError(t, err)
		carol, err := m.CreateAccessToken("carol")
		require.NoError(t, err)
		require.NoError(t, m.RevokeIdentity(context.Background(), "carol")) // log out everywhere
		r := app(m, &ran)
		require.Equal(t, 200, send(r, "GET", "/protected", access).Code)
		w := send(r, "DELETE", "/logout", access) // ends the session: the refresh token too
		require.Equal(t, 200, w.Code, w.Body.String())
		require.Equal(t, 401, send(r, "POST", "/refresh", refresh).Code)
		require.NoError(t, db.Close())

		restart()
		db = open()
		m = manager(t, newStore(t, backend{dialect: dialect}, db)) // a new process: new Manager, new Store
		r = app(m, &ran)
		before := ran.Load()
		for _, tc := range []struct{ method, path, token string }{{"GET", "/protected", access}, {"POST", "/refresh", refresh}, {"GET", "/protected", carol}} {
			w = send(r, tc.method, tc.path, tc.token)
			assert.Equal(t, 401, w.Code, tc.path)
			assert.JSONEq(t, `{"msg":"Token has been revoked"}`, w.Body.String(), tc.path)
		}
		assert.Equal(t, before, ran.Load(), "no handler ran for a revoked token")
		w = send(r, "GET", "/protected", other)
		assert.Equal(t, 200, w.Code, "a token never revoked still works: %s", w.Body)
	}
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "app.db")
		check(t, sqlblocklist.SQLite, func() *sql.DB { return openSQLite(t, path) }, func() {})
	})
	t.Run("postgres", func(t *testing.T) {
		srv := pgtest.Start(t)
		check(t, sqlblocklist.Postgres, func() *sql.DB {
			db, err := sql.Open("pgx", srv.DSN)
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			return db
		}, func() { srv.Stop(); srv.Restart() })
	})
}

// Revocation and the 50-way rotation race through real guards, on each
// database.
func TestBehindGuards(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			blocklisttest.RunGuarded(t, func(t *testing.T) ginjwt.Blocklist { return newStore(t, b, b.open(t)) })
		})
	}
}

// A stopped database fails closed: 503, and the handler does not run.
func TestDatabaseDownFailsClosed(t *testing.T) {
	srv := pgtest.Start(t)
	db, err := sql.Open("pgx", srv.DSN)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	m := manager(t, newStore(t, backend{dialect: sqlblocklist.Postgres}, db), ginjwt.WithBlocklistTimeout(2*time.Second))
	var ran atomic.Int32
	r := app(m, &ran)
	access, refresh, err := m.CreateTokenPair("alice")
	require.NoError(t, err)
	require.Equal(t, 200, send(r, "GET", "/protected", access).Code)
	srv.Stop()
	before := ran.Load()
	w := send(r, "GET", "/protected", access)
	assert.Equal(t, 503, w.Code)
	assert.JSONEq(t, `{"msg":"Token revocation status is unavailable"}`, w.Body.String())
	w = send(r, "POST", "/refresh", refresh)
	assert.Equal(t, 503, w.Code)
	assert.Equal(t, before, ran.Load(), "no handler ran")
}

func TestMigration(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db := b.open(t)
			s := newStore(t, b, db)
			require.NoError(t, s.Revoke(ctx, "jti-1", time.Now().Add(time.Hour)))
			_, err := s.Rotate(ctx, "fam-1", "r1", "r2", time.Now().Add(time.Hour))
			require.NoError(t, err)
			var v int
			require.NoError(t, db.QueryRow(`SELECT version FROM ginjwt_schema_version`).Scan(&v))
			assert.Equal(t, sqlblocklist.SchemaVersion, v)

			// A restart runs New again: nothing lost, still one version row.
			s = newStore(t, b, db)
			revoked, err := s.IsRevoked(ctx, "jti-1")
			require.NoError(t, err)
			assert.True(t, revoked)
			cur, err := s.Current(ctx, "fam-1")
			require.NoError(t, err)
			assert.Equal(t, "r2", cur)
			var rows int
			require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM ginjwt_schema_version`).Scan(&rows))
			assert.Equal(t, 1, rows)

			// A schema from a newer release is refused, not misread.
			_, err = db.Exec(`UPDATE ginjwt_schema_version SET version = 99`)
			require.NoError(t, err)
			_, err = sqlblocklist.New(ctx, db, b.dialect)
			assert.ErrorIs(t, err, sqlblocklist.ErrSchemaTooNew)

			// Prefixes keep stores apart in one database.
			other := newStore(t, b, db, sqlblocklist.WithTablePrefix("app2_"))
			revoked, err = other.IsRevoked(ctx, "jti-1")
			require.NoError(t, err)
			assert.False(t, revoked)
		})
	}
}

// version1 is the schema that release 1 of the store created, verbatim:
// what a database upgraded from it holds.
var version1 = []string{
	`CREATE TABLE ginjwt_schema_version (version INTEGER NOT NULL)`,
	`INSERT INTO ginjwt_schema_version (version) VALUES (1)`,
	`CREATE TABLE IF NOT EXISTS ginjwt_revoked (id TEXT PRIMARY KEY, expires_at BIGINT NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS ginjwt_revoked_expires_at ON ginjwt_revoked (expires_at)`,
	`CREATE TABLE IF NOT EXISTS ginjwt_families (family TEXT PRIMARY KEY, token_id TEXT NOT NULL, expires_at BIGINT NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS ginjwt_families_expires_at ON ginjwt_families (expires_at)`,
}

// A database of schema version 1 with rows in it is migrated to the
// current version by instances starting together: its rows are kept and
// the new tables work.
func TestMigrationFromVersion1(t *testing.T) {
	check := func(t *testing.T, dialect sqlblocklist.Dialect, open func() *sql.DB) {
		ctx := context.Background()
		db := open()
		for _, stmt := range version1 {
			_, err := db.Exec(stmt)
			require.NoError(t, err)
		}
		forever := int64(math.MaxInt64)
		later := time.Now().Add(time.Hour).UnixMicro()
		for _, stmt := range []string{
			`INSERT INTO ginjwt_revoked (id, expires_at) VALUES ('jti-1', ` + fmt.Sprint(later) + `)`,
			`INSERT INTO ginjwt_revoked (id, expires_at) VALUES ('fam:s-1', ` + fmt.Sprint(forever) + `)`,
			`INSERT INTO ginjwt_families (family, token_id, expires_at) VALUES ('s-2', 'r7', ` + fmt.Sprint(later) + `)`,
		} {
			_, err := db.Exec(stmt)
			require.NoError(t, err)
		}

		pools := []*sql.DB{db, open(), open(), open()}
		stores := make([]*sqlblocklist.Store, len(pools))
		errs := make([]error, len(pools))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, pool := range pools {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				stores[i], errs[i] = sqlblocklist.New(ctx, pool, dialect)
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "instance %d", i)
		}
		var versions []int
		rows, err := db.Query(`SELECT version FROM ginjwt_schema_version`)
		require.NoError(t, err)
		for rows.Next() {
			var v int
			require.NoError(t, rows.Scan(&v))
			versions = append(versions, v)
		}
		require.NoError(t, rows.Err())
		assert.Equal(t, []int{sqlblocklist.SchemaVersion}, versions)

		s := stores[1]
		for _, k := range []string{"jti-1", "fam:s-1"} {
			revoked, err := s.IsRevoked(ctx, k)
			require.NoError(t, err)
			assert.True(t, revoked, "%s, revoked before the migration", k)
		}
		cur, err := s.Current(ctx, "s-2")
		require.NoError(t, err)
		assert.Equal(t, "r7", cur, "a rotation record from before the migration")
		revoked, err := s.IsRevokedFor(ctx, "alice", time.Now(), "jti-1")
		require.NoError(t, err)
		assert.True(t, revoked, "an old revocation through the new check")

		now := time.Now().Truncate(time.Millisecond)
		require.NoError(t, s.RevokeIdentity(ctx, "alice", now, now.Add(time.Hour)))
		revoked, err = stores[2].IsRevokedFor(ctx, "alice", now.Add(-time.Millisecond), "jti-2")
		require.NoError(t, err)
		assert.True(t, revoked, "RevokeIdentity on the migrated database")
		session := ginjwt.Session{ID: "s-3", Identity: "alice", Created: now, Expires: now.Add(time.Hour)}
		require.NoError(t, s.SaveSession(ctx, session))
		list, err := stores[3].Sessions(ctx, "alice")
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, "s-3", list[0].ID)
		assert.True(t, list[0].Created.Equal(now), "created %v, want %v", list[0].Created, now)
	}
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "v1.db")
		check(t, sqlblocklist.SQLite, func() *sql.DB { return openSQLite(t, path) })
	})
	t.Run("postgres", func(t *testing.T) {
		srv := pgtest.Start(t)
		check(t, sqlblocklist.Postgres, func() *sql.DB {
			db, err := sql.Open("pgx", srv.DSN)
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			return db
		})
	})
}

func TestNewRefusesBadArguments(t *testing.T) {
	db := openSQLite(t, filepath.Join(t.TempDir(), "x.db"))
	ctx := context.Background()
	_, err := sqlblocklist.New(ctx, nil, sqlblocklist.SQLite)
	assert.EqualError(t, err, "sqlblocklist: nil *sql.DB")
	_, err = sqlblocklist.New(ctx, db, sqlblocklist.Dialect(0))
	assert.EqualError(t, err, "sqlblocklist: unknown dialect Dialect(0)")
	for _, p := range []string{"", "x; DROP TABLE users; --", "1abc", `a"b`} {
		_, err = sqlblocklist.New(ctx, db, sqlblocklist.SQLite, sqlblocklist.WithTablePrefix(p))
		assert.ErrorContains(t, err, "letters, digits and underscores only", p)
	}
	_, err = sqlblocklist.New(ctx, db, sqlblocklist.SQLite, sqlblocklist.WithSweep(0, 10))
	assert.ErrorContains(t, err, "both must be positive")
	_, err = sqlblocklist.New(ctx, db, sqlblocklist.SQLite, sqlblocklist.WithClock(nil))
	assert.Error(t, err)
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM sqlite_master`).Scan(&n))
	assert.Zero(t, n, "a refused New creates nothing")
}

// Expired rows go away in batches of bounded size, driven by writes;
// live rows stay.
func TestSweepIsIncremental(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db := b.open(t)
			clock := time.Now()
			now := func() time.Time { return clock }
			s := newStore(t, b, db, sqlblocklist.WithClock(now), sqlblocklist.WithSweep(time.Minute, 100))
			count := func(table string) int {
				var n int
				require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM ginjwt_`+table).Scan(&n))
				return n
			}
			for i := range 250 {
				require.NoError(t, s.Revoke(ctx, fmt.Sprintf("short-%d", i), clock.Add(time.Second)))
				_, err := s.Rotate(ctx, fmt.Sprintf("fam-%d", i), "", "r", clock.Add(time.Second))
				require.NoError(t, err)
			}
			require.NoError(t, s.Revoke(ctx, "long", clock.Add(time.Hour)))
			require.NoError(t, s.Revoke(ctx, "forever", time.Time{}))
			require.Equal(t, 252, count("revoked"))
			require.Equal(t, 250, count("families"))

			clock = clock.Add(30 * time.Second) // expired, but no sweep is due yet
			require.NoError(t, s.Revoke(ctx, "w1", time.Time{}))
			assert.Equal(t, 253, count("revoked"), "no sweep before its interval")

			clock = clock.Add(time.Minute)
			require.NoError(t, s.Revoke(ctx, "w2", time.Time{})) // sweeps one batch per table
			assert.Equal(t, 254-100, count("revoked"))
			assert.Equal(t, 150, count("families"))
			require.NoError(t, s.Revoke(ctx, "w3", time.Time{})) // a backlog: the next write sweeps again
			assert.Equal(t, 255-200, count("revoked"))
			n, err := s.Sweep(ctx)
			require.NoError(t, err)
			assert.Equal(t, int64(50+50), n)
			assert.Equal(t, 5, count("revoked"), "long, forever, w1..w3")
			assert.Zero(t, count("families"))
			for _, k := range []string{"long", "forever", "w1"} {
				revoked, err := s.IsRevoked(ctx, k)
				require.NoError(t, err)
				assert.True(t, revoked, k)
			}
		})
	}
}

// Expired identity records and sessions go away like revocations: in
// bounded batches, driven by writes of any kind and by Sweep; live ones
// stay.
func TestSweepIdentitiesAndSessions(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db := b.open(t)
			clock := time.Now()
			now := func() time.Time { return clock }
			s := newStore(t, b, db, sqlblocklist.WithClock(now), sqlblocklist.WithSweep(time.Minute, 100))
			count := func(table string) int {
				var n int
				require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM ginjwt_`+table).Scan(&n))
				return n
			}
			session := func(identity, id string, expires time.Time) ginjwt.Session {
				return ginjwt.Session{ID: id, Identity: identity, Created: clock, Expires: expires}
			}
			for i := range 250 {
				require.NoError(t, s.RevokeIdentity(ctx, fmt.Sprint("short-", i), clock, clock.Add(time.Second)))
				require.NoError(t, s.SaveSession(ctx, session(fmt.Sprint("user-", i%7), fmt.Sprint("s-", i), clock.Add(time.Second))))
			}
			require.NoError(t, s.RevokeIdentity(ctx, "long", clock, clock.Add(time.Hour)))
			require.NoError(t, s.RevokeIdentity(ctx, "forever", clock, time.Time{}))
			require.NoError(t, s.SaveSession(ctx, session("alice", "long", clock.Add(time.Hour))))
			require.NoError(t, s.SaveSession(ctx, session("alice", "forever", time.Time{})))
			require.Equal(t, 252, count("identities"))
			require.Equal(t, 252, count("sessions"))

			clock = clock.Add(30 * time.Second) // expired, but no sweep is due yet
			require.NoError(t, s.DeleteSession(ctx, "nobody", "none"))
			assert.Equal(t, 252, count("identities"), "no sweep before its interval")

			clock = clock.Add(time.Minute)
			require.NoError(t, s.TouchSession(ctx, "alice", "long", clock, clock.Add(time.Hour))) // sweeps one batch per table
			assert.Equal(t, 152, count("identities"))
			assert.Equal(t, 152, count("sessions"))
			require.NoError(t, s.DeleteSession(ctx, "nobody", "none")) // a backlog: the next write sweeps again
			assert.Equal(t, 52, count("identities"))
			assert.Equal(t, 52, count("sessions"))
			n, err := s.Sweep(ctx)
			require.NoError(t, err)
			assert.Equal(t, int64(50+50), n)
			assert.Equal(t, 2, count("identities"), "long and forever")
			assert.Equal(t, 2, count("sessions"), "long and forever")
			for _, id := range []string{"long", "forever"} {
				revoked, err := s.IsRevokedFor(ctx, id, clock.Add(-time.Hour))
				require.NoError(t, err)
				assert.True(t, revoked, id)
			}
			list, err := s.Sessions(ctx, "alice")
			require.NoError(t, err)
			assert.Len(t, list, 2)
		})
	}
}

// Under a steady stream of logins, logouts and "log out everywhere", each
// table holds the live rows plus at most the rows that expired since the
// last sweep, however long the stream runs.
func TestStorageStaysBounded(t *testing.T) {
	const (
		step  = 100 * time.Millisecond // between one write to each table
		ttl   = 10 * time.Second       // of every row
		every = time.Second            // between sweeps
		steps = 1000                   // ten lifetimes
		live  = int(ttl / step)
		bound = live + int(every/step) + 2 // live, expired since the last sweep, the edges
	)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db := b.open(t)
			clock := time.Now()
			now := func() time.Time { return clock }
			s := newStore(t, b, db, sqlblocklist.WithClock(now), sqlblocklist.WithSweep(every, 20))
			tables := []string{"revoked", "identities", "sessions"}
			most := map[string]int{}
			for i := range steps {
				user := fmt.Sprint("user-", i)
				require.NoError(t, s.SaveSession(ctx, ginjwt.Session{ID: "s", Identity: user, Created: clock, Expires: clock.Add(ttl)}))
				require.NoError(t, s.Revoke(ctx, "fam:"+user, clock.Add(ttl)))
				require.NoError(t, s.RevokeIdentity(ctx, user, clock, clock.Add(ttl)))
				if i%10 == 0 || i > steps-10 {
					for _, table := range tables {
						var n int
						require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM ginjwt_`+table).Scan(&n))
						most[table] = max(most[table], n)
					}
				}
				clock = clock.Add(step)
			}
			for _, table := range tables {
				assert.LessOrEqual(t, most[table], bound, "%s: at most %d rows, after %d written", table, bound, steps)
				assert.GreaterOrEqual(t, most[table], live, "%s: the live rows are kept", table)
			}
		})
	}
}

// Rotating keeps one row per login, however often: storage follows live
// logins, not rotations.
func TestStorageFollowsLogins(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t)
			m := manager(t, newStore(t, b, db))
			var ran atomic.Int32
			r := app(m, &ran)
			count := func(table string) int {
				var n int
				require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM ginjwt_`+table).Scan(&n))
				return n
			}
			var refreshes [3]string
			for i := range refreshes {
				_, refreshes[i], _ = m.CreateTokenPair(fmt.Sprintf("user-%d", i))
			}
			for range 100 {
				for i, refresh := range refreshes {
					w := send(r, "POST", "/refresh", refresh)
					require.Equal(t, 200, w.Code, w.Body.String())
					var out struct {
						RefreshToken string `json:"refresh_token"`
					}
					require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out))
					refreshes[i] = out.RefreshToken
				}
			}
			assert.Equal(t, 3, count("families"), "one row per login after 300 rotations")
			assert.Zero(t, count("revoked"), "rotation revokes nothing")
		})
	}
}

// Every method reports a failing database as an error (ginjwt turns it
// into 503), never as "not revoked".
func TestErrorsAreReported(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t, filepath.Join(t.TempDir(), "x.db"))
	s := newStore(t, backend{dialect: sqlblocklist.SQLite}, db)
	require.NoError(t, db.Close())
	assert.ErrorContains(t, s.Revoke(ctx, "k", time.Time{}), "sqlblocklist: revoke: ")
	for _, keys := range [][]string{{"a"}, {"a", "b"}, {"a", "b", "c"}} {
		revoked, err := s.IsRevoked(ctx, keys...)
		assert.ErrorContains(t, err, "sqlblocklist: check: ")
		assert.False(t, revoked)
	}
	won, err := s.Rotate(ctx, "f", "r1", "r2", time.Time{})
	assert.ErrorContains(t, err, "sqlblocklist: rotate: ")
	assert.False(t, won)
	_, err = s.Current(ctx, "f")
	assert.ErrorContains(t, err, "sqlblocklist: current: ")
	assert.ErrorContains(t, s.RevokeIdentity(ctx, "alice", time.Now(), time.Time{}), "sqlblocklist: revoke identity: ")
	for _, keys := range [][]string{nil, {"a", "b"}, {"a", "b", "c"}} {
		revoked, err := s.IsRevokedFor(ctx, "alice", time.Now(), keys...)
		assert.ErrorContains(t, err, "sqlblocklist: check: ")
		assert.False(t, revoked)
	}
	session := ginjwt.Session{ID: "s", Identity: "alice"}
	assert.ErrorContains(t, s.SaveSession(ctx, session), "sqlblocklist: save session: ")
	assert.ErrorContains(t, s.TouchSession(ctx, "alice", "s", time.Now(), time.Time{}), "sqlblocklist: touch session: ")
	list, err := s.Sessions(ctx, "alice")
	assert.ErrorContains(t, err, "sqlblocklist: sessions: ")
	assert.Nil(t, list)
	assert.ErrorContains(t, s.DeleteSession(ctx, "alice", "s"), "sqlblocklist: delete session: ")
	_, err = s.Sweep(ctx)
	assert.ErrorContains(t, err, "sqlblocklist: sweep: ")
	_, err = sqlblocklist.New(ctx, db, sqlblocklist.SQLite)
	assert.ErrorContains(t, err, "sqlblocklist: migrate: ")

	// A cancelled context is an error too, also while waiting for the
	// SQLite writer.
	live := newStore(t, backend{dialect: sqlblocklist.SQLite}, openSQLite(t, filepath.Join(t.TempDir(), "y.db")))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, live.Revoke(cancelled, "k", time.Time{}), context.Canceled)
	_, err = live.Rotate(cancelled, "f", "r1", "r2", time.Time{})
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, live.RevokeIdentity(cancelled, "alice", time.Now(), time.Time{}), context.Canceled)
	assert.ErrorIs(t, live.SaveSession(cancelled, session), context.Canceled)
	_, err = live.IsRevokedFor(cancelled, "alice", time.Now(), "k")
	assert.ErrorIs(t, err, context.Canceled)
}

// Instances starting together on one database all come up: the migration
// runs once, the others wait for it.
func TestConcurrentStarts(t *testing.T) {
	check := func(t *testing.T, dialect sqlblocklist.Dialect, open func() *sql.DB) {
		// One pool per instance, as separate processes would have.
		pools := make([]*sql.DB, 8)
		for i := range pools {
			pools[i] = open()
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, len(pools))
		for i, db := range pools {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = sqlblocklist.New(context.Background(), db, dialect)
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			assert.NoError(t, err, "instance %d", i)
		}
		var rows int
		require.NoError(t, pools[0].QueryRow(`SELECT COUNT(*) FROM ginjwt_schema_version`).Scan(&rows))
		assert.Equal(t, 1, rows)
	}
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "shared.db")
		check(t, sqlblocklist.SQLite, func() *sql.DB { return openSQLite(t, path) })
	})
	t.Run("postgres", func(t *testing.T) {
		srv := pgtest.Start(t)
		check(t, sqlblocklist.Postgres, func() *sql.DB {
			db, err := sql.Open("pgx", srv.DSN)
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			return db
		})
	})
}

// Two processes on one SQLite file (two pools, two Stores) rotating one
// token at once: still exactly one winner, through SQLite's own lock.
func TestSQLiteRotationAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	b := backend{dialect: sqlblocklist.SQLite}
	stores := []*sqlblocklist.Store{newStore(t, b, openSQLite(t, path)), newStore(t, b, openSQLite(t, path))}
	for round := range 3 {
		family := fmt.Sprint("fam-", round)
		var wins atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				won, err := stores[i%2].Rotate(context.Background(), family, "r0", fmt.Sprint("next-", i), time.Now().Add(time.Hour))
				assert.NoError(t, err)
				if won {
					wins.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		assert.Equal(t, int32(1), wins.Load(), family)
	}
}
