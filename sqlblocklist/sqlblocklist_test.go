package sqlblocklist_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/blocklisttest"
	"github.com/ginjwt/ginjwt/sqlblocklist"
	"github.com/ginjwt/ginjwt/sqlblocklist/internal/pgtest"
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
