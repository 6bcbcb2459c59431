package rueidisblocklist_test

import (
	"os"
	"testing"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/blocklisttest"
	"github.com/ginjwt/ginjwt/rueidisblocklist"
	"github.com/ginjwt/ginjwt/rueidisblocklist/internal/rueidistest"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
)

// addrEnv carries Redis's address to the instance processes of
// TestInstancesAsProcesses.
const addrEnv = "RUEIDISBLOCKLIST_TEST_REDIS"

func TestMain(m *testing.M) {
	blocklisttest.InstanceMain(func() (ginjwt.Blocklist, error) {
		client, err := rueidis.NewClient(rueidisblocklist.ClientOption(os.Getenv(addrEnv)))
		if err != nil {
			return nil, err
		}
		store, err := rueidisblocklist.New(client)
		if err != nil {
			return nil, err
		}
		return store, nil
	})
	os.Exit(m.Run())
}

// Three processes on one Redis, clients moving between them: a token
// logged out on one instance is refused by the others from the moment the
// logout is acknowledged. Each client warms every instance's cache with a
// token ("not revoked"), logs it out on one, and at once sends it to the
// other two; none of those requests may be answered 200.
func TestInstancesAsProcesses(t *testing.T) {
	srv := rueidistest.Start(t)
	for run := range 2 {
		report := blocklisttest.RunInstances(t, blocklisttest.Instances{Env: []string{addrEnv + "=" + srv.Addr}})
		t.Logf("run %d: %v", run, report)
		assert.Zero(t, report.Late, "requests answered 200 after their token's logout was acknowledged")
		assert.Empty(t, report.Unexpected)
		assert.GreaterOrEqual(t, report.Requests, 10000)
	}
}
