package ginjwt

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Header is a token's JOSE header (flask-jwt-extended's get_jwt_header).
type Header struct {
	// Alg is checked against the allow-list; Typ (usually "JWT") and Kid
	// are empty when absent.
	Alg, Typ, Kid string

	// raw is the signed JSON text. Its parse is read into the fields
	// and not kept: nothing reads the header again.
	raw string
}

// JSON returns the header as the JSON text that was signed.
func (h Header) JSON() string { return h.raw }

// Map decodes every header parameter, including those with no field here.
func (h Header) Map() (map[string]any, error) {
	m := map[string]any{}
	if h.raw == "" {
		return m, nil
	}
	return m, json.Unmarshal([]byte(h.raw), &m)
}

// maxUnverifiedHeader bounds the header segment UnverifiedHeader decodes;
// it has no Manager, and so no WithMaxTokenSize.
const maxUnverifiedHeader = 8 << 10

// UnverifiedHeader returns the JOSE header of a token without verifying
// anything (flask's get_unverified_jwt_headers), to pick a key or tenant.
// Nothing in it can be trusted, Alg included.
func UnverifiedHeader(raw string) (Header, error) {
	h64, _, ok := strings.Cut(raw, ".")
	if !ok {
		return Header{}, invalid(ErrTokenMalformed, msgNotEnoughSegments)
	}
	if len(h64) > maxUnverifiedHeader {
		return Header{}, invalid(ErrTokenMalformed, "Token is too large")
	}
	dec, err := base64.RawURLEncoding.DecodeString(h64)
	if err != nil {
		return Header{}, invalid(ErrTokenMalformed, msgHeaderPadding)
	}
	var h Header
	// As PyJWT's get_unverified_header: the header must be an object with
	// a string "kid", if any. A missing or unknown "alg", "crit" and
	// "b64" are for verification to refuse, not for reading.
	if e := parseHeader(&h, string(dec)); e != nil && e.kind != ErrAlgorithmNotAllowed && e.Message != msgCritical && e.Message != msgUnencodedPayload {
		return Header{}, e
	}
	params, err := h.Map()
	if err != nil {
		return Header{}, invalid(ErrTokenMalformed, msgHeaderString)
	}
	if kid, ok := params["kid"]; ok {
		if _, isStr := kid.(string); !isStr {
			return Header{}, invalid(ErrTokenMalformed, "Key ID header parameter must be a string")
		}
	}
	return h, nil
}
