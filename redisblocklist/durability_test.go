package redisblocklist_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/ginjwt/ginjwt/redisblocklist/internal/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Revoking one key twice keeps the longer lifetime, whatever the order;
// no expiry is the longest. (SET used to overwrite the TTL: a family
// revoked forever could come back after a token's 15 minutes.)
func TestRevokeTwiceKeepsTheLongerLifetime(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client(t)
	store := mustNew(t, client, redisblocklist.WithKeyPrefix("p:"))
	ctx := context.Background()
	hour, minute := time.Now().Add(time.Hour), time.Now().Add(time.Minute)
	pttl := func(key string) time.Duration {
		d, err := client.PTTL(ctx, "p:"+key).Result()
		require.NoError(t, err)
		return d
	}
	for _, tc := range []struct {
		name         string
		first, again time.Time
		want         time.Duration // -1: no expiry
	}{
		{"shorter second", hour, minute, time.Hour},
		{"longer second", minute, hour, time.Hour},
		{"forever then an hour", time.Time{}, hour, -1},
		{"an hour then forever", hour, time.Time{}, -1},
		{"an hour then the past", hour, time.Now().Add(-time.Second), time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, store.Revoke(ctx, tc.name, tc.first))
			require.NoError(t, store.Revoke(ctx, tc.name, tc.again))
			got := pttl(tc.name)
			if tc.want < 0 {
				assert.Equal(t, time.Duration(-1), got, "no expiry")
				return
			}
			assert.InDelta(t, float64(tc.want), float64(got), float64(2*time.Second))
		})
	}
}

