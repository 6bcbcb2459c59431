// Package redisblocklist is a ginjwt.Blocklist in Redis, shared by every
// instance of a service, so that a token revoked on one is refused by all.
// It lives in its own module: ginjwt's users who do not need it never
// download a Redis client.
//
//	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	jwt, err := ginjwt.New(
//		ginjwt.WithSecretKey(secret),
//		ginjwt.WithBlocklist(redisblocklist.New(client)),
//	)
//
// Each revoked token is one key whose TTL is the token's remaining
// lifetime, so Redis forgets it when the token expires (flask's
// blocklist_redis.py does the same); revoking it again keeps the longer
// TTL. Each refresh-token family is one more key holding its current
// token ID. It works with a single node, Sentinel and Cluster clients:
// every command and script touches one key.
//
// When Redis fails or hangs, its errors reach ginjwt, whose guards then
// refuse requests with 503 rather than let revoked tokens through. Every
// call answers by its context's deadline (ginjwt.WithBlocklistTimeout)
// whatever options the client was built with, and once Redis is known to
// be down calls fail at once until a probe finds it back (WithBreaker).
package redisblocklist

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/redis/go-redis/v9"
)

// Store is a ginjwt.Blocklist backed by Redis. It is safe for concurrent
// use.
type Store struct {
	client     redis.UniversalClient
	prefix     string
	now        func() time.Time
	breaker    *breaker
	inFlight   chan struct{} // a semaphore: calls out to Redis, abandoned ones included
	acks       int
	ackTimeout time.Duration
}

var _ ginjwt.Blocklist = (*Store)(nil)

// Defaults of the options.
const (
	DefaultBreakerFailures = 3
	DefaultProbeEvery      = 100 * time.Millisecond
	DefaultMaxInFlight     = 64
)

// ErrReplicaAcks is the error of a write (Revoke, Rotate) that fewer
// replicas acknowledged than WithReplicaAcks asks for. The write is on the
// master but could be lost if a replica were promoted now.
var ErrReplicaAcks = errors.New("redisblocklist: too few replicas acknowledged the write")

// Option configures a Store.
type Option func(*Store)

// WithKeyPrefix sets the prefix of the Redis keys. Default:
// "ginjwt:revoked:".
func WithKeyPrefix(prefix string) Option { return func(s *Store) { s.prefix = prefix } }

// WithClock sets the clock that turns expiry times into TTLs, for tests.
// Default: time.Now.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithBreaker sets the circuit breaker that fails calls at once (with
// ErrCircuitOpen, which ginjwt answers with 503) while Redis is down,
// instead of each request waiting out its timeout. It opens after
// `failures` consecutive calls found Redis down (no answer by the
// deadline, a network error, LOADING, CLUSTERDOWN, MASTERDOWN...). While
// it is open every call fails at once, and a call that finds a probe due
// (at most every probeEvery, one at a time) starts a PING in the
// background, with a deadline of its own (1 s); the first answer from
// Redis closes it. failures <= 0 turns the breaker off. Default:
// DefaultBreakerFailures, DefaultProbeEvery.
func WithBreaker(failures int, probeEvery time.Duration) Option {
	return func(s *Store) {
		if failures <= 0 {
			s.breaker = nil
			return
		}
		s.breaker = &breaker{failures: int32(min(failures, 1<<30)), probeEvery: max(probeEvery, 0)} //nolint:gosec // G115: clamped
	}
}

// WithMaxInFlight bounds the calls out to Redis at a time, those whose
// caller gave up at its deadline included (they end with go-redis's own
// timeouts). A call finding them all out waits for one until its deadline,
// then fails with ErrTooBusy. Default: DefaultMaxInFlight; n < 1 counts
// as 1.
func WithMaxInFlight(n int) Option {
	return func(s *Store) { s.inFlight = make(chan struct{}, max(n, 1)) }
}

// WithReplicaAcks makes every write (Revoke, Rotate) wait until n replicas
// hold it: the write is followed by WAIT n timeout on the same connection,
// to the master that took it, and fails with ErrReplicaAcks when fewer
// replicas acknowledged within timeout. Redis replication is
// asynchronous: without this, a revocation acknowledged by a master that
// dies before passing it on is lost when a replica is promoted. Redis ends
// a WAIT at the first tick (1/hz, 100 ms by default) after its timeout, so
// keep timeout that much under ginjwt.WithBlocklistTimeout; a timeout <= 0
// waits for half the time left before the call's deadline (1 s without
// one). n <= 0 turns it off (the default). It needs a *redis.Client
// (single node or Sentinel failover client) or a *redis.ClusterClient;
// writes through other clients fail.
func WithReplicaAcks(n int, timeout time.Duration) Option {
	return func(s *Store) { s.acks, s.ackTimeout = max(n, 0), timeout }
}

