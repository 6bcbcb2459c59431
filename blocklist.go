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
// token IDs (the "jti" claim) and, with WithRefreshRotation, token
// families. Implementations must be safe for concurrent use; MemoryBlocklist
// serves one process, the redisblocklist module several.
type Blocklist interface {
	// Revoke marks key revoked until until, after which the store may
	// forget it (the token has expired by then). A zero until means for
	// as long as the store lives. Revoking a key again keeps the longer
	// of the two lifetimes, so no acknowledged revocation is cut short;
	// an until already past stores nothing.
	Revoke(ctx context.Context, key string, until time.Time) error
	// IsRevoked reports whether any of keys is revoked.
	IsRevoked(ctx context.Context, keys ...string) (bool, error)
	// Rotate moves refresh-token family on from token ID prev to token ID
	// next, atomically: it succeeds when the family has no current token
	// stored, or its current token is prev, and then stores next as the
	// family's current token until until (zero: no expiry). Of concurrent
	// calls with the same family and prev exactly one gets true; a false
	// answer changes nothing. WithRefreshRotation keeps one such record
	// per login, so storage follows live logins, not rotations.
	Rotate(ctx context.Context, family, prev, next string, until time.Time) (bool, error)
	// Current returns the family's current refresh token ID, or "" when
	// none is stored (never rotated, or expired).
	Current(ctx context.Context, family string) (string, error)
}

// WithBlocklist makes every guard check the token's "jti" (and, with
// WithRefreshRotation, its family) against store, after the signature,
// expiry, type and freshness checks (flask's token_in_blocklist_loader with
// the store from its blocklist examples). Revoked tokens get 401 "Token has
// been revoked"; a store error gets 503 and never lets the request through.
// Tokens without a "jti" are refused when a blocklist is set, since they
// could not be revoked.
func WithBlocklist(store Blocklist) Option {
	return func(c *config) error {
		if store == nil {
			return errors.New("WithBlocklist: nil store")
		}
		c.blocklist = store
		return nil
	}
}

// WithTokenInBlocklistLoader adds a revocation check of the application's
// own (flask's token_in_blocklist_loader): it sees the whole token and
// returns true for a revoked one. An error fails closed, as with
// WithBlocklist. Both may be set; either one revoking suffices.
func WithTokenInBlocklistLoader(revoked func(c *gin.Context, tok *Token) (bool, error)) Option {
	return func(c *config) error {
		if revoked == nil {
			return errors.New("WithTokenInBlocklistLoader: nil function")
		}
		c.revokedCheck = revoked
		return nil
	}
}

// WithBlocklistTimeout bounds each revocation check and revocation of a
// store over the network, so a slow store fails closed quickly instead of
// holding requests. Default: 1 second. (MemoryBlocklist needs none.)
func WithBlocklistTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("WithBlocklistTimeout(%v): must be positive", d)
		}
		c.blocklistTimeout = d
		return nil
	}
}

// SkipRevocationCheck lets the guard accept revoked tokens
// (skip_revocation_check=True), e.g. on a route that reports a token's
// status.
func SkipRevocationCheck() GuardOption {
	return guardFunc(func(g *guard) { g.skipRevocation = true })
}

// familyClaim names the claim that ties the tokens of one login together
// under WithRefreshRotation.
const familyClaim = "fam"

// familyKey is the blocklist key of a token family; "fam:" keeps it apart
// from token IDs, which are UUIDs.
func familyKey(family string) string { return "fam:" + family }

// checkRevoked runs the blocklist and the application's check for a token
// that passed every other check.
func (m *Manager) checkRevoked(c *gin.Context, tok *Token) *Error {
	if m.isRevoked != nil {
		if tok.Claims.JTI == "" {
			return invalid(ErrInvalidClaims, "Missing claim: jti")
		}
		family := ""
		if m.cfg.rotation {
			family = tokenFamily(tok)
		}
		revoked, err := m.isRevoked(c, tok.Claims.JTI, family)
		if err != nil {
			return m.unavailable(err)
		}
		if revoked {
			return newError(ErrRevoked, http.StatusUnauthorized, "Token has been revoked")
		}
		if e := m.checkRotated(c, tok); e != nil {
			return e
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

// revocationLookup returns the guards' question to store. A
// MemoryBlocklist answers from memory and cannot block, so it is asked
// directly, without the deadline context and its allocations; any other
// store is asked under the blocklist timeout, whose timer starts only if
// the store waits on it (checkContext).
func (m *Manager) revocationLookup(store Blocklist) func(c *gin.Context, jti, family string) (bool, error) {
	if mem, ok := store.(*MemoryBlocklist); ok {
		return func(_ *gin.Context, jti, family string) (bool, error) {
			return mem.revokedToken(jti, family), nil
		}
	}
	return func(c *gin.Context, jti, family string) (bool, error) {
		ctx := newCheckContext(c.Request.Context(), m.cfg.blocklistTimeout)
		defer ctx.stop()
		if family != "" {
			return store.IsRevoked(ctx, jti, familyKey(family))
		}
		return store.IsRevoked(ctx, jti)
	}
}

// checkRotated refuses a refresh token that is no longer its login's
// current one: it was rotated, so whoever presents it again replays it,
// and the whole login is revoked (reuse detection). Refresh tokens are
// rare next to access tokens, so the extra lookup is only theirs.
func (m *Manager) checkRotated(c *gin.Context, tok *Token) *Error {
	if !m.cfg.rotation || tok.Claims.Type != TypeRefresh {
		return nil
	}
	family := refreshFamily(tok)
	reused, err := m.reused(c, tok, family)
	if err != nil {
		return m.unavailable(err)
	}
	if !reused {
		return nil
	}
	m.revokeFamily(c, family)
	e := newError(ErrRevoked, http.StatusUnauthorized, "Token has been revoked")
	e.cause = ErrRefreshTokenReused
	return e
}

// reused reports whether refresh token tok has been rotated away.
func (m *Manager) reused(c *gin.Context, tok *Token, family string) (bool, error) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), m.cfg.blocklistTimeout)
	defer cancel()
	current, err := m.cfg.blocklist.Current(ctx, family)
	return current != "" && current != tok.Claims.JTI, err
}

