package redisblocklist_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/blocklisttest"
	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/ginjwt/ginjwt/redisblocklist/internal/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A real 6-node Redis Cluster (3 masters, 3 replicas). The subtests share
// it, to start it once; the one that kills a master comes last.
func TestCluster(t *testing.T) {
	t.Parallel()
	cluster := redistest.StartCluster(t)

	t.Run("conformance", func(t *testing.T) {
		n := 0
		blocklisttest.Run(t, blocklisttest.Harness{
			New: func(t *testing.T) ginjwt.Blocklist {
				n++ // each subtest in its own key space, spread over the slots
				return mustNew(t, cluster.Client(t), redisblocklist.WithKeyPrefix(fmt.Sprintf("conformance:%d:", n)))
			},
			Now:   time.Now,
			Sleep: time.Sleep,
		})
	})

	t.Run("behind guards", func(t *testing.T) {
		n := 0
		blocklisttest.RunGuarded(t, func(t *testing.T) ginjwt.Blocklist {
			n++ // a key prefix per subtest: each store starts empty
			return mustNew(t, cluster.Client(t), redisblocklist.WithKeyPrefix(fmt.Sprintf("guarded:%d:", n)))
		})
	})

	t.Run("50 concurrent rotations of one refresh token, one winner", func(t *testing.T) {
		m := topoManager(t, mustNew(t, cluster.Client(t)), ginjwt.WithRefreshRotation())
		var errs errorLog
		r := topoApp(m, &errs)
		for round := range 3 {
			access, refresh, err := m.CreateTokenPair("alice")
			require.NoError(t, err)
			codes := make([]int, 50)
			bodies := make([]string, 50)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range codes {
				wg.Go(func() {
					<-start
					w := do(r, "POST", "/refresh", refresh)
					codes[i], bodies[i] = w.Code, w.Body.String()
				})
			}
			close(start)
			wg.Wait()
			wins := 0
			for i, code := range codes {
				switch code {
				case 200:
					wins++
					assert.Contains(t, bodies[i], `"refresh_token":"`)
					assert.Contains(t, bodies[i], `"access_token":"`)
				case 401:
					assert.JSONEq(t, revokedBody, bodies[i])
				default:
					t.Errorf("round %d: %d %s", round, code, bodies[i])
				}
			}
			assert.Equal(t, 1, wins, "round %d: exactly one new pair of 50", round)
			w := do(r, "GET", "/protected", access)
			assert.Equal(t, 401, w.Code, "round %d: the reuse revoked the login", round)
			assert.JSONEq(t, revokedBody, w.Body.String())
		}
	})

	t.Run("a master killed or hung during load", func(t *testing.T) {
		const timeout = time.Second
		// go-redis's defaults: the store has the client re-read the slot map
		// when a node fails (go-redis alone would wait for its 60 s
		// ClusterStateReloadInterval after the promotion).
		client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cluster.Addrs()})
		t.Cleanup(func() { _ = client.Close() })
		// Revocations wait for a replica, so the one promoted holds them.
		store := mustNew(t, client, redisblocklist.WithReplicaAcks(1, 300*time.Millisecond))
		m := topoManager(t, store, ginjwt.WithBlocklistTimeout(timeout), ginjwt.WithRefreshRotation())
		var errs errorLog
		r := topoApp(m, &errs)
		for round := range failoverRounds() {
			// Two tokens whose session keys hash to one master's slots,
			// and one whose keys (session and ID) are all on others.
			victim := cluster.MasterOf(t, keyOf(t, m, newToken(t, m)))
			onVictim := func(want bool) string {
				for range 200 {
					tok := newToken(t, m)
					onIt := cluster.MasterOf(t, keyOf(t, m, tok)) == victim
					if !want {
						onIt = onIt || cluster.MasterOf(t, jtiKeyOf(t, m, tok)) == victim
					}
					if onIt == want {
						return tok
					}
				}
				t.Fatal("no token key hashed where wanted in 200 tries")
				return ""
			}
			loggedOut, valid, elsewhere := onVictim(true), onVictim(true), onVictim(false)
			// And a login of the rotation: its guards check two keys (the
			// token's and its family's) in one pipeline over the shards.
			pairAccess, pairRefresh, err := m.CreateTokenPair("bob")
			require.NoError(t, err)
			w := do(r, "DELETE", "/logout", loggedOut)
			require.Equal(t, 200, w.Code, "%s %v", w.Body, errs.lastCause())
			require.JSONEq(t, revokedBody, do(r, "GET", "/protected", loggedOut).Body.String())
			require.Equal(t, 200, do(r, "GET", "/protected", valid).Code)
			require.Equal(t, 200, do(r, "GET", "/protected", elsewhere).Code)

			var revokedSeen, validSeen, elsewhereSeen, pairSeen outcomes
			stop := make(chan struct{})
			waits := []func(){
				hammer(r, loggedOut, 3, &revokedSeen, stop, 401, 503),
				hammer(r, valid, 3, &validSeen, stop, 200, 503),
				hammer(r, elsewhere, 2, &elsewhereSeen, stop, 200, 503),
				hammer(r, pairAccess, 2, &pairSeen, stop, 200, 503),
			}
			time.Sleep(100 * time.Millisecond)
			killed := time.Now()
			if masterHangs(round) {
				victim.Pause()
			} else {
				victim.Kill()
			}
			promoted := cluster.WaitForPromotion(t, victim, 30*time.Second)
			// Clients find the new master on their own, without a restart.
			recovered := eventually(t, r, valid, 200, "", 15*time.Second)
			eventually(t, r, loggedOut, 401, revokedBody, 5*time.Second)
			close(stop)
			for _, w := range waits {
				w()
			}
			t.Logf("round %d: replica promoted %v after the master was %s (cluster-node-timeout %v); "+
				"valid tokens answered 200 again %v later (%v after the master went)", round, promoted.Round(time.Millisecond),
				how(round), redistest.NodeTimeout, recovered.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))

			for _, o := range []struct {
				name string
				seen *outcomes
			}{{"revoked token", &revokedSeen}, {"valid token on the killed master", &validSeen}, {"valid token elsewhere", &elsewhereSeen}, {"token of a rotating login", &pairSeen}} {
				byStatus, unexpected, slowest := o.seen.snapshot()
				t.Logf("round %d: %s during the failover: %v, slowest %v", round, o.name, byStatus, slowest)
				assert.Empty(t, unexpected, "%s: only the allowed answers, with flask's JSON", o.name)
				assert.Less(t, slowest, timeout+topoMargin, "%s: each answer within the blocklist timeout", o.name)
			}
			byStatus, _, _ := revokedSeen.snapshot()
			assert.Zero(t, byStatus[200], "never 200 for the revoked token")
			byStatus, _, _ = validSeen.snapshot()
			assert.NotZero(t, byStatus[503], "the outage was seen: the test did run during it")

			// The login rotates once, as before the failover.
			w = do(r, "POST", "/refresh", pairRefresh)
			if w.Code == 503 {
				// Its family record is on the promoted master, which has
				// no replica to acknowledge the rotation yet.
				assert.JSONEq(t, unavailableMsg, w.Body.String())
			} else {
				assert.Equal(t, 200, w.Code, w.Body.String())
				w = do(r, "POST", "/refresh", pairRefresh)
				assert.Equal(t, 401, w.Code, "a used refresh token is refused")
				assert.JSONEq(t, revokedBody, w.Body.String())
			}

			// After the promotion the store takes writes again where a
			// replica can acknowledge them; on the promoted master, which
			// has none left, a logout fails closed until a replica joins.
			w = do(r, "DELETE", "/logout", elsewhere)
			assert.Equal(t, 200, w.Code, "%s %v", w.Body, errs.lastCause())
			assert.JSONEq(t, revokedBody, do(r, "GET", "/protected", elsewhere).Body.String())
			logoutRefused(t, do(r, "DELETE", "/logout", valid), redisblocklist.ErrReplicaAcks, &errs)

			// The old master comes back (restarted, or resumed) and the
			// cluster makes it a replica of its successor.
			start := time.Now()
			if masterHangs(round) {
				victim.Resume()
			} else {
				victim.Restart(t)
			}
			cluster.WaitHealthy(t, 30*time.Second)
			t.Logf("round %d: the old master, back, replicates its successor after %v", round, time.Since(start).Round(time.Millisecond))
			later := onVictimShard(t, cluster, m, keyOf(t, m, valid))
			// Calls left hanging on a paused master fail when it resumes,
			// which can open the breaker for a moment.
			back := eventually(t, r, later, 200, "", 5*time.Second)
			t.Logf("round %d: guards answer 200 %v after that", round, back.Round(time.Millisecond))
			w = do(r, "DELETE", "/logout", later)
			assert.Equal(t, 200, w.Code, "a replica acknowledges again: %s %v", w.Body, errs.lastCause())
			assert.JSONEq(t, revokedBody, do(r, "GET", "/protected", later).Body.String())
		}
	})
}

// onVictimShard returns a new token whose blocklist key is served by the
// master now serving key.
func onVictimShard(t *testing.T, cluster *redistest.Cluster, m *ginjwt.Manager, key string) string {
	master := cluster.MasterOf(t, key)
	for range 200 {
		tok := newToken(t, m)
		if cluster.MasterOf(t, keyOf(t, m, tok)) == master {
			return tok
		}
	}
	t.Fatal("no token key hashed where wanted in 200 tries")
	return ""
}

func newToken(t *testing.T, m *ginjwt.Manager) string {
	tok, err := m.CreateAccessToken("alice")
	require.NoError(t, err)
	return tok
}

// keyOf returns the Redis key that a logout writes for token in the
// default key space: its session's.
func keyOf(t *testing.T, m *ginjwt.Manager, token string) string {
	tok, err := m.DecodeToken(token)
	require.NoError(t, err)
	return "ginjwt:revoked:fam:" + tok.Claims.SessionID()
}

// jtiKeyOf returns the other key a guard checks for token: its own ID's.
func jtiKeyOf(t *testing.T, m *ginjwt.Manager, token string) string {
	tok, err := m.DecodeToken(token)
	require.NoError(t, err)
	return "ginjwt:revoked:" + tok.Claims.JTI
}
