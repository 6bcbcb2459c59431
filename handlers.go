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

// Response is what a ready-made handler did when it succeeded, for a
// Responder.
type Response struct {
	Handler Guard // GuardLogin, GuardRefresh or GuardLogout
	// Identity is the tokens' identity, or the first ended session's at a
	// logout ("" for none).
	Identity string
	// AccessToken and RefreshToken are the tokens made, if any, and
	// AccessExpires and RefreshExpires their "exp" (zero: none).
	AccessToken, RefreshToken     string
	AccessExpires, RefreshExpires time.Time
	// Cookies reports that the tokens were set as cookies: then keep them
	// out of the body, away from the page's scripts.
	Cookies bool

	issued time.Time // the access token's "iat"
}

// ExpiresIn returns the access token's lifetime in seconds, RFC 6749's
// expires_in; 0 for none, or one that never expires.
func (r Response) ExpiresIn() int64 {
	if r.AccessExpires.IsZero() || r.issued.IsZero() {
		return 0
	}
	return int64(r.AccessExpires.Sub(r.issued) / time.Second)
}

// Responder writes the success answer of a ready-made handler
// (appleboy/gin-jwt's LoginResponse, RefreshResponse and LogoutResponse in
// one). One that writes nothing leaves the default, as with ErrorHandler.
type Responder func(c *gin.Context, r Response)

// WithResponder replaces the success answers of LoginHandler,
// RefreshHandler and LogoutHandler (flask's bodies), e.g. with RFC 6749's
// (docs/coming-from-appleboy.md). Cookies are set or unset whatever it
// writes; failures still go to the ErrorHandler.
func WithResponder(respond Responder) Option {
	return option(func(c *config) error {
		if respond == nil {
			return errors.New("WithResponder: nil function")
		}
		c.responder = respond
		return nil
	})
}

// LoginHandler returns a login route's handler. check reads the request's
// credentials and returns the identity, or ErrInvalidCredentials (401; an
// *Error is answered as such, any other error is a 500). It then starts a
// session (StartSession) with a fresh access token and a refresh token,
// set as cookies with InCookies, else in the body. With InCookies the body
// must be application/json (else 415), against login CSRF.
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

// RefreshHandler returns a refresh route's handler (flask's /refresh): it
// verifies the refresh token, unless RefreshRequired did, and answers with
// a new access token: {"access_token": ...}, or as a cookie and
// {"refresh": true} for a cookie token.
// With WithRefreshRotation it rotates (RotateRefreshToken).
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

// LogoutHandler returns a logout route's handler: Logout, answered 200
// {"msg": "Access token successfully revoked"} ("Refresh token ..." after
// the first token's kind), as flask's blocklist example, or {"msg":
// "logout successful"} when it ended nothing.
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
