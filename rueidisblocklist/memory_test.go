package rueidisblocklist_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/ginjwt/ginjwt/rueidisblocklist"
	"github.com/ginjwt/ginjwt/rueidisblocklist/rueidistest"
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

// checkAll checks keys in batches of 100 (one DoMultiCache each) and
// returns how many of them Redis was asked about, the others having been
// answered from memory.
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

// The cache of each connection is bounded by CacheSizeEachConn (bytes, as
// rueidis counts them, about 240 an answer; the heap holds about 2.5 times
// that): a flood of distinct token IDs, several times what fits, evicts
// the least recently used answers and the heap stays within a small
// multiple of the bound. The figures (entries that fit, heap bytes
// per entry) are logged for the README: go test -v -run TestMemoryIsBounded.
func TestMemoryIsBounded(t *testing.T) {
	srv := rueidistest.Start(t)
	raw := srv.Raw(t)
	const bound = 1 << 20 // bytes of cache in the one connection
	opt := rueidisblocklist.ClientOption(srv.Addr)
	opt.CacheSizeEachConn = bound
	opt.PipelineMultiplex = 0 // one connection, so one cache
	client, err := rueidis.NewClient(opt)
	require.NoError(t, err)
	t.Cleanup(client.Close)
	store := rueidisblocklist.New(client)
	key := func(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i) } // a UUID's length, as jti
	warm := []string{key(-1)}
	checkAll(t, store, raw, warm) // the connection and its buffers exist before measuring

	// How many answers fit: check n keys, then again; the second pass asks
	// Redis only for those evicted.
	const small = 1000
	keys := make([]string, small)
	for i := range keys {
		keys[i] = key(i)
	}
	flood := make([]string, 0, 20000)
	for i := range 20000 {
		flood = append(flood, key(small+i))
	}
	reversed := slices.Clone(flood)
	slices.Reverse(reversed)
	base := heap()
	require.Equal(t, small, checkAll(t, store, raw, keys), "first checks ask Redis")
	grown := heap() - base
	require.Zero(t, checkAll(t, store, raw, keys), "1000 answers fit in 1 MiB: the second pass is from memory")
	perEntry := float64(grown) / small
	t.Logf("heap per cached answer (key of %d bytes): %.0f bytes", len("ginjwt:revoked:")+len(keys[0]), perEntry)

	// A flood ten times larger than the bound holds.
	checkAll(t, store, raw, flood)
	afterFlood := heap() - base
	// Newest first, so that the answers kept are found before misses
	// evict them.
	missed := checkAll(t, store, raw, reversed)
	kept := len(flood) - missed
	t.Logf("after %d distinct checks with CacheSizeEachConn = %d: %d answers kept (%d bytes each as rueidis counts them), heap +%d bytes",
		len(flood), bound, kept, bound/max(kept, 1), afterFlood)
	assert.Greater(t, missed, len(flood)/2, "most of the flood was evicted")
	assert.Greater(t, kept, 500, "the cache is still in use")
	assert.Less(t, kept, bound/200, "rueidis counts at least 200 bytes an answer")
	assert.Less(t, afterFlood, uint64(4*bound), "the heap stays within a small multiple of the bound")
	t.Logf("heap per kept answer after the flood: %d bytes", afterFlood/uint64(kept))
}
