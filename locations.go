package ginjwt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt/internal/jsonindex"
	"github.com/ginjwt/ginjwt/internal/swar"
)

// Location is where a guard looks for the token (JWT_TOKEN_LOCATION).
type Location int

// The token locations, flask's "headers", "cookies", "query_string" and
// "json": set with WithHeader, WithCookies, WithQueryString, WithJSONKeys.
const (
	InHeaders Location = iota + 1
	InCookies
	InQueryString
	InJSONBody
)

// String returns flask's name of the location.
func (l Location) String() string {
	switch l {
	case InHeaders:
		return "headers"
	case InCookies:
		return "cookies"
	case InQueryString:
		return "query_string"
	case InJSONBody:
		return "json"
	}
	return fmt.Sprintf("Location(%d)", int(l))
}

func checkLocations(locs []Location) error {
	if len(locs) == 0 {
		return fmt.Errorf("no token location")
	}
	for i, l := range locs {
		if l < InHeaders || l > InJSONBody {
			return fmt.Errorf("unknown token location %v", l)
		}
		if slices.Contains(locs[:i], l) {
			return fmt.Errorf("token location %v given twice", l)
		}
	}
	return nil
}

// WithTokenLocations sets where guards look for tokens, in order
// (JWT_TOKEN_LOCATION). Default: InHeaders.
func WithTokenLocations(locs ...Location) Option {
	return option(func(c *config) error {
		if err := checkLocations(locs); err != nil {
			return fmt.Errorf("WithTokenLocations: %w", err)
		}
		c.locations = slices.Clone(locs)
		return nil
	})
}

// Locations overrides the Manager's token locations for one guard
// (jwt_required(locations=...)).
func Locations(locs ...Location) GuardOption {
	err := checkLocations(locs)
	return guardFunc(func(g *guard) {
		if err != nil {
			g.configErr = append(g.configErr, fmt.Errorf("Locations: %w", err))
			return
		}
		g.locations = slices.Clone(locs)
	})
}

// found is a token read from a request, with the CSRF value sent alongside
// it when the location needs one ("" otherwise).
type found struct {
	raw, csrf string
	checkCSRF bool
}

// findToken tries the guard's locations in order. Only "no token here"
// moves on to the next one; any other error is the answer, as in flask.
// With no token anywhere, the error lists every location's reason.
func (m *Manager) findToken(c *gin.Context, g *guard) (found, Location, *Error) {
	locs := g.locations
	if locs == nil {
		locs = m.cfg.locations
	}
	var reasons []string
	for _, loc := range locs {
		f, err := m.fromLocation(c, loc, g.refresh)
		if err == nil {
			return f, loc, nil
		}
		if err.kind != ErrNoToken {
			return found{}, 0, err
		}
		if len(locs) == 1 {
			return found{}, 0, err
		}
		reasons = append(reasons, err.Message)
	}
	names := make([]string, len(locs))
	for i, l := range locs {
		names[i] = l.String()
	}
	msg := fmt.Sprintf("Missing JWT in %s or %s (%s)",
		strings.Join(names[:len(names)-1], ", "), names[len(names)-1], strings.Join(reasons, "; "))
	return found{}, 0, newError(ErrNoToken, http.StatusUnauthorized, msg)
}

func (m *Manager) fromLocation(c *gin.Context, loc Location, refresh bool) (found, *Error) {
	switch loc {
	case InCookies:
		return m.tokenFromCookie(c, refresh)
	case InQueryString:
		raw, err := m.tokenFromQuery(c)
		return found{raw: raw}, err
	case InJSONBody:
		raw, err := m.tokenFromJSON(c, refresh)
		return found{raw: raw}, err
	}
	raw, err := m.tokenFromHeader(c.Request.Header)
	return found{raw: raw}, err
}

// tokenFromCookie reads the access or refresh cookie and, on a method that
// needs it, the double-submit CSRF value, which must be present before the
// token is even decoded (flask's order).
func (m *Manager) tokenFromCookie(c *gin.Context, refresh bool) (found, *Error) {
	names := &m.cfg.cookies.access
	if refresh {
		names = &m.cfg.cookies.refresh
	}
	raw := cookieValue(c.Request.Header, names.cookie)
	if raw == "" {
		return found{}, newError(ErrNoToken, http.StatusUnauthorized, `Missing cookie "`+names.cookie+`"`)
	}
	f := found{raw: raw}
	if !m.cfg.csrfProtect || !slices.Contains(m.cfg.csrfMethods, c.Request.Method) {
		return f, nil
	}
	f.checkCSRF = true
	if f.csrf = m.csrfSent(c, names); f.csrf == "" {
		return found{}, errMissingCSRF()
	}
	return f, nil
}

