package ginjwt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
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
	// as long as the store lives.
	Revoke(ctx context.Context, key string, until time.Time) error
	// RevokeOnce is Revoke that reports whether key was not revoked before,
	// atomically: of many concurrent calls for one key, exactly one gets
	// true. Refresh-token rotation uses it so a token is used only once.
	RevokeOnce(ctx context.Context, key string, until time.Time) (first bool, err error)
	// IsRevoked reports whether any of keys is revoked.
	IsRevoked(ctx context.Context, keys ...string) (bool, error)
}

// ErrRevoked is the kind of a revoked token: 401 "Token has been revoked".
var ErrRevoked = errors.New("ginjwt: token has been revoked")

// ErrRevocationUnavailable is the kind of a failed revocation check (the store is down
// or slow). The guard fails closed: 503 "Token revocation status is
// unavailable", and the handler does not run.
var ErrRevocationUnavailable = errors.New("ginjwt: revocation status unavailable")

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

// WithRevokedTokenHandler replaces the response for a revoked token
// (flask's revoked_token_loader; default 401).
func WithRevokedTokenHandler(h ErrorHandler) Option {
	return withHandler("WithRevokedTokenHandler", h, []error{ErrRevoked})
}

// WithRevocationUnavailableHandler replaces the response when the
// revocation check fails (default 503). The request is refused whatever
// the handler writes.
func WithRevocationUnavailableHandler(h ErrorHandler) Option {
	return withHandler("WithRevocationUnavailableHandler", h, []error{ErrRevocationUnavailable})
}

// SkipRevocationCheck lets the guard accept revoked tokens
// (skip_revocation_check=True), e.g. on a route that reports a token's
// status.
func SkipRevocationCheck() GuardOption {
	return func(g *guard) { g.skipRevocation = true }
}

// familyClaim names the claim that ties the tokens of one login together
// under WithRefreshRotation.
const familyClaim = "fam"

// familyKey is the blocklist key of a token family; "fam:" keeps it apart
// from token IDs, which are UUIDs.
func familyKey(family string) string { return "fam:" + family }

