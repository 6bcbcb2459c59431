package ginjwt

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// GuardOption configures one guard, as flask's jwt_required arguments do:
// Optional, VerifyType, Locations, LoadUser, SkipRevocationCheck and the
// Requirements.
type GuardOption interface {
	applyGuard(g *guard)
}

// guardFunc is a GuardOption that is not a Requirement.
type guardFunc func(*guard)

func (f guardFunc) applyGuard(g *guard) { f(g) }

// Requirement is a condition on a valid token: RequireClaim,
// RequireClaimParam, RequireAll, Require, Override. A refusal is 403
// (ErrForbidden). It is the only GuardOption Authorize takes.
type Requirement interface {
	GuardOption
	isRequirement()
}

// requirementFunc is a Requirement.
type requirementFunc func(*guard)

func (r requirementFunc) applyGuard(g *guard) { r(g) }
func (requirementFunc) isRequirement()        {}

type guard struct {
	refresh        bool // refresh tokens only (refresh=True)
	fresh          bool // fresh access tokens only (fresh=True)
	optional       bool
	verifyType     bool
	loadUser       bool
	skipRevocation bool
	locations      []Location // nil: the Manager's

	requirements []requirement
	overrides    []requirement
	// params names the route parameters requirements read; reported
	// remembers the routes logged as lacking one.
	params    []string
	reported  *sync.Map
	configErr []error
}

// check reports options that could not be set up, such as a RequireClaim
// value that is not JSON. Guards are built while routes are registered, so
// this panics there, never during a request.
func (g *guard) check() error {
	if len(g.configErr) == 0 {
		return nil
	}
	return fmt.Errorf("ginjwt: guard options: %w", errors.Join(g.configErr...))
}

// Optional lets requests without a token through (optional=True); a
// token that is there must still be valid. With Requirements, which an
// anonymous request would skip, the guard panics at setup.
func Optional() GuardOption {
	return guardFunc(func(g *guard) { g.optional = true })
}

// VerifyType sets whether the guard checks the token type; false accepts
// access and refresh tokens alike (verify_type=False). Default: true.
func VerifyType(verify bool) GuardOption {
	return guardFunc(func(g *guard) { g.verifyType = verify })
}

// JWTRequired returns a middleware, for a route or a group, that lets a
// request through only with a valid access token (flask's @jwt_required()),
// stored for CurrentIdentity and the other accessors. A refusal aborts the
// chain with flask's response (or the ErrorHandler's) and goes to c.Errors.
// Options that cannot work (LoadUser without WithUserLookup) panic here,
// at setup. An OPTIONS request it sees gets 204 and never reaches the
// handler (docs/locations-and-csrf.md: OPTIONS and CORS).
func (m *Manager) JWTRequired(opts ...GuardOption) gin.HandlerFunc {
	return m.newGuard(guard{verifyType: true}, opts)
}

// RefreshRequired is JWTRequired for refresh tokens
// (@jwt_required(refresh=True)); others get 422 (ErrWrongTokenType).
func (m *Manager) RefreshRequired(opts ...GuardOption) gin.HandlerFunc {
	return m.newGuard(guard{refresh: true, verifyType: true}, opts)
}

// FreshRequired is JWTRequired for fresh access tokens
// (@jwt_required(fresh=True)), for sensitive actions such as a password
// change; others get 401 "Fresh token required".
func (m *Manager) FreshRequired(opts ...GuardOption) gin.HandlerFunc {
	return m.newGuard(guard{fresh: true, verifyType: true}, opts)
}

func (m *Manager) newGuard(g guard, opts []GuardOption) gin.HandlerFunc {
	if err := m.setupGuard(&g, opts); err != nil {
		panic(err)
	}
	return func(c *gin.Context) {
		if c.Request.Method == http.MethodOptions {
			answerOptions(c)
			return
		}
		if err := m.guardRequest(c, &g); err != nil {
			m.fail(c, err)
		}
	}
}

// kind names the guard for its observers.
func (g *guard) kind() Guard {
	switch {
	case g.refresh:
		return GuardRefresh
	case g.fresh:
		return GuardFresh
	}
	return GuardAccess
}

// setupGuard applies opts and reports the combinations that cannot work.
func (m *Manager) setupGuard(g *guard, opts []GuardOption) error {
	for _, opt := range opts {
		if opt != nil {
			opt.applyGuard(g)
		}
	}
	if g.optional && len(g.requirements) > 0 {
		// A request without a token would skip them: fail at setup rather
		// than let anonymous requests into a route that looks restricted.
		g.configErr = append(g.configErr, errors.New("Optional cannot be combined with requirements: requests without a token would skip them"))
	}
	if g.loadUser && m.cfg.userLookup == nil {
		g.configErr = append(g.configErr, errors.New("LoadUser needs WithUserLookup"))
	}
	return g.check()
}