// csrfSent returns the double-submit value the request sends back for a
// cookie of names: its header or, with CSRFConfig.CheckForm, form field.
// Repeated headers are one comma-joined value, as flask sees them (and
// the Authorization header here): never the first of them, which would
// pass a request flask refuses.
func (m *Manager) csrfSent(c *gin.Context, names *cookieNames) string {
	sent := strings.Join(c.Request.Header.Values(names.csrfHeader), ", ")
	if sent == "" && m.cfg.csrfCheckForm {
		// The form is parsed once and kept for the handler; the JSON
		// location's limit bounds what is read (Gin alone allows 32 MiB).
		if c.Request.Body != nil && c.Request.PostForm == nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, m.cfg.maxBodySize)
		}
		sent = c.PostForm(names.csrfField)
	}
	return sent
}

// cookieValue returns the value of the first cookie called name as
// Werkzeug reads the Cookie header: name and value trimmed of white space
// (also around "="), and surrounding double quotes removed. Go's
// Request.Cookie keeps a space after "=" in the value and drops a value
// with a tab or a quote after a space, where flask finds the token.
func cookieValue(h http.Header, name string) string {
	for _, line := range h["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			k, v, _ := strings.Cut(part, "=")
			if trimPySpace(k) != name {
				continue
			}
			v = trimPySpace(v)
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v
		}
	}
	return ""
}

// tokenFromQuery reads the first value of the query parameter, which must
// start with the configured prefix.
func (m *Manager) tokenFromQuery(c *gin.Context) (string, *Error) {
	name, prefix := m.cfg.queryName, m.cfg.queryPrefix
	value := c.Query(name)
	if value == "" {
		return "", newError(ErrNoToken, http.StatusUnauthorized, "Missing '"+name+"' query paramater")
	}
	raw, ok := strings.CutPrefix(value, prefix)
	if !ok {
		return "", invalid(ErrInvalidQueryParam,
			fmt.Sprintf("Invalid value for query parameter '%s'. Expected the value to start with '%s'", name, prefix))
	}
	return raw, nil
}

// tokenFromJSON reads the token from a JSON body and puts the body back, so
// the handler can read it too.
func (m *Manager) tokenFromJSON(c *gin.Context, refresh bool) (string, *Error) {
	if !isJSONContentType(c.GetHeader("Content-Type")) {
		return "", newError(ErrNoToken, http.StatusUnauthorized, "Invalid content-type. Must be application/json.")
	}
	key := m.cfg.jsonKey
	if refresh {
		key = m.cfg.refreshJSONKey
	}
	missing := newError(ErrNoToken, http.StatusUnauthorized, `Missing "`+key+`" key in json data.`)
	body, err := readBody(c, m.cfg.maxBodySize)
	if err != nil {
		return "", missing
	}
	// Only the body's members are indexed: their insides are validated,
	// as flask's request.get_json does, but cost no memory.
	var doc jsonindex.Index
	if !doc.ParseTop(string(body)) {
		return "", missing
	}
	value, _ := doc.Lookup(key)
	raw, isStr := value.String()
	switch {
	case isStr && raw != "":
		return raw, nil
	case !pythonTruthy(value):
		return "", missing // flask: a falsy value is no token
	}
	// flask hands a truthy non-string to PyJWT, which refuses it.
	return "", invalid(ErrTokenMalformed, "Invalid token type. Token must be a <class 'bytes'>")
}

// pythonTruthy reports whether a JSON value is true in Python: present,
// and not null, false, zero, "", [] or {}.
func pythonTruthy(v jsonindex.Value) bool {
	raw := v.Raw()
	switch v.Kind() {
	case jsonindex.Invalid, jsonindex.Null:
		return false
	case jsonindex.Bool:
		return raw == "true"
	case jsonindex.Number:
		f, _ := v.Float()
		return f != 0
	case jsonindex.String:
		s, _ := v.String()
		return s != ""
	}
	// An array or object with whitespace inside may still be empty.
	return strings.TrimSpace(raw[1:len(raw)-1]) != ""
}

// isJSONContentType is Werkzeug's is_json: application/json or
// application/*+json, parameters ignored.
func isJSONContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// readBody reads up to limit bytes of the body and puts what it read back
// in front of the rest, for the handler.
func readBody(c *gin.Context, limit int64) ([]byte, error) {
	if c.Request.Body == nil || c.Request.Body == http.NoBody {
		return nil, io.EOF
	}
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, limit+1))
	rest := c.Request.Body
	c.Request.Body = readCloser{io.MultiReader(bytes.NewReader(body), rest), rest}
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("body larger than %d bytes", limit)
	}
	return body, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// tokenFromHeader reads the token from the configured header exactly as
