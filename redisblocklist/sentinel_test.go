package redisblocklist_test

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/ginjwt/ginjwt/redisblocklist/internal/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failoverRounds is how many times the topology tests take a master away:
// twice in the default run (killed, then hung), more under GINJWT_SOAK.
func failoverRounds() int {
	if os.Getenv("GINJWT_SOAK") != "" {
		return 6
	}
	return 2
}

// masterHangs tells the rounds apart: even rounds SIGKILL the master (its port
// refuses connections), odd ones SIGSTOP it (connections open, no answer,
// as a hung server or a network blackhole).
func masterHangs(round int) bool { return round%2 == 1 }

// how names a round's way of taking the master away, for the logs.
func how(round int) string {
	if masterHangs(round) {
		return "paused (SIGSTOP)"
	}
	return "killed (SIGKILL)"
}

// Guards through a Sentinel failover: real master, replica and three
// sentinels; the master is SIGKILLed (or hangs: SIGSTOP), then comes back
// as a replica of the promoted one. A revoked token is only ever refused
// (401, or 503 within the timeout), and the logout acknowledged before
// the kill survives it. (On loopback the replica is in sync when the
// master dies, so that last check passes without WithReplicaAcks too:
// TestSentinelFailoverWithStalledReplication is the one that tells acks on
// from off.)
func TestSentinelFailoverKeepsRevocations(t *testing.T) {
	t.Parallel()
	const timeout = time.Second
	topo := redistest.StartSentinel(t)
	store := mustNew(t, topo.FailoverClient(t), redisblocklist.WithReplicaAcks(1, 300*time.Millisecond))
	m := topoManager(t, store, ginjwt.WithBlocklistTimeout(timeout))
	var errs errorLog
	r := topoApp(m, &errs)

	// A replica that does not answer cannot acknowledge: the logout is
	// refused with 503, not reported as done.
	unacked := newToken(t, m)
	topo.Replica.Pause()
	start := time.Now()
	w := do(r, "DELETE", "/logout", unacked)
	took := time.Since(start)
	topo.Replica.Resume()
	logoutRefused(t, w, redisblocklist.ErrReplicaAcks, &errs)
	assert.Less(t, took, timeout+topoMargin, "within the blocklist timeout")

	for round := range failoverRounds() {
		loggedOut, valid := newToken(t, m), newToken(t, m)
		w := do(r, "DELETE", "/logout", loggedOut)
		require.Equal(t, 200, w.Code, "%s %v", w.Body, errs.lastCause())
		require.JSONEq(t, revokedBody, do(r, "GET", "/protected", loggedOut).Body.String())
		require.Equal(t, 200, do(r, "GET", "/protected", valid).Code)
		oldMaster, err := topo.MasterAddr(t.Context())
		require.NoError(t, err)
		victim := topo.Node(oldMaster)
		require.NotNil(t, victim, "the sentinels name one of our nodes: %s", oldMaster)

		// The master dies with the revocation acknowledged. Until the
		// replica is promoted, guards may only refuse: 401 for the revoked
		// token, 503 when the store cannot say.
		var revokedSeen, validSeen outcomes
		stop := make(chan struct{})
		waitRevoked := hammer(r, loggedOut, 4, &revokedSeen, stop, 401, 503)
		waitValid := hammer(r, valid, 4, &validSeen, stop, 200, 503)
		time.Sleep(100 * time.Millisecond)
		killed := time.Now()
		if masterHangs(round) {
			victim.Pause()
		} else {
			victim.Kill()
		}
		newMaster := topo.WaitForFailover(t, oldMaster, 30*time.Second)
		promoted := time.Since(killed)
		recovered := eventually(t, r, valid, 200, "", 10*time.Second)
		close(stop)
		waitRevoked()
		waitValid()
		assert.NotEqual(t, oldMaster, newMaster)
		t.Logf("round %d: replica promoted %v after the master was %s; valid tokens answered 200 again %v later",
			round, promoted.Round(time.Millisecond), how(round), recovered.Round(time.Millisecond))

		byStatus, unexpected, slowest := revokedSeen.snapshot()
		t.Logf("round %d: revoked token during the failover: %v, slowest %v", round, byStatus, slowest)
		assert.Empty(t, unexpected, "the revoked token was only ever refused, with flask's JSON")
		assert.Zero(t, byStatus[200], "never 200 for the revoked token")
		assert.Less(t, slowest, timeout+topoMargin, "each refusal within the blocklist timeout")
		byStatus, unexpected, slowest = validSeen.snapshot()
		t.Logf("round %d: valid token during the failover: %v, slowest %v", round, byStatus, slowest)
		assert.Empty(t, unexpected)
		assert.NotZero(t, byStatus[503], "the outage was seen: the test did run during it")
		assert.Less(t, slowest, timeout+topoMargin)

		// The promoted replica holds the acknowledged revocation.
		w = do(r, "GET", "/protected", loggedOut)
		assert.Equal(t, 401, w.Code)
		assert.JSONEq(t, revokedBody, w.Body.String())
		if round == 0 {
			// The logout refused with 503 may have reached the master
			// before it died, or not; either way guards answer for it.
			assert.Contains(t, []int{200, 401}, do(r, "GET", "/protected", unacked).Code)
		}

		// With its only replica gone, the new master cannot get a logout
		// acknowledged: logouts fail closed until a replica joins.
		logoutRefused(t, do(r, "DELETE", "/logout", valid), redisblocklist.ErrReplicaAcks, &errs)
		// (That refused logout may still have been written on the master.)
		start := time.Now()
		if masterHangs(round) {
			victim.Resume()
			topo.Rejoin(t, victim, 30*time.Second)
		} else {
			topo.RestartAsReplica(t, victim, 30*time.Second)
		}
		t.Logf("round %d: the old master, back, replicates the new one after %v", round, time.Since(start).Round(time.Millisecond))
		later := newToken(t, m)
		// Calls left hanging on a paused master fail when it resumes,
		// which can open the breaker for a moment.
		back := eventually(t, r, later, 200, "", 5*time.Second)
		t.Logf("round %d: guards answer 200 %v after that", round, back.Round(time.Millisecond))
		w = do(r, "DELETE", "/logout", later)
		assert.Equal(t, 200, w.Code, "a replica acknowledges again: %s %v", w.Body, errs.lastCause())
		assert.JSONEq(t, revokedBody, do(r, "GET", "/protected", later).Body.String())
	}
}