// guardRequest is a guard without its response: it verifies the request,
// stores the token in the context, loads the user and renews an expiring
// access cookie, and returns what refused the request, if anything.
func (m *Manager) guardRequest(c *gin.Context, g *guard) (err *Error) {
	st := &requestState{m: m, ctx: c.Request.Context()}
	if len(m.observers) > 0 {
		var start time.Time
		st.ctx, start = m.startGuard(c, g.kind())
		defer func() { m.doneGuard(c, g.kind(), st.ctx, start, err, st) }()
	}
	if err := m.verifyRequest(c, g, st); err != nil {
		if g.optional && err.kind == ErrNoToken {
			// A guard ran: the accessors' zero values are meant.
			c.Set(stateKey{}, (*requestState)(nil))
			st.location = 0
			return nil
		}
		m.detectExpiredReuse(st.ctx, c, err)
		return err
	}
	c.Set(stateKey{}, st)
	if g.loadUser {
		if _, err := st.loadUser(c); err != nil {
			c.Set(stateKey{}, nil)
			return m.userError(&st.tok, err)
		}
	}
	// Last, so that a refused request is never handed a renewed cookie.
	if m.cfg.refreshWindow > 0 && st.location == InCookies && !g.refresh {
		m.refreshCookie(c, &st.tok)
	}
	return nil
}

// answerOptions ends an OPTIONS request at the guard: 204, no body, the
// handler never runs. flask-jwt-extended exempts OPTIONS from its checks
// because Flask answers OPTIONS before any view runs; Gin runs the route's
// handler (r.Any, r.OPTIONS), so letting OPTIONS through would hand the
// handler an unauthenticated request. Preflights carry no credentials, so
// requiring a token would break CORS instead: a CORS middleware in front
// of the guard (r.Use) answers them with its headers before this runs.
func answerOptions(c *gin.Context) {
	c.AbortWithStatus(http.StatusNoContent)
}

// verifyRequest is a guard's walk through one request, in flask's order,
// each step in the file named after it, entered only when it has work:
//
//	locations.go  findToken     the token and, for a cookie, the CSRF value sent back
//	decode.go     decodeInto    segments, header, signature (signature.go), claims
//	csrf.go       checkCSRF     the double-submit value (cookie tokens on CSRF methods)
//	here                        token type and freshness
//	blocklist.go  checkRevoked  the store and the application's check (when configured)
//	here                        WithTokenVerifier's check
//	authorize.go  authorize     the route's requirements (when it has any)
//
// guardRequest then stores the result (identity.go) and loads the user
// (users.go). A plain header request runs code in guards.go, locations.go,
// decode.go and signature.go only (and internal/jsonindex).
func (m *Manager) verifyRequest(c *gin.Context, g *guard, st *requestState) *Error {
	f, loc, err := m.findToken(c, g)
	if err != nil {
		return err
	}
	st.location = loc
	tok := &st.tok
	// An expired token still goes through the CSRF check: flask reports
	// a CSRF mismatch before the expiry.
	expired := m.decodeInto(tok, f.raw)
	if expired != nil && expired.kind != ErrTokenExpired {
		return expired
	}
	if f.checkCSRF {
		err = checkCSRF(f.csrf, tok)
	}
	if err != nil || expired != nil {
		return cmp.Or(err, expired)
	}
	if g.verifyType {
		switch {
		case g.refresh && tok.Claims.Type != TypeRefresh:
			err = invalid(ErrWrongTokenType, "Only refresh tokens are allowed")
		case !g.refresh && tok.Claims.Type == TypeRefresh:
			err = invalid(ErrWrongTokenType, "Only non-refresh tokens are allowed")
		}
	}
	if err == nil && g.fresh && !tok.Claims.IsFresh(m.cfg.now()) {
		err = newError(ErrFreshTokenRequired, http.StatusUnauthorized, "Fresh token required")
	}
	if err == nil && !g.skipRevocation && (m.isRevoked != nil || m.cfg.revokedCheck != nil) {
		err = m.checkRevoked(st.ctx, c, tok)
	}
	if err == nil && m.cfg.tokenVerifier != nil && !m.cfg.tokenVerifier(c, tok) {
		err = newError(ErrClaimsVerification, http.StatusBadRequest, "User claims verification failed")
	}
	if err != nil {
		err.Token = tok
		return err
	}
	if len(g.requirements) > 0 {
		return g.authorize(c, st)
	}
	return nil
}
