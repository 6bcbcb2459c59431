package rueidisblocklist

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ginjwt/ginjwt/internal/redisproto"
	"github.com/redis/rueidis"
)

// The cache holds answers of IsRevoked and IsRevokedFor by key (without
// the prefix): a token's ID, its session's key, an identity's cutoff. It
// is sized in bytes, so that it holds a service's working set whatever
// its keys weigh, and evicts by S3-FIFO (Yang et al., SOSP 2023), as
// ginjwt's verified-token cache does: a new answer enters a small queue
// and reaches the main one only if it is asked again before it leaves, so
// a burst of tokens seen once (a scan, a flood) passes through the small
// queue without pushing out the answers of the tokens clients keep
// sending. Eviction only removes answers, which the next check asks Redis
// for again: what the cache holds is kept true by invalidations and the
// freshness window whatever its size.

// DefaultCacheBytes is WithCacheBytes's default: 64 MiB, the answers for
// about 100,000 live tokens, each with its session and its user's
// cutoff (three answers of about 210 bytes).
const DefaultCacheBytes = 64 << 20

// minCacheBytes leaves each shard room for some answers.
const minCacheBytes = 64 << 10

// cacheShards spreads the cache over locks, so that stores on several
// cores rarely wait for one another; lookups only share a read lock.
const cacheShards = 16

// answerOverhead is what an answer costs beside its key's bytes: the
// entry, its key's allocation rounding, its map and queue slots with their
// spare room, and one ghost hash. TestCacheBytesPerAnswer measures it.
const answerOverhead = 176

// maxHits caps an entry's hit count: the main queue passes over an entry
// as many times as it was hit, up to this.
const maxHits = 3

