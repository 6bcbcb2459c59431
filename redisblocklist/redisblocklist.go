// Package redisblocklist is a ginjwt.Blocklist in Redis, shared by every
// instance of a service, so that a token revoked on one is refused by all.
// It lives in its own module: ginjwt's users who do not need it never
// download a Redis client.
//
//	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	store, err := redisblocklist.New(client)
//	...
//	jwt, err := ginjwt.New(
//		ginjwt.WithSecretKey(secret),
//		ginjwt.WithBlocklist(store),
//	)
//
// A Store implements ginjwt.RotationStore, ginjwt.IdentityRevoker and
// ginjwt.SessionStore. Each revoked token (or session) is one key whose
// TTL is the token's remaining lifetime, so Redis forgets it when the
// token expires (flask's blocklist_redis.py does the same); revoking it
// again keeps the longer TTL. Each refresh-token family is one more key
// holding its current token ID. Manager.RevokeIdentity keeps one key per
// identity, its cutoff in milliseconds, which the guards read with the
// token's keys in one round trip; WithSessionList keeps one hash per
// identity, its live sessions. It works with a single node, Sentinel and
// Cluster clients: every command and script touches one key. The key
// layout and the scripts are rueidisblocklist's too, so both stores can
// share one Redis.
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
	"math"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/internal/redisproto"
	"github.com/redis/go-redis/v9"
)

// Store is a ginjwt.Blocklist backed by Redis. It is safe for concurrent
// use.
type Store struct {
	client     redis.UniversalClient
	keys       redisproto.Keys
	now        func() time.Time
	breaker    *breaker
	inFlight   chan struct{} // a semaphore: calls out to Redis, abandoned ones included
	acks       int
	ackTimeout time.Duration
}

var (
	_ ginjwt.RotationStore   = (*Store)(nil)
	_ ginjwt.IdentityRevoker = (*Store)(nil)
	_ ginjwt.SessionStore    = (*Store)(nil)
)

// Defaults of the options.
const (
	DefaultBreakerFailures = 3
	DefaultProbeEvery      = 100 * time.Millisecond
	DefaultMaxInFlight     = 64
)

// ErrReplicaAcks is the error of a write (any but a check) that fewer
// replicas acknowledged than WithReplicaAcks asks for. The write is on the
// master but could be lost if a replica were promoted now.
var ErrReplicaAcks = errors.New("redisblocklist: too few replicas acknowledged the write")

// Option configures a Store. New reports the values an option refuses.
type Option func(*Store) error

// WithKeyPrefix sets the prefix of the Redis keys; it must not be empty.
// Default: "ginjwt:revoked:".
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
// Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) error {
		if now == nil {
			return errors.New("WithClock: nil clock")
		}
		s.now = now
		return nil
	}
}

// WithBreaker sets the circuit breaker that fails calls at once (with
// ErrCircuitOpen, which ginjwt answers with 503) while Redis is down,
// instead of each request waiting out its timeout. It opens after
// `failures` consecutive calls found Redis down (no answer by the
// deadline, a network error, LOADING, CLUSTERDOWN, MASTERDOWN...). While
// it is open every call fails at once, and a call that finds a probe due
// (at most every probeEvery, one at a time) starts a PING in the
// background, with a deadline of its own (1 s); the first answer from
// Redis closes it. WithBreaker(0, 0) turns the breaker off; otherwise
// both must be positive. Default: DefaultBreakerFailures,
// DefaultProbeEvery.
func WithBreaker(failures int, probeEvery time.Duration) Option {
	return func(s *Store) error {
		switch {
		case failures == 0 && probeEvery == 0:
			s.breaker = nil
		case failures <= 0 || failures > math.MaxInt32 || probeEvery <= 0:
			return fmt.Errorf("WithBreaker(%d, %v): both must be positive (0, 0 turns the breaker off)", failures, probeEvery)
		default:
			s.breaker = &breaker{failures: int32(failures), probeEvery: probeEvery}
		}
		return nil
	}
}

// WithMaxInFlight bounds the calls out to Redis at a time, those whose
// caller gave up at its deadline included (they end with go-redis's own
// timeouts). A call finding them all out waits for one until its deadline,
// then fails with ErrTooBusy. n must be positive. Default:
// DefaultMaxInFlight.
func WithMaxInFlight(n int) Option {
	return func(s *Store) error {
		if n < 1 {
			return fmt.Errorf("WithMaxInFlight(%d): must be positive", n)
		}
		s.inFlight = make(chan struct{}, n)
		return nil
	}
}

