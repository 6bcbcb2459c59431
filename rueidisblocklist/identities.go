package rueidisblocklist

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ginjwt/ginjwt/internal/redisproto"
)

// RevokeIdentity implements ginjwt.IdentityRevoker: one key per identity
// holding its cutoff in milliseconds (rounded up), whose TTL is the
// longest lifetime asked; revoking again keeps the later cutoff and the
// longer TTL, in one script, as redisblocklist does. The key is under
// the prefix, so Redis invalidates every instance's cached cutoff, and,
// as Revoke, it returns the freshness window after Redis took it: a
// request sent after it returned is refused by every instance.
func (s *Store) RevokeIdentity(ctx context.Context, identity string, before, until time.Time) error {
	ms := s.ttl(until)
	if ms < 0 {
		return nil // every token it could refuse has expired
	}
	if err := s.failing(); err != nil {
		return fmt.Errorf("rueidisblocklist: revoke identity: %w", err)
	}
	_, err := call(s, ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.run(ctx, redisproto.RevokeIdentity, s.keys.Identity(identity),
			redisproto.Cutoff(before), strconv.FormatInt(ms, 10)).Error()
	})
	if err != nil {
		return fmt.Errorf("rueidisblocklist: revoke identity: %w", err)
	}
	if err := s.waitWindow(ctx); err != nil {
		return fmt.Errorf("rueidisblocklist: revoke identity: %w", err)
	}
	return nil
}

// IsRevokedFor implements ginjwt.IdentityRevoker: the keys and the
// identity's cutoff, from memory under the same freshness rule as
// IsRevoked, else from Redis in one round trip (a GET and a PTTL each).
// The cutoff is compared to the millisecond, issued rounded down.
func (s *Store) IsRevokedFor(ctx context.Context, identity string, issued time.Time, keys ...string) (bool, error) {
	var buf [96]byte // the key of an identity of up to 45 bytes, on the stack
	return s.check(ctx, keys, redisproto.AppendIdentity(buf[:0], identity), identity, issued)
}
