package ginjwt

import (
	"encoding/base64"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// DecodeToken verifies an encoded token and returns it, as flask's
// decode_token: signature, algorithm, "exp", "nbf", "iat", the configured
// issuer and audience, and the claim types. It does not check the token
// type or freshness. The error is an *Error, as from a guard.
func (m *Manager) DecodeToken(raw string) (*Token, error) {
	tok, err := m.decode(raw)
	if err != nil {
		return nil, err
	}
	return tok, nil
}

// DecodeExpiredToken is DecodeToken with allow_expired=True: an expired but
// otherwise valid token is returned without error; an expired token with
// another defect gets that defect's error, as from DecodeToken.
func (m *Manager) DecodeExpiredToken(raw string) (*Token, error) {
	tok, err := m.decode(raw)
	if err != nil {
		if err.kind == ErrTokenExpired {
			return err.Token, nil
		}
		return nil, err
	}
	return tok, nil
}

const (
	msgNotEnoughSegments = "Not enough segments"
	msgHeaderPadding     = "Invalid header padding"
	msgHeaderString      = "Invalid header string: must be a json object"
	msgPayloadPadding    = "Invalid payload padding"
	msgPayloadString     = "Invalid payload string: must be a json object"
	msgCryptoPadding     = "Invalid crypto padding"
	msgNoAlg             = "Algorithm not specified"
	msgAlgNotAllowed     = "The specified alg value is not allowed"
	msgBadSignature      = "Signature verification failed"
	msgExpired           = "Token has expired"
	msgCritical          = "Unsupported critical header parameters"
)

// cachedHeader is the last header segment that parsed, with its parse.
type cachedHeader struct {
	segment string
	header  Header
}

// The decoding scratch buffer is kept when it is no larger than this.
const maxPooledScratch = 64 << 10

// decode verifies raw into a new Token.
func (m *Manager) decode(raw string) (*Token, *Error) {
	tok := new(Token)
	if err := m.decodeInto(tok, raw, nil, nil); err != nil {
		return nil, err
	}
	return tok, nil
}

// decodeInto verifies raw in PyJWT's order (segments, header, payload and
// signature encoding, algorithm, signature, then the claims) so each
// failure gets flask's message. An expired token is returned inside the
// error. The raw values of the claims named in want are stored in got as
// the payload is read, so a guard's requirements need not scan it again.
func (m *Manager) decodeInto(tok *Token, raw string, want, got []string) *Error {
	if len(raw) > m.cfg.maxTokenSize {
		return invalid(ErrTokenMalformed, "Token is too large")
	}
	h64, rest, ok1 := strings.Cut(raw, ".")
	p64, s64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 {
		return invalid(ErrTokenMalformed, msgNotEnoughSegments)
	}
	if strings.IndexByte(s64, '.') >= 0 {
		return invalid(ErrTokenMalformed, "Too many segments")
	}
	// Base64 decoders skip CR and LF, so "sig\nnature" would verify as the
	// signed token it is not. In the signed part a newline changes what is
	// signed, and the signature check refuses it.
	if strings.IndexByte(s64, '\n') >= 0 || strings.IndexByte(s64, '\r') >= 0 {
		return invalid(ErrTokenMalformed, msgCryptoPadding)
	}

	// One scratch buffer holds a copy of the token (the HMAC input), the
	// decoded header and payload side by side, the signature and the MAC.
	bufp := m.getScratch(2*len(raw) + 64)
	defer m.putScratch(bufp)
	buf := *bufp
	input := append(buf[:0], raw...)
	signed := input[:len(h64)+1+len(p64)]
	dec := input[len(input):cap(input)]
	tok.Raw = raw

	// Most tokens of a service share one header: its parse is reused.
	var pay []byte
	var perr error
	if cached := m.lastHeader.Load(); cached != nil && cached.segment == h64 {
		tok.Header = cached.header
		pay, perr = decodeSegment(dec, input[len(h64)+1:len(signed)])
		tok.Claims.raw = string(pay)
	} else {
		hdr, herr := decodeSegment(dec, input[:len(h64)])
		if herr != nil {
			return invalid(ErrTokenMalformed, msgHeaderPadding)
		}
		pay, perr = decodeSegment(dec[len(hdr):], input[len(h64)+1:len(signed)])
		// The signed JSON texts outlive the request: one allocation for both.
		texts := string(dec[:len(hdr)+len(pay)])
		tok.Header.raw = texts[:len(hdr)]
		tok.Claims.raw = texts[len(hdr):]
		if e := parseHeader(&tok.Header); e != nil {
			return e
		}
		m.lastHeader.Store(&cachedHeader{segment: strings.Clone(h64), header: tok.Header})
		dec = dec[len(hdr):]
	}
	if perr != nil {
		return invalid(ErrTokenMalformed, msgPayloadPadding)
	}
	rest2 := dec[len(pay):]
	sig, serr := decodeSegment(rest2, input[len(signed)+1:])
	if serr != nil {
		return invalid(ErrTokenMalformed, msgCryptoPadding)
	}

	v, e := m.verifierFor(tok)
	if e != nil {
		return e
	}
	if !m.checkSignature(v, raw, signed, sig, rest2[len(sig):]) {
		return invalid(ErrSignatureInvalid, msgBadSignature)
	}

	if e := m.parseClaims(&tok.Claims, want, got); e != nil {
		if e.kind == ErrTokenExpired {
			e.Token = tok
		}
		return e
	}
	return nil
}

func (m *Manager) getScratch(n int) *[]byte {
	if p, ok := m.scratch.Get().(*[]byte); ok {
		if cap(*p) >= n {
			return p
		}
	}
	b := make([]byte, 0, max(n, 1024))
	return &b
}

func (m *Manager) putScratch(p *[]byte) {
	if cap(*p) <= maxPooledScratch {
		m.scratch.Put(p)
	}
}

// decodeSegment base64url-decodes src into dst's spare room, as golang-jwt's
// default decoder does (no padding).
func decodeSegment(dst, src []byte) ([]byte, error) {
	enc := base64.RawURLEncoding
	n, err := enc.Decode(dst[:enc.DecodedLen(len(src))], src)
	return dst[:n], err
}

// parseHeader reads the JOSE header. "crit" is refused: ginjwt understands
// no extension, and RFC 7515 §4.1.11 says to reject what it cannot honour.
func parseHeader(h *Header) *Error {
	var algSeen, algOK, kidBad, crit bool
	ok := eachMember(h.raw, func(key string, value rawValue) bool {
		switch key {
		case "alg":
			algSeen = true
			h.Alg, algOK = value.str()
		case "typ":
			h.Typ, _ = value.str()
		case "kid":
			h.Kid, kidBad = "", false
			if s, isStr := value.str(); isStr {
				h.Kid = s
			} else {
				kidBad = true
			}
		case "crit":
			crit = true
		}
		return true
	})
	switch {
	case !ok:
		return invalid(ErrTokenMalformed, msgHeaderString)
	case !algSeen:
		return invalid(ErrAlgorithmNotAllowed, msgNoAlg)
	case !algOK:
		return invalid(ErrAlgorithmNotAllowed, msgAlgNotAllowed)
	case kidBad:
		return invalid(ErrTokenMalformed, "Key ID header parameter must be a string")
	case crit:
		return invalid(ErrTokenMalformed, msgCritical)
	}
	return nil
}

// claimSet remembers the raw text of the claims that need checking.
type claimSet struct {
	iat, nbf, exp, iss, aud, sub, jti, typ, fresh, csrf, identity rawValue
	hasIdentity                                                   bool
}

// parseClaims reads the payload and checks it in PyJWT's order (iat, nbf,
// exp, iss, aud, sub, jti), then flask-jwt-extended's claims.
func (m *Manager) parseClaims(c *Claims, want, got []string) *Error {
	var cs claimSet
	idName := m.cfg.identityClaim
	ok := eachMember(c.raw, func(key string, value rawValue) bool {
		switch key {
		case "iat":
			cs.iat = value
		case "nbf":
			cs.nbf = value
		case "exp":
			cs.exp = value
		case "iss":
			cs.iss = value
		case "aud":
			cs.aud = value
		case "sub":
			cs.sub = value
		case "jti":
			cs.jti = value
		case "type":
			cs.typ = value
		case "fresh":
			cs.fresh = value
		case "csrf":
			cs.csrf = value
		}
		if key == idName {
			cs.identity, cs.hasIdentity = value, true
		}
		for i, w := range want {
			if key == w {
				got[i] = value.raw
			}
		}
		return true
	})
	if !ok {
		return invalid(ErrTokenMalformed, msgPayloadString)
	}
	now := m.cfg.now()
	leeway := m.cfg.leeway
	var e *Error
	// The comparisons are golang-jwt's, on time.Time, so that even dates
	// near the ends of the int64 range compare as there.
	if c.iat, c.hasIat, e = numericDate(cs.iat.raw, "Issued At claim (iat) must be an integer."); e != nil {
		return e
	}
	if c.hasIat && now.Before(time.Unix(c.iat, 0).Add(-leeway)) {
		return invalid(ErrTokenNotValidYet, "The token is not yet valid (iat)")
	}
	if c.nbf, c.hasNbf, e = numericDate(cs.nbf.raw, "Not Before claim (nbf) must be an integer."); e != nil {
		return e
	}
	if c.hasNbf && now.Before(time.Unix(c.nbf, 0).Add(-leeway)) {
		return invalid(ErrTokenNotValidYet, "The token is not yet valid (nbf)")
	}
	if c.exp, c.hasExp, e = numericDate(cs.exp.raw, "Expiration Time claim (exp) must be an integer."); e != nil {
		return e
	}
	// Unlike golang-jwt's MapClaims, an "exp" of 0 is a date (long past),
	// not an absent claim: PyJWT and flask-jwt-extended reject it too.
	// An expired token is still checked to the end, as flask decodes it a
	// second time with expiry ignored: any other defect is reported first,
	// and only a token that is otherwise valid gets "Token has expired".
	expired := c.hasExp && !now.Before(time.Unix(c.exp, 0).Add(leeway))
	if e = m.checkIssuer(cs.iss.raw); e != nil {
		return e
	}
	if e = m.checkAudience(cs.aud.raw); e != nil {
		return e
	}
	if cs.sub.raw != "" && m.cfg.verifySub {
		if _, isStr := cs.sub.str(); !isStr {
			return invalid(ErrInvalidClaims, "Subject must be a string")
		}
	}
	if cs.jti.raw != "" {
		var isStr bool
		if c.JTI, isStr = cs.jti.str(); !isStr {
			return invalid(ErrInvalidClaims, "JWT ID must be a string")
		}
	}
	if e = m.fillFlaskClaims(c, &cs); e != nil {
		return e
	}
	if expired {
		return newError(ErrTokenExpired, http.StatusUnauthorized, msgExpired)
	}
	return nil
}

// fillFlaskClaims reads the identity, type, fresh and csrf claims.
func (m *Manager) fillFlaskClaims(c *Claims, cs *claimSet) *Error {
	if !cs.hasIdentity {
		return invalid(ErrInvalidClaims, "Missing claim: "+m.cfg.identityClaim)
	}
	if s, isStr := cs.identity.str(); isStr {
		// flask accepts an empty identity; an identity that names nobody is
		// refused here so no handler ever runs for it.
		if s == "" {
			return invalid(ErrInvalidClaims, "Invalid claim: "+m.cfg.identityClaim+" must not be empty")
		}
		c.Identity = s
	} else {
		// null names nobody either; as text it would read "null", a
		// user name a handler could take at its word.
		if cs.identity.raw == "null" {
			return invalid(ErrInvalidClaims, "Invalid claim: "+m.cfg.identityClaim+" must not be null")
		}
		c.Identity = cs.identity.raw
	}
	c.identityRaw = cs.identity.raw
	c.Type = TypeAccess
	if cs.typ.raw != "" {
		s, isStr := cs.typ.str()
		if !isStr {
			return invalid(ErrInvalidClaims, "Invalid claim: type must be a string")
		}
		c.Type = s
	}
	if cs.csrf.raw != "" {
		s, isStr := cs.csrf.str()
		if !isStr {
			return invalid(ErrInvalidClaims, "Invalid claim: csrf must be a string")
		}
		c.CSRF = s
	}
	switch cs.fresh.raw {
	case "", "false":
	case "true":
		c.Fresh = true
	default:
		f, isNum := numberValue(cs.fresh.raw)
		// Microseconds, as flask writes them, must fit an int64.
		if !isNum || !(f > -maxFreshSeconds && f < maxFreshSeconds) {
			return invalid(ErrInvalidClaims, "Invalid claim: fresh must be a boolean or a timestamp")
		}
		c.freshUntil, c.hasFU = int64(math.Round(f*1e6)), true
	}
	return nil
}

// numericDate reads an "iat", "nbf" or "exp" value as golang-jwt does:
// seconds, rounded down. Values beyond int64 seconds are refused:
// golang-jwt's conversion of them depends on the CPU.
func numericDate(raw, msg string) (sec int64, present bool, e *Error) {
	if raw == "" {
		return 0, false, nil
	}
	f, ok := numberValue(raw)
	if !ok || !inUnixRange(f) {
		return 0, false, invalid(ErrInvalidClaims, msg)
	}
	return int64(math.Floor(f)), true, nil
}

func inUnixRange(f float64) bool {
	return f > -(1<<63) && f < 1<<63
}

// maxFreshSeconds bounds a timestamp "fresh" (about 285,000 years either
// way) so that its microseconds fit an int64.
const maxFreshSeconds = 9e12

// checkIssuer is PyJWT's _validate_iss, with its messages.
func (m *Manager) checkIssuer(raw string) *Error {
	if len(m.cfg.decodeIssuers) == 0 {
		return nil
	}
	if raw == "" {
		return invalid(ErrInvalidClaims, `Token is missing the "iss" claim`)
	}
	iss, isStr := stringValue(raw)
	switch {
	case !isStr:
		return invalid(ErrInvalidClaims, "Payload Issuer (iss) must be a string")
	case !slices.Contains(m.cfg.decodeIssuers, iss):
		return invalid(ErrInvalidClaims, "Invalid issuer")
	}
	return nil
}

// checkAudience is PyJWT's _validate_aud, with its messages: a claim that
// is absent or false in Python ("", [], {}, 0, null, false) is missing; a
// string or a list of strings must share one value with the configured
// audience.
func (m *Manager) checkAudience(raw string) *Error {
	if len(m.cfg.decodeAudience) == 0 {
		return nil
	}
	if !jsonTruthy(raw) {
		return invalid(ErrInvalidClaims, `Token is missing the "aud" claim`)
	}
	var aud []string
	if s, isStr := stringValue(raw); isStr {
		aud = []string{s}
	} else if raw[0] != '[' {
		return invalid(ErrInvalidClaims, "Invalid claim format in token")
	} else if aud, isStr = audienceValue(raw); !isStr {
		return invalid(ErrInvalidClaims, "Invalid claim format in token")
	}
	for _, a := range aud {
		if slices.Contains(m.cfg.decodeAudience, a) {
			return nil
		}
	}
	return invalid(ErrInvalidClaims, "Audience doesn't match")
}

// jsonTruthy reports whether a JSON value (raw text, "" when absent) is
// true in Python.
func jsonTruthy(raw string) bool {
	if raw == "" {
		return false
	}
	if s, isStr := stringValue(raw); isStr {
		return s != ""
	}
	return pythonTruthy(raw)
}

// audienceValue reads "aud": a string or an array of strings.
func audienceValue(raw string) ([]string, bool) {
	if s, ok := stringValue(raw); ok {
		return []string{s}, true
	}
	var out []string
	ok := eachElement(raw, func(value string) bool {
		s, isStr := stringValue(value)
		out = append(out, s)
		return isStr
	})
	return out, ok
}
