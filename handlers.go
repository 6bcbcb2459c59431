package ginjwt

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
)

// Ready-made login, refresh and logout routes: the bodies of the routes in
// flask-jwt-extended's examples, for the Manager's token locations.

// LoginHandler returns the handler of a login route. check reads the
// credentials from the request (c.ShouldBindJSON, or c.PostForm for a
// form) and returns the identity the tokens are for, or an error wrapping
// ErrInvalidCredentials (401 "Bad username or password"); an *Error is
// answered as such, any other error is a 500. On success it starts a
// session (StartSession): a fresh access token and a refresh token (with
// opts, e.g. AdditionalClaims), and answers 200:
//
//   - with the Cookies location, it sets the JWT and CSRF cookies;
//   - with any other location, the body is {"access_token": ..., "refresh_token": ...},
//     else {"msg": "login successful"}.
//
// With the Cookies location the request must be application/json (415
// otherwise): a cross-site form can post without a CORS preflight, and
// would log the victim's browser into the attacker's account (login CSRF).
// A login that only answers with tokens in the body takes any content
// type, a form post included: a cross-site page cannot read the answer.
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
	setsCookies := slices.Contains(m.cfg.locations, InCookies)
	return func(c *gin.Context) {
		if setsCookies && !isJSONContentType(c.GetHeader("Content-Type")) {
			m.abortAs(c, GuardLogin, ErrNotJSON)
			return
		}
		identity, err := check(c)
		if err != nil {
			m.abortAs(c, GuardLogin, err)
			return
		}
		access, refresh, err := m.StartSession(c, identity, opts...)
		if err != nil {
			m.abortAs(c, GuardLogin, err)
			return
		}
		m.answerTokens(c, m.cfg.locations, access, refresh, gin.H{"msg": "login successful"})
		if len(m.observers) > 0 {
			m.report(c, Outcome{Guard: GuardLogin, Context: c.Request.Context(), Reason: ReasonOK})
		}
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
				m.Abort(c, err) // the guard's observers have seen it
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
			m.abortAs(c, GuardRefresh, err)
			return
		}
		m.answerTokens(c, []Location{CurrentLocation(c)}, access, refresh, gin.H{"refresh": true})
	}
}

// LogoutHandler returns the handler of a logout route: it ends the
// sessions of the tokens the request carries, whichever they are (access
// or refresh, valid or expired, from a cookie, the header, the query
// string or the JSON body), and unsets the JWT cookies; see Logout. It
// answers 200 {"msg": "Access token successfully revoked"} (or "Refresh
// token ...", after the kind of the first token it ended) as flask's
// blocklist example does, else {"msg": "logout successful"} (no token, or
// no WithBlocklist). A store that is down gets 503: the logout did not
// happen. A cookie logout without its CSRF value gets 401 and changes
// nothing.
//
//	r.DELETE("/logout", m.LogoutHandler())
func (m *Manager) LogoutHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
		ended, err := m.logout(c)
		if err != nil {
			m.abortAs(c, GuardLogout, err)
			return
		}
		if len(m.observers) > 0 {
			m.report(c, Outcome{Guard: GuardLogout, Context: c.Request.Context(), Reason: ReasonOK, Token: ended})
		}
		msg := "logout successful"
		switch {
		case ended == nil:
		case ended.Claims.Type == TypeRefresh:
			msg = "Refresh token successfully revoked"
		default:
			msg = "Access token successfully revoked"
		}
		c.JSON(http.StatusOK, gin.H{"msg": msg})
	}
}

// answerTokens answers 200 with new tokens where locs read them: cookies
// for Cookies, the body for the others; cookiesOnly is the body when no
// token goes in it.
func (m *Manager) answerTokens(c *gin.Context, locs []Location, access, refresh string, cookiesOnly gin.H) {
	inBody := false
	for _, loc := range locs {
		if loc != InCookies {
			inBody = true
		}
	}
	if slices.Contains(locs, InCookies) {
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
