package ginjwt

import (
	"errors"
	"slices"

	"github.com/gin-gonic/gin"
)

// Logout ends the sessions of the tokens the request carries, as
// LogoutHandler does, without answering: for a logout route of your own.
//
//	r.POST("/logout", func(c *gin.Context) {
//		if err := m.Logout(c); err != nil {
//			m.Abort(c, err)
//			return
//		}
//		c.JSON(200, gin.H{"msg": "bye"})
//	})
//
// It reads every token location of the Manager: the access and the
// refresh cookie, the header, the query string, and the JSON body's access
// and refresh keys, plus the token a guard on the route verified. Each
// token names its session, and with WithBlocklist every session named is
// ended: all its tokens, access, refresh and renewals, are refused from
// now on, on every instance. An expired token still names its session, so
// a logout works after the access token has expired. Then the JWT cookies
// are unset (with the Cookies location), whatever the request carried.
//
// A cookie logout needs its CSRF value, as a guard does: a cross-site
// request can carry the cookies but not the value, and logs nobody out.
// A cookie that is not a valid token is unset and ends nothing; a
// header, query or body token that is not valid (a bad signature, a
// malformed token) gets the guard's answer and nothing ends. Logging out
// twice is harmless. The errors are *Error values for Abort (503 when the
// store is down: the logout did not happen, and the cookies stay).
func (m *Manager) Logout(c *gin.Context) error {
	if _, err := m.logout(c); err != nil {
		return err
	}
	return nil
}

// logout is Logout reporting the first token whose session it ended (nil
// for none).
func (m *Manager) logout(c *gin.Context) (*Token, *Error) {
	toks, e := m.logoutTokens(c)
	if e != nil {
		return nil, e
	}
	var first *Token
	if m.cfg.blocklist != nil {
		ended := make(map[string]bool, len(toks))
		for _, tok := range toks {
			id := tok.Claims.SessionID()
			if id == "" || ended[id] {
				continue
			}
			if err := m.revokeSession(c.Request.Context(), tok, ReasonLogout); err != nil {
				var e *Error
				errors.As(err, &e) // revokeSession's errors are *Error
				return nil, e
			}
			ended[id] = true
			if first == nil {
				first = tok
			}
		}
	}
	if slices.Contains(m.cfg.locations, InCookies) {
		m.UnsetJWTCookies(c)
	}
	return first, nil
}

// logoutTokens returns the valid (or only expired) tokens of the request.
func (m *Manager) logoutTokens(c *gin.Context) ([]*Token, *Error) {
	var toks []*Token
	if tok, ok := CurrentToken(c); ok {
		toks = append(toks, tok)
	}
	for _, loc := range m.cfg.locations {
		if loc == InCookies {
			cookieToks, e := m.logoutCookies(c)
			if e != nil {
				return nil, e
			}
			toks = append(toks, cookieToks...)
			continue
		}
		// The JSON body has an access and a refresh key; the header and the
		// query string hold either kind.
		for _, refresh := range []bool{false, true} {
			if refresh && loc != InJSONBody {
				break
			}
			f, e := m.fromLocation(c, loc, refresh)
			if e != nil {
				if e.kind == ErrNoToken {
					continue
				}
				return nil, e
			}
			tok, e := m.decodeExpired(f.raw)
			if e != nil {
				return nil, e
			}
			toks = append(toks, tok)
		}
	}
	return toks, nil
}

// logoutCookies returns the tokens of the access and refresh cookies, once
// the request has proved with the CSRF value that it is the front end's.
func (m *Manager) logoutCookies(c *gin.Context) ([]*Token, *Error) {
	var toks []*Token
	sent := make([]string, 0, 2)
	for _, names := range []*cookieNames{&m.cfg.cookies.access, &m.cfg.cookies.refresh} {
		raw := cookieValue(c.Request.Header, names.cookie)
		if raw == "" {
			continue
		}
		tok, e := m.decodeExpired(raw)
		if e != nil {
			continue // a broken cookie names no session: it is unset, no more
		}
		toks = append(toks, tok)
		if v := m.csrfSent(c, names); v != "" && !slices.Contains(sent, v) {
			sent = append(sent, v)
		}
	}
	if len(toks) == 0 || !m.cfg.csrfProtect || !slices.Contains(m.cfg.csrfMethods, c.Request.Method) {
		return toks, nil
	}
	if len(sent) == 0 {
		return nil, errMissingCSRF()
	}
	// The front end may send back either cookie's value; one match proves
	// the request its own.
	var mismatch *Error
	for _, tok := range toks {
		for _, v := range sent {
			if mismatch = checkCSRF(v, tok); mismatch == nil {
				return toks, nil
			}
		}
	}
	return nil, mismatch
}
