package redisblocklist_test

import (
	"os"
	"testing"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/blocklisttest"
	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/ginjwt/ginjwt/redisblocklist/internal/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
)

// addrEnv carries Redis's address to the instance processes of
// TestInstancesAsProcesses.
const addrEnv = "REDISBLOCKLIST_TEST_REDIS"

func TestMain(m *testing.M) {
	blocklisttest.InstanceMain(func() (ginjwt.Blocklist, error) {
		store, err := redisblocklist.New(redis.NewClient(&redis.Options{Addr: os.Getenv(addrEnv)}))
		if err != nil {
			return nil, err
		}
		return store, nil
	})
	os.Exit(m.Run())
}

// Three processes on one Redis, clients moving between them: each client
// uses a token on every instance, logs it out on one, and at once sends
// it to the two others, which must refuse it. Every check asks Redis, so
// a logout holds everywhere once acknowledged: 0 late 200s, twice.
func TestInstancesAsProcesses(t *testing.T) {
	srv := redistest.Start(t)
	for run := range 2 {
		report := blocklisttest.RunInstances(t, blocklisttest.Instances{Env: []string{addrEnv + "=" + srv.Addr}})
		t.Logf("run %d: %v", run, report)
		assert.Zero(t, report.Late, "requests answered 200 after their token's logout was acknowledged")
		assert.Empty(t, report.Unexpected)
		assert.GreaterOrEqual(t, report.Requests, 10000)
	}
}