// checkRevoked runs the blocklist and the application's check for a token
// that passed every other check.
func (m *Manager) checkRevoked(c *gin.Context, st *requestState) *Error {
	tok := &st.tok
	if m.cfg.blocklist != nil {
		if tok.Claims.JTI == "" {
			return invalid(ErrInvalidClaims, "Missing claim: jti")
		}
		revoked, err := m.isRevoked(c, st)
		if err != nil {
			return m.unavailable(err)
		}
		if revoked {
			if tok.Claims.Type == TypeRefresh && m.cfg.rotation {
				// A used refresh token came back: someone replays it.
				m.revokeFamily(c, st)
			}
			return newError(ErrRevoked, http.StatusUnauthorized, "Token has been revoked")
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

func (m *Manager) isRevoked(c *gin.Context, st *requestState) (bool, error) {
	jti, family := st.tok.Claims.JTI, ""
	if fam, ok := st.claim(familyClaim); ok && m.cfg.rotation {
		family, _ = stringValue(fam)
	}
	// The in-process store cannot block: skip the timeout's allocations.
	if mem, ok := m.cfg.blocklist.(*MemoryBlocklist); ok {
		return mem.revoked(jti, family), nil
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), m.cfg.blocklistTimeout)
	defer cancel()
	if family != "" {
		return m.cfg.blocklist.IsRevoked(ctx, jti, familyKey(family))
	}
	return m.cfg.blocklist.IsRevoked(ctx, jti)
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

// ErrNoBlocklist is returned by the revocation helpers of a Manager without
// WithBlocklist.
var ErrNoBlocklist = errors.New("ginjwt: no blocklist configured (WithBlocklist)")

func (m *Manager) revokeToken(ctx context.Context, tok *Token) error {
	if tok.Claims.JTI == "" {
		return errors.New("ginjwt: the token has no jti to revoke")
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.blocklistTimeout)
	defer cancel()
	return m.cfg.blocklist.Revoke(ctx, tok.Claims.JTI, tok.Claims.ExpiresAt())
}

// revokeFamily revokes every token of st's login, for as long as a refresh
// token lives. Errors are recorded on the context: the request is refused
// anyway.
// familyLifetime bounds the life of every token of a family (createToken
// refuses longer ones), so revoking the family for that long outlasts
// them all; 0 means tokens may never expire.
func (m *Manager) familyLifetime() time.Duration {
	if m.cfg.accessExpires <= 0 || m.cfg.refreshExpires <= 0 {
		return 0
	}
	return max(m.cfg.accessExpires, m.cfg.refreshExpires)
}

func (m *Manager) revokeFamily(c *gin.Context, st *requestState) {
	fam, ok := st.claim(familyClaim)
	family, isStr := stringValue(fam)
	if !ok || !isStr {
		return
	}
	until := time.Time{} // forever, when tokens may never expire
	if limit := m.familyLifetime(); limit > 0 {
		until = m.cfg.now().Add(limit)
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), m.cfg.blocklistTimeout)
	defer cancel()
	if err := m.cfg.blocklist.Revoke(ctx, familyKey(family), until); err != nil {
		_ = c.Error(fmt.Errorf("ginjwt: revoking token family after reuse: %w", err))
	}
}

// MemoryBlocklist is a Blocklist for a single process: a map guarded by a
// mutex, whose entries go away once their tokens have expired. Several
// instances of a service need a shared store such as the redisblocklist
// module.
type MemoryBlocklist struct {
	mu        sync.Mutex
	entries   map[string]time.Time // key → until (zero: forever)
	now       func() time.Time
	lastSweep time.Time
	sizeAfter int // entries left by the last sweep
}

// NewMemoryBlocklist returns an empty MemoryBlocklist. now is the clock
// used to expire entries; nil means time.Now.
func NewMemoryBlocklist(now func() time.Time) *MemoryBlocklist {
	if now == nil {
		now = time.Now
	}
	return &MemoryBlocklist{entries: map[string]time.Time{}, now: now}
}

// sweepEvery is the longest time expired entries stay in a MemoryBlocklist
// that keeps receiving revocations; a sweep also runs whenever the map has
// doubled since the last one, so memory follows the live tokens.
const sweepEvery = time.Minute

// Revoke implements Blocklist.
func (b *MemoryBlocklist) Revoke(_ context.Context, key string, until time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.put(key, until)
	return nil
}

// RevokeOnce implements Blocklist.
func (b *MemoryBlocklist) RevokeOnce(_ context.Context, key string, until time.Time) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.live(key, b.now()) {
		return false, nil
	}
	b.put(key, until)
	return true, nil
}

// IsRevoked implements Blocklist.
func (b *MemoryBlocklist) IsRevoked(_ context.Context, keys ...string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	for _, k := range keys {
		if b.live(k, now) {
			return true, nil
		}
	}
	return false, nil
}

// revoked is IsRevoked for a token ID and its family ("" for none),
// without the variadic slice.
func (b *MemoryBlocklist) revoked(jti, family string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	return b.live(jti, now) || (family != "" && b.live(familyKey(family), now))
}

// Len returns the number of entries held, expired ones not yet swept
// included.
func (b *MemoryBlocklist) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.entries)
}

func (b *MemoryBlocklist) live(key string, now time.Time) bool {
	until, ok := b.entries[key]
	return ok && (until.IsZero() || now.Before(until))
}

func (b *MemoryBlocklist) put(key string, until time.Time) {
	if old, ok := b.entries[key]; ok && (old.IsZero() || (!until.IsZero() && old.After(until))) {
		return // keep the longer revocation
	}
	b.entries[key] = until
	now := b.now()
	if now.Sub(b.lastSweep) >= sweepEvery || len(b.entries) > 2*b.sizeAfter+64 {
		for k, u := range b.entries {
			if !u.IsZero() && !now.Before(u) {
				delete(b.entries, k)
			}
		}
		b.lastSweep, b.sizeAfter = now, len(b.entries)
	}
}
