// Package rueidisblocklist is a ginjwt.Blocklist in Redis whose checks are
// answered from process memory, kept true by Redis's invalidations
// (server-assisted client-side caching: CLIENT TRACKING over RESP3,
// through github.com/redis/rueidis). A hot token costs no round trip, and
// a logout acknowledged on one instance is refused by every instance's
// next request.
//
//	client, err := rueidis.NewClient(rueidisblocklist.ClientOption("127.0.0.1:6379"))
//	...
//	store, err := rueidisblocklist.New(client)
//	...
//	jwt, err := ginjwt.New(
//		ginjwt.WithSecretKey(secret),
//		ginjwt.WithBlocklist(store),
//	)
//
// A Store implements ginjwt.RotationStore, ginjwt.IdentityRevoker and
// ginjwt.SessionStore, with the protocol (keys, scripts, TTLs) of the
// redisblocklist module (go-redis): the same prefix, one key per revoked
// token whose TTL is the token's remaining lifetime (revoking again keeps
// the longer one), one key per refresh-token family holding its current
// token ID, one key per identity holding its RevokeIdentity cutoff, one
// hash per identity holding its listed sessions. Both stores can share
// one Redis, e.g. while a fleet moves from one to the other. Every
// command and script touches one key, so it works with Cluster too.
//
// How the cache stays true: the store keeps one tracking connection per
// Redis master, on which Redis pushes an invalidation for every change of
// a key under the prefix. A check is answered from memory only while a
// PING on that connection, sent less than the freshness window ago
// (WithFreshness, 50 ms by default), has been answered: Redis delivers on
// a connection in order, so by then every earlier revocation has been
// applied. Revoke and RevokeIdentity return the window after Redis took
// the revocation, so a request sent after a logout (or a "log out
// everywhere") was acknowledged finds every instance's cache updated or
// too old to use: token keys and identities' cutoffs alike are cached
// under that rule. A partitioned or hung Redis is therefore answered from
// memory for at most the window. The session list is never cached: it is
// read for a "your sessions" page, not by the guards.
//
// When the tracking connection breaks, cannot be made, or leaves a ping
// unanswered for DefaultConnTimeout, the store counts Redis as down: its
// cache is dropped and calls fail at once with ErrCircuitOpen (ginjwt
// answers 503) while it opens a new connection every DefaultProbeEvery.
// Calls that need Redis answer by their context's deadline
// (ginjwt.WithBlocklistTimeout), whatever rueidis is waiting for.
package rueidisblocklist

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/internal/redisproto"
	"github.com/redis/rueidis"
)

// Defaults of ClientOption and the options of New.
const (
	// DefaultFreshness is WithFreshness's default: how stale the store's
	// view of Redis may be for a check to be answered from memory, and so
	// how long a Revoke waits before it returns.
	DefaultFreshness = 50 * time.Millisecond
	// DefaultCacheTTL bounds how long an answer stays in memory without
	// Redis being asked again, invalidations or not: 15 minutes, the
	// lifetime of ginjwt's access tokens, so that a token seen once is
	// answered from memory for as long as it lives. Invalidations and the
	// freshness window keep answers true, and WithCacheBytes bounds the
	// memory: the TTL is a backstop, not what keeps the cache small.
	DefaultCacheTTL = 15 * time.Minute
	// DefaultProbeEvery is how often a store whose tracking connection
	// failed tries to open a new one, while calls fail at once.
	DefaultProbeEvery = 100 * time.Millisecond
	// DefaultPingEvery is how often ClientOption's connections ping Redis
	// while idle (rueidis's keepalive), to find a connection that went
	// silent.
	DefaultPingEvery = 500 * time.Millisecond
	// DefaultConnTimeout is how long ClientOption's connections wait for
	// a reply before rueidis closes them, and how long the store waits
	// for its own pings and for a new tracking connection before it counts
	// Redis as down.
	DefaultConnTimeout = time.Second
)

// ErrCircuitOpen is the error of a call refused without asking Redis,
// because the store's tracking connection broke, could not be made, or
// did not answer a ping (see WithFreshness). ginjwt answers it with 503,
// at once. The store opens a new connection every DefaultProbeEvery in
// the background.
var ErrCircuitOpen = errors.New("rueidisblocklist: Redis is down (circuit open), not asked")

// ClientOption returns rueidis options for a client of this store:
// rueidis's own client-side cache off (the store keeps its own, see New),
// pings every DefaultPingEvery that close a connection silent for
// DefaultConnTimeout, dials that give up after DefaultConnTimeout. Change
// the fields you need (auth, TLS, database) before rueidis.NewClient; with
// one address that is not a cluster node it is a single-node client, with
// several a cluster client.
func ClientOption(addrs ...string) rueidis.ClientOption {
	return rueidis.ClientOption{
		InitAddress:      addrs,
		Dialer:           net.Dialer{Timeout: DefaultConnTimeout, KeepAlive: DefaultPingEvery},
		ConnWriteTimeout: DefaultConnTimeout,
		DisableCache:     true,
	}
}

