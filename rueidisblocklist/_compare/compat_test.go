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
