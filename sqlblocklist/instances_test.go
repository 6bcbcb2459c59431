package sqlblocklist_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/blocklisttest"
	"github.com/ginjwt/ginjwt/sqlblocklist"
	"github.com/ginjwt/ginjwt/sqlblocklist/internal/pgtest"
	"github.com/stretchr/testify/assert"
)

// The database the instance processes of TestInstancesAsProcesses share:
// a driver name and its data source.
const (
	driverEnv = "SQLBLOCKLIST_TEST_DRIVER"
	dsnEnv    = "SQLBLOCKLIST_TEST_DSN"
)

func TestMain(m *testing.M) {
	blocklisttest.InstanceMain(func() (ginjwt.Blocklist, error) {
		driver := os.Getenv(driverEnv)
		db, err := sql.Open(driver, os.Getenv(dsnEnv))
		if err != nil {
			return nil, err
		}
		dialect := sqlblocklist.Postgres
		if driver == "sqlite" {
			dialect = sqlblocklist.SQLite
		}
		return sqlblocklist.New(context.Background(), db, dialect)
	})
	os.Exit(m.Run())
}

// Three processes on one database (a PostgreSQL server, or one SQLite file
// in WAL mode), clients moving between them: each client logs in, uses
// its token on every instance, ends the session on one (a logout, a
// RevokeIdentity of the user, or an EndSession from the session list, in
// turn), and at once sends the token to the two others, which must refuse
// it: 0 late 200s for each kind of ending. GINJWT_SOAK=1 sends 100,000
// requests instead of 10,000.
func TestInstancesAsProcesses(t *testing.T) {
	dbs := map[string]func(t *testing.T) (driver, dsn string){
		"sqlite": func(t *testing.T) (string, string) {
			return "sqlite", "file:" + filepath.Join(t.TempDir(), "shared.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
		},
		"postgres": func(t *testing.T) (string, string) { return "pgx", pgtest.Start(t).DSN },
	}
	requests := 10000
	if os.Getenv("GINJWT_SOAK") != "" {
		requests = 100000
	}
	endings := []blocklisttest.Ending{blocklisttest.Logout, blocklisttest.RevokeIdentity, blocklisttest.EndSession}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			driver, dsn := dbs[name](t)
			report := blocklisttest.RunInstances(t, blocklisttest.Instances{Env: []string{driverEnv + "=" + driver, dsnEnv + "=" + dsn},
				Requests: requests, Endings: endings})
			t.Logf("%s: %v", name, report)
			assert.Zero(t, report.Late, "requests answered 200 after their session's ending was acknowledged")
			assert.Empty(t, report.Unexpected)
			assert.GreaterOrEqual(t, report.Requests, requests)
			for _, e := range endings {
				assert.GreaterOrEqual(t, report.ByEnding[e].Acknowledged, requests/100, "%v: too few acknowledged to count", e)
				assert.Equal(t, 4*report.ByEnding[e].Acknowledged, report.ByEnding[e].Checks, "%v: 2 checks on each of 2 other instances", e)
			}
		})
	}
}
