package redisblocklist_test

import (
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/ginjwt/ginjwt/redisblocklist/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Redis replicates asynchronously: a revocation the master acknowledged
// may be missing on the replica that Sentinel promotes when the master
// dies. With WithReplicaAcks a logout answers 200 only once a replica holds
// the revocation, so it survives the failover. Real master, replica and
// three sentinels; the master is SIGKILLed.
func TestSentinelFailoverKeepsRevocations(t *testing.T) {
	t.Parallel()
	topo := redistest.StartSentinel(t)
	store := redisblocklist.New(topo.FailoverClient(t), redisblocklist.WithReplicaAcks(1, 300*time.Millisecond))
	m := topoManager(t, store, ginjwt.WithBlocklistTimeout(time.Second))
	var errs errorLog
	r := topoApp(m, &errs)
	loggedOut, err := m.CreateAccessToken("alice")
	require.NoError(t, err)
	valid, err := m.CreateAccessToken("bob")
	require.NoError(t, err)
	unacked, err := m.CreateAccessToken("carol")
	require.NoError(t, err)

	// A replica that does not answer cannot acknowledge: the logout is
	// refused with 503, not reported as done.
	topo.Replica.Pause()
	start := time.Now()
	w := do(r, "DELETE", "/logout", unacked)
	took := time.Since(start)
	topo.Replica.Resume()
	logoutRefused(t, w, redisblocklist.ErrReplicaAcks, &errs)
	assert.Less(t, took, time.Second+200*time.Millisecond, "within the blocklist timeout")

	w = do(r, "DELETE", "/logout", loggedOut)
	require.Equal(t, 200, w.Code, w.Body.String())
	require.JSONEq(t, revokedBody, do(r, "GET", "/protected", loggedOut).Body.String())
	require.Equal(t, 200, do(r, "GET", "/protected", valid).Code)

	// The master dies with the revocation acknowledged. Until the replica
	// is promoted, guards may only refuse: 401 for the revoked token, 503
	// when the store cannot say.
	var revokedSeen, validSeen outcomes
	stop := make(chan struct{})
	waitRevoked := hammer(r, loggedOut, 4, &revokedSeen, stop, 401, 503)
	waitValid := hammer(r, valid, 4, &validSeen, stop, 200, 503)
	time.Sleep(100 * time.Millisecond)
	killed := time.Now()
	topo.Master.Kill()
	newMaster := topo.WaitForFailover(t, topo.Master.Addr, 30*time.Second)
	promoted := time.Since(killed)
	assert.Equal(t, topo.Replica.Addr, newMaster)
	recovered := eventually(t, r, valid, 200, "", 10*time.Second)
	close(stop)
	waitRevoked()
	waitValid()
	t.Logf("failover: replica promoted %v after the master was killed; valid tokens answered 200 again %v later", promoted, recovered)

	byStatus, unexpected, slowest := revokedSeen.snapshot()
	t.Logf("revoked token during the failover: %v, slowest %v", byStatus, slowest)
	assert.Empty(t, unexpected, "the revoked token was only ever refused, with flask's JSON")
	assert.Zero(t, byStatus[200], "never 200 for the revoked token")
	assert.Less(t, slowest, time.Second+200*time.Millisecond, "each refusal within the blocklist timeout")
	byStatus, unexpected, slowest = validSeen.snapshot()
	t.Logf("valid token during the failover: %v, slowest %v", byStatus, slowest)
	assert.Empty(t, unexpected)
	assert.NotZero(t, byStatus[503], "the outage was seen: the test did run during it")
	assert.Less(t, slowest, time.Second+200*time.Millisecond)

	// The promoted replica holds the acknowledged revocation.
	w = do(r, "GET", "/protected", loggedOut)
	assert.Equal(t, 401, w.Code)
	assert.JSONEq(t, revokedBody, w.Body.String())
	// The logout refused with 503 may have reached the master before it
	// died, or not: that token is whatever the new master says, but no
	// guard answers without asking.
	assert.Contains(t, []int{200, 401}, do(r, "GET", "/protected", unacked).Code)

	// With its only replica gone, the new master cannot get a logout
	// acknowledged: logouts fail closed (503) until a replica joins.
	logoutRefused(t, do(r, "DELETE", "/logout", valid), redisblocklist.ErrReplicaAcks, &errs)
}
