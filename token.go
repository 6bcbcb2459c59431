package ginjwt

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/ginjwt/ginjwt/internal/jsonindex"
)

// Token is a verified JWT, as received (Raw) and decoded.
type Token struct {
	Raw    string
	Header Header
	Claims Claims
}

// Token types, the values of the "type" claim.
const (
	TypeAccess  = "access"
	TypeRefresh = "refresh"
)

// Claims is a token's payload: flask's claims as fields (Type "access"
// when absent), the registered ones as methods, any claim through Get,
// Decode and Map.
type Claims struct {
	// Identity is the identity claim's string, or the JSON text of a
	// non-string one (other issuers' tokens).
	Identity string
	Type     string // TypeAccess or TypeRefresh
	// JTI (the token's ID) and CSRF (the double-submit value of cookie
	// tokens) are empty when absent.
	JTI, CSRF string

	// Unix seconds of "exp", "nbf", "iat", and the microseconds of a
	// timestamp "fresh": kept as numbers, the state every request
	// allocates stays small.
	exp, nbf, iat, freshUntil     int64
	hasExp, hasNbf, hasIat, hasFU bool
	fresh                         bool // "fresh": true
	// The login: "sid" (or "fam", its name before sessions) and
	// "auth_time"; hasSid is for a "sid" claim proper.
	sid         string
	hasSid      bool
	authTime    int64
	hasAuthTime bool

	// doc is the signed JSON text, parsed once: every claim is read
	// from it.
	doc         jsonindex.Index
	identityRaw string // the identity claim's JSON text, inside doc
}

func unixOrZero(sec int64, ok bool) time.Time {
	if !ok {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

// ExpiresAt returns the "exp" claim, or the zero time when absent.
func (c *Claims) ExpiresAt() time.Time { return unixOrZero(c.exp, c.hasExp) }

// NotBefore returns the "nbf" claim, or the zero time when absent.
func (c *Claims) NotBefore() time.Time { return unixOrZero(c.nbf, c.hasNbf) }

// IssuedAt returns the "iat" claim, or the zero time when absent.
func (c *Claims) IssuedAt() time.Time { return unixOrZero(c.iat, c.hasIat) }

// FreshUntil returns the end of a time-limited freshness (a timestamp
// "fresh" claim), or the zero time.
func (c *Claims) FreshUntil() time.Time {
	if !c.hasFU {
		return time.Time{}
	}
	return time.UnixMicro(c.freshUntil)
}

// IsFresh reports whether the token is fresh at now: "fresh" is true, or a
// timestamp not past.
func (c *Claims) IsFresh(now time.Time) bool {
	return c.fresh || (c.hasFU && !now.After(time.UnixMicro(c.freshUntil)))
}

// Issuer returns the "iss" claim, or "" when absent or not a string.
func (c *Claims) Issuer() string {
	v, _ := c.lookup("iss")
	iss, _ := v.String()
	return iss
}

// Audience returns the "aud" claim as a list, or nil when absent or
// malformed.
func (c *Claims) Audience() []string {
	v, ok := c.lookup("aud")
	if !ok {
		return nil
	}
	aud, _ := audienceValue(&c.doc, v)
	return aud
}

// JSON returns the payload as the JSON text that was signed.
func (c *Claims) JSON() string { return c.doc.Text() }

// IdentityJSON returns the identity claim's JSON text, "alice" (quoted) or
// 42, as flask's get_jwt_identity() types it; nil (JSON null) for the zero
// Claims.
func (c *Claims) IdentityJSON() json.RawMessage {
	if c.identityRaw == "" {
		return nil
	}
	return json.RawMessage(c.identityRaw)
}

// Get returns one claim as flask's get_jwt() reads it: strings, bool, nil,
// []any, map[string]any, an integer as an int64 (json.Number beyond it,
// exact) and other numbers as float64.
func (c *Claims) Get(name string) (any, bool) {
	raw, ok := c.lookup(name)
	if !ok {
		return nil, false
	}
	v, err := decodePythonic(raw.Raw())
	if err != nil {
		return nil, false
	}
	return v, true
}

// decodePythonic decodes JSON text with Python's number types (see Get).
func decodePythonic(text string) (any, error) {
	v, err := decodeExact([]byte(text))
	if err != nil {
		return nil, err
	}
	return pythonNumbers(v)
}

// pythonNumbers turns the json.Numbers of a decoded value into int64 for
// integer literals (left as json.Number beyond int64) and float64 for the
// others, as Python's int and float.
func pythonNumbers(v any) (any, error) {
	switch v := v.(type) {
	case json.Number:
		if !strings.ContainsAny(v.String(), ".eE") {
			if i, err := v.Int64(); err == nil {
				return i, nil
			}
			return v, nil
		}
		return v.Float64() // out of range fails, as with encoding/json
	case map[string]any:
		for k, e := range v {
			e, err := pythonNumbers(e)
			if err != nil {
				return nil, err
			}
			v[k] = e
		}
	case []any:
		for i, e := range v {
			e, err := pythonNumbers(e)
			if err != nil {
				return nil, err
			}
			v[i] = e
		}
	}
	return v, nil
}

// lookup returns one claim (the last one, if the name repeats, as
// encoding/json decides).
func (c *Claims) lookup(name string) (jsonindex.Value, bool) {
	return c.doc.Lookup(name)
}

// Decode unmarshals the payload into v, typically the application's claims
// struct. The zero Claims (no token) gives ErrNoTokenInContext.
func (c *Claims) Decode(v any) error {
	if c.doc.Text() == "" {
		return ErrNoTokenInContext
	}
	return json.Unmarshal([]byte(c.doc.Text()), v)
}

// Map returns every claim as flask's get_jwt() does, read as Get reads them,
// with its defaults for absent "type", "fresh" and "jti"; the zero Claims
// gives an empty map.
func (c *Claims) Map() (map[string]any, error) {
	if c.doc.Text() == "" {
		return map[string]any{}, nil
	}
	all, err := decodePythonic(c.doc.Text())
	if err != nil {
		return nil, err
	}
	m, ok := all.(map[string]any)
	if !ok {
		return nil, errors.New("ginjwt: the payload is not a JSON object")
	}
	for k, v := range map[string]any{"type": TypeAccess, "fresh": false, "jti": nil} {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return m, nil
}
