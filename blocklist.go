package ginjwt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Blocklist stores revoked token IDs ("jti") and sessions until their
// tokens expire: the store of flask's token_in_blocklist_loader examples,
// and the core every store has; RotationStore, IdentityRevoker and
// SessionStore are capabilities some options need. Implementations must
// be safe for concurrent use (blocklisttest checks one). Keys and
// identities are valid UTF-8.
type Blocklist interface {
	// Revoke marks key revoked until until (zero: for as long as the store
	// lives; past: nothing is stored). Revoking again keeps the longer
	// lifetime.
	Revoke(ctx context.Context, key string, until time.Time) error
	// IsRevoked reports whether any of keys is revoked.
	IsRevoked(ctx context.Context, keys ...string) (bool, error)
}

// IdentityRevoker is a Blocklist that can also refuse every token of an
// identity issued before a time, for Manager.RevokeIdentity; the guards
// then ask IsRevokedFor instead of IsRevoked.
type IdentityRevoker interface {
	Blocklist
	// RevokeIdentity refuses identity's tokens issued before before, until
	// until (zero: as Revoke). Again, it keeps the later before and until.
	RevokeIdentity(ctx context.Context, identity string, before, until time.Time) error
	// IsRevokedFor reports, in one question to the store, whether any of
	// keys (none for a legacy token) is revoked or issued is before
	// identity's cutoff, in milliseconds: the cutoff rounded up, issued down.
	IsRevokedFor(ctx context.Context, identity string, issued time.Time, keys ...string) (bool, error)
}

// SessionStore is a Blocklist that also keeps each identity's live
// sessions, keyed by identity and ID until their Expires, for
// WithSessionList.
type SessionStore interface {
	Blocklist
	// SaveSession stores or replaces s until s.Expires (zero: as Revoke).
	SaveSession(ctx context.Context, s Session) error
	// TouchSession sets a stored session's Renewed, and its Expires to the
	// later of expires and its own (zero: never); an absent one stays so.
	TouchSession(ctx context.Context, identity, id string, renewed, expires time.Time) error
	// Sessions returns identity's live sessions, in any order.
	Sessions(ctx context.Context, identity string) ([]Session, error)
	// DeleteSession removes a session; an absent one is no error.
	DeleteSession(ctx context.Context, identity, id string) error
}

// WithBlocklist makes every guard check the token and its session against
// store after the other checks (flask's token_in_blocklist_loader
// examples): revoked gets 401 "Token has been revoked", a store error 503,
// failing closed. Tokens without "jti" get 422 "Missing claim: jti" (see
// WithLegacyTokensUntil).
func WithBlocklist(store Blocklist) Option {
	return option(func(c *config) error {
		if store == nil {
			return errors.New("WithBlocklist: nil store")
		}
		c.blocklist = store
		return nil
	})
}

// WithLegacyTokensUntil accepts, until t (in the future), tokens without
// "jti" or "sid" despite WithBlocklist: those a service issued before it
// moved to ginjwt (appleboy/gin-jwt's). Set t to when the last expires. A
// logout cannot end such a token, only RevokeIdentity can
// (docs/coming-from-appleboy.md). Default: no window (422).
func WithLegacyTokensUntil(t time.Time) Option {
	return option(func(c *config) error {
		if t.IsZero() {
			return errors.New("WithLegacyTokensUntil: zero time (leave the option out to refuse tokens without jti)")
		}
		c.legacyUntil = t
		return nil
	})
}

// acceptsLegacy reports whether a token without "jti" is let through to
// the revocation check: WithLegacyTokensUntil's window is open and it has
// no session either.
func (m *Manager) acceptsLegacy(c *Claims) bool {
	return c.SessionID() == "" && m.cfg.now().Before(m.cfg.legacyUntil)
}

// WithTokenInBlocklistLoader adds a revocation check of your own (flask's
// token_in_blocklist_loader), true for revoked, beside any WithBlocklist.
// An error fails closed (503).
func WithTokenInBlocklistLoader(revoked func(c *gin.Context, tok *Token) (bool, error)) Option {
	return option(func(c *config) error {
		if revoked == nil {
			return errors.New("WithTokenInBlocklistLoader: nil function")
		}
		c.revokedCheck = revoked
		return nil
	})
}

// WithBlocklistTimeout bounds each call to a networked store, so that a
// slow one fails closed quickly. Default: 1 second.
func WithBlocklistTimeout(d time.Duration) Option {
	return option(func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("WithBlocklistTimeout(%v): must be positive", d)
		}
		c.blocklistTimeout = d
		return nil
	})
}

