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
	csrfField            string // form field alternative (CSRFConfig.CheckForm)
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

// CookieConfig configures the JWT cookies (flask's JWT_*COOKIE* settings)
// and their CSRF protection. Its zero value is the secure default: Secure
// session cookies with flask's names and paths, no Domain or SameSite, and
// CSRF protection on.
type CookieConfig struct {
	// The cookies' names (JWT_ACCESS_COOKIE_NAME, JWT_REFRESH_COOKIE_NAME;
	// default "access_token_cookie", "refresh_token_cookie") and paths
	// (*_COOKIE_PATH, "/"; e.g. "/refresh" keeps the refresh token there).
	AccessName, RefreshName string
	AccessPath, RefreshPath string
	// Insecure drops the Secure attribute, as flask does by default
	// (JWT_COOKIE_SECURE = False): for plain-HTTP development only.
	Insecure bool
	Domain   string        // JWT_COOKIE_DOMAIN; default: none
	SameSite http.SameSite // JWT_COOKIE_SAMESITE; default: not sent
	// Persistent sets Max-Age 31540000 (a year, whatever the token's life)
	// instead of session cookies (JWT_SESSION_COOKIE = False).
	Persistent bool
	CSRF       CSRFConfig
}

// WithCookies sets the cookie and CSRF settings; zero fields keep their
// default. New checks them (names and paths browsers keep, the __Host- and
// __Secure- rules, SameSite=None only with Secure), takes one WithCookies
// only, and needs InCookies among WithTokenLocations.
func WithCookies(ck CookieConfig) Option {
	return option(func(c *config) error {
		if c.cookiesSet {
			return errors.New("WithCookies given twice: put every cookie and CSRF setting in one CookieConfig")
		}
		c.cookiesSet = true
		a, r := &c.cookies.access, &c.cookies.refresh
		setIf(&a.cookie, ck.AccessName)
		setIf(&r.cookie, ck.RefreshName)
		setIf(&a.path, ck.AccessPath)
		setIf(&r.path, ck.RefreshPath)
		c.cookies.insecure = ck.Insecure
		c.cookies.domain = ck.Domain
		c.cookies.sameSite = ck.SameSite
		c.cookies.persistent = ck.Persistent
		ck.CSRF.apply(c)
		return nil
	})
}

// setIf sets *dst to v unless v is empty, which keeps the default.
func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// CookieOption adjusts one call of the cookie helpers (flask's max_age and
// domain arguments).
type CookieOption interface{ applyCookie(cc *cookieCall) }

// cookieOption is a CookieOption of a function.
type cookieOption func(*cookieCall)

func (f cookieOption) applyCookie(cc *cookieCall) { f(cc) }

type cookieCall struct {
	maxAge time.Duration
	domain string
}

// CookieMaxAge sets the Max-Age of one call's cookies instead of
// CookieConfig.Persistent's; d <= 0 is max_age=None.
func CookieMaxAge(d time.Duration) CookieOption {
	return cookieOption(func(cc *cookieCall) { cc.maxAge = d })
}

// CookieDomain sets the Domain of one call's cookies instead of
// CookieConfig.Domain (flask's domain); "": the host.
func CookieDomain(domain string) CookieOption {
	return cookieOption(func(cc *cookieCall) { cc.domain = domain })
}

