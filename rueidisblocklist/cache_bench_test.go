package rueidisblocklist

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/internal/redisproto"
)

// BenchmarkCacheLookup is the guards' question answered from memory, a
// token's ID, its session and its user's cutoff, over N live tokens of N
// users drawn Zipf-skewed (s = 1.1), every answer held.
func BenchmarkCacheLookup(b *testing.B) {
	for _, live := range []int{1, 1024, 65536} {
		b.Run(fmt.Sprintf("live_tokens=%d", live), func(b *testing.B) {
			c := newTestCache(DefaultCacheBytes)
			type token struct {
				keys     []string
				identity string
			}
			tokens := make([]token, live)
			for i := range tokens {
				tokens[i] = token{keys: []string{jtiKey(i), "fam:" + jtiKey(i)}, identity: fmt.Sprintf("user-%d", i)}
				fill(c, tokens[i].keys...)
				fill(c, string(redisproto.AppendIdentity(nil, tokens[i].identity)))
			}
			draws := make([]int, 1<<16)
			if live > 1 {
				rng := rand.New(rand.NewSource(1)) //nolint:gosec // G404: a trace
				zipf := rand.NewZipf(rng, 1.1, 1, uint64(live-1))
				rank := rng.Perm(live)
				for i := range draws {
					draws[i] = rank[zipf.Uint64()]
				}
			}
			now, issued := mono(), time.Now()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				tok := &tokens[draws[i%len(draws)]]
				i++
				var buf [96]byte
				if revoked, ok := c.lookup(tok.keys, redisproto.AppendIdentity(buf[:0], tok.identity), issued, now); !ok || revoked {
					b.Fatal("not cached")
				}
			}
		})
	}
}