// Store is a ginjwt.Blocklist backed by Redis with a cache in memory kept
// true by Redis's invalidations. It is safe for concurrent use.
type Store struct {
	client      rueidis.Client
	keys        redisproto.Keys
	now         func() time.Time
	cacheTTL    time.Duration
	cacheBytes  int
	freshness   time.Duration
	probeEvery  time.Duration
	pingTimeout time.Duration
	cache       cache
	topo        atomic.Pointer[topology] // nil until a cluster's masters are known
	tripped     atomic.Pointer[chan struct{}]
	mapper      *mapper // cluster clients only
}

var (
	_ ginjwt.RotationStore   = (*Store)(nil)
	_ ginjwt.IdentityRevoker = (*Store)(nil)
	_ ginjwt.SessionStore    = (*Store)(nil)
)

// Option configures a Store. New reports the values an option refuses.
type Option func(*Store) error

// WithKeyPrefix sets the prefix of the Redis keys; it must not be empty.
// Default: "ginjwt:revoked:", as redisblocklist's.
func WithKeyPrefix(prefix string) Option {
	return func(s *Store) error {
		if err := redisproto.CheckPrefix(prefix); err != nil {
			return fmt.Errorf("WithKeyPrefix: %w", err)
		}
		s.keys.Prefix = prefix
		return nil
	}
}

// WithClock sets the clock that turns expiry times into TTLs, for tests.
// Default: time.Now. (The freshness window runs on the monotonic clock.)
func WithClock(now func() time.Time) Option {
	return func(s *Store) error {
		if now == nil {
			return errors.New("WithClock: nil clock")
		}
		s.now = now
		return nil
	}
}

// WithCacheTTL bounds how long an answer of IsRevoked is kept in memory;
// past it, the next check asks Redis again. Invalidations and the
// freshness window keep cached answers true whatever the TTL. A revoked
// key's answer never outlives the key. d must be positive. Default:
// DefaultCacheTTL.
func WithCacheTTL(d time.Duration) Option {
	return func(s *Store) error {
		if d <= 0 {
			return fmt.Errorf("WithCacheTTL(%v): must be positive", d)
		}
		s.cacheTTL = d
		return nil
	}
}

// WithCacheBytes sets how much memory the store spends on answers kept
// in memory: about 210 bytes per answer for a token's ID (36 bytes), and
// a token needs three (its ID, its session's, its user's cutoff; the
// session's and the user's are shared by their tokens). Past the budget
// answers are evicted by S3-FIFO: a flood of tokens seen once leaves the
// answers of the tokens clients keep sending. 0 keeps none: every check
// asks Redis; a budget below 64 KiB, or negative, is refused. Default:
// DefaultCacheBytes.
func WithCacheBytes(n int) Option {
	return func(s *Store) error {
		if n < 0 || (n > 0 && n < minCacheBytes) {
			return fmt.Errorf("WithCacheBytes(%d): give 0 (no cache) or at least 64 KiB", n)
		}
		s.cacheBytes = n
		return nil
	}
}

// WithFreshness sets the window that makes cached answers safe across
// instances. A check is answered from memory only while the store's
// tracking connection has had an answer from Redis to a PING sent less
// than d ago (by then every invalidation of an earlier revocation has been
// applied); otherwise it asks Redis, and the store pings ahead of time, at
// d/2, while checks come. Revoke returns d after Redis took the
// revocation, so a request sent after the acknowledgement finds every
// instance's cache either updated or too old to answer.
//
// d is what a logout costs on top of its round trip, the longest a
// partitioned or hung Redis is answered for from memory, and it sets the
// pace of pings: at most about 2/d a second per busy instance and Redis
// master. d must be positive. Default: DefaultFreshness.
func WithFreshness(d time.Duration) Option {
	return func(s *Store) error {
		if d <= 0 {
			return fmt.Errorf("WithFreshness(%v): must be positive", d)
		}
		s.freshness = d
		return nil
	}
}