// New returns a Store using client (a *redis.Client, *redis.ClusterClient,
// a failover client, or any redis.UniversalClient).
func New(client redis.UniversalClient, opts ...Option) *Store {
	s := &Store{
		client:   client,
		prefix:   "ginjwt:revoked:",
		now:      time.Now,
		breaker:  &breaker{failures: DefaultBreakerFailures, probeEvery: DefaultProbeEvery},
		inFlight: make(chan struct{}, DefaultMaxInFlight),
	}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// ttl turns an expiry into a TTL: 0 for none (keep the key), negative for
// an expiry already past (nothing to store).
func (s *Store) ttl(until time.Time) time.Duration {
	if until.IsZero() {
		return 0
	}
	d := until.Sub(s.now())
	if d <= 0 {
		return -1
	}
	// Redis keeps whole milliseconds; round up so the key never outlives
	// the token by less than the token itself.
	return d.Truncate(time.Millisecond) + time.Millisecond
}

// revokeScript sets KEYS[1] for ARGV[1] ms (0: no expiry), keeping a
// longer TTL it already has. It always writes, so that a WAIT after it
// covers the entry whatever connection wrote it first.
var revokeScript = redis.NewScript(`
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
// nothing.
var rotateScript = redis.NewScript(`
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
// remaining lifetime, or stays the longer one it has.
func (s *Store) Revoke(ctx context.Context, key string, until time.Time) error {
	ttl := s.ttl(until)
	if ttl < 0 {
		return nil
	}
	_, err := run(s, ctx, func(ctx context.Context) (int64, error) {
		return s.write(ctx, revokeScript, s.prefix+key, ttl.Milliseconds())
	})
	if err != nil {
		return fmt.Errorf("redisblocklist: revoke: %w", err)
	}
	return nil
}

// IsRevoked implements ginjwt.Blocklist. Several keys are checked in one
// pipeline of single-key EXISTS, which Redis Cluster accepts whatever slots
// the keys hash to.
func (s *Store) IsRevoked(ctx context.Context, keys ...string) (bool, error) {
	revoked, err := run(s, ctx, func(ctx context.Context) (bool, error) {
		if len(keys) == 1 {
			n, err := s.client.Exists(ctx, s.prefix+keys[0]).Result()
			return n > 0, err
		}
		cmds := make([]*redis.IntCmd, len(keys))
		_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				cmds[i] = p.Exists(ctx, s.prefix+k)
			}
			return nil
		})
		if err != nil {
			return false, err
		}
		for _, c := range cmds {
			if c.Val() > 0 {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return false, fmt.Errorf("redisblocklist: check: %w", err)
	}
	return revoked, nil
}

// familyKey is the key of a family's record, apart from the revoked keys
// (token IDs and "fam:" + family).
func (s *Store) familyKey(family string) string { return s.prefix + "cur:" + family }

// Rotate implements ginjwt.Blocklist with a compare-and-set script on the
// family's one key, which Redis runs atomically (and Cluster accepts).
func (s *Store) Rotate(ctx context.Context, family, prev, next string, until time.Time) (bool, error) {
	ttl := s.ttl(until)
	ms := ttl.Milliseconds()
	if ttl < 0 {
		ms = -1
	}
	n, err := run(s, ctx, func(ctx context.Context) (int64, error) {
		return s.write(ctx, rotateScript, s.familyKey(family), prev, next, ms)
	})
	if err != nil {
		return false, fmt.Errorf("redisblocklist: rotate: %w", err)
	}
	return n == 1, nil
}

// Current implements ginjwt.Blocklist.
func (s *Store) Current(ctx context.Context, family string) (string, error) {
	cur, err := run(s, ctx, func(ctx context.Context) (string, error) {
		v, err := s.client.Get(ctx, s.familyKey(family)).Result()
		if errors.Is(err, redis.Nil) {
			return "", nil
		}
		return v, err
	})
	if err != nil {
		return "", fmt.Errorf("redisblocklist: current: %w", err)
	}
	return cur, nil
}

// write runs a script on key and, with WithReplicaAcks, WAIT after it on
// the same connection of the master holding key, in one round trip.
func (s *Store) write(ctx context.Context, script *redis.Script, key string, args ...any) (int64, error) {
	if s.acks == 0 {
		return script.Run(ctx, s.client, []string{key}, args...).Int64()
	}
	var node *redis.Client
	switch c := s.client.(type) {
	case *redis.Client:
		node = c
	case *redis.ClusterClient:
		// A pipeline is sent on one connection; on a ClusterClient a
		// keyless WAIT would go to any node, so send both to the key's
		// master.
		var err error
		if node, err = c.MasterForKey(ctx, key); err != nil {
			return 0, err
		}
	default:
		return 0, fmt.Errorf("redisblocklist: WithReplicaAcks needs a *redis.Client or *redis.ClusterClient, not %T", s.client)
	}
	timeout := s.ackTimeout
	if timeout <= 0 {
		timeout = time.Second
		if deadline, ok := ctx.Deadline(); ok {
			timeout = max(time.Until(deadline)/2, time.Millisecond)
		}
	}
	var res *redis.Cmd
	var wait *redis.IntCmd
	// EVAL with the source, not EVALSHA: a pipeline cannot fall back on
	// NOSCRIPT, and writes are rare.
	_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
		res = script.Eval(ctx, p, []string{key}, args...)
		if w, ok := p.(interface {
			Wait(context.Context, int, time.Duration) *redis.IntCmd
		}); ok {
			wait = w.Wait(ctx, s.acks, timeout) // which extends the read deadline by timeout
		} else {
			wait = redis.NewIntCmd(ctx)
			wait.SetErr(fmt.Errorf("redisblocklist: %T cannot send WAIT", p))
		}
		return nil
	})
	if err := res.Err(); err != nil {
		return 0, err
	}
	if err := wait.Err(); err != nil {
		return 0, err
	}
	if err != nil {
		return 0, err
	}
	if n, _ := res.Int64(); n == 0 {
		return 0, nil // nothing written (a lost compare): nothing to wait for
	}
	if got := wait.Val(); got < int64(s.acks) {
		return 0, fmt.Errorf("%w: %d of %d within %v", ErrReplicaAcks, got, s.acks, timeout)
	}
	return res.Int64()
}
