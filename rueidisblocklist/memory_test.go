package rueidisblocklist_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/rueidisblocklist"
	"github.com/ginjwt/ginjwt/rueidisblocklist/internal/rueidistest"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// heap returns the live heap after a full collection.
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

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

// The cache holds at most WithCacheSize answers: a flood of distinct token
// IDs, twenty times what fits, leaves at most that many answered from
// memory, and the heap grows by a bounded amount per answer. The heap per
// answer is logged for the README: go test -v -run TestMemoryIsBounded.
func TestMemoryIsBounded(t *testing.T) {
	srv := rueidistest.Start(t)
	raw := srv.Raw(t)
	const size = 1000
	// A long window: this test counts round trips, not pings.
	store := mustNew(t, srv.Client(t, "app", nil), rueidisblocklist.WithCacheSize(size),
		rueidisblocklist.WithFreshness(time.Minute))
	key := func(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i) } // a UUID's length, as jti
	warm(t, store, func() int { return rueidistest.CommandCalls(t, raw, "get") }, key(-1))

	keys := make([]string, size-1)
	for i := range keys {
		keys[i] = key(i)
	}
	flood := make([]string, 20*size)
	for i := range flood {
		flood[i] = key(size + i)
	}
	base := heap()
	require.Equal(t, len(keys), checkAll(t, store, raw, keys), "first checks ask Redis")
	grown := heap() - base
	require.Zero(t, checkAll(t, store, raw, keys), "they all fit: the second pass is from memory")
	t.Logf("heap per cached answer (key of %d bytes): %d bytes", len(keys[0]), grown/uint64(len(keys)))
	if !raceEnabled {
		assert.Less(t, grown/uint64(len(keys)), uint64(300), "an answer costs a few hundred bytes at most")
	}

	checkAll(t, store, raw, flood)
	afterFlood := heap() - base
	kept := len(flood) - checkAll(t, store, raw, flood)
	t.Logf("after %d distinct checks with WithCacheSize(%d): %d of them answered from memory, heap +%d bytes",
		len(flood), size, kept, afterFlood)
	assert.LessOrEqual(t, kept, size, "never more answers than the bound")
	if !raceEnabled {
		assert.Less(t, afterFlood, 2*grown+64<<10, "the heap stays at the bound's size")
	}
	checkAll(t, store, raw, keys[:1])
	assert.Zero(t, checkAll(t, store, raw, keys[:1]), "the cache still answers")
}
