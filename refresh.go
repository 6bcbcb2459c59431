package ginjwt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
)

// RefreshAccessToken creates a new access token for the identity of the
// refresh token that RefreshRequired verified on this request: the body of
// flask's usual /refresh route.
//
//	r.POST("/refresh", m.RefreshRequired(), func(c *gin.Context) {
//		token, err := m.RefreshAccessToken(c)
//		...
//		c.JSON(200, gin.H{"access_token": token})
//	})
//
// The new token is not fresh (a refresh proves no password) unless opts
// say otherwise; it belongs to the refresh token's session, never expires
// after the session's end (WithSessionLifetime), and keeps the refresh
// token's custom claims (the claims loader, when typed on a user type,
// cannot compute them from the identity string). Without a verified
// refresh token on the request it returns ErrNoTokenInContext; past the
// session's end, an *Error (401 "Token has expired") for Abort.
func (m *Manager) RefreshAccessToken(c *gin.Context, opts ...TokenOption) (string, error) {
	tok, err := currentRefreshToken(c)
	if err != nil {
		return "", err
	}
	var made minted
	token, err := m.createToken(TypeAccess, tok.Claims.Identity, slices.Concat(opts, []TokenOption{m.renewalOf(tok), made.record}))
	if err != nil {
		return "", err
	}
	if err := m.touchSession(c.Request.Context(), tok, made.expires); err != nil {
		return "", err
	}
	return token, nil
}

// renewalOf makes a new token continue tok: same session and login time,
// and the custom claims tok carries (roles, scopes, what the claims loader
// put there), which the loader could not compute again from the identity
// string.
func (m *Manager) renewalOf(tok *Token) TokenOption {
	skip := []string{"fresh", "iat", "jti", "type", "nbf", "csrf", "exp", "iss", "aud",
		sessionClaim, authTimeClaim, legacyFamilyClaim, m.cfg.identityClaim}
	carried := map[string]any{}
	doc := &tok.Claims.doc
	root, _ := doc.Root()
	for name, v := range doc.Members(root) {
		if slices.Contains(skip, name) {
			continue
		}
		// Numbers stay exact, as json.Number (the last duplicate wins).
		if value, err := decodeExact([]byte(v.Raw())); err == nil {
			carried[name] = value
		}
	}
	session := tok.Claims.sessionID()
	start, hasStart := tok.Claims.sessionStart()
	return func(o *tokenOptions) {
		o.renewal, o.carried = true, carried
		o.session, o.start, o.hasStart = session, start, hasStart
	}
}

func currentRefreshToken(c *gin.Context) (*Token, error) {
	tok, ok := CurrentToken(c)
	if !ok {
		return nil, ErrNoTokenInContext
	}
	if tok.Claims.Type != TypeRefresh {
		return nil, errors.New("ginjwt: a refresh token is needed; guard the route with RefreshRequired")
	}
	return tok, nil
}

// WithRefreshRotation turns on refresh-token rotation with reuse detection
// (OAuth 2.0 Security BCP, §4.14): RotateRefreshToken uses up the refresh
// token it is given and returns a new pair, and a refresh token presented a
// second time ends its whole session, access tokens included, and gets
// 401. Needs WithBlocklist with a store that implements RotationStore;
// with several instances the store must be shared (redisblocklist), so
// that "used once" holds across them.
func WithRefreshRotation() Option {
	return func(c *config) error {
		c.rotation = true
		return nil
	}
}

// CreateTokenPair returns an access and a refresh token of a new session
// for identity, as a login does; opts apply to both tokens, except
// freshness, which only the access token takes. StartSession does the
// same and adds the session to the list (WithSessionList).
func (m *Manager) CreateTokenPair(identity any, opts ...TokenOption) (access, refresh string, err error) {
	access, refresh, _, err = m.createPair(identity, opts)
	return access, refresh, err
}