// A logout acknowledged by a redis-server with the AOF (appendfsync
// always) survives the server being killed and restarted: the token is
// still refused.
func TestRevocationSurvivesRestartWithAOF(t *testing.T) {
	srv := redistest.StartWith(t, redistest.ServerConfig{AppendOnly: true})
	store := mustNew(t, srv.DefaultClient(t))
	g := newGuarded(t, store)
	access, err := g.m.CreateAccessToken("alice")
	require.NoError(t, err)
	other, err := g.m.CreateAccessToken("bob")
	require.NoError(t, err)
	w := send(g.r, "DELETE", "/logout", access)
	require.Equal(t, 200, w.Code, w.Body.String())
	rotated, err := store.Rotate(context.Background(), "fam-1", "", "r1", time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.True(t, rotated)

	srv.Restart(t) // SIGKILL: no shutdown save

	w = send(g.r, "GET", "/protected", access)
	assert.Equal(t, 401, w.Code)
	assert.JSONEq(t, `{"msg":"Token has been revoked"}`, w.Body.String())
	assert.Equal(t, 200, send(g.r, "GET", "/protected", other).Code)
	cur, err := store.Current(context.Background(), "fam-1")
	require.NoError(t, err)
	assert.Equal(t, "r1", cur, "the family's current token survived too")
}

// The control: without persistence a restart forgets revocations, which
// is why the README asks for the AOF.
func TestRevocationLostOnRestartWithoutPersistence(t *testing.T) {
	srv := redistest.Start(t)
	store := mustNew(t, srv.DefaultClient(t))
	ctx := context.Background()
	require.NoError(t, store.Revoke(ctx, "jti-1", time.Now().Add(time.Hour)))
	srv.Restart(t)
	revoked, err := store.IsRevoked(ctx, "jti-1")
	require.NoError(t, err)
	assert.False(t, revoked, "no AOF: the revocation is gone")
}

// startReplicated starts a master and one replica and waits until the
// replica is in sync.
func startReplicated(t *testing.T) (master, replica *redistest.Server) {
	t.Helper()
	master = redistest.Start(t)
	replica = redistest.StartWith(t, redistest.ServerConfig{ReplicaOf: master.Addr})
	mc := master.Client(t)
	// Online is not enough: after a diskless sync, Redis 7 streams writes
	// (and WAIT's acknowledgements) to a replica only after its first
	// ACK, up to a second later. Wait until a write is acknowledged.
	require.Eventually(t, func() bool {
		ctx := context.Background()
		if mc.Set(ctx, "startReplicated:probe", "1", time.Minute).Err() != nil {
			return false
		}
		n, err := mc.Wait(ctx, 1, 100*time.Millisecond).Result()
		return err == nil && n >= 1
	}, 10*time.Second, 20*time.Millisecond, "the replica did not acknowledge a write")
	return master, replica
}

// WithReplicaAcks: a revocation returns once the replica holds it; with
// the replica stuck it returns ErrReplicaAcks within the WAIT timeout, so
// the logout handler knows the logout may not survive a failover. Checks
// are unaffected and the breaker stays closed.
func TestReplicaAcks(t *testing.T) {
	master, replica := startReplicated(t)
	const ackTimeout = 200 * time.Millisecond
	// Redis ends a WAIT on its timeout at its next tick, hz (10) times a
	// second.
	const tick = 100 * time.Millisecond
	store := mustNew(t, master.DefaultClient(t), redisblocklist.WithKeyPrefix("p:"),
		redisblocklist.WithReplicaAcks(1, ackTimeout))
	g := newGuarded(t, store, ginjwt.WithBlocklistTimeout(time.Second))
	rc := replica.Client(t)
	ctx := context.Background()

	access, err := g.m.CreateAccessToken("alice")
	require.NoError(t, err)
	w := send(g.r, "DELETE", "/logout", access)
	require.Equal(t, 200, w.Code, w.Body.String())
	onReplica := newGuarded(t, mustNew(t, rc, redisblocklist.WithKeyPrefix("p:")))
	w = send(onReplica.r, "GET", "/protected", access)
	assert.Equal(t, 401, w.Code, "acknowledged: the replica holds it (%s)", w.Body)
	ok, err := store.Rotate(ctx, "fam", "", "r1", time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.True(t, ok)
	cur, err := rc.Get(ctx, "p:cur:fam").Result()
	require.NoError(t, err)
	assert.Equal(t, "r1", cur)

	replica.Pause(t)
	other, err := g.m.CreateAccessToken("bob")
	require.NoError(t, err)
	start := time.Now()
	w = send(g.r, "DELETE", "/logout", other)
	took := time.Since(start)
	assert.Equal(t, 503, w.Code)
	assert.JSONEq(t, `{"msg":"Logout failed, try again"}`, w.Body.String())
	assert.ErrorIs(t, g.lastError(), redisblocklist.ErrReplicaAcks)
	assert.GreaterOrEqual(t, took, ackTimeout)
	assert.Less(t, took, ackTimeout+tick+margin, "logout answered after %v", took)

	start = time.Now()
	_, err = store.Rotate(ctx, "fam", "r1", "r2", time.Now().Add(time.Hour))
	took = time.Since(start)
	assert.ErrorIs(t, err, redisblocklist.ErrReplicaAcks)
	assert.Less(t, took, ackTimeout+tick+margin, "Rotate answered after %v", took)
	ok, err = store.Rotate(ctx, "fam", "r1", "r3", time.Now().Add(time.Hour))
	require.NoError(t, err, "a lost compare writes nothing, so waits for nothing")
	assert.False(t, ok)

	for i := range redisblocklist.DefaultBreakerFailures {
		assert.ErrorIs(t, store.Revoke(ctx, fmt.Sprint("more-", i), time.Time{}), redisblocklist.ErrReplicaAcks)
	}
	// Redis answered all along: the breaker stays closed, reads go on,
	// and the master still refuses what it holds.
	third, err := g.m.CreateAccessToken("carol")
	require.NoError(t, err)
	assert.Equal(t, 200, send(g.r, "GET", "/protected", third).Code)
	w = send(g.r, "GET", "/protected", other)
	assert.Equal(t, 401, w.Code)
	assert.JSONEq(t, `{"msg":"Token has been revoked"}`, w.Body.String())

	// Timeout 0: WAIT for half the time left before the caller's deadline.
	auto := mustNew(t, master.DefaultClient(t), redisblocklist.WithReplicaAcks(1, 0))
	tctx, cancel := context.WithTimeout(ctx, 400*time.Millisecond)
	defer cancel()
	start = time.Now()
	err = auto.Revoke(tctx, "jti-auto", time.Time{})
	assert.ErrorIs(t, err, redisblocklist.ErrReplicaAcks, "WAIT returned before the deadline")
	assert.Less(t, time.Since(start), 400*time.Millisecond)

	replica.Resume()
	two := mustNew(t, master.DefaultClient(t), redisblocklist.WithReplicaAcks(2, 100*time.Millisecond))
	err = two.Revoke(ctx, "jti-two", time.Time{})
	assert.ErrorIs(t, err, redisblocklist.ErrReplicaAcks, "two acks asked, one replica")
	assert.ErrorContains(t, err, "1 of 2")
}

// WAIT needs a connection to the key's master: New refuses a client that
// cannot give one (a Ring) rather than let writes claim acks.
func TestReplicaAcksNeedAKnownClient(t *testing.T) {
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}}) // never dialled
	t.Cleanup(func() { _ = ring.Close() })
	_, err := redisblocklist.New(ring, redisblocklist.WithReplicaAcks(1, 100*time.Millisecond))
	assert.ErrorContains(t, err, "WithReplicaAcks needs a *redis.Client or *redis.ClusterClient")
	_, err = redisblocklist.New(ring)
	assert.NoError(t, err, "a Ring without acks is fine")
}