// flask-jwt-extended does: repeated headers count as one comma-separated
// value; with a type, exactly one comma-separated element must start with
// it (case-sensitive) and hold one more word.
func (m *Manager) tokenFromHeader(h http.Header) (string, *Error) {
	var value string
	switch values := h[m.headerKey]; len(values) {
	case 0:
	case 1:
		value = values[0]
	default:
		value = strings.Join(values, ", ")
	}
	value = strings.Trim(trimPySpace(value), ",")
	if value == "" {
		return "", newError(ErrNoToken, http.StatusUnauthorized, m.msgMissingHeader)
	}
	if m.cfg.headerType == "" {
		token, rest := nextWord(value)
		if extra, _ := nextWord(rest); token == "" || extra != "" {
			return "", invalid(ErrInvalidHeader, m.msgBadHeader)
		}
		return token, nil
	}
	var match string
	matches := 0
	for elem := range splitCommaSpace(value) {
		if first, _ := nextWord(elem); first == m.cfg.headerType {
			match = elem
			matches++
		}
	}
	if matches != 1 {
		return "", newError(ErrNoToken, http.StatusUnauthorized, m.msgMissingType)
	}
	_, rest := nextWord(match)
	token, rest := nextWord(rest)
	if extra, _ := nextWord(rest); token == "" || extra != "" {
		return "", invalid(ErrInvalidHeader, m.msgBadHeader)
	}
	return token, nil
}

// splitCommaSpace yields the elements of Python's re.split(r",\s*", s).
func splitCommaSpace(s string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for {
			i := strings.IndexByte(s, ',')
			if i < 0 {
				yield(s)
				return
			}
			if !yield(s[:i]) {
				return
			}
			s = trimLeftPySpace(s[i+1:])
		}
	}
}

// nextWord returns the first word of s as Python's str.split() sees it, and
// what follows it.
func nextWord(s string) (word, rest string) {
	i := 0
	for i < len(s) && isPySpace(s[i]) {
		i++
	}
	j := i + indexPySpace(s[i:])
	return s[i:j], s[j:]
}

// indexPySpace returns the index of the first isPySpace byte in s, or
// len(s). Tokens are long and hold none, so it tests eight bytes at a time:
// only a chunk with a byte below 0x21 or above 0x7f can hold one.
func indexPySpace(s string) int {
	const lows, highs = 0x2121212121212121, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := swar.Load64(s[i : i+8])
		if ((x-lows)&^x|x)&highs != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if isPySpace(s[i]) {
			return i
		}
	}
	return len(s)
}

// isPySpace reports the bytes Python's str.split() treats as whitespace in
// a header value (Werkzeug decodes headers as Latin-1).
func isPySpace(b byte) bool { return pySpace[b] }

var pySpace = [256]bool{
	' ': true, '\t': true, '\n': true, '\v': true, '\f': true, '\r': true,
	0x1c: true, 0x1d: true, 0x1e: true, 0x1f: true, 0x85: true, 0xa0: true,
}

func trimLeftPySpace(s string) string {
	for len(s) > 0 && isPySpace(s[0]) {
		s = s[1:]
	}
	return s
}

func trimPySpace(s string) string {
	s = trimLeftPySpace(s)
	for len(s) > 0 && isPySpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// WithQueryString sets the token's query parameter and the prefix its value
// must start with (JWT_QUERY_STRING_NAME, JWT_QUERY_STRING_VALUE_PREFIX).
// Default: "jwt", no prefix. A token in a URL leaks to logs (use
// Manager.Logger), proxies, history and Referer: use InQueryString only
// where a client can send neither header nor cookie.
func WithQueryString(name, prefix string) Option {
	return option(func(c *config) error {
		if name == "" {
			return errors.New("WithQueryString: empty name")
		}
		c.queryName, c.queryPrefix = name, prefix
		return nil
	})
}

// WithJSONKeys sets the JSON body keys of access and refresh tokens
// (JWT_JSON_KEY, JWT_REFRESH_JSON_KEY). Default: "access_token",
// "refresh_token".
func WithJSONKeys(access, refresh string) Option {
	return option(func(c *config) error {
		if access == "" || refresh == "" {
			return errors.New("WithJSONKeys: empty key")
		}
		c.jsonKey, c.refreshJSONKey = access, refresh
		return nil
	})
}

// WithMaxBodySize bounds the body the guards read (InJSONBody,
// CSRFConfig.CheckForm). Default: 1 MiB.
func WithMaxBodySize(n int64) Option {
	return option(func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("WithMaxBodySize(%d): must be positive", n)
		}
		c.maxBodySize = n
		return nil
	})
}