// detectExpiredReuse revokes the login of an expired refresh token that
// had been rotated away: a replay after expiry is still a replay, and the
// thief may hold the login's current token. The request is refused anyway
// ("Token has expired"); e.Token passed the signature check.
func (m *Manager) detectExpiredReuse(c *gin.Context, e *Error) {
	tok := e.Token
	if !m.cfg.rotation || e.kind != ErrTokenExpired || tok == nil ||
		tok.Claims.Type != TypeRefresh || tok.Claims.JTI == "" {
		return
	}
	family := refreshFamily(tok)
	reused, err := m.reused(c, tok, family)
	if err != nil {
		_ = c.Error(fmt.Errorf("ginjwt: checking an expired refresh token for reuse: %w", err))
		return
	}
	if reused {
		m.revokeFamily(c, family)
	}
}

func (m *Manager) unavailable(err error) *Error {
	e := newError(ErrRevocationUnavailable, http.StatusServiceUnavailable, "Token revocation status is unavailable")
	e.cause = err
	return e
}

// Revoke puts tokens on the blocklist until they expire: the logout of
// flask's blocklist examples. The raw tokens are all verified first, and
// none is revoked if one is invalid (an expired one is accepted: revoking
// it is harmless); pass the access and the refresh token to end a session
// on both.
//
//	r.DELETE("/logout", m.JWTRequired(ginjwt.VerifyType(false)), func(c *gin.Context) {
//		if err := m.RevokeCurrent(c); err != nil { ... }
//	})
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
		if err := m.revokeToken(ctx, tok); err != nil {
			return err
		}
	}
	return nil
}

// RevokeCurrent revokes the token the guard verified for this request.
// When the store fails, the logout did not happen: the error is an *Error
// that Abort answers with 503 "Token revocation status is unavailable"
// (errors.Is finds ErrRevocationUnavailable and the store's error), as
// Revoke's is.
func (m *Manager) RevokeCurrent(c *gin.Context) error {
	if m.cfg.blocklist == nil {
		return ErrNoBlocklist
	}
	tok, ok := CurrentToken(c)
	if !ok {
		return ErrNoTokenInContext
	}
	return m.revokeToken(c.Request.Context(), tok)
}

func (m *Manager) revokeToken(ctx context.Context, tok *Token) error {
	if tok.Claims.JTI == "" {
		return errors.New("ginjwt: the token has no jti to revoke")
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.blocklistTimeout)
	defer cancel()
	if err := m.cfg.blocklist.Revoke(ctx, tok.Claims.JTI, tok.Claims.expiry()); err != nil {
		// The logout did not happen: Abort answers 503, as the guards do
		// when the store is down (errors.Is still finds the store's error).
		return m.unavailable(err)
	}
	return nil
}

// familyLifetime bounds the life of every token of a family (createToken
// refuses longer ones), so revoking the family for that long outlasts
// them all; 0 means tokens may never expire.
func (m *Manager) familyLifetime() time.Duration {
	if m.cfg.accessExpires <= 0 || m.cfg.refreshExpires <= 0 {
		return 0
	}
	return max(m.cfg.accessExpires, m.cfg.refreshExpires)
}

// revokeFamily revokes every token of a login, for as long as its tokens
// can live. Errors are recorded on the context: the request is refused
// anyway. revokeFamilyErr returns them, for a logout.
func (m *Manager) revokeFamily(c *gin.Context, family string) {
	if err := m.revokeFamilyErr(c, family); err != nil {
		_ = c.Error(fmt.Errorf("ginjwt: revoking token family after reuse: %w", err))
	}
}

func (m *Manager) revokeFamilyErr(c *gin.Context, family string) error {
	until := time.Time{} // forever, when tokens may never expire
	if limit := m.familyLifetime(); limit > 0 {
		until = m.cfg.now().Add(limit)
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), m.cfg.blocklistTimeout)
	defer cancel()
	return m.cfg.blocklist.Revoke(ctx, familyKey(family), until)
}
