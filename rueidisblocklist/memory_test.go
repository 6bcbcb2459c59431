package rueidisblocklist_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/rueidisblocklist"
	"github.com/ginjwt/ginjwt/rueidisblocklist/internal/rueidistest"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkAll checks keys in batches of 100 and returns how many of them
// Redis was asked about, the others having been answered from memory.
func checkAll(t *testing.T, store *rueidisblocklist.Store, raw rueidis.Client, keys []string) int {
	t.Helper()
	before := rueidistest.CommandCalls(t, raw, "get")
	for i := 0; i < len(keys); i += 100 {
		revoked, err := store.IsRevoked(context.Background(), keys[i:min(i+100, len(keys))]...)
		require.NoError(t, err)
		require.False(t, revoked)
	}
	return rueidistest.CommandCalls(t, raw, "get") - before
}

// Through Redis, a flood of distinct token IDs, twenty times what the
// budget holds, while clients keep sending a few hot tokens: the hot
// tokens stay answered from memory, the flood is not (the heap the budget
// stands for is held by TestCacheBytesPerAnswer).
func TestFloodKeepsHotTokensCached(t *testing.T) {
	srv := rueidistest.Start(t)
	raw := srv.Raw(t)
	const budget = 256 << 10 // about 1,200 answers
	// A long window: this test counts round trips, not pings.
	store := mustNew(t, srv.Client(t, "app", nil), rueidisblocklist.WithCacheBytes(budget),
		rueidisblocklist.WithFreshness(time.Minute))
	key := func(i int) string { return fmt.Sprintf("%08x-0000-7000-8000-%012x", i, i) }
	hot := []string{key(-1), key(-2), key(-3), key(-4)}
	warm(t, store, func() int { return rueidistest.CommandCalls(t, raw, "get") }, hot...)
	flood := make([]string, 20*budget/200/100*100)
	for i := range flood {
		flood[i] = key(i)
	}
	for i := 0; i < len(flood); i += 100 {
		assert.Equal(t, 100, checkAll(t, store, raw, flood[i:i+100]), "a flood token is asked once")
		require.Zero(t, checkAll(t, store, raw, hot), "after %d flood tokens, a hot one was asked again", i+100)
	}
	assert.Greater(t, checkAll(t, store, raw, flood), len(flood)*9/10, "the flood was not kept")
}

// However small the budget, an answer "not revoked" is true under the
// freshness rule: B checks four times more tokens than it can hold, so its
// cache evicts all the time, and the first check on B after A's Revoke
// returned refuses the token, in every trial.
func TestSmallCacheStaysTrue(t *testing.T) {
	srv := rueidistest.Start(t)
	a := mustNew(t, srv.Client(t, "instance-a", nil))
	b := mustNew(t, srv.Client(t, "instance-b", nil), rueidisblocklist.WithCacheBytes(64<<10)) // about 300 answers
	ctx := context.Background()
	keys := make([]string, 1200)
	for i := range keys {
		keys[i] = fmt.Sprintf("%08x-0000-7000-8000-%012x", i, i)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { // the churn: B's clients check every token in turn
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, _ = b.IsRevoked(ctx, keys[i%len(keys)])
		}
	}()
	defer func() { close(stop); <-done }()
	for trial := range 100 {
		k := keys[(trial*37)%len(keys)]
		revoked, err := b.IsRevoked(ctx, k)
		require.NoError(t, err)
		require.False(t, revoked)
		require.NoError(t, a.Revoke(ctx, k, time.Now().Add(time.Hour)))
		revoked, err = b.IsRevoked(ctx, k)
		require.NoError(t, err)
		require.True(t, revoked, "trial %d: B answered 'not revoked' after A's Revoke returned", trial)
	}
}
