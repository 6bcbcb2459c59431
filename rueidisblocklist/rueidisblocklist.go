// Package rueidisblocklist is a ginjwt.Blocklist in Redis whose checks are
// answered from process memory: Redis 6+ tracks the keys each connection
// has read (server-assisted client-side caching, CLIENT TRACKING over
// RESP3) and pushes an invalidation to it the moment one changes, so a
// revocation on any instance reaches every other instance's copy within
// milliseconds, and a hot token costs no round trip at all.
//
//	client, err := rueidis.NewClient(rueidisblocklist.ClientOption("127.0.0.1:6379"))
//	...
//	jwt, err := ginjwt.New(
//		ginjwt.WithSecretKey(secret),
//		ginjwt.WithBlocklist(rueidisblocklist.New(client)),
//	)
//
// It keeps the key layout and the semantics of the redisblocklist module
// (go-redis): the same prefix, one key per revoked token whose TTL is the
// token's remaining lifetime (revoking again keeps the longer one), one key
// per refresh-token family holding its current token ID. Both stores can
// share one Redis, e.g. while a fleet moves from one to the other. Every
// command and script touches one key, so it works with Cluster too.
//
// Cached answers are only as true as the connection that carries their
// invalidations. rueidis drops a connection's whole cache when that
// connection breaks, and the next check goes to Redis again: a round trip
// if Redis answers, an error (ginjwt answers 503) if not. A connection that
// goes silent without breaking (a network partition) is found by rueidis's
// pings; ClientOption sets them so that this takes at most about
// 2*DefaultPingEvery + DefaultConnTimeout (2 s), and no cached answer is
// kept longer than WithCacheTTL in any case.
package rueidisblocklist

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/redis/rueidis"
)

// Defaults of ClientOption and the options of New.
const (
	// DefaultCacheTTL bounds how long an answer stays in memory without
	// Redis being asked again, invalidations or not.
	DefaultCacheTTL = 10 * time.Second
	// DefaultPingEvery is how often ClientOption's connections ping Redis
	// while idle, to find a connection that went silent.
	DefaultPingEvery = 500 * time.Millisecond
	// DefaultConnTimeout is how long ClientOption's connections wait for
	// such a ping, or any reply, before they are closed (and their cache
	// dropped).
	DefaultConnTimeout = time.Second
	// DefaultCacheBytes is ClientOption's cache size of each connection
	// (rueidis.ClientOption.CacheSizeEachConn), as rueidis counts it:
	// about 240 bytes an answer (a 36-character jti), so some 17,000
	// answers; the Go heap holds about 2.5 times as much.
	DefaultCacheBytes = 4 << 20
	// DefaultPipelineMultiplex is ClientOption's PipelineMultiplex: 2^1
	// connections, hence caches, per Redis node.
	DefaultPipelineMultiplex = 1
)

// ClientOption returns rueidis options for a client of this store: client
// side caching on (rueidis's default, OPTIN tracking), pings every
// DefaultPingEvery that close a connection silent for DefaultConnTimeout,
// DefaultCacheBytes of cache in each of 2^DefaultPipelineMultiplex
// connections per node. Change the fields you need before
// rueidis.NewClient; with one address that is not a cluster node it is a
// single-node client, with several a cluster client.
func ClientOption(addrs ...string) rueidis.ClientOption {
	return rueidis.ClientOption{
		InitAddress:       addrs,
		Dialer:            net.Dialer{Timeout: time.Second, KeepAlive: DefaultPingEvery},
		ConnWriteTimeout:  DefaultConnTimeout,
		CacheSizeEachConn: DefaultCacheBytes,
		PipelineMultiplex: DefaultPipelineMultiplex,
	}
}

// Store is a ginjwt.Blocklist backed by Redis with client-side caching. It
// is safe for concurrent use.
type Store struct {
	client   rueidis.Client
	prefix   string
	now      func() time.Time
	cacheTTL time.Duration
	own      ownRevocations
}

