package ginjwt

import (
	"errors"
	"slices"

	"github.com/gin-gonic/gin"
)

// RefreshAccessToken returns a new access token for the refresh token that
// RefreshRequired verified (flask's /refresh route): not fresh unless opts
// say so, of the same session and custom claims, never past the session's
// end, after which it returns an *Error (401 "Token has expired").
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