func (m *Manager) cookieCall(opts []CookieOption) (cookieCall, error) {
	cc := cookieCall{domain: m.cfg.cookies.domain}
	for _, opt := range opts {
		if opt != nil {
			opt.applyCookie(&cc)
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

// SetAccessCookies verifies token and sets it as the access cookie, with its
// readable CSRF cookie (flask's set_access_cookies).
func (m *Manager) SetAccessCookies(c *gin.Context, token string, opts ...CookieOption) error {
	return m.setCookies(c, token, &m.cfg.cookies.access, opts)
}

// SetRefreshCookies is SetAccessCookies for a refresh token (flask's
// set_refresh_cookies).
func (m *Manager) SetRefreshCookies(c *gin.Context, token string, opts ...CookieOption) error {
	return m.setCookies(c, token, &m.cfg.cookies.refresh, opts)
}

// SetJWTCookies sets the access and refresh cookies at once, skipping an
// empty token; nothing is set if either fails to verify.
func (m *Manager) SetJWTCookies(c *gin.Context, access, refresh string, opts ...CookieOption) error {
	cc, err := m.cookieCall(opts)
	if err != nil {
		return err
	}
	var toks [2]*Token
	for i, raw := range []string{access, refresh} {
		if raw == "" {
			continue
		}
		if toks[i], err = m.cookieToken(raw); err != nil {
			return err
		}
	}
	if toks[0] != nil {
		m.writeTokenCookies(c, toks[0], &m.cfg.cookies.access, cc)
	}
	if toks[1] != nil {
		m.writeTokenCookies(c, toks[1], &m.cfg.cookies.refresh, cc)
	}
	return nil
}

// UnsetJWTCookies expires every cookie the Manager sets (flask's
// unset_jwt_cookies); pass the CookieDomain they were set with.
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

func (m *Manager) setCookies(c *gin.Context, token string, names *cookieNames, opts []CookieOption) error {
	cc, err := m.cookieCall(opts)
	if err != nil {
		return err
	}
	tok, err := m.cookieToken(token)
	if err != nil {
		return err
	}
	m.writeTokenCookies(c, tok, names, cc)
	return nil
}

// cookieToken verifies a token about to be set as cookies: its csrf
// claim, when the CSRF cookie is on, is that cookie's value.
func (m *Manager) cookieToken(raw string) (*Token, error) {
	tok, err := m.DecodeExpiredToken(raw)
	if err != nil {
		return nil, err
	}
	if m.cfg.csrfProtect && m.cfg.csrfInCookies && tok.Claims.CSRF == "" {
		return nil, invalid(ErrInvalidClaims, "Missing claim: csrf")
	}
	return tok, nil
}

// writeTokenCookies sets the JWT cookie of tok and its CSRF cookie.
func (m *Manager) writeTokenCookies(c *gin.Context, tok *Token, names *cookieNames, cc cookieCall) {
	m.writeCookie(c, names.cookie, tok.Raw, names.path, true, false, cc)
	if m.cfg.csrfProtect && m.cfg.csrfInCookies {
		m.writeCookie(c, names.csrfCookie, tok.Claims.CSRF, names.csrfPath, false, false, cc)
	}
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
				errs = append(errs, fmt.Errorf("cookie %q: its prefix needs Secure cookies (CookieConfig.Insecure is set): browsers drop it", c.name))
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
	if ck.sameSite < 0 || ck.sameSite > http.SameSiteNoneMode {
		errs = append(errs, fmt.Errorf("cookie SameSite %d is not one of net/http's SameSite modes", ck.sameSite))
	}
	if ck.sameSite == http.SameSiteNoneMode && ck.insecure {
		errs = append(errs, errors.New("SameSite=None needs Secure cookies: browsers drop the others (CookieConfig.Insecure)"))
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

// WithImplicitRefresh renews an access cookie that a guard accepts within
// window of its expiry (flask's implicit_refresh example): a new token of
// the same session, not fresh, never past WithSessionLifetime. Other
// locations are left alone. Needs InCookies.
func WithImplicitRefresh(window time.Duration) Option {
	return option(func(c *config) error {
		if window <= 0 {
			return fmt.Errorf("WithImplicitRefresh(%v): must be positive", window)
		}
		c.refreshWindow = window
		return nil
	})
}

// refreshCookie sets a new access cookie when tok expires within the
// window and a renewal would outlive it. A failure is recorded and does
// not fail the request: the old token is still valid.
func (m *Manager) refreshCookie(c *gin.Context, tok *Token) {
	exp := tok.Claims.ExpiresAt()
	if exp.IsZero() || exp.Sub(m.cfg.now()) > m.cfg.refreshWindow {
		return
	}
	if start, ok := tok.Claims.sessionStart(); ok && m.cfg.sessionLifetime > 0 &&
		!time.Unix(start, 0).Add(m.cfg.sessionLifetime).After(exp) {
		return // it already expires with its session
	}
	var made minted
	token, err := m.createToken(TypeAccess, tok.Claims.Identity, []TokenOption{m.renewalOf(tok), made.record()})
	if err == nil {
		err = m.touchSession(c.Request.Context(), tok, made.expires)
	}
	if err == nil {
		err = m.SetAccessCookies(c, token)
	}
	if err != nil {
		_ = c.Error(fmt.Errorf("ginjwt: implicit refresh: %w", err))
	}
}
