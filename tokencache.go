package ginjwt

import (
	"errors"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
)

// A cache of signature verifications, as Envoy's jwt_authn keeps: a
// public-key signature check costs 14× (RS256) to 27× (ES256) an HS256
// request, and a client sends the same token many times. Only the
// signature check is skipped on a hit: the claims (exp, nbf, type,
// freshness, issuer, audience), revocation and the route's requirements
// are checked on every request, against that request's clock.
//
// An entry is the whole encoded token, compared byte for byte (a token
// differing in any byte never hits), and the verifier that checked it. A
// hit needs the key the Manager would pick for the token now to be that
// verifier: a key that left the key set (rotation, a JWKS refresh) no
// longer vouches for its tokens. Only tokens whose signature verified
// enter, so hostile input never takes a slot.
//
// The cache is sized in bytes, so that it holds a service's working set
// whatever its tokens weigh, and evicts by S3-FIFO (Yang et al., SOSP
// 2023): a new token enters a small queue and reaches the main one only if
// it is requested again before it leaves, so a burst of tokens seen once
// (a scan, a flood) passes through the small queue without pushing out the
// tokens clients keep sending.

// DefaultVerifiedTokenCacheBytes is the verified-token cache's default
// budget: about 41,000 RS256 tokens (each its length plus 170 bytes).
const DefaultVerifiedTokenCacheBytes = 32 << 20

// minVerifiedTokenCacheBytes leaves each shard room for a few tokens.
const minVerifiedTokenCacheBytes = 64 << 10

// WithVerifiedTokenCacheBytes sets the memory spent on remembering
// public-key tokens whose signature verified, so that only that check is
// skipped when they come again: 0 (off) or at least 64 KiB. Default:
// DefaultVerifiedTokenCacheBytes.
func WithVerifiedTokenCacheBytes(n int) Option {
	return option(func(c *config) error {
		if n < 0 || (n > 0 && n < minVerifiedTokenCacheBytes) {
			return errors.New("WithVerifiedTokenCacheBytes: give 0 (off) or at least 64 KiB")
		}
		c.tokenCacheBytes = n
		return nil
	})
}

// cacheShards spreads the cache over locks, so that insertions on several
// cores rarely wait for one another; lookups only share a read lock.
const cacheShards = 16

// entryOverhead is what an entry costs beside its token's bytes: the
// entry, its map slot and queue slot with their spare room, and one ghost
// hash. BenchmarkVerifiedTokenCacheBytes measures 155-167.
const entryOverhead = 168

// maxHits caps an entry's hit count: the main queue passes over an entry
// as many times as it was hit, up to this.
const maxHits = 3

type verifiedCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

type cacheShard struct {
	mu      sync.RWMutex
	entries map[string]*cacheEntry
	// small holds tokens not yet requested again since they entered, main
	// those that were; both are first in, first out.
	small, main ring[*cacheEntry]
	smallBytes  int
	mainBytes   int
	budget      int
	// ghost remembers hashes of tokens evicted from small unrequested: one
	// that comes back goes straight to main.
	ghost ghostSet
}

type cacheEntry struct {
	token string
	v     *verifier
	hits  atomic.Uint32 // since it entered its queue or main last passed it
}

func newVerifiedCache(budget int) *verifiedCache {
	vc := &verifiedCache{seed: maphash.MakeSeed()}
	for i := range vc.shards {
		vc.shards[i] = cacheShard{entries: map[string]*cacheEntry{}, budget: budget / cacheShards,
			ghost: ghostSet{hashes: map[uint64]struct{}{}}}
	}
	return vc
}

// shard picks a shard from the signature's last characters: they are
// random for genuine tokens, and only genuine tokens are stored.
func (vc *verifiedCache) shard(raw string) *cacheShard {
	return &vc.shards[vc.tailHash(raw)%cacheShards]
}

// tailHash hashes the signature's last characters: a shard index, and
// the name a token leaves in the ghost.
func (vc *verifiedCache) tailHash(raw string) uint64 {
	return maphash.String(vc.seed, raw[len(raw)-min(len(raw), 16):])
}

