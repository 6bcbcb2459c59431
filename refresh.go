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
// say otherwise; it belongs to the refresh token's family, if any, and
// keeps the refresh token's custom claims (the claims loader, when typed on
// a user type, cannot compute them from the identity string). Without
// a verified refresh token on the request it returns ErrNoTokenInContext.
func (m *Manager) RefreshAccessToken(c *gin.Context, opts ...TokenOption) (string, error) {
	tok, err := currentRefreshToken(c)
	if err != nil {
		return "", err
	}
	return m.createToken(TypeAccess, tok.Claims.Identity, slices.Concat(opts, []TokenOption{m.renewalOf(tok)}))
}

// renewalOf makes a new token continue tok: same family, and the custom
// claims tok carries (roles, scopes, what the claims loader put there),
// which the loader could not compute again from the identity string.
func (m *Manager) renewalOf(tok *Token) TokenOption {
	skip := []string{"fresh", "iat", "jti", "type", "nbf", "csrf", "exp", "iss", "aud", familyClaim, m.cfg.identityClaim}
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
	fam := tokenFamily(tok)
	return func(o *tokenOptions) {
		o.renewal, o.carried = true, carried
		if fam != "" {
			o.family = fam
		}
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
// second time revokes every token of its login (its family), access tokens
// included, and gets 401. Tokens of one login share a "fam" claim;
// CreateTokenPair starts a family. Needs WithBlocklist; with several
// instances the store must be shared (redisblocklist), so that "used once"
// holds across them. A family stays revoked for the longest of the access
// and refresh expiries, so tokens of a family cannot be made to live longer
// (ExpiresIn, NoExpiry): creating one is an error.
func WithRefreshRotation() Option {
	return func(c *config) error {
		c.rotation = true
		return nil
	}
}

// CreateTokenPair returns an access and a refresh token for identity, as a
// login does. With WithRefreshRotation they start a new family. opts apply
// to both tokens, except freshness, which only the access token takes.
func (m *Manager) CreateTokenPair(identity any, opts ...TokenOption) (access, refresh string, err error) {
	var fam TokenOption
	if m.cfg.rotation {
		fam = inFamily(newUUID())
	}
	// Never append to opts: it may be a handler's slice shared by
	// concurrent requests.
	if access, err = m.createToken(TypeAccess, identity, slices.Concat(opts, []TokenOption{fam})); err != nil {
		return "", "", err
	}
	refresh, err = m.createToken(TypeRefresh, identity, slices.Concat(opts, []TokenOption{fam, notFresh}))
	return access, refresh, err
}

// RotateRefreshToken uses up the refresh token that RefreshRequired
// verified on this request and returns a new access and refresh token of
// the same family: the /refresh route of WithRefreshRotation.
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
// pair; the others count as reuse. The login keeps one record in the
// blocklist, its current refresh token, however often it rotates. The
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
	// A refresh token from before rotation was on has no family: its own
	// ID names the family its successors start.
	family := refreshFamily(tok)
	renewal := slices.Concat(opts, []TokenOption{m.renewalOf(tok), inFamily(family)})
	if access, err = m.createToken(TypeAccess, tok.Claims.Identity, renewal); err != nil {
		return "", "", err
	}
	var next minted
	if refresh, err = m.createToken(TypeRefresh, tok.Claims.Identity, append(renewal, notFresh, next.record)); err != nil {
		return "", "", err
	}
	// The compare-and-set decides, not the old token's remaining life: a
	// token that expires while this request runs is still used up.
	ctx, cancel := context.WithTimeout(c.Request.Context(), m.cfg.blocklistTimeout)
	won, err := m.cfg.blocklist.Rotate(ctx, family, tok.Claims.JTI, next.jti, next.expires)
	cancel()
	if err != nil {
		return "", "", m.unavailable(err)
	}
	if !won {
		m.revokeFamily(c, family)
		e := newError(ErrRevoked, http.StatusUnauthorized, "Token has been revoked")
		e.Token, e.cause = tok, ErrRefreshTokenReused
		return "", "", e
	}
	return access, refresh, nil
}

// tokenFamily returns the token's family, or "" when it has none.
func tokenFamily(tok *Token) string {
	v, _ := tok.Claims.lookup(familyClaim)
	f, _ := v.String()
	return f
}

// refreshFamily is the family whose record follows refresh token tok:
// its "fam" claim, or its own ID for a token minted before rotation.
func refreshFamily(tok *Token) string {
	if fam := tokenFamily(tok); fam != "" {
		return fam
	}
	return tok.Claims.JTI
}

// inFamily puts a token in family fam; nil when there is none.
func inFamily(fam string) TokenOption {
	if fam == "" {
		return nil
	}
	return func(o *tokenOptions) { o.family = fam }
}

// notFresh drops freshness options for refresh tokens of a pair.
func notFresh(o *tokenOptions) {
	o.fresh, o.freshFor, o.freshUntil = false, 0, time.Time{}
}

// WithImplicitRefresh renews access cookies that are about to expire: when
// a guard accepts an access token from a cookie that expires within window,
// the response sets a new access cookie (same identity and family, not
// fresh), as flask's implicit_refresh example does in after_request. Tokens
// from headers, the query string or a JSON body are left alone; their
// clients refresh explicitly.
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
// window. A failure is recorded and does not fail the request: the old
// token is still valid.
func (m *Manager) refreshCookie(c *gin.Context, tok *Token) {
	exp := tok.Claims.expiry()
	if exp.IsZero() || exp.Sub(m.cfg.now()) > m.cfg.refreshWindow {
		return
	}
	token, err := m.createToken(TypeAccess, tok.Claims.Identity, []TokenOption{m.renewalOf(tok)})
	if err == nil {
		err = m.SetAccessCookies(c, token)
	}
	if err != nil {
		_ = c.Error(fmt.Errorf("ginjwt: implicit refresh: %w", err))
	}
}