// ginjwt's ready-made LogoutHandler: a revocation the replica did not
// acknowledge is a 503 (the logout did not happen, the client retries),
// and an acknowledged one survives on the replica.
func TestReplicaAcksThroughLogoutHandler(t *testing.T) {
	master, replica := startReplicated(t)
	store := mustNew(t, master.DefaultClient(t), redisblocklist.WithKeyPrefix("p:"),
		redisblocklist.WithReplicaAcks(1, 200*time.Millisecond))
	g := newGuarded(t, store)
	g.r.DELETE("/logout-ready", g.m.JWTRequired(ginjwt.VerifyType(false)), g.m.LogoutHandler())

	alice, err := g.m.CreateAccessToken("alice")
	require.NoError(t, err)
	w := send(g.r, "DELETE", "/logout-ready", alice)
	require.Equal(t, 200, w.Code, w.Body.String())
	assert.JSONEq(t, `{"msg":"Access token successfully revoked"}`, w.Body.String())
	onReplica := newGuarded(t, mustNew(t, replica.Client(t), redisblocklist.WithKeyPrefix("p:")))
	w = send(onReplica.r, "GET", "/protected", alice)
	assert.Equal(t, 401, w.Code, "the replica holds the acknowledged logout (%s)", w.Body)

	replica.Pause(t)
	bob, err := g.m.CreateAccessToken("bob")
	require.NoError(t, err)
	w = send(g.r, "DELETE", "/logout-ready", bob)
	assert.Equal(t, 503, w.Code)
	assert.JSONEq(t, `{"msg":"Token revocation status is unavailable"}`, w.Body.String())
	assert.ErrorIs(t, g.lastError(), redisblocklist.ErrReplicaAcks)
}

