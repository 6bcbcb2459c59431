package sqlblocklist

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// identityQueries are the statements of ginjwt.IdentityRevoker.
type identityQueries struct {
	revoke string
	// isRevokedFor[n] asks about an identity and n keys: the guards pass
	// two (the token and its session).
	isRevokedFor [3]string
}

func (s *Store) identityQueries() identityQueries {
	i := s.prefix + "identities"
	return identityQueries{
		// Revoking again keeps the later cutoff and the longer record,
		// unless the stored record has expired (not swept yet): then it
		// counts for nothing and the new one replaces it. The SET
		// expressions all read the row as it was.
		revoke: s.sql(`INSERT INTO ` + i + ` (identity, before_ms, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (identity) DO UPDATE SET
				before_ms = CASE
					WHEN ` + i + `.expires_at <= ? OR excluded.before_ms > ` + i + `.before_ms THEN excluded.before_ms
					ELSE ` + i + `.before_ms END,
				expires_at = CASE
					WHEN excluded.expires_at > ` + i + `.expires_at THEN excluded.expires_at
					ELSE ` + i + `.expires_at END`),
		isRevokedFor: [3]string{s.revokedForQuery(0), s.revokedForQuery(1), s.revokedForQuery(2)},
	}
}

// revokedForQuery asks, in one statement, whether any of n keys is
// revoked or an identity's tokens issued at a time are. Its arguments
// are the time and the keys (when n > 0), then the identity, the time
// again and the issue time in milliseconds.
func (s *Store) revokedForQuery(n int) string {
	identity := `EXISTS (SELECT 1 FROM ` + s.prefix + `identities
		WHERE identity = ? AND expires_at > ? AND before_ms > ?)`
	if n == 0 {
		return s.sql(`SELECT ` + identity)
	}
	return s.sql(`SELECT EXISTS (SELECT 1 FROM ` + s.prefix + `revoked WHERE expires_at > ? AND id IN (?` +
		strings.Repeat(", ?", n-1) + `)) OR ` + identity)
}

// RevokeIdentity implements ginjwt.IdentityRevoker: one row per identity
// holding its cutoff in milliseconds, kept until the later of its
// expiries. A cutoff between two milliseconds is rounded up, so a token
// of the cutoff's millisecond is refused rather than let through.
func (s *Store) RevokeIdentity(ctx context.Context, identity string, before, until time.Time) error {
	now := s.now()
	if !until.IsZero() && !until.After(now) {
		return nil // every token it could refuse has expired
	}
	if _, err := s.write(ctx, s.q.identity.revoke, identity, ceilMilli(before), stamp(until), now.UnixMicro()); err != nil {
		return fmt.Errorf("sqlblocklist: revoke identity: %w", err)
	}
	s.maybeSweep(ctx, now)
	return nil
}

// ceilMilli returns t in milliseconds since 1970, rounded up.
func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli() // rounded down, also before 1970
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		ms++
	}
	return ms
}

// IsRevokedFor implements ginjwt.IdentityRevoker with one statement, so
// the guards' check stays one round trip: EXISTS over the revoked keys OR
// EXISTS over the identity's cutoff. issued is compared to the
// millisecond (rounded down); the zero time is before every cutoff.
func (s *Store) IsRevokedFor(ctx context.Context, identity string, issued time.Time, keys ...string) (bool, error) {
	now := s.now().UnixMicro()
	args := make([]any, 0, len(keys)+4)
	if len(keys) > 0 {
		args = append(args, now)
		for _, k := range keys {
			args = append(args, k)
		}
	}
	args = append(args, identity, now, issued.UnixMilli())
	var query string
	if len(keys) < len(s.q.identity.isRevokedFor) {
		query = s.q.identity.isRevokedFor[len(keys)]
	} else {
		query = s.revokedForQuery(len(keys))
	}
	var revoked bool
	if err := s.db.QueryRowContext(ctx, query, args...).Scan(&revoked); err != nil {
		return false, fmt.Errorf("sqlblocklist: check: %w", err)
	}
	return revoked, nil
}
