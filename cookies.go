package ginjwt

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// cookieNames are the names and paths of one token kind's cookies.
type cookieNames struct {
	cookie, path         string // the JWT cookie
	csrfCookie, csrfPath string // the readable CSRF cookie
	csrfHeader           string // where the front end sends the CSRF value back
	csrfField            string // form field alternative (WithCSRFCheckForm)
}

type cookieConfig struct {
	access, refresh cookieNames
	insecure        bool // Secure attribute off
	domain          string
	sameSite        http.SameSite
	persistent      bool // Max-Age instead of a session cookie
}

// persistentMaxAge is flask's fixed lifetime of non-session cookies (about
// a year); it does not follow the token's expiry.
const persistentMaxAge = 31540000

func defaultCookies() cookieConfig {
	return cookieConfig{
		access: cookieNames{
			cookie: "access_token_cookie", path: "/",
			csrfCookie: "csrf_access_token", csrfPath: "/",
			csrfHeader: "X-CSRF-TOKEN", csrfField: "csrf_token",
		},
		refresh: cookieNames{
			cookie: "refresh_token_cookie", path: "/",
			csrfCookie: "csrf_refresh_token", csrfPath: "/",
			csrfHeader: "X-CSRF-TOKEN", csrfField: "csrf_token",
		},
	}
}

// WithCookieNames sets the JWT cookies' names (JWT_ACCESS_COOKIE_NAME,
// JWT_REFRESH_COOKIE_NAME). Default: "access_token_cookie",
// "refresh_token_cookie".
func WithCookieNames(access, refresh string) Option {
	return func(c *config) error {
		if access == "" || refresh == "" {
			return errors.New("WithCookieNames: empty name")
		}
		c.cookies.access.cookie, c.cookies.refresh.cookie = access, refresh
		return nil
	}
}