// SkipRevocationCheck lets the guard accept revoked tokens
// (skip_revocation_check=True).
func SkipRevocationCheck() GuardOption {
	return guardFunc(func(g *guard) { g.skipRevocation = true })
}

// checkRevoked runs the blocklist and the application's check for a token
// that passed every other check.
func (m *Manager) checkRevoked(ctx context.Context, c *gin.Context, tok *Token) *Error {
	if m.isRevoked != nil {
		legacy := tok.Claims.JTI == ""
		if legacy && !m.acceptsLegacy(&tok.Claims) {
			return invalid(ErrInvalidClaims, "Missing claim: jti")
		}
		revoked, err := m.isRevoked(ctx, &tok.Claims)
		if err != nil {
			return m.unavailable(err)
		}
		if revoked {
			return newError(ErrRevoked, http.StatusUnauthorized, "Token has been revoked")
		}
		if !legacy { // a legacy token has no session to rotate
			if e := m.checkRotated(ctx, c, tok); e != nil {
				return e
			}
		}
	}
	if m.cfg.revokedCheck != nil {
		revoked, err := m.cfg.revokedCheck(c, tok)
		if err != nil {
			return m.unavailable(err)
		}
		if revoked {
			return newError(ErrRevoked, http.StatusUnauthorized, "Token has been revoked")
		}
	}
	return nil
}

// revocationLookup returns the guards' question to store about a token:
// its ID, its session and, when the store can tell, its identity. A
// MemoryBlocklist answers from memory and cannot block, so it is asked
// directly, without the deadline context and its allocations; any other
// store is asked under the blocklist timeout, whose timer starts only if
// the store waits on it (checkContext). With observers, each question is
// a store call they see. A token without ID or session is a question for
// an IdentityRevoker alone.
func (m *Manager) revocationLookup(store Blocklist) func(ctx context.Context, claims *Claims) (bool, error) {
	var ask func(ctx context.Context, claims *Claims) (bool, error)
	if mem, ok := store.(*MemoryBlocklist); ok {
		ask = func(_ context.Context, claims *Claims) (bool, error) {
			return mem.revokedToken(claims), nil
		}
	} else {
		keys := func(ctx context.Context, claims *Claims) (bool, error) {
			return store.IsRevoked(ctx, claims.JTI, sessionKey(claims.SessionID()))
		}
		if ir, ok := store.(IdentityRevoker); ok {
			keys = func(ctx context.Context, claims *Claims) (bool, error) {
				if claims.SessionID() == "" { // a legacy token: no key to ask about
					return ir.IsRevokedFor(ctx, claims.Identity, claims.issuedAt())
				}
				return ir.IsRevokedFor(ctx, claims.Identity, claims.issuedAt(), claims.JTI, sessionKey(claims.SessionID()))
			}
		}
		ask = func(ctx context.Context, claims *Claims) (bool, error) {
			cctx := newCheckContext(ctx, m.cfg.blocklistTimeout)
			defer cctx.stop()
			return keys(cctx, claims)
		}
	}
	lookup := ask
	if len(m.observers) > 0 {
		lookup = func(ctx context.Context, claims *Claims) (revoked bool, err error) {
			err = m.storeCall(ctx, StoreIsRevoked, func(ctx context.Context) error {
				revoked, err = ask(ctx, claims)
				return err
			})
			return revoked, err
		}
	}
	if _, ok := store.(IdentityRevoker); ok {
		return lookup
	}
	// A legacy token (WithLegacyTokensUntil) names nothing such a store
	// holds: there is no question to ask it.
	return func(ctx context.Context, claims *Claims) (bool, error) {
		if claims.SessionID() == "" {
			return false, nil
		}
		return lookup(ctx, claims)
	}
}

func (m *Manager) unavailable(err error) *Error {
	e := newError(ErrRevocationUnavailable, http.StatusServiceUnavailable, "Token revocation status is unavailable")
	e.cause = err
	return e
}

// Revoke ends the sessions of raw tokens, as a logout does, on every
// instance. All are verified first (expired ones pass): one invalid token
// revokes nothing.
func (m *Manager) Revoke(ctx context.Context, raw ...string) error {
	if m.cfg.blocklist == nil {
		return ErrNoBlocklist
	}
	// Verify them all before revoking any: a bad token revokes nothing.
	toks := make([]*Token, len(raw))
	for i, r := range raw {
		tok, err := m.DecodeExpiredToken(r)
		if err != nil {
			return err
		}
		toks[i] = tok
	}
	for _, tok := range toks {
		if err := m.revokeSession(ctx, tok, ReasonLogout); err != nil {
			return err
		}
	}
	return nil
}
