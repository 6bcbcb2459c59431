package sqlblocklist_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sessionOf(identity, id string, now time.Time) ginjwt.Session {
	return ginjwt.Session{ID: id, Identity: identity, Created: now, Expires: now.Add(time.Hour), UserAgent: "curl/8", ClientIP: "192.0.2.7"}
}

// Identities and session IDs reach the database as parameters only:
// quotes, placeholders and SQL in them are stored and found as given.
func TestHostileStringsAreParameters(t *testing.T) {
	hostile := []string{`'); DROP TABLE ginjwt_sessions; --`, `a'b`, `x ? y`, `$1`, `"quoted"`, `back\slash`,
		"ä 😀", strings.Repeat("é", 150)}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db := b.open(t)
			s := newStore(t, b, db)
			now := time.Now().Truncate(time.Millisecond)
			for _, x := range hostile {
				require.NoError(t, s.RevokeIdentity(ctx, x, now, now.Add(time.Hour)))
				require.NoError(t, s.SaveSession(ctx, sessionOf(x, x, now)))
			}
			for _, x := range hostile {
				revoked, err := s.IsRevokedFor(ctx, x, now.Add(-time.Millisecond), x)
				require.NoError(t, err)
				assert.True(t, revoked, x)
				list, err := s.Sessions(ctx, x)
				require.NoError(t, err)
				if assert.Len(t, list, 1, x) {
					assert.Equal(t, x, list[0].ID)
					assert.Equal(t, x, list[0].Identity)
				}
			}
			revoked, err := s.IsRevokedFor(ctx, "a", now.Add(-time.Millisecond))
			require.NoError(t, err)
			assert.False(t, revoked, "a prefix of a revoked identity")
			for _, x := range hostile {
				require.NoError(t, s.DeleteSession(ctx, x, x))
			}
			var n int
			require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM ginjwt_sessions`).Scan(&n))
			assert.Zero(t, n, "every session deleted by its own identity and ID")
			require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM ginjwt_identities`).Scan(&n))
			assert.Equal(t, len(hostile), n)
		})
	}
}