// New returns a Store using client, built with ClientOption or with any
// options whose connections speak RESP3 (rueidis's default): a single
// node, Sentinel or Cluster client. The store opens one more connection to
// each Redis master, on first use, on which Redis pushes an invalidation
// for every change of a key under the prefix (CLIENT TRACKING BCAST): what
// keeps the cache true. It closes it after 10 s without checks. New
// reports every option value it refuses at once, as ginjwt.New does.
func New(client rueidis.Client, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("rueidisblocklist: nil client")
	}
	s := &Store{client: client, keys: redisproto.Keys{Prefix: redisproto.DefaultPrefix}, now: time.Now,
		cacheTTL: DefaultCacheTTL, cacheBytes: DefaultCacheBytes, freshness: DefaultFreshness,
		probeEvery: DefaultProbeEvery, pingTimeout: DefaultConnTimeout}
	var errs []error
	for _, opt := range opts {
		if err := opt(s); err != nil {
			errs = append(errs, fmt.Errorf("rueidisblocklist: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s.cache.init(s.keys.Prefix, s.cacheBytes)
	tripped := make(chan struct{})
	s.tripped.Store(&tripped)
	if client.Mode() == rueidis.ClientModeCluster {
		s.mapper = &mapper{s: s}
	} else {
		s.topo.Store(&topology{trackers: []*tracker{newTracker(s, func() (rueidis.DedicatedClient, error) {
			dc, _ := client.Dedicate()
			return dc, nil
		})}})
	}
	return s, nil
}

// ttl turns an expiry into a TTL in milliseconds (redisproto.TTL).
func (s *Store) ttl(until time.Time) int64 { return redisproto.TTL(until, s.now()) }

// run runs sc on key with args: by its SHA-1 (EVALSHA), or by its source
// when Redis does not have it yet. Commands are pinned, out of rueidis's
// command pool: rueidis v1.0.79 returns a command to the pool once it has
// an answer while the pipe of a closing connection may still be writing
// it, and the next command built from the pool then overwrites what is
// written (a data race, caught by the soak that kills connections). A
// pinned command costs one allocation.
func (s *Store) run(ctx context.Context, sc redisproto.Script, key string, args ...string) rueidis.RedisResult {
	b := s.client.B()
	res := s.client.Do(ctx, b.Evalsha().Sha1(sc.SHA1).Numkeys(1).Key(key).Arg(args...).Build().Pin())
	if err, ok := rueidis.IsRedisErr(res.Error()); ok && err.IsNoScript() {
		res = s.client.Do(ctx, b.Eval().Script(sc.Source).Numkeys(1).Key(key).Arg(args...).Build().Pin())
	}
	return res
}

// Revoke implements ginjwt.Blocklist: the key's TTL becomes the token's
// remaining lifetime, or stays the longer one it has. Redis then pushes an
// invalidation of the key to every instance's tracking connection. Revoke
// returns the freshness window after Redis took the revocation (see
// WithFreshness): from then on no instance answers for the key from an
// older cache. A ctx that ends before that returns an error although
// Redis holds the revocation: the logout is not acknowledged, and a retry
// is harmless.
func (s *Store) Revoke(ctx context.Context, key string, until time.Time) error {
	ms := s.ttl(until)
	if ms < 0 {
		return nil
	}
	if err := s.failing(); err != nil {
		return fmt.Errorf("rueidisblocklist: revoke: %w", err)
	}
	_, err := call(s, ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.run(ctx, redisproto.Revoke, s.keys.Token(key), strconv.FormatInt(ms, 10)).Error()
	})
	if err != nil {
		return fmt.Errorf("rueidisblocklist: revoke: %w", err)
	}
	if err := s.waitWindow(ctx); err != nil {
		return fmt.Errorf("rueidisblocklist: revoke: %w", err)
	}
	return nil
}

// waitWindow waits out the freshness window after a revocation Redis
// took: from then on no instance answers for its key from an older
// cache.
func (s *Store) waitWindow(ctx context.Context) error {
	wait := time.NewTimer(s.freshness)
	defer wait.Stop()
	select {
	case <-wait.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("taken by Redis, but the deadline came before other instances were sure to see it: %w", ctx.Err())
	}
}

// IsRevoked implements ginjwt.Blocklist: from memory when every key is
// cached and the tracking connections are fresh (see WithFreshness), else
// from Redis, a GET and a PTTL per key in one round trip (single-key
// commands, which Cluster accepts whatever their slots), whose answers are
// then cached.
func (s *Store) IsRevoked(ctx context.Context, keys ...string) (bool, error) {
	return s.check(ctx, keys, nil, "", time.Time{})
}

// check answers IsRevoked, and IsRevokedFor when idKey (the identity's
// key without the prefix, as the cache names it) is not nil.
func (s *Store) check(ctx context.Context, keys []string, idKey []byte, identity string, issued time.Time) (bool, error) {
	now := mono()
	s.mapper.want()
	if topo := s.topo.Load(); topo != nil && topo.fresh(now) {
		if revoked, ok := s.cache.lookup(keys, idKey, issued, now); ok {
			return revoked, nil
		}
	}
	if err := s.failing(); err != nil {
		return false, fmt.Errorf("rueidisblocklist: check: %w", err)
	}
	// Read each key's version before asking: whatever changes it (an
	// invalidation, a connection lost or made) until the answer is stored
	// may have overtaken the answer. Without every tracking connection
	// up, a key could change with no invalidation to tell: answer, but
	// keep nothing.
	cached := keys
	if idKey != nil {
		cached = append(keys[:len(keys):len(keys)], string(idKey))
	}
	versions := make([]uint64, len(cached))
	for i, k := range cached {
		versions[i] = s.cache.version(k)
	}
	keep := s.trackingUp()
	cmds := make(rueidis.Commands, 0, 2*len(cached))
	for _, k := range keys {
		cmds = append(cmds, s.client.B().Get().Key(s.keys.Token(k)).Build().Pin(), s.client.B().Pttl().Key(s.keys.Token(k)).Build().Pin())
	}
	if idKey != nil {
		k := s.keys.Identity(identity)
		cmds = append(cmds, s.client.B().Get().Key(k).Build().Pin(), s.client.B().Pttl().Key(k).Build().Pin())
	}
	res, err := call(s, ctx, func(ctx context.Context) ([]rueidis.RedisResult, error) {
		return s.client.DoMulti(ctx, cmds...), nil
	})
	if err != nil {
		return false, fmt.Errorf("rueidisblocklist: check: %w", err)
	}
	now = mono()
	revoked := false
	for i, k := range cached {
		a, err := s.answer(res[2*i], res[2*i+1], now, i >= len(keys))
		if err != nil {
			s.suspect(err)
			return false, fmt.Errorf("rueidisblocklist: check: %w", err)
		}
		if i < len(keys) {
			revoked = revoked || a.revoked
		} else {
			revoked = revoked || (a.revoked && redisproto.IssuedBefore(issued, a.cutoff))
		}
		if keep {
			s.cache.store(k, a, versions[i])
		}
	}
	return revoked, nil
}

// answer reads the GET and PTTL of a key into the cache's answer, kept
// until the cache TTL, or the key's TTL if that comes first. A value of
// a token key (whatever it is, "1" from either store) means revoked; an
// identity key's is its cutoff.
func (s *Store) answer(get, pttl rueidis.RedisResult, now int64, identity bool) (answer, error) {
	v, err := get.ToString()
	if rueidis.IsRedisNil(err) {
		_, err := pttl.AsInt64()
		return answer{until: now + int64(s.cacheTTL)}, err
	}
	if err != nil {
		return answer{}, err
	}
	ms, err := pttl.AsInt64()
	if err != nil {
		return answer{}, err
	}
	a := answer{until: now + int64(s.cacheTTL), revoked: true}
	if ms > 0 {
		a.until = min(a.until, now+ms*int64(time.Millisecond))
	}
	if identity {
		if a.cutoff, err = redisproto.ParseCutoff(v); err != nil {
			return answer{}, fmt.Errorf("identity cutoff %q: %w", v, err)
		}
	}
	return a, nil
}

// Rotate implements ginjwt.RotationStore with a compare-and-set script on the
// family's one key, which Redis runs atomically (and Cluster accepts).
func (s *Store) Rotate(ctx context.Context, family, prev, next string, until time.Time) (bool, error) {
	if err := s.failing(); err != nil {
		return false, fmt.Errorf("rueidisblocklist: rotate: %w", err)
	}
	n, err := call(s, ctx, func(ctx context.Context) (int64, error) {
		return s.run(ctx, redisproto.Rotate, s.keys.Family(family), prev, next, strconv.FormatInt(s.ttl(until), 10)).AsInt64()
	})
	if err != nil {
		return false, fmt.Errorf("rueidisblocklist: rotate: %w", err)
	}
	return n == 1, nil
}

// Current implements ginjwt.RotationStore. It always asks Redis: it runs for
// refresh tokens only, which are rare, and right before a Rotate that
// decides by Redis's value anyway.
func (s *Store) Current(ctx context.Context, family string) (string, error) {
	if err := s.failing(); err != nil {
		return "", fmt.Errorf("rueidisblocklist: current: %w", err)
	}
	cur, err := call(s, ctx, func(ctx context.Context) (string, error) {
		cur, err := s.client.Do(ctx, s.client.B().Get().Key(s.keys.Family(family)).Build().Pin()).ToString()
		if rueidis.IsRedisNil(err) {
			return "", nil
		}
		return cur, err
	})
	if err != nil {
		return "", fmt.Errorf("rueidisblocklist: current: %w", err)
	}
	return cur, nil
}