type cache struct {
	prefix string
	off    bool // a budget of 0: nothing is kept
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

// answer is what Redis said of a key.
type answer struct {
	until   int64 // mono time after which the answer is not used
	revoked bool  // the key exists: a revoked token, an identity's cutoff
	cutoff  int64 // an identity's cutoff, in ms
}

type cacheShard struct {
	// seq changes with every invalidation of a key of the shard and every
	// flush: an answer fetched from Redis is stored only if its shard's
	// seq did not change since before it was asked, as an invalidation
	// may have overtaken the answer. Changed under mu.
	seq atomic.Uint64

	mu      sync.RWMutex
	entries map[string]*cacheEntry
	// small holds answers not asked again since they entered, main those
	// that were; both are first in, first out.
	small, main ring[*cacheEntry]
	smallBytes  int
	mainBytes   int
	budget      int
	// ghost remembers hashes of answers evicted from small unasked: one
	// that comes back goes straight to main.
	ghost ghostSet
}

type cacheEntry struct {
	key    string
	answer // read under the shard's read lock, written under its lock
	hits   atomic.Uint32
	gone   bool // invalidated: out of the map, its queue slot left to eviction
}

func (c *cache) init(prefix string, budget int) {
	c.prefix, c.off, c.seed = prefix, budget == 0, maphash.MakeSeed()
	for i := range c.shards {
		s := &c.shards[i]
		s.entries, s.budget = map[string]*cacheEntry{}, budget/cacheShards
		s.ghost.hashes = map[uint64]struct{}{}
	}
}

func (c *cache) hash(key string) uint64 { return maphash.String(c.seed, key) }

func (c *cache) shard(h uint64) *cacheShard { return &c.shards[h%cacheShards] }

// version returns what store needs to know whether key changed since.
func (c *cache) version(key string) uint64 { return c.shard(c.hash(key)).seq.Load() }

// lookup answers keys, and the identity whose key is idKey unless it is
// nil, from the cache; ok is false when one is missing.
func (c *cache) lookup(keys []string, idKey []byte, issued time.Time, now int64) (revoked, ok bool) {
	for _, k := range keys {
		a, found := c.get(maphash.String(c.seed, k), k, now)
		if !found {
			return false, false
		}
		revoked = revoked || a.revoked
	}
	if idKey != nil {
		a, found := c.getBytes(idKey, now)
		if !found {
			return false, false
		}
		revoked = revoked || (a.revoked && redisproto.IssuedBefore(issued, a.cutoff))
	}
	return revoked, true
}

func (c *cache) get(h uint64, key string, now int64) (answer, bool) {
	s := c.shard(h)
	s.mu.RLock()
	e := s.entries[key]
	var a answer
	if e != nil {
		a = e.answer
	}
	s.mu.RUnlock()
	if e == nil || now >= a.until {
		return answer{}, false
	}
	e.hit()
	return a, true
}

// getBytes is get for a key in a buffer: the map lookup by string(key)
// does not allocate.
func (c *cache) getBytes(key []byte, now int64) (answer, bool) {
	s := c.shard(maphash.Bytes(c.seed, key))
	s.mu.RLock()
	e := s.entries[string(key)]
	var a answer
	if e != nil {
		a = e.answer
	}
	s.mu.RUnlock()
	if e == nil || now >= a.until {
		return answer{}, false
	}
	e.hit()
	return a, true
}

// hit counts a use. A lost increment from a concurrent hit only costs the
// entry one pass of protection; a hot entry at the cap is read, never
// written.
func (e *cacheEntry) hit() {
	if n := e.hits.Load(); n < maxHits {
		e.hits.Store(n + 1)
	}
}

// store keeps an answer fetched from Redis unless key's shard changed
// since version v0, evicting until it fits the shard's budget.
func (c *cache) store(key string, a answer, v0 uint64) {
	if c.off {
		return
	}
	h := c.hash(key)
	s := c.shard(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seq.Load() != v0 {
		return
	}
	if e, ok := s.entries[key]; ok {
		e.answer = a
		return
	}
	cost := answerCost(key)
	if cost > s.budget {
		return
	}
	for s.smallBytes+s.mainBytes+cost > s.budget {
		s.evict(c)
	}
	// The key may be a slice of a token's claims: keep only it.
	e := &cacheEntry{key: strings.Clone(key), answer: a}
	s.entries[e.key] = e
	if s.ghost.remove(h) {
		s.main.push(e)
		s.mainBytes += cost
	} else {
		s.small.push(e)
		s.smallBytes += cost
	}
}

func answerCost(key string) int { return len(key) + answerOverhead }

// evict removes one entry, from small while it holds a tenth of the budget
// (S3-FIFO's split), else from main.
func (s *cacheShard) evict(c *cache) {
	if s.smallBytes >= s.budget/10 || s.main.len() == 0 {
		s.evictSmall(c)
	} else {
		s.evictMain()
	}
}

// evictSmall moves the oldest entries of small that were asked again to
// main, and drops the first that was not, remembering it in the ghost.
func (s *cacheShard) evictSmall(c *cache) {
	for s.small.len() > 0 {
		e := s.small.pop()
		cost := answerCost(e.key)
		s.smallBytes -= cost
		if e.gone {
			return
		}
		if e.hits.Load() > 0 {
			e.hits.Store(0)
			s.main.push(e)
			s.mainBytes += cost
			continue
		}
		delete(s.entries, e.key)
		// Each entry pays for one ghost hash: the ghost holds no more
		// hashes than the shard holds entries.
		s.ghost.add(c.hash(e.key), len(s.entries))
		return
	}
}

// evictMain drops the oldest entry of main not asked since main last
// passed it, giving each one passed over a second chance per hit.
func (s *cacheShard) evictMain() {
	for s.main.len() > 0 {
		e := s.main.pop()
		if n := e.hits.Load(); n > 0 && !e.gone {
			e.hits.Store(n - 1)
			s.main.push(e)
			continue
		}
		s.mainBytes -= answerCost(e.key)
		if !e.gone {
			delete(s.entries, e.key)
		}
		return
	}
}

// invalidate is the tracking connections' hook: it runs on the
// connection's reader, before the replies that follow the invalidation
// are handed out. nil means everything (FLUSHALL, or rueidis closing the
// connection).
func (c *cache) invalidate(keys []rueidis.RedisMessage) {
	if keys == nil {
		c.flush()
		return
	}
	for _, m := range keys {
		k, err := m.ToString()
		if err != nil {
			continue
		}
		if k, ok := strings.CutPrefix(k, c.prefix); ok {
			c.drop(k)
		}
	}
}

// drop forgets key's answer, and makes an answer to it in flight unfit
// to store.
func (c *cache) drop(key string) {
	s := c.shard(c.hash(key))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq.Add(1)
	if e, ok := s.entries[key]; ok {
		delete(s.entries, key)
		e.gone = true // its bytes stay counted until eviction reaches its slot
	}
}

// flush forgets every answer, and makes every answer in flight unfit to
// store.
func (c *cache) flush() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.seq.Add(1)
		if len(s.entries) > 0 || s.small.len() > 0 || s.main.len() > 0 {
			s.entries = map[string]*cacheEntry{}
			s.small, s.main = ring[*cacheEntry]{}, ring[*cacheEntry]{}
			s.smallBytes, s.mainBytes = 0, 0
			s.ghost = ghostSet{hashes: map[uint64]struct{}{}}
		}
		s.mu.Unlock()
	}
}

// stats returns the answers held and the bytes they are accounted for.
func (c *cache) stats() (answers, bytes int) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		answers += len(s.entries)
		bytes += s.smallBytes + s.mainBytes
		s.mu.RUnlock()
	}
	return answers, bytes
}

// ghostSet is a bounded first-in, first-out set of key hashes. A hash
// collision only admits an answer to main sooner.
type ghostSet struct {
	order  ring[uint64]
	hashes map[uint64]struct{}
}

func (g *ghostSet) add(h uint64, limit int) {
	g.order.push(h)
	g.hashes[h] = struct{}{}
	for g.order.len() > limit {
		delete(g.hashes, g.order.pop())
	}
}

// remove reports whether h was in the set, and takes it out.
func (g *ghostSet) remove(h uint64) bool {
	_, ok := g.hashes[h]
	delete(g.hashes, h)
	return ok
}

// ring is a first-in, first-out queue that grows as needed.
type ring[T any] struct {
	buf        []T
	head, size int
}

func (r *ring[T]) len() int { return r.size }

func (r *ring[T]) push(x T) {
	if r.size == len(r.buf) {
		buf := make([]T, max(16, 2*len(r.buf)))
		n := copy(buf, r.buf[r.head:])
		copy(buf[n:], r.buf[:r.head])
		r.buf, r.head = buf, 0
	}
	r.buf[(r.head+r.size)%len(r.buf)] = x
	r.size++
}

func (r *ring[T]) pop() T {
	x := r.buf[r.head]
	var zero T
	r.buf[r.head] = zero // let the entry go
	r.head = (r.head + 1) % len(r.buf)
	r.size--
	return x
}
