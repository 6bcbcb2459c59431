package ginjwt

import (
	"errors"
	"slices"

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
	made, err := m.refreshAccessToken(c, opts)
	return made.token, err
}

// refreshAccessToken is RefreshAccessToken telling what it made, for
// RefreshHandler.
func (m *Manager) refreshAccessToken(c *gin.Context, opts []TokenOption) (minted, error) {
	tok, err := currentRefreshToken(c)
	if err != nil {
		return minted{}, err
	}
	var made minted
	if _, err := m.createToken(TypeAccess, tok.Claims.Identity, slices.Concat(opts, []TokenOption{m.renewalOf(tok), made.record()})); err != nil {
		return minted{}, err
	}
	if err := m.touchSession(c.Request.Context(), tok, made.expires); err != nil {
		return minted{}, err
	}
	return made, nil
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
	session := tok.Claims.SessionID()
	start, hasStart := tok.Claims.sessionStart()
	return tokenOption(func(o *tokenOptions) {
		o.renewal, o.carried = true, carried
		o.session, o.start, o.hasStart = session, start, hasStart
	})
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

// notFresh drops freshness options for refresh tokens of a pair.
func notFresh(o *tokenOptions) {
	o.fresh, o.freshFor = false, 0
}
