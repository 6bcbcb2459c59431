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
// blocklist_redis.py does the same). It works with a single node, Sentinel
// and Cluster clients: every command touches one key. When Redis fails or
// is slow, its errors reach ginjwt, whose guards then refuse requests with
// 503 rather than let revoked tokens through.
package redisblocklist

import (
	"context"
	"fmt"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/redis/go-redis/v9"
)

// Store is a ginjwt.Blocklist backed by Redis. It is safe for concurrent
// use.
type Store struct {
	client redis.UniversalClient
	prefix string
	now    func() time.Time
}

var _ ginjwt.Blocklist = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithKeyPrefix sets the prefix of the Redis keys. Default:
// "ginjwt:revoked:".
func WithKeyPrefix(prefix string) Option { return func(s *Store) { s.prefix = prefix } }

// WithClock sets the clock that turns expiry times into TTLs, for tests.
// Default: time.Now.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New returns a Store using client (a *redis.Client, *redis.ClusterClient,
// a failover client, or any redis.UniversalClient).
func New(client redis.UniversalClient, opts ...Option) *Store {
	s := &Store{client: client, prefix: "ginjwt:revoked:", now: time.Now}
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

// Revoke implements ginjwt.Blocklist: SET key with the token's remaining
// lifetime as TTL.
func (s *Store) Revoke(ctx context.Context, key string, until time.Time) error {
	ttl := s.ttl(until)
	if ttl < 0 {
		return nil
	}
	if err := s.client.Set(ctx, s.prefix+key, "1", ttl).Err(); err != nil {
		return fmt.Errorf("redisblocklist: revoke: %w", err)
	}
	return nil
}

// RevokeOnce implements ginjwt.Blocklist with SET NX, which Redis runs
// atomically: of concurrent calls, one sets the key.
func (s *Store) RevokeOnce(ctx context.Context, key string, until time.Time) (bool, error) {
	ttl := s.ttl(until)
	if ttl < 0 {
		// Already expired: nothing to remember, and the token is unusable.
		return true, nil
	}
	set, err := s.client.SetNX(ctx, s.prefix+key, "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("redisblocklist: revoke once: %w", err)
	}
	return set, nil
}

// IsRevoked implements ginjwt.Blocklist. Several keys are checked in one
// pipeline of single-key EXISTS, which Redis Cluster accepts whatever slots
// the keys hash to.
func (s *Store) IsRevoked(ctx context.Context, keys ...string) (bool, error) {
	if len(keys) == 1 {
		n, err := s.client.Exists(ctx, s.prefix+keys[0]).Result()
		if err != nil {
			return false, fmt.Errorf("redisblocklist: check: %w", err)
		}
		return n > 0, nil
	}
	cmds := make([]*redis.IntCmd, len(keys))
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Exists(ctx, s.prefix+k)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("redisblocklist: check: %w", err)
	}
	for _, c := range cmds {
		if c.Val() > 0 {
			return true, nil
		}
	}
	return false, nil
}