// verified reports whether raw's signature was checked by v.
func (vc *verifiedCache) verified(raw string, v *verifier) bool {
	s := vc.shard(raw)
	s.mu.RLock()
	e := s.entries[raw]
	ok := e != nil && e.v == v && v != nil
	s.mu.RUnlock()
	// A lost increment from a concurrent hit only costs the entry one pass
	// of protection; a hot entry at the cap is read, never written.
	if ok {
		if n := e.hits.Load(); n < maxHits {
			e.hits.Store(n + 1)
		}
	}
	return ok
}

// add remembers that v checked raw's signature, evicting until the entry
// fits the shard's budget; it returns how many entries it evicted.
func (vc *verifiedCache) add(raw string, v *verifier) (evicted int) {
	h := vc.tailHash(raw)
	s := &vc.shards[h%cacheShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[raw]; ok {
		e.v = v
		return 0
	}
	cost := entryCost(raw)
	if cost > s.budget {
		return 0 // larger than a shard: only with the smallest budgets
	}
	for before := len(s.entries); s.smallBytes+s.mainBytes+cost > s.budget; {
		s.evict(vc)
		evicted = before - len(s.entries)
	}
	// The token may be a slice of a larger header or query: keep only it.
	e := &cacheEntry{token: strings.Clone(raw), v: v}
	s.entries[e.token] = e
	if s.ghost.remove(h) {
		s.main.push(e)
		s.mainBytes += cost
	} else {
		s.small.push(e)
		s.smallBytes += cost
	}
	return evicted
}

func entryCost(raw string) int { return len(raw) + entryOverhead }

// evict removes one entry, from small while it holds a tenth of the budget
// (S3-FIFO's split), else from main.
func (s *cacheShard) evict(vc *verifiedCache) {
	if s.smallBytes >= s.budget/10 || s.main.len() == 0 {
		s.evictSmall(vc)
	} else {
		s.evictMain()
	}
}

// evictSmall moves the oldest entries of small that were requested again
// to main, and drops the first that was not, remembering it in the ghost.
func (s *cacheShard) evictSmall(vc *verifiedCache) {
	for s.small.len() > 0 {
		e := s.small.pop()
		cost := entryCost(e.token)
		s.smallBytes -= cost
		if e.hits.Load() > 0 {
			e.hits.Store(0)
			s.main.push(e)
			s.mainBytes += cost
			continue
		}
		delete(s.entries, e.token)
		// Each entry pays for one ghost hash: the ghost holds no more
		// hashes than the shard holds entries.
		s.ghost.add(vc.tailHash(e.token), len(s.entries))
		return
	}
}

// evictMain drops the oldest entry of main not requested since main last
// passed it, giving each one passed over a second chance per hit.
func (s *cacheShard) evictMain() {
	for s.main.len() > 0 {
		e := s.main.pop()
		if n := e.hits.Load(); n > 0 {
			e.hits.Store(n - 1)
			s.main.push(e)
			continue
		}
		s.mainBytes -= entryCost(e.token)
		delete(s.entries, e.token)
		return
	}
}

// ghostSet is a bounded first-in, first-out set of token hashes. A hash
// collision only admits a token to main sooner: the ghost never vouches
// for a signature.
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

// stats returns the entries and the bytes they are accounted for, for
// tests.
func (vc *verifiedCache) stats() (entries, bytes int) {
	for i := range vc.shards {
		s := &vc.shards[i]
		s.mu.RLock()
		entries += len(s.entries)
		bytes += s.smallBytes + s.mainBytes
		s.mu.RUnlock()
	}
	return entries, bytes
}

// holds reports whether raw is cached, for tests.
func (vc *verifiedCache) holds(raw string) bool {
	s := vc.shard(raw)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.entries[raw] != nil
}

// verifiesPublicKeys reports whether any allowed algorithm is a public-key
// one, the only kind worth caching.
func (m *Manager) verifiesPublicKeys() bool {
	for _, name := range m.allowed {
		if alg := lookupAlgorithm(name); alg != nil && alg.family != familyHMAC {
			return true
		}
	}
	return false
}