// RotateRefreshToken uses up the refresh token that RefreshRequired
// verified on this request and returns a new access and refresh token of
// the same session: the /refresh route of WithRefreshRotation.
//
//	r.POST("/refresh", m.RefreshRequired(), func(c *gin.Context) {
//		access, refresh, err := m.RotateRefreshToken(c)
//		if err != nil {
//			m.Abort(c, err) // 401 on reuse, 503 when the store is down
//			return
//		}
//		c.JSON(200, gin.H{"access_token": access, "refresh_token": refresh})
//	})
//
// Of concurrent requests with one refresh token, exactly one gets a new
// pair; the others count as reuse. The session keeps one record in the
// store, its current refresh token, however often it rotates; the new
// tokens never expire after the session's end (WithSessionLifetime). The
// errors are *Error values for Abort.
func (m *Manager) RotateRefreshToken(c *gin.Context, opts ...TokenOption) (access, refresh string, err error) {
	if !m.cfg.rotation {
		return "", "", errors.New("ginjwt: RotateRefreshToken needs WithRefreshRotation")
	}
	tok, err := currentRefreshToken(c)
	if err != nil {
		return "", "", err
	}
	if tok.Claims.JTI == "" {
		return "", "", invalid(ErrInvalidClaims, "Missing claim: jti")
	}
	// A refresh token from before sessions has none: its own ID names the
	// session its successors continue.
	session := tok.Claims.sessionID()
	renewal := slices.Concat(opts, []TokenOption{m.renewalOf(tok)})
	var a, next minted
	if access, err = m.createToken(TypeAccess, tok.Claims.Identity, append(renewal, a.record)); err != nil {
		return "", "", err
	}
	if refresh, err = m.createToken(TypeRefresh, tok.Claims.Identity, append(renewal, notFresh, next.record)); err != nil {
		return "", "", err
	}
	if next.jti == "" {
		return "", "", errors.New(`ginjwt: a rotated refresh token needs a string "jti"`)
	}
	// The compare-and-set decides, not the old token's remaining life: a
	// token that expires while this request runs is still used up.
	ctx, cancel := context.WithTimeout(c.Request.Context(), m.cfg.blocklistTimeout)
	won, err := m.rotations.Rotate(ctx, session, tok.Claims.JTI, next.jti, next.expires)
	cancel()
	if err != nil {
		return "", "", m.unavailable(err)
	}
	if !won {
		m.endReusedSession(c, tok)
		e := newError(ErrRevoked, http.StatusUnauthorized, "Token has been revoked")
		e.Token, e.cause = tok, ErrRefreshTokenReused
		return "", "", e
	}
	if err := m.touchSession(c.Request.Context(), tok, laterOf(a.expires, next.expires)); err != nil {
		return "", "", err
	}
	return access, refresh, nil
}

// notFresh drops freshness options for refresh tokens of a pair.
func notFresh(o *tokenOptions) {
	o.fresh, o.freshFor, o.freshUntil = false, 0, time.Time{}
}

// WithImplicitRefresh renews access cookies that are about to expire: when
// a guard accepts an access token from a cookie that expires within window,
// the response sets a new access cookie (same identity and session, not
// fresh), as flask's implicit_refresh example does in after_request. The
// renewals end with the session (WithSessionLifetime): a copied cookie
// cannot be kept alive past its login's end, nor past a logout. Tokens
// from headers, the query string or a JSON body are left alone; their
// clients refresh explicitly. It needs the Cookies location.
func WithImplicitRefresh(window time.Duration) Option {
	return func(c *config) error {
		if window <= 0 {
			return fmt.Errorf("WithImplicitRefresh(%v): must be positive", window)
		}
		c.refreshWindow = window
		return nil
	}
}

// refreshCookie sets a new access cookie when tok expires within the
// window and a renewal would outlive it. A failure is recorded and does
// not fail the request: the old token is still valid.
func (m *Manager) refreshCookie(c *gin.Context, tok *Token) {
	exp := tok.Claims.expiry()
	if exp.IsZero() || exp.Sub(m.cfg.now()) > m.cfg.refreshWindow {
		return
	}
	if start, ok := tok.Claims.sessionStart(); ok && m.cfg.sessionLifetime > 0 &&
		!time.Unix(start, 0).Add(m.cfg.sessionLifetime).After(exp) {
		return // it already expires with its session
	}
	var made minted
	token, err := m.createToken(TypeAccess, tok.Claims.Identity, []TokenOption{m.renewalOf(tok), made.record})
	if err == nil {
		err = m.touchSession(c.Request.Context(), tok, made.expires)
	}
	if err == nil {
		err = m.SetAccessCookies(c, token)
	}
	if err != nil {
		_ = c.Error(fmt.Errorf("ginjwt: implicit refresh: %w", err))
	}
}