// WithReplicaAcks makes every write (Revoke, Rotate, RevokeIdentity and
// the session list's) wait until n replicas hold it: the write is
// followed by WAIT n timeout on the same connection, to the master that
// took it, and fails with ErrReplicaAcks when fewer replicas acknowledged
// within timeout. Redis replication is asynchronous: without this, a
// revocation acknowledged by a master that dies before passing it on is
// lost when a replica is promoted. Redis ends a WAIT at the first tick
// (1/hz, 100 ms by default) after its timeout, so keep timeout that much
// under ginjwt.WithBlocklistTimeout; a timeout of 0 waits for half the
// time left before the call's deadline (1 s without one). n = 0 turns it
// off (the default); negative values are refused. It needs a
// *redis.Client (single node or Sentinel failover client) or a
// *redis.ClusterClient; New refuses other clients with it.
func WithReplicaAcks(n int, timeout time.Duration) Option {
	return func(s *Store) error {
		if n < 0 || timeout < 0 {
			return fmt.Errorf("WithReplicaAcks(%d, %v): neither may be negative", n, timeout)
		}
		s.acks, s.ackTimeout = n, timeout
		return nil
	}
}

// New returns a Store using client (a *redis.Client, *redis.ClusterClient,
// a failover client, or any redis.UniversalClient). It reports every
// option value it refuses at once, as ginjwt.New does.
func New(client redis.UniversalClient, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisblocklist: nil client")
	}
	s := &Store{
		client:   client,
		keys:     redisproto.Keys{Prefix: redisproto.DefaultPrefix},
		now:      time.Now,
		breaker:  &breaker{failures: DefaultBreakerFailures, probeEvery: DefaultProbeEvery},
		inFlight: make(chan struct{}, DefaultMaxInFlight),
	}
	var errs []error
	for _, opt := range opts {
		if err := opt(s); err != nil {
			errs = append(errs, fmt.Errorf("redisblocklist: %w", err))
		}
	}
	if s.acks > 0 {
		switch client.(type) {
		case *redis.Client, *redis.ClusterClient:
		default:
			errs = append(errs, fmt.Errorf("redisblocklist: WithReplicaAcks needs a *redis.Client or *redis.ClusterClient, not %T", client))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// ttl turns an expiry into a TTL in milliseconds (redisproto.TTL).
func (s *Store) ttl(until time.Time) int64 { return redisproto.TTL(until, s.now()) }

// The scripts of redisproto, run by go-redis (EVALSHA, then EVAL on
// NOSCRIPT).
var (
	revokeScript = redis.NewScript(redisproto.Revoke.Source)
	rotateScript = redis.NewScript(redisproto.Rotate.Source)
)

// Revoke implements ginjwt.Blocklist: the key's TTL becomes the token's
// remaining lifetime, or stays the longer one it has.
func (s *Store) Revoke(ctx context.Context, key string, until time.Time) error {
	ms := s.ttl(until)
	if ms < 0 {
		return nil
	}
	_, err := run(s, ctx, func(ctx context.Context) (int64, error) {
		return s.write(ctx, revokeScript, s.keys.Token(key), ms)
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
			n, err := s.client.Exists(ctx, s.keys.Token(keys[0])).Result()
			return n > 0, err
		}
		cmds := make([]*redis.IntCmd, len(keys))
		_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				cmds[i] = p.Exists(ctx, s.keys.Token(k))
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

// Rotate implements ginjwt.RotationStore with a compare-and-set script on the
// family's one key, which Redis runs atomically (and Cluster accepts).
func (s *Store) Rotate(ctx context.Context, family, prev, next string, until time.Time) (bool, error) {
	n, err := run(s, ctx, func(ctx context.Context) (int64, error) {
		return s.write(ctx, rotateScript, s.keys.Family(family), prev, next, s.ttl(until))
	})
	if err != nil {
		return false, fmt.Errorf("redisblocklist: rotate: %w", err)
	}
	return n == 1, nil
}

// Current implements ginjwt.RotationStore.
func (s *Store) Current(ctx context.Context, family string) (string, error) {
	cur, err := run(s, ctx, func(ctx context.Context) (string, error) {
		v, err := s.client.Get(ctx, s.keys.Family(family)).Result()
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
	default: // refused by New
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
