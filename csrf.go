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

// CSRFConfig configures the double-submit protection of cookie tokens
// (CookieConfig.CSRF); the Access and Refresh fields are flask's
// JWT_ACCESS_CSRF_* and JWT_REFRESH_CSRF_* settings. Its zero value is
// flask's default: on, for POST, PUT, PATCH and DELETE.
type CSRFConfig struct {
	// Disabled turns the protection off (JWT_COOKIE_CSRF_PROTECT = False).
	// Only safe when every cookie is SameSite=Strict and the API accepts
	// no simple cross-site requests.
	Disabled bool
	// Methods need the CSRF value (JWT_CSRF_METHODS), upper case.
	Methods []string
	// OmitCookies sets no readable CSRF cookies (JWT_CSRF_IN_COOKIES =
	// False), for front ends that take the value from GetCSRFToken.
	OmitCookies bool
	// CheckForm also accepts the value in a form field (JWT_CSRF_CHECK_FORM).
	CheckForm bool
	// The readable CSRF cookies (*_CSRF_COOKIE_NAME, default
	// "csrf_access_token", "csrf_refresh_token") and their paths ("/").
	AccessCookieName, RefreshCookieName string
	AccessCookiePath, RefreshCookiePath string
	// The header that carries the value back (*_CSRF_HEADER_NAME, default
	// "X-CSRF-TOKEN") and the CheckForm field (*_CSRF_FIELD_NAME,
	// "csrf_token").
	AccessHeader, RefreshHeader string
	AccessField, RefreshField   string
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

// CSRFHeaderName returns the header that sends back the CSRF value of a
// token of type tokenType (TypeAccess or TypeRefresh).
func (m *Manager) CSRFHeaderName(tokenType string) string {
	if tokenType == TypeRefresh {
		return m.cfg.cookies.refresh.csrfHeader
	}
	return m.cfg.cookies.access.csrfHeader
}

// GetCSRFToken verifies token and returns its CSRF value (flask's
// get_csrf_token), for a front end that takes it from a response body.
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