// WithCookiePaths sets the JWT cookies' Path (JWT_ACCESS_COOKIE_PATH,
// JWT_REFRESH_COOKIE_PATH), e.g. "/" and "/refresh" so the refresh token
// only travels to the refresh route. Default: "/" for both.
func WithCookiePaths(access, refresh string) Option {
	return func(c *config) error {
		c.cookies.access.path, c.cookies.refresh.path = access, refresh
		return nil
	}
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

// CSRFHeaderName returns the header in which requests send back the CSRF
// value of a token of type tokenType (TypeAccess or TypeRefresh), for
// front ends and tests that build such requests.
func (m *Manager) CSRFHeaderName(tokenType string) string {
	if tokenType == TypeRefresh {
		return m.cfg.cookies.refresh.csrfHeader
	}
	return m.cfg.cookies.access.csrfHeader
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

// WithInsecureCookies drops the Secure attribute from the cookies, for
// plain-HTTP development on localhost. flask-jwt-extended defaults
// JWT_COOKIE_SECURE to False; ginjwt sends Secure cookies unless told.
func WithInsecureCookies() Option {
	return func(c *config) error {
		c.cookies.insecure = true
		return nil
	}
}

// WithCookieDomain sets the cookies' Domain (JWT_COOKIE_DOMAIN). Default:
// none (the host that set them).
func WithCookieDomain(domain string) Option {
	return func(c *config) error {
		c.cookies.domain = domain
		return nil
	}
}

// WithCookieSameSite sets the cookies' SameSite attribute
// (JWT_COOKIE_SAMESITE). Default: not sent (the browser's default, Lax in
// current browsers).
func WithCookieSameSite(mode http.SameSite) Option {
	return func(c *config) error {
		c.cookies.sameSite = mode
		return nil
	}
}

// WithPersistentCookies makes the cookies last about a year (flask's
// JWT_SESSION_COOKIE = False: Max-Age 31540000) instead of ending with the
// browser session. The cookie's life does not follow the token's.
func WithPersistentCookies() Option {
	return func(c *config) error {
		c.cookies.persistent = true
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

// WithQueryString sets the query parameter that carries the token and the
// prefix its value must start with (JWT_QUERY_STRING_NAME,
// JWT_QUERY_STRING_VALUE_PREFIX). Default: "jwt" and no prefix.
//
// A token in a URL leaks: access logs (gin.Logger prints the query; use
// Manager.Logger, which redacts it), proxies, browser history and the
// Referer header of the next page all see it. Use the QueryString location
// only where a client cannot send a header or a cookie (a WebSocket
// handshake, a download link), with short-lived tokens.
func WithQueryString(name, prefix string) Option {
	return func(c *config) error {
		if name == "" {
			return errors.New("WithQueryString: empty name")
		}
		c.queryName, c.queryPrefix = name, prefix
		return nil
	}
}

// WithJSONKeys sets the JSON body keys of access and refresh tokens
// (JWT_JSON_KEY, JWT_REFRESH_JSON_KEY). Default: "access_token",
// "refresh_token".
func WithJSONKeys(access, refresh string) Option {
	return func(c *config) error {
		if access == "" || refresh == "" {
			return errors.New("WithJSONKeys: empty key")
		}
		c.jsonKey, c.refreshJSONKey = access, refresh
		return nil
	}
}

// WithMaxBodySize bounds how much of a body the guards read: the JSON
// location's body, and the form that WithCSRFCheckForm looks in. Default:
// 1 MiB.
func WithMaxBodySize(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("WithMaxBodySize(%d): must be positive", n)
		}
		c.maxBodySize = n
		return nil
	}
}

// WithImplicitRefresh renews access cookies that are about to expire: when
// a guard accepts an access token from a cookie that expires within window,
// the response sets a new access cookie (same identity and family, not
// fresh), as flask's implicit_refresh example does in after_request. Tokens
// from headers, the query string or a JSON body are left alone; their
// clients refresh explicitly.
func WithImplicitRefresh(window time.Duration) Option {
	return func(c *config) error {
		if window <= 0 {
			return fmt.Errorf("WithImplicitRefresh(%v): must be positive", window)
		}
		c.refreshWindow = window
		return nil
	}
}

// refreshCookie sets a new access cookie when tok expires within the
// window. A failure is recorded and does not fail the request: the old
// token is still valid.
func (m *Manager) refreshCookie(c *gin.Context, tok *Token) {
	exp := tok.Claims.ExpiresAt()
	if exp.IsZero() || exp.Sub(m.cfg.now()) > m.cfg.refreshWindow {
		return
	}
	token, err := m.createToken(TypeAccess, tok.Claims.Identity, []TokenOption{m.renewalOf(tok)})
	if err == nil {
		err = m.SetAccessCookies(c, token)
	}
	if err != nil {
		_ = c.Error(fmt.Errorf("ginjwt: implicit refresh: %w", err))
	}
}

// CookieOption adjusts one call of the cookie helpers, as the max_age and
// domain arguments of flask's set_access_cookies and unset_jwt_cookies do.
type CookieOption func(*cookieCall)

type cookieCall struct {
	maxAge time.Duration
	domain string
}

// CookieMaxAge makes the cookies of one SetAccessCookies or
// SetRefreshCookies call last d (Max-Age), whatever WithPersistentCookies
// says; d <= 0 keeps the Manager's choice, as flask's max_age=None.
func CookieMaxAge(d time.Duration) CookieOption {
	return func(cc *cookieCall) { cc.maxAge = d }
}

// CookieDomain sets the Domain of the cookies of one call instead of
// WithCookieDomain's (flask's domain argument); "" means the host.
func CookieDomain(domain string) CookieOption {
	return func(cc *cookieCall) { cc.domain = domain }
}

func (m *Manager) cookieCall(opts []CookieOption) (cookieCall, error) {
	cc := cookieCall{domain: m.cfg.cookies.domain}
	for _, opt := range opts {
		if opt != nil {
			opt(&cc)
		}
	}
	if cc.domain != m.cfg.cookies.domain { // the Manager's was checked by New
		if cc.domain != "" && m.cfg.cookies.hostPrefixed() {
			return cc, errors.New("ginjwt: CookieDomain: __Host- cookies cannot have a Domain; browsers would drop them")
		}
		probe := http.Cookie{Name: "probe", Value: "v", Domain: cc.domain} //nolint:gosec // G124: only checked with Valid, never sent
		if err := probe.Valid(); err != nil {
			return cc, fmt.Errorf("ginjwt: CookieDomain: %w", err)
		}
	}
	return cc, nil
}

// SetAccessCookies sets the access token cookie and, with CSRF protection,
// the readable csrf_access_token cookie whose value the front end sends
// back in X-CSRF-TOKEN (flask's set_access_cookies). The token is verified
// first: its csrf claim is the cookie's value.
func (m *Manager) SetAccessCookies(c *gin.Context, token string, opts ...CookieOption) error {
	return m.setCookies(c, token, &m.cfg.cookies.access, opts)
}

// SetRefreshCookies is SetAccessCookies for a refresh token (flask's
// set_refresh_cookies).
func (m *Manager) SetRefreshCookies(c *gin.Context, token string, opts ...CookieOption) error {
	return m.setCookies(c, token, &m.cfg.cookies.refresh, opts)
}

// SetJWTCookies sets the access and the refresh cookies at once, as a
// login does; an empty token is skipped. Nothing is set if either token
// fails to verify.
//
//	access, refresh, err := m.CreateTokenPair(user.ID, ginjwt.Fresh())
//	if err == nil {
//		err = m.SetJWTCookies(c, access, refresh)
//	}
//	if err != nil { ... }
func (m *Manager) SetJWTCookies(c *gin.Context, access, refresh string, opts ...CookieOption) error {
	for _, tok := range []string{access, refresh} {
		if tok == "" {
			continue
		}
		if _, err := m.DecodeExpiredToken(tok); err != nil {
			return err
		}
	}
	if access != "" {
		if err := m.SetAccessCookies(c, access, opts...); err != nil {
			return err
		}
	}
	if refresh != "" {
		return m.SetRefreshCookies(c, refresh, opts...)
	}
	return nil
}

// UnsetJWTCookies expires every cookie the Manager sets (flask's
// unset_jwt_cookies), e.g. at logout. Pass CookieDomain when the cookies
// were set with one.
func (m *Manager) UnsetJWTCookies(c *gin.Context, opts ...CookieOption) {
	m.UnsetAccessCookies(c, opts...)
	m.UnsetRefreshCookies(c, opts...)
}

// UnsetAccessCookies expires the access cookies (flask's
// unset_access_cookies).
func (m *Manager) UnsetAccessCookies(c *gin.Context, opts ...CookieOption) {
	m.unsetCookies(c, &m.cfg.cookies.access, opts)
}

// UnsetRefreshCookies expires the refresh cookies (flask's
// unset_refresh_cookies).
func (m *Manager) UnsetRefreshCookies(c *gin.Context, opts ...CookieOption) {
	m.unsetCookies(c, &m.cfg.cookies.refresh, opts)
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

func (m *Manager) setCookies(c *gin.Context, token string, names *cookieNames, opts []CookieOption) error {
	cc, err := m.cookieCall(opts)
	if err != nil {
		return err
	}
	tok, err := m.DecodeExpiredToken(token)
	if err != nil {
		return err
	}
	csrf := m.cfg.csrfProtect && m.cfg.csrfInCookies
	if csrf && tok.Claims.CSRF == "" {
		return invalid(ErrInvalidClaims, "Missing claim: csrf")
	}
	m.writeCookie(c, names.cookie, token, names.path, true, false, cc)
	if csrf {
		m.writeCookie(c, names.csrfCookie, tok.Claims.CSRF, names.csrfPath, false, false, cc)
	}
	return nil
}

// checkPrefixes refuses cookie names whose prefix browsers enforce, with
// settings that make the browser drop the cookie without a word: a
// "__Secure-" cookie must be Secure; a "__Host-" cookie must be Secure,
// have no Domain and the path "/" (RFC 6265bis §4.1.3). Browsers match the
// prefixes in any case.
func checkPrefixes(ck *cookieConfig) []error {
	var errs []error
	for _, n := range []cookieNames{ck.access, ck.refresh} {
		for _, c := range []struct{ name, path string }{{n.cookie, n.path}, {n.csrfCookie, n.csrfPath}} {
			host := hasPrefixFold(c.name, "__Host-")
			if (host || hasPrefixFold(c.name, "__Secure-")) && ck.insecure {
				errs = append(errs, fmt.Errorf("cookie %q: its prefix needs Secure cookies (WithInsecureCookies is set): browsers drop it", c.name))
			}
			if host && ck.domain != "" {
				errs = append(errs, fmt.Errorf("cookie %q: a __Host- cookie cannot have a Domain (%q): browsers drop it", c.name, ck.domain))
			}
			if host && c.path != "/" {
				errs = append(errs, fmt.Errorf("cookie %q: a __Host- cookie needs the path \"/\", not %q: browsers drop it", c.name, c.path))
			}
		}
	}
	return errs
}

// hostPrefixed reports whether any of the cookies is a "__Host-" cookie,
// which no per-call CookieDomain may give a Domain.
func (ck *cookieConfig) hostPrefixed() bool {
	for _, n := range []cookieNames{ck.access, ck.refresh} {
		if hasPrefixFold(n.cookie, "__Host-") || hasPrefixFold(n.csrfCookie, "__Host-") {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func (m *Manager) unsetCookies(c *gin.Context, names *cookieNames, opts []CookieOption) {
	cc, err := m.cookieCall(opts)
	if err != nil {
		_ = c.Error(err)
		return
	}
	m.writeCookie(c, names.cookie, "", names.path, true, true, cc)
	if m.cfg.csrfProtect && m.cfg.csrfInCookies {
		m.writeCookie(c, names.csrfCookie, "", names.csrfPath, false, true, cc)
	}
}

// checkNames refuses, at New, names and settings that net/http or browsers
// would silently drop later: a cookie that is never set, a header no
// client can send, a CSRF method list no request matches.
func checkNames(cfg *config) []error {
	var errs []error
	ck := &cfg.cookies
	for _, n := range []cookieNames{ck.access, ck.refresh} {
		// Only checked with Valid, never sent.
		for _, cookie := range []http.Cookie{
			{Name: n.cookie, Value: "v", Path: n.path, Domain: ck.domain},         //nolint:gosec // G124: a probe
			{Name: n.csrfCookie, Value: "v", Path: n.csrfPath, Domain: ck.domain}, //nolint:gosec // G124: a probe
		} {
			if err := cookie.Valid(); err != nil {
				errs = append(errs, fmt.Errorf("cookie %q: %w", cookie.Name, err))
			}
		}
		if !isToken(n.csrfHeader) {
			errs = append(errs, fmt.Errorf("CSRF header %q is not a valid header name", n.csrfHeader))
		}
	}
	if ck.sameSite == http.SameSiteNoneMode && ck.insecure {
		errs = append(errs, errors.New("SameSite=None needs Secure cookies: browsers drop the others (WithInsecureCookies)"))
	}
	errs = append(errs, checkPrefixes(ck)...)
	if !isToken(cfg.headerName) {
		errs = append(errs, fmt.Errorf("header name %q is not a valid header name", cfg.headerName))
	}
	if cfg.headerType != "" && (!isToken(cfg.headerType) || strings.ContainsRune(cfg.headerType, ',')) {
		errs = append(errs, fmt.Errorf("header type %q must be one word (as \"Bearer\")", cfg.headerType))
	}
	for _, method := range cfg.csrfMethods {
		if !isToken(method) || method != strings.ToUpper(method) {
			errs = append(errs, fmt.Errorf("CSRF method %q: HTTP methods are upper case, as \"POST\"", method))
		}
	}
	return errs
}

// isToken reports whether s is an HTTP token (RFC 9110 §5.6.2), the
// grammar of header names, methods and cookie names.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// writeCookie adds a Set-Cookie header with the Manager's attributes; an
// unset cookie has an empty value and expires in 1970, as flask writes it.
func (m *Manager) writeCookie(c *gin.Context, name, value, path string, httpOnly, unset bool, cc cookieCall) {
	ck := &http.Cookie{ //nolint:gosec // G124: Secure and SameSite are options (Secure by default); the CSRF cookie must be readable by scripts
		Name:     name,
		Value:    value,
		Path:     path,
		Domain:   cc.domain,
		Secure:   !m.cfg.cookies.insecure,
		HttpOnly: httpOnly,
		SameSite: m.cfg.cookies.sameSite,
	}
	switch {
	case unset:
		ck.Expires = time.Unix(0, 0)
	case cc.maxAge > 0:
		ck.MaxAge = int((cc.maxAge + time.Second - 1) / time.Second)
		ck.Expires = m.cfg.now().Add(cc.maxAge)
	case m.cfg.cookies.persistent:
		ck.MaxAge = persistentMaxAge
		ck.Expires = m.cfg.now().Add(persistentMaxAge * time.Second)
	}
	http.SetCookie(c.Writer, ck)
}
