package ginjwt

import (
	"errors"
	"slices"

	"github.com/gin-gonic/gin"
)

// Logout ends, with WithBlocklist, the session of every token the request
// carries in any of the Manager's locations, expired ones included, and of
// the guard's token; then it unsets the JWT cookies. A cookie logout needs
// its CSRF value (else 401, nothing ends); an invalid header, query or
// body token gets the guard's answer. Errors are *Error values for Abort
// (503: the store is down, nothing ended). See docs/revocation.md.
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
