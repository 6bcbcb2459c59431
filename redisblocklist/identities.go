package redisblocklist

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ginjwt/ginjwt/internal/redisproto"
	"github.com/redis/go-redis/v9"
)

var revokeIdentityScript = redis.NewScript(redisproto.RevokeIdentity.Source)

// RevokeIdentity implements ginjwt.IdentityRevoker: one key per identity
// holding its cutoff in milliseconds (rounded up), whose TTL is the
// longest lifetime asked; revoking again keeps the later cutoff and the
// longer TTL, in one script.
func (s *Store) RevokeIdentity(ctx context.Context, identity string, before, until time.Time) error {
	ms := s.ttl(until)
	if ms < 0 {
		return nil // every token it could refuse has expired
	}
	_, err := run(s, ctx, func(ctx context.Context) (int64, error) {
		return s.write(ctx, revokeIdentityScript, s.keys.Identity(identity), redisproto.Cutoff(before), ms)
	})
	if err != nil {
		return fmt.Errorf("redisblocklist: revoke identity: %w", err)
	}
	return nil
}

// IsRevokedFor implements ginjwt.IdentityRevoker in one round trip: a
// pipeline of an EXISTS per key and a GET of the identity's cutoff,
// single-key commands that Redis Cluster accepts whatever their slots.
func (s *Store) IsRevokedFor(ctx context.Context, identity string, issued time.Time, keys ...string) (bool, error) {
	revoked, err := run(s, ctx, func(ctx context.Context) (bool, error) {
		exists := make([]*redis.IntCmd, len(keys))
		var cutoff *redis.StringCmd
		_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				exists[i] = p.Exists(ctx, s.keys.Token(k))
			}
			cutoff = p.Get(ctx, s.keys.Identity(identity))
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) { // Nil: no cutoff, read below
			return false, err
		}
		for _, c := range exists {
			if c.Val() > 0 {
				return true, nil
			}
		}
		v, err := cutoff.Result()
		if errors.Is(err, redis.Nil) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		ms, err := redisproto.ParseCutoff(v)
		if err != nil {
			return false, fmt.Errorf("identity cutoff %q: %w", v, err)
		}
		return redisproto.IssuedBefore(issued, ms), nil
	})
	if err != nil {
		return false, fmt.Errorf("redisblocklist: check: %w", err)
	}
	return revoked, nil
}
