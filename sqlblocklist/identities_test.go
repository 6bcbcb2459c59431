package sqlblocklist_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/sqlblocklist"
	"github.com/ginjwt/ginjwt/sqlblocklist/internal/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statements records the SQL statements a pgx connection sends.
type statements struct {
	mu   sync.Mutex
	sent []string
}

func (s *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, data.SQL)
	return ctx
}

func (s *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (s *statements) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	sent := s.sent
	s.sent = nil
	return sent
}

// The guards' check asks PostgreSQL one statement, whether the answer
// comes from a revoked key, the identity's cutoff or neither: one round
// trip per request.
func TestIsRevokedForIsOneStatement(t *testing.T) {
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(pgtest.Start(t).DSN)
	require.NoError(t, err)
	trace := &statements{}
	cfg.Tracer = trace
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { _ = db.Close() })
	s, err := sqlblocklist.New(ctx, db, sqlblocklist.Postgres)
	require.NoError(t, err)
	now := time.Now().Truncate(time.Millisecond)
	require.NoError(t, s.Revoke(ctx, "jti-1", now.Add(time.Hour)))
	require.NoError(t, s.RevokeIdentity(ctx, "alice", now, now.Add(time.Hour)))
	trace.take()

	for _, tc := range []struct {
		name     string
		identity string
		keys     []string
		want     bool
	}{
		{"a revoked key", "bob", []string{"jti-1", "fam:s-1"}, true},
		{"the identity's cutoff", "alice", []string{"jti-2", "fam:s-2"}, true},
		{"neither", "bob", []string{"jti-2", "fam:s-2"}, false},
		{"no keys", "alice", nil, true},
		{"three keys", "bob", []string{"jti-2", "fam:s-2", "jti-1"}, true},
	} {
		revoked, err := s.IsRevokedFor(ctx, tc.identity, now.Add(-time.Millisecond), tc.keys...)
		require.NoError(t, err)
		assert.Equal(t, tc.want, revoked, tc.name)
		sent := trace.take()
		if assert.Len(t, sent, 1, "%s: statements sent", tc.name) {
			assert.Contains(t, sent[0], "ginjwt_identities", tc.name)
			if len(tc.keys) > 0 {
				assert.Contains(t, sent[0], "ginjwt_revoked", tc.name)
			}
		}
	}
}

// A cutoff between two milliseconds refuses the tokens of its whole
// millisecond, never one of a later millisecond; the stored record holds
// whole milliseconds.
func TestIdentityCutoffIsWholeMilliseconds(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db := b.open(t)
			s := newStore(t, b, db)
			ms := time.Now().Truncate(time.Millisecond)
			require.NoError(t, s.RevokeIdentity(ctx, "alice", ms.Add(300*time.Microsecond), ms.Add(time.Hour)))
			for _, tc := range []struct {
				issued time.Time
				want   bool
			}{
				{ms.Add(-time.Millisecond), true},
				{ms, true},
				{ms.Add(900 * time.Microsecond), true}, // the cutoff's millisecond
				{ms.Add(time.Millisecond), false},
			} {
				revoked, err := s.IsRevokedFor(ctx, "alice", tc.issued)
				require.NoError(t, err)
				assert.Equal(t, tc.want, revoked, "issued %s", tc.issued.Sub(ms))
			}
			var before int64
			require.NoError(t, db.QueryRow(`SELECT before_ms FROM ginjwt_identities`).Scan(&before))
			assert.Equal(t, ms.UnixMilli()+1, before)
		})
	}
}
