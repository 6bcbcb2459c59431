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

// Three processes on one Redis, clients moving between them: each client
// logs in, uses its token on every instance (an instance that caches
// holds "not revoked"), ends the session on one instance (a logout, a
// RevokeIdentity of the user, or an EndSession from the session list, in
// turn), and at once sends the token to the two others, which must refuse
// it: 0 late 200s for each kind of ending, twice. GINJWT_SOAK=1 sends
// 100,000 requests a run instead of 10,000.
func TestInstancesAsProcesses(t *testing.T) {
	srv := rueidistest.Start(t)
	requests := 10000
	if os.Getenv("GINJWT_SOAK") != "" {
		requests = 100000
	}
	for run := range 2 {
		report := blocklisttest.RunInstances(t, blocklisttest.Instances{Env: []string{addrEnv + "=" + srv.Addr},
			Requests: requests, Endings: []blocklisttest.Ending{blocklisttest.Logout, blocklisttest.RevokeIdentity, blocklisttest.EndSession}})
		t.Logf("run %d: %v", run, report)
		assertFleet(t, report, requests)
	}
}

// assertFleet checks a report of RunInstances: enough requests, every
// ending acknowledged many times and checked, none answered 200 after.
func assertFleet(t *testing.T, report blocklisttest.InstancesReport, requests int) {
	t.Helper()
	assert.Zero(t, report.Late, "requests answered 200 after their session's ending was acknowledged")
	assert.Empty(t, report.Unexpected)
	assert.GreaterOrEqual(t, report.Requests, requests)
	for _, e := range []blocklisttest.Ending{blocklisttest.Logout, blocklisttest.RevokeIdentity, blocklisttest.EndSession} {
		assert.GreaterOrEqual(t, report.ByEnding[e].Acknowledged, requests/100, "%v: too few acknowledged to count", e)
		assert.Equal(t, 4*report.ByEnding[e].Acknowledged, report.ByEnding[e].Checks, "%v: 2 checks on each of 2 other instances", e)
	}
}
