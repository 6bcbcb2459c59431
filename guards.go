package ginjwt

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// GuardOption configures one guard, as the arguments of flask's
// jwt_required do.
type GuardOption func(*guard)

type guard struct {
	refresh        bool // refresh tokens only (refresh=True)
	fresh          bool // fresh access tokens only (fresh=True)
	optional       bool
	verifyType     bool
	loadUser       bool
	skipRevocation bool

	requirements []requirement
	overrides    []requirement
	// claims names the claims the requirements read, captured while the
	// payload is parsed (up to maxCaptured of them).
	claims    []string
	configErr []error
}

// needClaim records that a requirement reads claim name.
func (g *guard) needClaim(name string) {
	if len(g.claims) < maxCaptured && !slices.Contains(g.claims, name) {
		g.claims = append(g.claims, name)
	}
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

// Optional lets requests without a token through to the handler, which then
// sees no identity (optional=True). A token that is present but invalid,
// expired or of the wrong type is still rejected, as in flask.
func Optional() GuardOption {
	return func(g *guard) { g.optional = true }
}

// VerifyType(false) accepts access and refresh tokens alike
// (verify_type=False), e.g. on a logout route that revokes either.
// Default: true.
func VerifyType(verify bool) GuardOption {
	return func(g *guard) { g.verifyType = verify }
}

// JWTRequired returns a middleware that lets a request through only with a
// valid access token (flask's @jwt_required()). It works on one route or a
// group:
//
//	r.GET("/me", m.JWTRequired(), me)
//	api := r.Group("/api", m.JWTRequired())
//
// The verified token is stored in the gin.Context for CurrentIdentity and
// the other accessors. On failure the chain is aborted with flask's
// response (or the configured handler's) and the error is added to
// c.Errors. OPTIONS requests pass unchecked, as in flask, so CORS preflight
// works.
func (m *Manager) JWTRequired(opts ...GuardOption) gin.HandlerFunc {
	return m.newGuard(guard{verifyType: true}, opts)
}

// RefreshRequired is JWTRequired for refresh tokens
// (@jwt_required(refresh=True)): access tokens are rejected with 422 "Only
// refresh tokens are allowed".
func (m *Manager) RefreshRequired(opts ...GuardOption) gin.HandlerFunc {
	return m.newGuard(guard{refresh: true, verifyType: true}, opts)
}

// FreshRequired is JWTRequired for fresh access tokens
// (@jwt_required(fresh=True)): a token that is not fresh, or no longer, is
// rejected with 401 "Fresh token required". Guard sensitive actions with
// it, such as changing a password.
func (m *Manager) FreshRequired(opts ...GuardOption) gin.HandlerFunc {
	return m.newGuard(guard{fresh: true, verifyType: true}, opts)
}

func (m *Manager) newGuard(g guard, opts []GuardOption) gin.HandlerFunc {
	for _, opt := range opts {
		opt(&g)
	}
	if m.cfg.rotation {
		g.needClaim(familyClaim)
	}
	if g.loadUser && m.cfg.userLookup == nil {
		g.configErr = append(g.configErr, errors.New("LoadUser needs WithUserLookup"))
	}
	if err := g.check(); err != nil {
		panic(err)
	}
	return func(c *gin.Context) {
		if c.Request.Method == http.MethodOptions {
			return
		}
		st := &requestState{m: m, captured: g.claims}
		if err := m.verifyRequest(c, &g, st); err != nil {
			if g.optional && err.kind == ErrNoToken {
				return
			}
			m.fail(c, err)
			return
		}
		c.Set(stateKey{}, st)
		if g.loadUser {
			if _, err := st.loadUser(c); err != nil {
				c.Set(stateKey{}, nil)
				m.fail(c, m.userError(&st.tok, err))
			}
		}
	}
}

// verifyRequest finds, verifies and checks the token of one request, in
// flask's order: decode, type, freshness, revocation, claims verification,
// then the route's requirements.
func (m *Manager) verifyRequest(c *gin.Context, g *guard, st *requestState) *Error {
	raw, err := m.tokenFromHeader(c.Request.Header)
	if err != nil {
		return err
	}
	tok := &st.tok
	if err = m.decodeInto(tok, raw, st.captured, st.values[:len(st.captured)]); err != nil {
		return err
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
	if err == nil && !g.skipRevocation {
		err = m.checkRevoked(c, st)
	}
	if err == nil && m.cfg.tokenVerifier != nil && !m.cfg.tokenVerifier(c, tok) {
		err = newError(ErrClaimsVerification, http.StatusBadRequest, "User claims verification failed")
	}
	if err != nil {
		err.Token = tok
		return err
	}
	return g.authorize(c, st)
}

// tokenFromHeader reads the token from the configured header exactly as
// flask-jwt-extended does: repeated headers count as one comma-separated
// value; with a type, exactly one comma-separated element must start with
// it (case-sensitive) and hold one more word.
func (m *Manager) tokenFromHeader(h http.Header) (string, *Error) {
	var value string
	switch values := h[m.headerKey]; len(values) {
	case 0:
	case 1:
		value = values[0]
	default:
		value = strings.Join(values, ", ")
	}
	value = strings.Trim(trimPySpace(value), ",")
	if value == "" {
		return "", newError(ErrNoToken, http.StatusUnauthorized, m.msgMissingHeader)
	}
	if m.cfg.headerType == "" {
		token, rest := nextWord(value)
		if extra, _ := nextWord(rest); extra != "" {
			return "", invalid(ErrInvalidHeader, m.msgBadHeader)
		}
		return token, nil
	}
	var match string
	matches := 0
	for elem := range splitCommaSpace(value) {
		if first, _ := nextWord(elem); first == m.cfg.headerType {
			match = elem
			matches++
		}
	}
	if matches != 1 {
		return "", newError(ErrNoToken, http.StatusUnauthorized, m.msgMissingType)
	}
	_, rest := nextWord(match)
	token, rest := nextWord(rest)
	if extra, _ := nextWord(rest); token == "" || extra != "" {
		return "", invalid(ErrInvalidHeader, m.msgBadHeader)
	}
	return token, nil
}

// splitCommaSpace yields the elements of Python's re.split(r",\s*", s).
func splitCommaSpace(s string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for {
			i := strings.IndexByte(s, ',')
			if i < 0 {
				yield(s)
				return
			}
			if !yield(s[:i]) {
				return
			}
			s = trimLeftPySpace(s[i+1:])
		}
	}
}

// nextWord returns the first word of s as Python's str.split() sees it, and
// what follows it.
func nextWord(s string) (word, rest string) {
	i := 0
	for i < len(s) && isPySpace(s[i]) {
		i++
	}
	j := i + indexPySpace(s[i:])
	return s[i:j], s[j:]
}

// indexPySpace returns the index of the first isPySpace byte in s, or
// len(s). Tokens are long and hold none, so it tests eight bytes at a time:
// only a chunk with a byte below 0x21 or above 0x7f can hold one.
func indexPySpace(s string) int {
	const lows, highs = 0x2121212121212121, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := load64(s[i : i+8])
		if ((x-lows)&^x|x)&highs != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if isPySpace(s[i]) {
			return i
		}
	}
	return len(s)
}

// isPySpace reports the bytes Python's str.split() treats as whitespace in
// a header value (Werkzeug decodes headers as Latin-1).
func isPySpace(b byte) bool { return pySpace[b] }

var pySpace = [256]bool{
	' ': true, '\t': true, '\n': true, '\v': true, '\f': true, '\r': true,
	0x1c: true, 0x1d: true, 0x1e: true, 0x1f: true, 0x85: true, 0xa0: true,
}

func trimLeftPySpace(s string) string {
	for len(s) > 0 && isPySpace(s[0]) {
		s = s[1:]
	}
	return s
}

func trimPySpace(s string) string {
	s = trimLeftPySpace(s)
	for len(s) > 0 && isPySpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}
