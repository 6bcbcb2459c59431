package ginjwt

import (
	"crypto/subtle"
	"net/http"
)

// CSRF double-submit protection of cookie tokens (flask's JWT_COOKIE_CSRF_PROTECT):
// the options, the check and the value a front end sends back.

// checkCSRF compares the double-submit value sent back with the token's
// claim, in constant time.
func checkCSRF(sent string, tok *Token) *Error {
	if tok.Claims.CSRF == "" {
		return invalid(ErrInvalidClaims, "Missing claim: csrf")
	}
	if subtle.ConstantTimeCompare([]byte(sent), []byte(tok.Claims.CSRF)) != 1 {
		return newError(ErrCSRF, http.StatusUnauthorized, "CSRF double submit tokens do not match")
	}
	return nil
}

const msgMissingCSRF = "Missing CSRF token"

func errMissingCSRF() *Error {
	return newError(ErrCSRF, http.StatusUnauthorized, msgMissingCSRF)
}

// CSRFConfig configures the double-submit protection of cookie tokens,
// CookieConfig.CSRF. Its zero value is flask's default: protection on, the
// value checked on POST, PUT, PATCH and DELETE, sent back in the
// X-CSRF-TOKEN header, and set by the cookie helpers as the readable
// csrf_access_token / csrf_refresh_token cookies.
type CSRFConfig struct {
	// Disabled turns the protection off (JWT_COOKIE_CSRF_PROTECT = False):
	// new tokens carry no "csrf" claim, the cookie helpers set no CSRF
	// cookie, and cookie tokens need no double-submit value. Only safe when
	// every cookie is SameSite=Strict and the API accepts no simple
	// cross-site requests.
	Disabled bool
	// Methods are the methods on which cookie tokens need the CSRF value
	// (JWT_CSRF_METHODS), upper case as "POST". Default (nil or empty):
	// POST, PUT, PATCH, DELETE.
	Methods []string
	// OmitCookies stops SetAccessCookies and SetRefreshCookies setting the
	// readable CSRF cookies (JWT_CSRF_IN_COOKIES = False). Front ends on
	// another site cannot read those cookies; they take the value from the
	// login response instead (GetCSRFToken).
	OmitCookies bool
	// CheckForm makes guards also accept the CSRF value in a form field
	// when the header is missing (JWT_CSRF_CHECK_FORM). Default: false.
	CheckForm bool
	// AccessCookieName is the access token's readable CSRF cookie
	// (JWT_ACCESS_CSRF_COOKIE_NAME). Default: "csrf_access_token".
	AccessCookieName string
	// RefreshCookieName is the refresh token's readable CSRF cookie
	// (JWT_REFRESH_CSRF_COOKIE_NAME). Default: "csrf_refresh_token".
	RefreshCookieName string
	// AccessCookiePath is the Path of the access CSRF cookie
	// (JWT_ACCESS_CSRF_COOKIE_PATH). Default: "/".
	AccessCookiePath string
	// RefreshCookiePath is the Path of the refresh CSRF cookie
	// (JWT_REFRESH_CSRF_COOKIE_PATH). Default: "/".
	RefreshCookiePath string
	// AccessHeader carries the access token's CSRF value back
	// (JWT_ACCESS_CSRF_HEADER_NAME). Default: "X-CSRF-TOKEN".
	AccessHeader string
	// RefreshHeader carries the refresh token's CSRF value back
	// (JWT_REFRESH_CSRF_HEADER_NAME). Default: "X-CSRF-TOKEN".
	RefreshHeader string
	// AccessField is the form field read with CheckForm for access tokens
	// (JWT_ACCESS_CSRF_FIELD_NAME). Default: "csrf_token".
	AccessField string
	// RefreshField is the form field read with CheckForm for refresh
	// tokens (JWT_REFRESH_CSRF_FIELD_NAME). Default: "csrf_token".
	RefreshField string
}

// apply sets the CSRF part of c, whose cookie and CSRF fields WithCookies
// has just reset to their defaults.
func (cs *CSRFConfig) apply(c *config) {
	c.csrfProtect = !cs.Disabled
	if len(cs.Methods) > 0 {
		c.csrfMethods = append([]string(nil), cs.Methods...)
	}
	c.csrfInCookies = !cs.OmitCookies
	c.csrfCheckForm = cs.CheckForm
	a, r := &c.cookies.access, &c.cookies.refresh
	setIf(&a.csrfCookie, cs.AccessCookieName)
	setIf(&r.csrfCookie, cs.RefreshCookieName)
	setIf(&a.csrfPath, cs.AccessCookiePath)
	setIf(&r.csrfPath, cs.RefreshCookiePath)
	setIf(&a.csrfHeader, cs.AccessHeader)
	setIf(&r.csrfHeader, cs.RefreshHeader)
	setIf(&a.csrfField, cs.AccessField)
	setIf(&r.csrfField, cs.RefreshField)
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
