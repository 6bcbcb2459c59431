package ginjwt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Blocklist stores revoked tokens until they expire, so that a token is
// refused after logout even though its signature stays valid: the store
// behind flask-jwt-extended's token_in_blocklist_loader examples. Keys are
// token IDs (the "jti" claim) and sessions. It is the core every store
// has; RotationStore, IdentityRevoker and SessionStore are what some
// options and calls need besides. Implementations must be safe for
// concurrent use; MemoryBlocklist serves one process, the redisblocklist,
// rueidisblocklist and sqlblocklist modules several, and the blocklisttest
// package checks any of them. Keys and identities are valid UTF-8: the
// guards refuse tokens whose strings are not.
type Blocklist interface {
	// Revoke marks key revoked until until, after which the store may
	// forget it (the token has expired by then). A zero until means for
	// as long as the store lives. Revoking a key again keeps the longer
	// of the two lifetimes, so no acknowledged revocation is cut short;
	// an until already past stores nothing.
	Revoke(ctx context.Context, key string, until time.Time) error
	// IsRevoked reports whether any of keys is revoked.
	IsRevoked(ctx context.Context, keys ...string) (bool, error)
}

// IdentityRevoker is a Blocklist that can also refuse every token of one
// identity issued before a time, for Manager.RevokeIdentity. When the
// blocklist implements it, the guards ask IsRevokedFor instead of
// IsRevoked.
type IdentityRevoker interface {
	Blocklist
	// RevokeIdentity refuses the tokens of identity issued before before,
	// until until (zero: for as long as the store lives). Revoking again
	// keeps the later before and the longer until.
	RevokeIdentity(ctx context.Context, identity string, before, until time.Time) error
	// IsRevokedFor reports whether any of keys is revoked, or identity's
	// tokens issued at issued are (issued is before its cutoff, compared
	// to the millisecond: the cutoff rounded up, issued down), in one
	// question to the store. keys is empty for a token with no ID
	// (WithLegacyTokensUntil): only the cutoff can refuse it.
	IsRevokedFor(ctx context.Context, identity string, issued time.Time, keys ...string) (bool, error)
}

// SessionStore is a Blocklist that also keeps each identity's live
// sessions, for WithSessionList. Sessions are keyed by identity and ID; a
// session whose Expires is past is gone.
type SessionStore interface {
	Blocklist
	// SaveSession stores s, replacing a session of the same identity and
	// ID, until s.Expires (zero: for as long as the store lives).
	SaveSession(ctx context.Context, s Session) error
	// TouchSession records a renewal of a stored session: Renewed becomes
	// renewed and Expires the later of expires and its own (zero: never).
	// A session not stored (ended, expired) stays absent.
	TouchSession(ctx context.Context, identity, id string, renewed, expires time.Time) error
	// Sessions returns the live sessions of identity, in any order.
	Sessions(ctx context.Context, identity string) ([]Session, error)
	// DeleteSession removes a session; an absent one is no error.
	DeleteSession(ctx context.Context, identity, id string) error
}

// WithBlocklist makes every guard check the token's "jti" (and, with
// WithRefreshRotation, its family) against store, after the signature,
// expiry, type and freshness checks (flask's token_in_blocklist_loader with
// the store from its blocklist examples). Revoked tokens get 401 "Token has
// been revoked"; a store error gets 503 and never lets the request through.
// Tokens without a "jti" are refused when a blocklist is set, since they
// could not be revoked (WithLegacyTokensUntil opens a window for those a
// service minted before).
func WithBlocklist(store Blocklist) Option {
	return option(func(c *config) error {
		if store == nil {
			return errors.New("WithBlocklist: nil store")
		}
		c.blocklist = store
		return nil
	})
}

// WithLegacyTokensUntil accepts, until t, tokens that have neither a "jti"
// nor a "sid" although a blocklist is set: the tokens a service minted
// before it moved to ginjwt (appleboy/gin-jwt writes none), which would
// otherwise be refused with 422 "Missing claim: jti" the moment
// WithBlocklist is turned on, logging every user out. From t on they are
// refused again, so t is when the last of them has expired (the old
// service's token lifetime after the last old instance stopped).
//
// The trade-off: such a token names no token or session, so a logout
// cannot end it (LogoutHandler ends nothing for it and unsets the
// cookies), and Revoke refuses it; until it expires or t comes, it is
// valid. Only RevokeIdentity ("log out everywhere") ends it, through its
// "iat" (or, lacking one, appleboy's "orig_iat"; a token with neither is
// ended by any RevokeIdentity of its identity), with a store that
// implements IdentityRevoker. Every other check applies as to any token.
// Needs WithBlocklist; New refuses a t that is not in the future.
// Default: no such window, tokens without "jti" are refused.
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

// WithTokenInBlocklistLoader adds a revocation check of the application's
// own (flask's token_in_blocklist_loader): it sees the whole token and
// returns true for a revoked one. An error fails closed, as with
// WithBlocklist. Both may be set; either one revoking suffices.
func WithTokenInBlocklistLoader(revoked func(c *gin.Context, tok *Token) (bool, error)) Option {
	return option(func(c *config) error {
		if revoked == nil {
			return errors.New("WithTokenInBlocklistLoader: nil function")
		}
		c.revokedCheck = revoked
		return nil
	})
}

// WithBlocklistTimeout bounds each revocation check and revocation of a
// store over the network, so a slow store fails closed quickly instead of
// holding requests. Default: 1 second. (MemoryBlocklist needs none.)
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
// (skip_revocation_check=True), e.g. on a route that reports a token's
// status.
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

// Revoke ends the sessions of raw tokens, as a logout does: every token
// of each session (access, refresh, every renewal) is refused from now on,
// on every instance. The raw tokens are all verified first, and none is
// revoked if one is invalid (an expired one is accepted: revoking it is
// harmless). A request's logout is Logout or LogoutHandler.
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
