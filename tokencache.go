package ginjwt

import (
	"errors"
	"strings"
	"sync"
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

// DefaultVerifiedTokenCache is the number of tokens whose signature a
// Manager remembers by default, when it verifies public-key algorithms:
// about 1 KiB each for RS256 tokens (the token and its entry), so 1 MiB.
const DefaultVerifiedTokenCache = 1024

// WithVerifiedTokenCache sets how many verified tokens the Manager
// remembers, so that a token seen again skips its public-key signature
// check (everything else is still checked on every request). 0 turns the
// cache off. It applies to public-key algorithms only: an HMAC check is
// cheaper than the lookup. Memory is bounded by n entries of about the
// token's size plus 100 bytes; a flood of distinct valid tokens evicts
// the oldest, first in first out. Default: DefaultVerifiedTokenCache.
func WithVerifiedTokenCache(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return errors.New("WithVerifiedTokenCache: negative size")
		}
		c.verifiedCache = n
		return nil
	}
}

// cacheShards spreads the cache over locks: requests on several cores
// rarely wait for one another.
const cacheShards = 16

type verifiedCache struct {
	shards [cacheShards]cacheShard
}

type cacheShard struct {
	mu      sync.Mutex
	entries map[string]*verifier
	order   []string // ring of the keys, oldest at next
	next    int
}

func newVerifiedCache(n int) *verifiedCache {
	per := max(1, (n+cacheShards-1)/cacheShards)
	vc := &verifiedCache{}
	for i := range vc.shards {
		vc.shards[i] = cacheShard{entries: make(map[string]*verifier, per), order: make([]string, per)}
	}
	return vc
}

// shard picks a shard from the signature's last characters: they are
// random for genuine tokens, and only genuine tokens are stored.
func (vc *verifiedCache) shard(raw string) *cacheShard {
	h := 0
	if n := len(raw); n >= 2 {
		h = int(raw[n-1]) + 7*int(raw[n-2])
	}
	return &vc.shards[h%cacheShards]
}

// verified reports whether raw's signature was checked by v.
func (vc *verifiedCache) verified(raw string, v *verifier) bool {
	s := vc.shard(raw)
	s.mu.Lock()
	got := s.entries[raw]
	s.mu.Unlock()
	return got == v && v != nil
}

// add remembers that v checked raw's signature, evicting the oldest entry
// of its shard when full.
func (vc *verifiedCache) add(raw string, v *verifier) {
	s := vc.shard(raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[raw]; ok {
		s.entries[raw] = v
		return
	}
	if old := s.order[s.next]; old != "" {
		delete(s.entries, old)
	}
	// The token may be a slice of a larger header or query: keep only it.
	raw = strings.Clone(raw)
	s.order[s.next] = raw
	s.entries[raw] = v
	s.next = (s.next + 1) % len(s.order)
}

// len returns the number of entries, for tests.
func (vc *verifiedCache) len() int {
	n := 0
	for i := range vc.shards {
		s := &vc.shards[i]
		s.mu.Lock()
		n += len(s.entries)
		s.mu.Unlock()
	}
	return n
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
