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
// in WAL mode), clients moving between them: each client uses a token on
// every instance, logs it out on one, and at once sends it to the two
// others, which must refuse it: 0 late 200s.
func TestInstancesAsProcesses(t *testing.T) {
	dbs := map[string]func(t *testing.T) (driver, dsn string){
		"sqlite": func(t *testing.T) (string, string) {
			return "sqlite", "file:" + filepath.Join(t.TempDir(), "shared.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
		},
		"postgres": func(t *testing.T) (string, string) { return "pgx", pgtest.Start(t).DSN },
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			driver, dsn := dbs[name](t)
			report := blocklisttest.RunInstances(t, blocklisttest.Instances{Env: []string{driverEnv + "=" + driver, dsnEnv + "=" + dsn}})
			t.Logf("%s: %v", name, report)
			assert.Zero(t, report.Late, "requests answered 200 after their token's logout was acknowledged")
			assert.Empty(t, report.Unexpected)
			assert.GreaterOrEqual(t, report.Requests, 10000)
		})
	}
}
