package ginjwt

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
)

// Ready-made login, refresh and logout routes: the bodies of the routes in
// flask-jwt-extended's examples, for the Manager's token locations, and
// the hook that answers in a shape of the application's own.

// Response is what a ready-made handler (LoginHandler, RefreshHandler,
// LogoutHandler) did when it succeeded, for a Responder to answer. Its
// failures go to the ErrorHandler, as every guard's do.
type Response struct {
	// Handler is GuardLogin, GuardRefresh or GuardLogout.
	Handler Guard
	// Identity is the identity of the tokens made (login, refresh), or of
	// the first session a logout ended; "" when a logout ended none.
	Identity string
	// AccessToken and RefreshToken are the tokens made: both at a login,
	// the access token at a refresh (and a refresh token with
	// WithRefreshRotation), none at a logout.
	AccessToken, RefreshToken string
	// AccessExpires and RefreshExpires are their "exp" claims; zero for no
	// token, or one that never expires.
	AccessExpires, RefreshExpires time.Time
	// Cookies reports that the tokens were set as cookies too (the
	// Cookies location). A body holding them would hand them to the
	// page's scripts, which HttpOnly cookies keep them from.
	Cookies bool

	issued time.Time // the access token's "iat"
}

// ExpiresIn returns the access token's lifetime in seconds, from its "iat"
// to its "exp": RFC 6749's expires_in. It is 0 for no access token, or one
// that never expires.
func (r Response) ExpiresIn() int64 {
	if r.AccessExpires.IsZero() || r.issued.IsZero() {
		return 0
	}
	return int64(r.AccessExpires.Sub(r.issued) / time.Second)
}

// Responder writes the answer of a ready-made handler that succeeded
// (appleboy/gin-jwt's LoginResponse, RefreshResponse and LogoutResponse in
// one). A Responder that writes nothing, neither a body nor a status,
// leaves the handler's default answer, so it can shape the handlers it
// cares about; one that sets a status without a body sends that status
// with an empty body.
type Responder func(c *gin.Context, r Response)

// WithResponder replaces the success answers of LoginHandler,
// RefreshHandler and LogoutHandler (flask's bodies: {"access_token": ...},
// {"msg": "login successful"}, {"refresh": true}, {"msg": "... successfully
// revoked"}), so that a service answers in one shape of its own, e.g.
// RFC 6749's:
//
//	ginjwt.WithResponder(func(c *gin.Context, r ginjwt.Response) {
//		if r.Handler == ginjwt.GuardLogout {
//			c.JSON(http.StatusOK, gin.H{"code": http.StatusOK, "message": "logged out"})
//			return
//		}
//		c.JSON(http.StatusOK, gin.H{"access_token": r.AccessToken, "token_type": "Bearer",
//			"expires_in": r.ExpiresIn(), "refresh_token": r.RefreshToken})
//	})
//
// The cookies are set before it runs (the Cookies location) and unset
// at a logout, whatever it writes. Failures still go to the ErrorHandler
// (WithErrorHandler), so the two together give every answer of the
// handlers and guards one shape.
func WithResponder(respond Responder) Option {
	return option(func(c *config) error {
		if respond == nil {
			return errors.New("WithResponder: nil function")
		}
		c.responder = respond
		return nil
	})
}

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
// WithResponder answers in a shape of your own instead.
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
		run := m.beginRun(c, GuardLogin)
		if setsCookies && !isJSONContentType(c.GetHeader("Content-Type")) {
			m.abortRun(c, run, ErrNotJSON)
			return
		}
		identity, err := check(c)
		if err != nil {
			m.abortRun(c, run, err)
			return
		}
		a, r, err := m.startSession(c, identity, opts)
		if err != nil {
			m.abortRun(c, run, err)
			return
		}
		if err := m.answerTokens(c, GuardLogin, m.cfg.locations, a, r, gin.H{"msg": "login successful"}); err != nil {
			m.abortRun(c, run, err)
			return
		}
		m.done(c, run, nil)
	}
}

// RefreshHandler returns the handler of a refresh route (flask's /refresh):
// it verifies the refresh token unless RefreshRequired already did, and
// answers 200 with a new access token, in the body ({"access_token": ...})
// or, for a refresh token from a cookie, as cookies ({"refresh": true}).
// With WithRefreshRotation it rotates: a new refresh token comes along,
// and a replayed one gets 401 and revokes its login. opts apply to the
// new tokens. WithResponder answers in a shape of your own instead.
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
		var a, r minted
		var err error
		if m.cfg.rotation {
			a, r, err = m.rotateRefreshToken(c, opts)
		} else {
			a, err = m.refreshAccessToken(c, opts)
		}
		if err != nil {
			m.abortAs(c, GuardRefresh, err)
			return
		}
		if err := m.answerTokens(c, GuardRefresh, []Location{CurrentLocation(c)}, a, r, gin.H{"refresh": true}); err != nil {
			m.abortAs(c, GuardRefresh, err)
		}
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
// nothing. WithResponder answers in a shape of your own instead.
//
//	r.DELETE("/logout", m.LogoutHandler())
func (m *Manager) LogoutHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
		run := m.beginRun(c, GuardLogout)
		ended, err := m.logout(c)
		if err != nil {
			m.abortRun(c, run, err)
			return
		}
		m.done(c, run, ended)
		msg, resp := "logout successful", Response{Handler: GuardLogout}
		if ended != nil {
			resp.Identity = ended.Claims.Identity
			msg = "Access token successfully revoked"
			if ended.Claims.Type == TypeRefresh {
				msg = "Refresh token successfully revoked"
			}
		}
		m.respond(c, resp, gin.H{"msg": msg})
	}
}

// answerTokens answers 200 with new tokens where locs read them: cookies
// for Cookies, the body for the others; cookiesOnly is the body when no
// token goes in it. A cookie that cannot be set is its error; nothing is
// answered then.
func (m *Manager) answerTokens(c *gin.Context, h Guard, locs []Location, a, r minted, cookiesOnly gin.H) error {
	resp := Response{
		Handler: h, Identity: a.identity,
		AccessToken: a.token, AccessExpires: a.expires, issued: a.issued,
		RefreshToken: r.token, RefreshExpires: r.expires,
	}
	if slices.Contains(locs, InCookies) {
		if err := m.SetJWTCookies(c, a.token, r.token); err != nil {
			return err
		}
		resp.Cookies = true
	}
	body := cookiesOnly
	if slices.ContainsFunc(locs, func(l Location) bool { return l != InCookies }) {
		body = gin.H{"access_token": a.token}
		if r.token != "" {
			body["refresh_token"] = r.token
		}
	}
	m.respond(c, resp, body)
	return nil
}

// respond answers a ready-made handler's success through the Responder,
// or with body when there is none or it wrote nothing.
func (m *Manager) respond(c *gin.Context, resp Response, body gin.H) {
	if m.cfg.responder != nil {
		before := c.Writer.Status()
		m.cfg.responder(c, resp)
		if answered(c, before) {
			return
		}
	}
	c.JSON(http.StatusOK, body)
}
