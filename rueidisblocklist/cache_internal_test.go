package rueidisblocklist

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// jtiKey is a key of a UUID's length, as a token's ID.
func jtiKey(i int) string { return fmt.Sprintf("%08x-0000-7000-8000-%012x", i, i) }

func newTestCache(budget int) *cache {
	c := &cache{}
	c.init("p:", budget)
	return c
}

// fill stores an answer for each key, as a check that found it not
// revoked would.
func fill(c *cache, keys ...string) {
	for _, k := range keys {
		c.store(k, answer{until: mono() + int64(time.Hour)}, c.version(k))
	}
}

func cached(c *cache, key string) bool {
	_, ok := c.lookup([]string{key}, nil, time.Time{}, mono())
	return ok
}

// A hot answer survives a scan of cold ones: it is asked for between
// them, and moves to the main queue, which the scan's answers, asked once,
// never reach. (First in, first out would drop it once the scan passed
// the budget.)
func TestCacheKeepsAHotAnswerThroughAScan(t *testing.T) {
	const budget = 256 << 10 // about 1,200 answers
	c := newTestCache(budget)
	hot := []string{jtiKey(-1), jtiKey(-2), jtiKey(-3)}
	fill(c, hot...)
	for i := range 20 * budget / answerCost(jtiKey(0)) {
		fill(c, jtiKey(i))
		for _, k := range hot {
			if !cached(c, k) {
				t.Fatalf("the hot answer %s was evicted after %d cold ones", k, i)
			}
		}
	}
	answers, bytes := c.stats()
	if bytes > budget {
		t.Errorf("%d bytes accounted for %d answers, over the budget of %d", bytes, answers, budget)
	}
}

// An invalidated answer is gone at once, and an answer asked before the
// invalidation is not stored after it; the slot it leaves counts until
// eviction reaches it, so the budget holds.
func TestCacheInvalidation(t *testing.T) {
	c := newTestCache(minCacheBytes)
	fill(c, "a", "b")
	v := c.version("a")
	c.drop("a")
	if cached(c, "a") || !cached(c, "b") {
		t.Fatal("drop(a) must forget a, and only a")
	}
	c.store("a", answer{until: mono() + int64(time.Hour)}, v)
	if cached(c, "a") {
		t.Error("an answer asked before the invalidation was stored after it")
	}
	fill(c, "a")
	if !cached(c, "a") {
		t.Error("an answer asked after the invalidation is stored")
	}
	for i := range 10 * minCacheBytes / answerCost(jtiKey(0)) {
		fill(c, jtiKey(i))
		c.drop(jtiKey(i / 2))
	}
	if _, bytes := c.stats(); bytes > minCacheBytes {
		t.Errorf("%d bytes accounted, over the budget of %d", bytes, minCacheBytes)
	}
	c.flush()
	if answers, bytes := c.stats(); answers != 0 || bytes != 0 || cached(c, "b") {
		t.Errorf("after a flush: %d answers, %d bytes", answers, bytes)
	}
}

// heapNow returns the live heap after a full collection.
func heapNow() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// The accounting is the heap: a cache flooded with three times what it
// holds (every other key asked twice, so that both queues and the ghost
// fill) holds its budget, and takes about as much heap as it accounts
// for. The heap per answer is logged for the docs:
// go test -run TestCacheBytesPerAnswer -v.
func TestCacheBytesPerAnswer(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's shadow memory makes heap sizes meaningless")
	}
	for _, tc := range []struct {
		name string
		key  func(int) string
	}{
		{"token ID (36 bytes)", jtiKey},
		{"session (40 bytes)", func(i int) string { return "fam:" + jtiKey(i) }},
		{"identity of 10 bytes (23 bytes)", func(i int) string { return fmt.Sprintf("\xffi:%020x", i) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const budget = 8 << 20
			keys := make([]string, 3*budget/answerCost(tc.key(0)))
			for i := range keys {
				keys[i] = tc.key(i)
			}
			base := heapNow()
			c := newTestCache(budget)
			for i, k := range keys {
				fill(c, k)
				if i%2 == 0 {
					cached(c, k)
				}
			}
			grown := int(heapNow() - base)
			runtime.KeepAlive(keys)
			answers, accounted := c.stats()
			t.Logf("%d answers held, %d bytes accounted (%d each), heap +%d (%d each)",
				answers, accounted, accounted/answers, grown, grown/answers)
			if accounted > budget {
				t.Errorf("%d bytes accounted, over the budget of %d", accounted, budget)
			}
			if grown > budget+budget/4 {
				t.Errorf("the heap grew by %d bytes for a budget of %d", grown, budget)
			}
			if per := grown / answers; per < answerCost(tc.key(0))*3/4 {
				t.Errorf("an answer takes %d bytes of heap, far less than the %d accounted: answerOverhead is stale", per, answerCost(tc.key(0)))
			}
			runtime.KeepAlive(c)
		})
	}
}
