package compare_test

import (
	"context"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/ginjwt/ginjwt/rueidisblocklist"
	"github.com/ginjwt/ginjwt/rueidisblocklist/internal/rueidistest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secret = "rueidis-test-secret-0123456789abcdef012"

// Both Redis stores share one Redis: same keys, same TTLs, same family
// records, so a fleet can move from one to the other instance by instance.
func TestSharesRedisWithTheGoRedisStore(t *testing.T) {
	srv := rueidistest.Start(t)
	ctx := context.Background()
	goredis := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = goredis.Close() })
	old, err := redisblocklist.New(goredis)
	require.NoError(t, err)
	cached, err := rueidisblocklist.New(srv.Client(t, "app", nil))
	require.NoError(t, err)

	// Cached "not revoked" on both sides first, so the invalidation is
	// what makes the revocations visible.
	for _, s := range []ginjwt.Blocklist{old, cached} {
		revoked, err := s.IsRevoked(ctx, "by-old", "by-new")
		require.NoError(t, err)
		require.False(t, revoked)
	}
	require.NoError(t, old.Revoke(ctx, "by-old", time.Now().Add(time.Hour)))
	require.NoError(t, cached.Revoke(ctx, "by-new", time.Now().Add(30*time.Minute)))
	for _, s := range []ginjwt.Blocklist{old, cached} {
		for _, key := range []string{"by-old", "by-new"} {
			require.Eventually(t, func() bool {
				revoked, err := s.IsRevoked(ctx, key)
				return err == nil && revoked
			}, time.Second, time.Millisecond, "%T does not see %s", s, key)
		}
	}
	ttl, err := goredis.PTTL(ctx, "ginjwt:revoked:by-new").Result()
	require.NoError(t, err)
	assert.InDelta(t, float64(30*time.Minute), float64(ttl), float64(time.Second), "same key, TTL = remaining lifetime")

	// Revoking again through the other store keeps the longer lifetime.
	require.NoError(t, old.Revoke(ctx, "by-new", time.Now().Add(time.Minute)))
	ttl, err = goredis.PTTL(ctx, "ginjwt:revoked:by-new").Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 29*time.Minute)
	require.NoError(t, cached.Revoke(ctx, "by-old", time.Now().Add(2*time.Hour)))
	ttl, err = goredis.PTTL(ctx, "ginjwt:revoked:by-old").Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 119*time.Minute)

	// One family record, moved on by either store.
	won, err := old.Rotate(ctx, "fam", "r1", "r2", time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.True(t, won)
	cur, err := cached.Current(ctx, "fam")
	require.NoError(t, err)
	assert.Equal(t, "r2", cur)
	won, err = cached.Rotate(ctx, "fam", "r1", "r3", time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.False(t, won, "r1 was already rotated away through the other store")
	won, err = cached.Rotate(ctx, "fam", "r2", "r3", time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.True(t, won)
	cur, err = old.Current(ctx, "fam")
	require.NoError(t, err)
	assert.Equal(t, "r3", cur)
}

// Identities and the session list too: a cutoff or a session written
// through either store is read, merged and ended through the other.
func TestSharesIdentitiesAndSessions(t *testing.T) {
	srv := rueidistest.Start(t)
	ctx := context.Background()
	goredis := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = goredis.Close() })
	old, err := redisblocklist.New(goredis)
	require.NoError(t, err)
	cached, err := rueidisblocklist.New(srv.Client(t, "app", nil))
	require.NoError(t, err)
	stores := []ginjwt.IdentityRevoker{old, cached}
	now := time.Now().Truncate(time.Millisecond)

	for _, s := range stores { // "not revoked" cached first
		revoked, err := s.IsRevokedFor(ctx, "alice", now.Add(-time.Second), "jti")
		require.NoError(t, err)
		require.False(t, revoked)
	}
	require.NoError(t, old.RevokeIdentity(ctx, "alice", now, now.Add(time.Minute)))
	require.NoError(t, cached.RevokeIdentity(ctx, "alice", now.Add(-time.Hour), now.Add(time.Hour)))
	for _, s := range stores {
		require.Eventually(t, func() bool {
			revoked, err := s.IsRevokedFor(ctx, "alice", now.Add(-time.Millisecond), "jti")
			return err == nil && revoked
		}, time.Second, time.Millisecond, "%T does not see the cutoff", s)
		revoked, err := s.IsRevokedFor(ctx, "alice", now, "jti")
		require.NoError(t, err)
		assert.False(t, revoked, "%T: the later cutoff kept, not moved", s)
	}
	ttl, err := goredis.PTTL(ctx, "ginjwt:revoked:\xffi:616c696365").Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 59*time.Minute, "the longer record kept")

	s1 := ginjwt.Session{ID: "s-1", Identity: "alice", Created: now, Expires: now.Add(time.Hour), UserAgent: "curl/8", ClientIP: "192.0.2.7"}
	require.NoError(t, old.SaveSession(ctx, s1))
	require.NoError(t, cached.TouchSession(ctx, "alice", "s-1", now.Add(time.Second), now.Add(2*time.Hour)))
	list, err := old.Sessions(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, list, 1)
	s1.Renewed, s1.Expires = now.Add(time.Second), now.Add(2*time.Hour)
	assert.Equal(t, s1, list[0])
	require.NoError(t, old.DeleteSession(ctx, "alice", "s-1"))
	list, err = cached.Sessions(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, list)
}
