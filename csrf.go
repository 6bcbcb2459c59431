package ginjwt

import (
	"crypto/subtle"
	"errors"
	"net/http"
)

// CSRF double-submit protection of cookie tokens (flask's JWT_COOKIE_CSRF_PROTECT):
// the options, the check and the value a front end sends back.

// checkCSRF compares the double-submit value with the token's claim, in
// constant time.
func checkCSRF(f found, tok *Token) *Error {
	if !f.checkCSRF {
		return nil
	}
	if tok.Claims.CSRF == "" {
		return invalid(ErrInvalidClaims, "Missing claim: csrf")
	}
	if subtle.ConstantTimeCompare([]byte(f.csrf), []byte(tok.Claims.CSRF)) != 1 {
		return newError(ErrCSRF, http.StatusUnauthorized, "CSRF double submit tokens do not match")
	}
	return nil
}

// WithCSRFCookieNames sets the readable CSRF cookies' names
// (JWT_ACCESS_CSRF_COOKIE_NAME, JWT_REFRESH_CSRF_COOKIE_NAME). Default:
// "csrf_access_token", "csrf_refresh_token".
func WithCSRFCookieNames(access, refresh string) Option {
	return func(c *config) error {
		if access == "" || refresh == "" {
			return errors.New("WithCSRFCookieNames: empty name")
		}
		c.cookies.access.csrfCookie, c.cookies.refresh.csrfCookie = access, refresh
		return nil
	}
}

// WithCSRFCookiePaths sets the CSRF cookies' Path
// (JWT_ACCESS_CSRF_COOKIE_PATH, JWT_REFRESH_CSRF_COOKIE_PATH). Default: "/".
func WithCSRFCookiePaths(access, refresh string) Option {
	return func(c *config) error {
		c.cookies.access.csrfPath, c.cookies.refresh.csrfPath = access, refresh
		return nil
	}
}

// WithCSRFHeaderNames sets the headers that carry the CSRF value back
// (JWT_ACCESS_CSRF_HEADER_NAME, JWT_REFRESH_CSRF_HEADER_NAME). Default:
// "X-CSRF-TOKEN" for both.
func WithCSRFHeaderNames(access, refresh string) Option {
	return func(c *config) error {
		if access == "" || refresh == "" {
			return errors.New("WithCSRFHeaderNames: empty name")
		}
		c.cookies.access.csrfHeader, c.cookies.refresh.csrfHeader = access, refresh
		return nil
	}
}

// WithCSRFFieldNames sets the form fields read by WithCSRFCheckForm
// (JWT_ACCESS_CSRF_FIELD_NAME, JWT_REFRESH_CSRF_FIELD_NAME). Default:
// "csrf_token" for both.
func WithCSRFFieldNames(access, refresh string) Option {
	return func(c *config) error {
		c.cookies.access.csrfField, c.cookies.refresh.csrfField = access, refresh
		return nil
	}
}

// WithCookieCSRFProtect sets JWT_COOKIE_CSRF_PROTECT. Default: true: new
// tokens carry a "csrf" claim, SetAccessCookies also sets the readable CSRF
// cookie, and cookie tokens need the double-submit value on CSRF methods.
// Turning it off is only safe when every cookie is SameSite=Strict and the
// API accepts no simple cross-site requests.
func WithCookieCSRFProtect(protect bool) Option {
	return func(c *config) error {
		c.csrfProtect = protect
		return nil
	}
}

// WithCSRFMethods sets the methods on which cookie tokens need the CSRF
// value (JWT_CSRF_METHODS). Default: POST, PUT, PATCH, DELETE.
func WithCSRFMethods(methods ...string) Option {
	return func(c *config) error {
		c.csrfMethods = append([]string(nil), methods...)
		return nil
	}
}

// WithCSRFInCookies sets whether SetAccessCookies and SetRefreshCookies
// also set the readable CSRF cookies (JWT_CSRF_IN_COOKIES). Default: true.
// Front ends on another site cannot read those cookies; they take the value
// from the login response instead (GetCSRFToken).
func WithCSRFInCookies(set bool) Option {
	return func(c *config) error {
		c.csrfInCookies = set
		return nil
	}
}

// WithCSRFCheckForm makes guards also accept the CSRF value in a form field
// when the header is missing (JWT_CSRF_CHECK_FORM). Default: false.
func WithCSRFCheckForm(check bool) Option {
	return func(c *config) error {
		c.csrfCheckForm = check
		return nil
	}
}

// CSRFHeaderName returns the header in which requests send back the CSRF
// value of a token of type tokenType (TypeAccess or TypeRefresh), for
// front ends and tests that build such requests.
func (m *Manager) CSRFHeaderName(tokenType string) string {
	if tokenType == TypeRefresh {
		return m.cfg.cookies.refresh.csrfHeader
	}
	return m.cfg.cookies.access.csrfHeader
}

// GetCSRFToken returns the CSRF value of a token (flask's get_csrf_token),
// for front ends that keep it from the login response rather than from
// the cookie. The token is verified.
func (m *Manager) GetCSRFToken(token string) (string, error) {
	tok, err := m.DecodeToken(token)
	if err != nil {
		return "", err
	}
	if tok.Claims.CSRF == "" {
		return "", invalid(ErrInvalidClaims, "Missing claim: csrf")
	}
	return tok.Claims.CSRF, nil
}
