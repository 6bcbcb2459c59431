package ginjwt

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/ginjwt/ginjwt/internal/jsonindex"
)

// Token is a verified JWT: what a guard stores in the gin.Context and what
// DecodeToken returns.
type Token struct {
	// Raw is the encoded token as it was received.
	Raw string
	// Header is the JOSE header.
	Header Header
	// Claims is the payload.
	Claims Claims
}

// Token types, the values of the "type" claim.
const (
	TypeAccess  = "access"
	TypeRefresh = "refresh"
)

// Claims is a token's payload. The fields hold the claims flask-jwt-extended
// writes, with its defaults filled in for tokens from other issuers: Type is
// "access" and Fresh is false when the claim is absent. The registered
// claims have methods; every other claim is reachable through Get, Decode
// and Map.
type Claims struct {
	// Identity is the identity claim ("sub" unless
	// ClaimsConfig.IdentityClaim says otherwise): its string value, or the JSON text of a non-string value,
	// which only tokens from other issuers have.
	Identity string
	// Type is "access" or "refresh".
	Type string
	// JTI is the token's unique ID; empty when absent.
	JTI string
	// CSRF is the double-submit value of cookie tokens; empty when absent.
	CSRF string

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

// FreshUntil returns the end of a time-limited freshness (flask writes it
// as a timestamp in the "fresh" claim), or the zero time.
func (c *Claims) FreshUntil() time.Time {
	if !c.hasFU {
		return time.Time{}
	}
	return time.UnixMicro(c.freshUntil)
}

// IsFresh reports whether the token counts as fresh at now, flask's rule:
// "fresh" is true, or a timestamp that is not in the past.
func (c *Claims) IsFresh(now time.Time) bool {
	return c.fresh || (c.hasFU && !now.After(time.UnixMicro(c.freshUntil)))
}

// Issuer returns the "iss" claim, or "" when absent or not a string.
func (c *Claims) Issuer() string {
	v, _ := c.lookup("iss")
	iss, _ := v.String()
	return iss
}

// Audience returns the "aud" claim as a list (a single string becomes a
// list of one), or nil when absent or malformed.
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

// IdentityJSON returns the identity claim as the JSON text the token holds,
// keeping its JSON type: "alice" (quoted) for a string, 42 for a number.
// It is what flask's get_jwt_identity() returns, where Identity is always a
// Go string. It is nil for the zero Claims; a nil json.RawMessage encodes as
// null, as flask's None does.
func (c *Claims) IdentityJSON() json.RawMessage {
	if c.identityRaw == "" {
		return nil
	}
	return json.RawMessage(c.identityRaw)
}

// Get returns the value of one claim as Python's json module reads it,
// which is what flask's get_jwt() gives: strings, bool, nil, []any,
// map[string]any, and numbers that stay exact: an integer is an int64
// (json.Number beyond the int64 range, digit for digit), any other number
// a float64. A 64-bit ID such as 12345678901234567 would not survive a
// float64, as encoding/json would decode it.
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

// Decode unmarshals the payload into v, typically the application's own
// claims struct:
//
//	var claims struct {
//		Sub   string   `json:"sub"`
//		Roles []string `json:"roles"`
//	}
//	err := ginjwt.CurrentClaims(c).Decode(&claims)
//
// It decodes the verified JSON; nothing is parsed or verified again. The
// zero Claims (no token) gives ErrNoTokenInContext.
func (c *Claims) Decode(v any) error {
	if c.doc.Text() == "" {
		return ErrNoTokenInContext
	}
	return json.Unmarshal([]byte(c.doc.Text()), v)
}

// Map returns every claim, as flask's get_jwt() does, with its defaults for
// absent "type" ("access"), "fresh" (false) and "jti" (nil). Numbers are
// read as Get reads them, so integers stay exact as Python's do, and
// c.JSON(200, claims) writes them back digit for digit. The zero Claims
// (no token) gives an empty map.
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