// stallReplication stops the replica (SIGSTOP) and writes junk bytes to
// the master at addr, more than the kernel buffers between them hold: the
// writes that follow wait in the master's memory, as behind a slow or
// congested replication link, and die with the master. It returns the
// master's output buffer for the replica, so the test can show the stall
// before it kills the master.
func stallReplication(t *testing.T, topo *redistest.Sentinel, addr string, junk int) (backlog func() int64) {
	t.Helper()
	master := topo.Node(addr)
	require.NotNil(t, master)
	c := master.Client(t)
	topo.Replica.Pause()
	t.Cleanup(topo.Replica.Resume)
	ctx := t.Context()
	require.NoError(t, c.Set(ctx, "stall:junk", strings.Repeat("x", junk), 0).Err())
	return func() int64 {
		list, err := c.ClientList(ctx).Result()
		require.NoError(t, err)
		for line := range strings.Lines(list) {
			if strings.Contains(line, "flags=S") {
				for field := range strings.FieldsSeq(line) {
					if v, ok := strings.CutPrefix(field, "omem="); ok {
						n, err := strconv.ParseInt(v, 10, 64)
						require.NoError(t, err)
						return n
					}
				}
			}
		}
		t.Fatal("the master lists no replica")
		return 0
	}
}

// Finding 5 of issue 21: a failover test that tells WithReplicaAcks on
// from off. A plain SIGKILL of the master on loopback loses nothing, as
// the replica is always in sync; here replication is stalled first (the
// replica stopped, 48 MB in flight), 50 logouts are sent at once, then
// the master is killed and the replica, resumed, is promoted. Without
// acks the logouts are acknowledged and lost with the master: their tokens
// are answered 200 again. With WithReplicaAcks none is acknowledged
// (503: try again), so none is lost. Logouts acknowledged before the
// stall survive either way.
func TestSentinelFailoverWithStalledReplication(t *testing.T) {
	for _, acks := range []bool{false, true} {
		t.Run(map[bool]string{false: "without_acks", true: "with_replica_acks"}[acks], func(t *testing.T) {
			t.Parallel()
			topo := redistest.StartSentinel(t)
			var opts []redisblocklist.Option
			if acks {
				opts = append(opts, redisblocklist.WithReplicaAcks(1, 300*time.Millisecond))
			}
			m := topoManager(t, mustNew(t, topo.FailoverClient(t), opts...), ginjwt.WithBlocklistTimeout(time.Second))
			var errs errorLog
			r := topoApp(m, &errs)
			before, valid := newToken(t, m), newToken(t, m)
			require.Equal(t, 200, do(r, "DELETE", "/logout", before).Code, errs.lastCause())
			oldMaster, err := topo.MasterAddr(t.Context())
			require.NoError(t, err)

			backlog := stallReplication(t, topo, oldMaster, 48<<20)
			tokens := make([]string, 50)
			for i := range tokens {
				tokens[i] = newToken(t, m)
			}
			codes := make([]int, len(tokens))
			var wg sync.WaitGroup
			for i, tok := range tokens {
				wg.Go(func() { codes[i] = do(r, "DELETE", "/logout", tok).Code })
			}
			wg.Wait()
			var acked []string
			for i, code := range codes {
				require.Contains(t, []int{200, 503}, code)
				if code == 200 {
					acked = append(acked, tokens[i])
				}
			}
			inFlight := backlog()
			topo.Node(oldMaster).Kill()
			topo.Replica.Resume()
			topo.WaitForFailover(t, oldMaster, 30*time.Second)
			eventually(t, r, valid, 200, "", 10*time.Second)

			lost := 0
			for _, tok := range acked {
				if do(r, "GET", "/protected", tok).Code == 200 {
					lost++
				}
			}
			t.Logf("replication stalled (%d bytes waiting in the master for the replica): %d of %d logouts acknowledged, %d of those lost in the failover",
				inFlight, len(acked), len(tokens), lost)
			assert.Greater(t, inFlight, int64(0), "replication was stalled when the master died")
			w := do(r, "GET", "/protected", before)
			assert.Equal(t, 401, w.Code, "a logout replicated before the stall survives")
			assert.JSONEq(t, revokedBody, w.Body.String())
			if acks {
				assert.Empty(t, acked, "no replica could acknowledge: every logout answered 503")
				assert.Zero(t, lost)
			} else {
				assert.Len(t, acked, len(tokens), "without acks the master acknowledges alone")
				assert.Positive(t, lost, "acknowledged logouts lost with the master: the test can tell acks on from off")
			}
		})
	}
}