// ownRevocations are the keys this Store revoked within the last cache
// TTL. Redis's invalidation of a cached "not revoked" reaches the client
// asynchronously, even the client that wrote: without them, a logout
// followed at once by a request with the same token on this instance
// could be answered from the stale cache. A cached answer lives at most
// the cache TTL, so they need not be kept longer.
type ownRevocations struct {
	// latest is when the last entry expires (Unix nanoseconds): past it,
	// checks skip the lock, as on an instance with no recent logout.
	latest atomic.Int64
	mu     sync.Mutex
	until  map[string]time.Time
	swept  int // entries left by the last sweep
}

func (o *ownRevocations) add(key string, now time.Time, ttl time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.until == nil {
		o.until = map[string]time.Time{}
	}
	// Sweep when the map has doubled since the last sweep: amortized
	// constant work per revocation, and memory bounded by about twice the
	// revocations of one cache TTL.
	if len(o.until) >= 2*o.swept+64 {
		for k, u := range o.until {
			if !now.Before(u) {
				delete(o.until, k)
			}
		}
		o.swept = len(o.until)
	}
	until := now.Add(ttl)
	o.until[key] = until
	if u := until.UnixNano(); u > o.latest.Load() {
		o.latest.Store(u)
	}
}

func (o *ownRevocations) has(keys []string, now time.Time) bool {
	if now.UnixNano() >= o.latest.Load() {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, k := range keys {
		if u, ok := o.until[k]; ok && now.Before(u) {
			return true
		}
	}
	return false
}

var _ ginjwt.Blocklist = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithKeyPrefix sets the prefix of the Redis keys. Default:
// "ginjwt:revoked:", as redisblocklist's.
func WithKeyPrefix(prefix string) Option { return func(s *Store) { s.prefix = prefix } }

// WithClock sets the clock that turns expiry times into TTLs, for tests.
// Default: time.Now.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithCacheTTL bounds how long an answer of IsRevoked is kept in memory.
// Invalidations keep cached answers true whatever the TTL; the TTL is the
// limit for the case invalidations cannot cover, a connection that went
// silent before its pings found it. A revoked key's answer never outlives
// the key. d <= 0 means DefaultCacheTTL.
func WithCacheTTL(d time.Duration) Option {
	return func(s *Store) {
		if d <= 0 {
			d = DefaultCacheTTL
		}
		s.cacheTTL = d
	}
}

// New returns a Store using client. Build the client with ClientOption,
// or at least with client-side caching on (rueidis's default). With
// DisableCache every check is a round trip, as with redisblocklist.
func New(client rueidis.Client, opts ...Option) *Store {
	s := &Store{client: client, prefix: "ginjwt:revoked:", now: time.Now, cacheTTL: DefaultCacheTTL}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// ttl turns an expiry into a TTL in milliseconds: 0 for none (keep the
// key), -1 for an expiry already past (nothing to store). It rounds up as
// redisblocklist does, so both stores write the same TTLs.
func (s *Store) ttl(until time.Time) int64 {
	if until.IsZero() {
		return 0
	}
	d := until.Sub(s.now())
	if d <= 0 {
		return -1
	}
	return (d.Truncate(time.Millisecond) + time.Millisecond).Milliseconds()
}

// revokeScript sets KEYS[1] for ARGV[1] ms (0: no expiry), keeping a
// longer TTL it already has; redisblocklist runs the same script.
var revokeScript = rueidis.NewLuaScript(`
local want = tonumber(ARGV[1])
local have = redis.call('PTTL', KEYS[1])
if have == -1 then
  want = 0
elseif want > 0 and have > want then
  want = have
end
if want == 0 then
  redis.call('SET', KEYS[1], '1')
else
  redis.call('SET', KEYS[1], '1', 'PX', want)
end
return 1
`)

// rotateScript moves the family record KEYS[1] from ARGV[1] to ARGV[2]
// for ARGV[3] ms (0: no expiry, -1: already expired, so deleted) when it
// is absent or holds ARGV[1]; it returns 1 then, else 0 and changes
// nothing. redisblocklist runs the same script.
var rotateScript = rueidis.NewLuaScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then
  return 0
end
local ms = tonumber(ARGV[3])
if ms > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ms)
elseif ms == 0 then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('DEL', KEYS[1])
end
return 1
`)

// Revoke implements ginjwt.Blocklist: the key's TTL becomes the token's
// remaining lifetime, or stays the longer one it has. Redis then pushes an
// invalidation of the key to every client that has it cached.
func (s *Store) Revoke(ctx context.Context, key string, until time.Time) error {
	ms := s.ttl(until)
	if ms < 0 {
		return nil
	}
	err := revokeScript.Exec(ctx, s.client, []string{s.prefix + key}, []string{fmt.Sprint(ms)}).Error()
	if err != nil {
		return fmt.Errorf("rueidisblocklist: revoke: %w", err)
	}
	now := s.now()
	keep := s.cacheTTL
	if !until.IsZero() {
		keep = min(keep, until.Sub(now)) // and never past the revocation
	}
	s.own.add(key, now, keep)
	return nil
}

// IsRevoked implements ginjwt.Blocklist from the client-side cache: a GET
// per key (EXISTS is not cacheable in rueidis), asked of Redis (which then tracks the key for this
// connection) only when it is not cached. Several keys go in one
// DoMultiCache, single-key commands that Cluster accepts whatever their
// slots.
//
// The commands are pinned, out of rueidis's command pool: rueidis v1.0.79
// returns a cached command to the pool when its connection closes
// (ErrDoCacheAborted) while the closing pipe may still be writing it, and
// the next command built from the pool then overwrites what is written, a
// data race that can send another call's arguments. A pinned command costs
// one allocation.
func (s *Store) IsRevoked(ctx context.Context, keys ...string) (bool, error) {
	if s.own.has(keys, s.now()) {
		return true, nil
	}
	if len(keys) == 1 {
		return revokedReply(s.client.DoCache(ctx, s.client.B().Get().Key(s.prefix+keys[0]).Cache().Pin(), s.cacheTTL))
	}
	cmds := make([]rueidis.CacheableTTL, len(keys))
	for i, k := range keys {
		cmds[i] = rueidis.CT(s.client.B().Get().Key(s.prefix+k).Cache().Pin(), s.cacheTTL)
	}
	revoked := false
	for _, res := range s.client.DoMultiCache(ctx, cmds...) {
		r, err := revokedReply(res)
		if err != nil {
			return false, err
		}
		revoked = revoked || r
	}
	return revoked, nil
}

// revokedReply reads a GET of a revocation key: a value (whatever it is,
// "1" from either store) means revoked, nil not.
func revokedReply(res rueidis.RedisResult) (bool, error) {
	err := res.Error()
	if rueidis.IsRedisNil(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("rueidisblocklist: check: %w", err)
	}
	return true, nil
}

// familyKey is the key of a family's record, apart from the revoked keys
// (token IDs and "fam:" + family); the same as redisblocklist's.
func (s *Store) familyKey(family string) string { return s.prefix + "cur:" + family }

// Rotate implements ginjwt.Blocklist with a compare-and-set script on the
// family's one key, which Redis runs atomically (and Cluster accepts).
func (s *Store) Rotate(ctx context.Context, family, prev, next string, until time.Time) (bool, error) {
	n, err := rotateScript.Exec(ctx, s.client, []string{s.familyKey(family)},
		[]string{prev, next, fmt.Sprint(s.ttl(until))}).AsInt64()
	if err != nil {
		return false, fmt.Errorf("rueidisblocklist: rotate: %w", err)
	}
	return n == 1, nil
}

// Current implements ginjwt.Blocklist. It always asks Redis: it runs for
// refresh tokens only, which are rare, and right before a Rotate that
// decides by Redis's value anyway.
func (s *Store) Current(ctx context.Context, family string) (string, error) {
	cur, err := s.client.Do(ctx, s.client.B().Get().Key(s.familyKey(family)).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("rueidisblocklist: current: %w", err)
	}
	return cur, nil
}
