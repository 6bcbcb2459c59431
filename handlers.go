package ginjwt

import (
	"errors"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
)

// Ready-made login, refresh and logout routes: the bodies of the routes in
// flask-jwt-extended's examples, for the Manager's token locations.

// LoginHandler returns the handler of a login route. check reads the
// credentials from the request (c.ShouldBindJSON) and returns the identity
// the tokens are for, or an error wrapping ErrInvalidCredentials (401 "Bad
// username or password"); an *Error is answered as such, any other error
// is a 500. On success it creates a fresh access token and a refresh token
// (with opts, e.g. AdditionalClaims) and answers 200:
//
//   - with the Cookies location, it sets the JWT and CSRF cookies;
//   - with any other location, the body is {"access_token": ..., "refresh_token": ...},
//     else {"msg": "login successful"}.
//
// The request must be application/json (415 otherwise): a cross-site form
// can post text/plain without a CORS preflight, and would log the victim's
// browser into the attacker's account (login CSRF).
//
//	r.POST("/login", m.LoginHandler(func(c *gin.Context) (any, error) {
//		var in struct{ Username, Password string }
//		if err := c.ShouldBindJSON(&in); err != nil || !users.Check(in.Username, in.Password) {
//			return nil, ginjwt.ErrInvalidCredentials
//		}
//		return in.Username, nil
//	}))
func (m *Manager) LoginHandler(check func(c *gin.Context) (identity any, err error), opts ...TokenOption) gin.HandlerFunc {
	if check == nil {
		panic("ginjwt: LoginHandler: nil credential check")
	}
	// The password was just given: fresh, unless opts say for how long.
	opts = slices.Concat([]TokenOption{Fresh()}, opts)
	return func(c *gin.Context) {
		if !isJSONContentType(c.GetHeader("Content-Type")) {
			m.Abort(c, newError(ErrNotJSON, http.StatusUnsupportedMediaType, "Did not attempt to load JSON data because the request Content-Type was not 'application/json'."))
			return
		}
		identity, err := check(c)
		if errors.Is(err, ErrInvalidCredentials) {
			err = newError(ErrInvalidCredentials, http.StatusUnauthorized, "Bad username or password")
		}
		if err != nil {
			m.Abort(c, err)
			return
		}
		access, refresh, err := m.CreateTokenPair(identity, opts...)
		if err != nil {
			m.Abort(c, err)
			return
		}
		m.answerTokens(c, m.cfg.locations, access, refresh, gin.H{"msg": "login successful"})
	}
}

// RefreshHandler returns the handler of a refresh route (flask's /refresh):
// it verifies the refresh token unless RefreshRequired already did, and
// answers 200 with a new access token, in the body ({"access_token": ...})
// or, for a refresh token from a cookie, as cookies ({"refresh": true}).
// With WithRefreshRotation it rotates: a new refresh token comes along,
// and a replayed one gets 401 and revokes its login. opts apply to the
// new tokens.
//
//	r.POST("/refresh", m.RefreshHandler())
func (m *Manager) RefreshHandler(opts ...TokenOption) gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, ok := CurrentToken(c); !ok {
			if err := m.VerifyRefreshRequest(c); err != nil {
				m.Abort(c, err)
				return
			}
		}
		var access, refresh string
		var err error
		if m.cfg.rotation {
			access, refresh, err = m.RotateRefreshToken(c, opts...)
		} else {
			access, err = m.RefreshAccessToken(c, opts...)
		}
		if err != nil {
			m.Abort(c, err)
			return
		}
		m.answerTokens(c, []Location{CurrentLocation(c)}, access, refresh, gin.H{"refresh": true})
	}
}

// LogoutHandler returns the handler of a logout route. It accepts an
// access or a refresh token (or none), and ends what it can: with
// WithBlocklist the token is revoked, and with WithRefreshRotation its
// whole login (every token of its family); the JWT cookies are unset when
// the Manager reads cookies. It answers 200 {"msg": "Access token
// successfully revoked"} (or "Refresh token ...") after a revocation, as
// flask's blocklist example does, else {"msg": "logout successful"}. A
// store that is down gets 503: the logout did not happen.
//
//	r.DELETE("/logout", m.LogoutHandler())
func (m *Manager) LogoutHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
		tok, ok := CurrentToken(c)
		if !ok {
			if err := m.VerifyRequest(c, VerifyType(false), Optional()); err != nil {
				m.Abort(c, err)
				return
			}
			tok, ok = CurrentToken(c)
		}
		msg := "logout successful"
		if ok && m.cfg.blocklist != nil {
			if err := m.revokeLogin(c, tok); err != nil {
				m.Abort(c, err)
				return
			}
			msg = "Access token successfully revoked"
			if tok.Claims.Type == TypeRefresh {
				msg = "Refresh token successfully revoked"
			}
		}
		if slices.Contains(m.cfg.locations, Cookies) {
			m.UnsetJWTCookies(c)
		}
		c.JSON(http.StatusOK, gin.H{"msg": msg})
	}
}

// revokeLogin revokes tok and, with rotation, its family.
func (m *Manager) revokeLogin(c *gin.Context, tok *Token) error {
	if err := m.revokeToken(c.Request.Context(), tok); err != nil {
		return err
	}
	if !m.cfg.rotation {
		return nil
	}
	family := tokenFamily(tok)
	if family == "" && tok.Claims.Type == TypeRefresh {
		family = tok.Claims.JTI // a refresh token from before rotation: its own family
	}
	if family == "" {
		return nil
	}
	if err := m.revokeFamilyErr(c, family); err != nil {
		return m.unavailable(err)
	}
	return nil
}

// answerTokens answers 200 with new tokens where locs read them: cookies
// for Cookies, the body for the others; cookiesOnly is the body when no
// token goes in it.
func (m *Manager) answerTokens(c *gin.Context, locs []Location, access, refresh string, cookiesOnly gin.H) {
	inBody := false
	for _, loc := range locs {
		if loc != Cookies {
			inBody = true
		}
	}
	if slices.Contains(locs, Cookies) {
		if err := m.SetJWTCookies(c, access, refresh); err != nil {
			m.Abort(c, err)
			return
		}
	}
	if !inBody {
		c.JSON(http.StatusOK, cookiesOnly)
		return
	}
	body := gin.H{"access_token": access}
	if refresh != "" {
		body["refresh_token"] = refresh
	}
	c.JSON(http.StatusOK, body)
}
