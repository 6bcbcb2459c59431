package ginjwt

import (
	"hash/maphash"
	"math/rand/v2"
	"strings"
	"testing"
)

// BenchmarkVerifiedTokenCacheHitRatio replays the same request traces
// through the cache and through the first-in, first-out cache it replaced,
// at one byte budget (1 MiB, about 1,900 ES256-sized tokens), and reports
// the share of requests, after the first half of the trace, that skipped
// the signature check (hit%); ns/op is one lookup, plus the insertion on a
// miss. The traces: uniform over twice what the budget holds; Zipf-skewed
// (s = 1.1) over 8 and 32 times it; and half the requests for a hot set
// (Zipf over half the budget) mixed with a scan of tokens each seen once.
func BenchmarkVerifiedTokenCacheHitRatio(b *testing.B) {
	const budget = 1 << 20
	rng := rand.New(rand.NewPCG(1, 2))
	tokens := make([]string, 1024+scanPool)
	for i := range tokens {
		tokens[i] = syntheticToken(rng, 375)
	}
	traces := []struct {
		name string
		reqs []int
	}{
		{"uniform_4096", drawRequests(func() int { return rng.IntN(4096) })},
		{"zipf_16384", drawRequests(zipfOver(rng, 16384))},
		{"zipf_65536", drawRequests(zipfOver(rng, 65536))},
		{"hot_1024_and_scan", hotAndScan(rng, 1024)},
	}
	policies := []struct {
		name string
		new  func() tokenCache
	}{
		{"fifo", func() tokenCache { return newFIFOCache(budget) }},
		{"s3fifo", func() tokenCache { return newVerifiedCache(budget) }},
	}
	v := &verifier{}
	request := func(c tokenCache, raw string) bool {
		if c.verified(raw, v) {
			return true
		}
		c.add(raw, v)
		return false
	}
	for _, tr := range traces {
		for _, p := range policies {
			b.Run(tr.name+"/"+p.name, func(b *testing.B) {
				c := p.new()
				hits := 0
				for i, t := range tr.reqs {
					if request(c, tokens[t]) && i >= len(tr.reqs)/2 {
						hits++
					}
				}
				i := 0
				for b.Loop() {
					request(c, tokens[tr.reqs[i%len(tr.reqs)]])
					i++
				}
				b.ReportMetric(100*float64(hits)/float64(len(tr.reqs)-len(tr.reqs)/2), "hit%")
			})
		}
	}
}

type tokenCache interface {
	verified(raw string, v *verifier) bool
	add(raw string, v *verifier) int
}

// syntheticToken is n random base64url characters, as a signature's tail
// is: the cache never parses what it stores.
func syntheticToken(rng *rand.Rand, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

const traceLen = 1 << 20

// scanPool is the number of distinct tokens a scan cycles through: each
// comes back only after 32 times what the budget holds, long after any
// cache forgot it.
const scanPool = 1 << 16

func drawRequests(next func() int) []int {
	reqs := make([]int, traceLen)
	for i := range reqs {
		reqs[i] = next()
	}
	return reqs
}

func zipfOver(rng *rand.Rand, n int) func() int {
	z := rand.NewZipf(rng, 1.1, 1, uint64(n-1))
	return func() int { return int(z.Uint64()) }
}

// hotAndScan alternates a request for one of hot tokens (Zipf) with one
// for the next token of a scan.
func hotAndScan(rng *rand.Rand, hot int) []int {
	next := zipfOver(rng, hot)
	reqs := make([]int, traceLen)
	for i := range reqs {
		if i%2 == 0 {
			reqs[i] = next()
		} else {
			reqs[i] = hot + i/2%scanPool
		}
	}
	return reqs
}

// fifoCache is the policy the cache had before S3-FIFO, sized in bytes
// like the cache so that only the policies differ: per shard, the oldest
// entry leaves first, requested or not.
type fifoCache struct {
	seed   maphash.Seed
	budget int // per shard
	shards [cacheShards]fifoShard
}

type fifoShard struct {
	entries map[string]*verifier
	order   ring[string]
	bytes   int
}

func newFIFOCache(budget int) *fifoCache {
	c := &fifoCache{seed: maphash.MakeSeed(), budget: budget / cacheShards}
	for i := range c.shards {
		c.shards[i].entries = map[string]*verifier{}
	}
	return c
}

func (c *fifoCache) shard(raw string) *fifoShard {
	return &c.shards[maphash.String(c.seed, raw[len(raw)-8:])%cacheShards]
}

func (c *fifoCache) verified(raw string, v *verifier) bool { return c.shard(raw).entries[raw] == v }

func (c *fifoCache) add(raw string, v *verifier) (evicted int) {
	s := c.shard(raw)
	for s.bytes+entryCost(raw) > c.budget {
		old := s.order.pop()
		delete(s.entries, old)
		s.bytes -= entryCost(old)
		evicted++
	}
	raw = strings.Clone(raw)
	s.entries[raw] = v
	s.order.push(raw)
	s.bytes += entryCost(raw)
	return evicted
}