// On a ClusterClient the WAIT goes to the master that took the write, on
// the same connection: a one-master cluster with one replica, both real
// cluster-enabled redis-servers.
func TestReplicaAcksOnCluster(t *testing.T) {
	ctx := context.Background()
	cluster := redistest.ServerConfig{Args: []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"}}
	master, replica := redistest.StartWith(t, cluster), redistest.StartWith(t, cluster)
	mc, rc := master.Client(t), replica.Client(t)
	require.NoError(t, mc.ClusterAddSlotsRange(ctx, 0, 16383).Err())
	host, port, _ := strings.Cut(master.Addr, ":")
	require.NoError(t, rc.Do(ctx, "cluster", "meet", host, port, master.BusPort).Err())
	id, err := mc.ClusterMyID(ctx).Result()
	require.NoError(t, err)
	require.Eventually(t, func() bool { return rc.ClusterReplicate(ctx, id).Err() == nil }, 10*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool {
		info, err := mc.Info(ctx, "replication").Result()
		state, err2 := mc.ClusterInfo(ctx).Result()
		return err == nil && err2 == nil && strings.Contains(info, "state=online") && strings.Contains(state, "cluster_state:ok")
	}, 10*time.Second, 50*time.Millisecond, "the cluster did not form")

	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{master.Addr}})
	t.Cleanup(func() { _ = cc.Close() })
	store := mustNew(t, cc, redisblocklist.WithKeyPrefix("p:"), redisblocklist.WithReplicaAcks(1, 200*time.Millisecond))
	require.NoError(t, store.Revoke(ctx, "jti-1", time.Now().Add(time.Hour)))
	ok, err := store.Rotate(ctx, "fam", "", "r1", time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.True(t, ok)
	onReplica := rc.Conn()
	defer func() { _ = onReplica.Close() }()
	require.NoError(t, onReplica.ReadOnly(ctx).Err())
	for _, key := range []string{"p:jti-1", "p:cur:fam"} {
		n, err := onReplica.Exists(ctx, key).Result()
		require.NoError(t, err)
		assert.EqualValues(t, 1, n, "the replica holds %s", key)
	}

	replica.Pause(t)
	start := time.Now()
	err = store.Revoke(ctx, "jti-2", time.Now().Add(time.Hour))
	assert.ErrorIs(t, err, redisblocklist.ErrReplicaAcks)
	assert.Less(t, time.Since(start), time.Second)
	_, err = store.Rotate(ctx, "fam", "r1", "r2", time.Now().Add(time.Hour))
	assert.ErrorIs(t, err, redisblocklist.ErrReplicaAcks)
}

// WithReplicaAcks covers the writes of RevokeIdentity and of the session
// list too: acknowledged ones are on the replica, and with the replica
// stuck they fail with ErrReplicaAcks (a touch of an absent session
// writes nothing, so waits for nothing).
func TestReplicaAcksCoverIdentitiesAndSessions(t *testing.T) {
	master, replica := startReplicated(t)
	store := mustNew(t, master.DefaultClient(t), redisblocklist.WithKeyPrefix("p:"),
		redisblocklist.WithReplicaAcks(1, 200*time.Millisecond))
	onReplica := mustNew(t, replica.Client(t), redisblocklist.WithKeyPrefix("p:"))
	ctx := context.Background()
	now := time.Now()

	require.NoError(t, store.RevokeIdentity(ctx, "alice", now, now.Add(time.Hour)))
	revoked, err := onReplica.IsRevokedFor(ctx, "alice", now.Add(-time.Second))
	require.NoError(t, err)
	assert.True(t, revoked, "acknowledged: the replica holds the cutoff")
	s := ginjwt.Session{ID: "s-1", Identity: "alice", Created: now, Expires: now.Add(time.Hour)}
	require.NoError(t, store.SaveSession(ctx, s))
	require.NoError(t, store.TouchSession(ctx, "alice", "s-1", now, now.Add(2*time.Hour)))
	list, err := onReplica.Sessions(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, list, 1, "acknowledged: the replica holds the session")
	assert.Equal(t, now.Add(2*time.Hour).UnixMilli(), list[0].Expires.UnixMilli())

	replica.Pause(t)
	assert.ErrorIs(t, store.RevokeIdentity(ctx, "bob", now, now.Add(time.Hour)), redisblocklist.ErrReplicaAcks)
	assert.ErrorIs(t, store.SaveSession(ctx, ginjwt.Session{ID: "s-2", Identity: "bob", Expires: now.Add(time.Hour)}),
		redisblocklist.ErrReplicaAcks)
	assert.ErrorIs(t, store.TouchSession(ctx, "alice", "s-1", now, now.Add(3*time.Hour)), redisblocklist.ErrReplicaAcks)
	assert.ErrorIs(t, store.DeleteSession(ctx, "alice", "s-1"), redisblocklist.ErrReplicaAcks)
	assert.NoError(t, store.TouchSession(ctx, "carol", "none", now, now.Add(time.Hour)), "nothing written, nothing to wait for")
}
