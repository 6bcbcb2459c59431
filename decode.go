package ginjwt

import (
	"encoding/base64"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ginjwt/ginjwt/internal/jsonindex"
)

// DecodeToken verifies a token, but not its type or freshness, and returns
// it (flask's decode_token). The error is an *Error, as from a guard.
func (m *Manager) DecodeToken(raw string) (*Token, error) {
	tok, err := m.decode(raw)
	if err != nil {
		return nil, err
	}
	return tok, nil
}

// DecodeExpiredToken is DecodeToken with allow_expired=True: only a token's
// expiry is forgiven.
func (m *Manager) DecodeExpiredToken(raw string) (*Token, error) {
	tok, err := m.decodeExpired(raw)
	if err != nil {
		return nil, err
	}
	return tok, nil
}

func (m *Manager) decodeExpired(raw string) (*Token, *Error) {
	tok := new(Token)
	if e := m.decodeInto(tok, raw); e != nil && e.kind != ErrTokenExpired {
		return nil, e
	}
	return tok, nil
}

const (
	msgNotEnoughSegments = "Not enough segments"
	msgHeaderPadding     = "Invalid header padding"
	msgHeaderString      = "Invalid header string: must be a json object"
	msgPayloadPadding    = "Invalid payload padding"
	msgPayloadPrefix     = "Invalid payload string: "
	msgCryptoPadding     = "Invalid crypto padding"
	msgNoAlg             = "Algorithm not specified"
	msgAlgNotAllowed     = "The specified alg value is not allowed"
	msgBadSignature      = "Signature verification failed"
	msgExpired           = "Token has expired"
	msgCritical          = "Unsupported critical header parameters"
	msgUnencodedPayload  = `It is required that you pass in a value for the "detached_payload" argument to decode a message having the b64 header set to false.`
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
	if err := m.decodeInto(tok, raw); err != nil {
		return nil, err
	}
	return tok, nil
}

// decodeInto verifies raw in PyJWT's order (segments, header, payload and
// signature encoding, algorithm, signature, then the claims) so each
// failure gets flask's message. An expired token is returned inside the
// error. The header and payload are parsed once, into the indexes every
// later reader of the token uses.
func (m *Manager) decodeInto(tok *Token, raw string) *Error {
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
	var payload string
	if cached := m.lastHeader.Load(); cached != nil && cached.segment == h64 {
		tok.Header = cached.header
		pay, perr = decodeSegment(dec, input[len(h64)+1:len(signed)])
		payload = string(pay)
	} else {
		hdr, herr := decodeSegment(dec, input[:len(h64)])
		if herr != nil {
			return invalid(ErrTokenMalformed, msgHeaderPadding)
		}
		pay, perr = decodeSegment(dec[len(hdr):], input[len(h64)+1:len(signed)])
		// The signed JSON texts outlive the request: one allocation for both.
		texts := string(dec[:len(hdr)+len(pay)])
		payload = texts[len(hdr):]
		if e := parseHeader(&tok.Header, texts[:len(hdr)]); e != nil {
			return e
		}
		m.lastHeader.Store(&cachedHeader{segment: strings.Clone(h64), header: tok.Header})
		dec = dec[len(hdr):]
	}
	if perr != nil {
		return invalid(ErrTokenMalformed, msgPayloadPadding)
	}
	// Parsed now so that a decode key loader sees the claims; a payload
	// that is not a JSON object is reported after the signature, in
	// PyJWT's order, unless the loader needs it first.
	tok.Claims.doc.Parse(payload)
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

	if e := m.parseClaims(&tok.Claims); e != nil {
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

// parseHeader parses the JOSE header text into h, and checks it in
// PyJWT's order: "kid", "crit", "b64", then "alg". "crit" is refused:
// ginjwt understands no extension, and RFC 7515 §4.1.11 says to reject
// what it cannot honour. "b64": false (RFC 7797) signs the payload
// unencoded, so the same token would mean one thing here and another to a
// service that honours it: refused, as PyJWT does without a detached
// payload.
func parseHeader(h *Header, text string) *Error {
	h.raw = text
	var index jsonindex.Index
	doc := &index
	if !doc.Parse(text) || !isObject(doc) {
		return invalid(ErrTokenMalformed, jsonMessage("Invalid header string: ", doc))
	}
	// Every field is filled before any error: UnverifiedHeader reads a
	// header that verification would refuse.
	alg, algSeen := doc.Lookup("alg")
	var algOK, kidOK bool
	h.Alg, algOK = alg.String()
	typ, _ := doc.Lookup("typ")
	h.Typ, _ = typ.String()
	kid, hasKid := doc.Lookup("kid")
	h.Kid, kidOK = kid.String()
	_, crit := doc.Lookup("crit")
	b64, _ := doc.Lookup("b64")
	switch {
	case hasKid && !kidOK:
		return invalid(ErrTokenMalformed, "Key ID header parameter must be a string")
	case crit:
		return invalid(ErrTokenMalformed, msgCritical)
	case b64.Raw() == "false":
		return invalid(ErrTokenMalformed, msgUnencodedPayload)
	case !algSeen:
		return invalid(ErrAlgorithmNotAllowed, msgNoAlg)
	case !algOK:
		return invalid(ErrAlgorithmNotAllowed, msgAlgNotAllowed)
	}
	return nil
}

// jsonMessage is PyJWT's message for a header or payload text that is not
// a JSON object, naming what is wrong where Python would accept the text:
// a number beyond float range (Python reads infinity) or a string that is
// not valid Unicode (Python keeps lone surrogates, which would read here
// as U+FFFD: two identities flask tells apart would be one).
func jsonMessage(prefix string, doc *jsonindex.Index) string {
	switch doc.Err() {
	case jsonindex.ErrNumberRange:
		return prefix + "number out of range"
	case jsonindex.ErrUnicode:
		return prefix + "invalid UTF-8 or lone surrogate in a string"
	}
	return prefix + "must be a json object"
}

// isObject reports whether doc holds a JSON object, as a header and a
// payload must be.
func isObject(doc *jsonindex.Index) bool {
	root, ok := doc.Root()
	return ok && root.Kind() == jsonindex.Object
}

// claimSet holds the claims that need checking.
type claimSet struct {
	iat, nbf, exp, iss, aud, sub, jti, typ, fresh, csrf, identity jsonindex.Value
	sid, fam, authTime                                            jsonindex.Value
}

// parseClaims checks the parsed payload in PyJWT's order (iat, nbf, exp,
// iss, aud, sub, jti), then flask-jwt-extended's claims.
func (m *Manager) parseClaims(c *Claims) *Error {
	if !isObject(&c.doc) {
		return invalid(ErrTokenMalformed, jsonMessage(msgPayloadPrefix, &c.doc))
	}
	var cs claimSet
	idName := m.cfg.identityClaim
	// One walk over the members; the last of duplicates wins.
	root, _ := c.doc.Root()
	for key, value := range c.doc.Members(root) {
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
		case sessionClaim:
			cs.sid = value
		case legacyFamilyClaim:
			cs.fam = value
		case authTimeClaim:
			cs.authTime = value
		}
		if key == idName {
			cs.identity = value
		}
	}
	now := m.cfg.now()
	leeway := m.cfg.leeway
	var e *Error
	// The comparisons are golang-jwt's, on time.Time, so that even dates
	// near the ends of the int64 range compare as there.
	if c.iat, c.hasIat, e = numericDate(cs.iat, "Issued At claim (iat) must be an integer."); e != nil {
		return e
	}
	if c.hasIat && now.Before(time.Unix(c.iat, 0).Add(-leeway)) {
		return invalid(ErrTokenNotValidYet, "The token is not yet valid (iat)")
	}
	if c.nbf, c.hasNbf, e = numericDate(cs.nbf, "Not Before claim (nbf) must be an integer."); e != nil {
		return e
	}
	if c.hasNbf && now.Before(time.Unix(c.nbf, 0).Add(-leeway)) {
		return invalid(ErrTokenNotValidYet, "The token is not yet valid (nbf)")
	}
	if c.exp, c.hasExp, e = numericDate(cs.exp, "Expiration Time claim (exp) must be an integer."); e != nil {
		return e
	}
	// Unlike golang-jwt's MapClaims, an "exp" of 0 is a date (long past),
	// not an absent claim: PyJWT and flask-jwt-extended reject it too.
	// An expired token is still checked to the end, as flask decodes it a
	// second time with expiry ignored: any other defect is reported first,
	// and only a token that is otherwise valid gets "Token has expired".
	expired := c.hasExp && !now.Before(time.Unix(c.exp, 0).Add(leeway))
	if e = m.checkIssuer(cs.iss); e != nil {
		return e
	}
	if e = m.checkAudience(&c.doc, cs.aud); e != nil {
		return e
	}
	if cs.sub.Exists() && m.cfg.verifySub {
		if _, isStr := cs.sub.String(); !isStr {
			return invalid(ErrInvalidClaims, "Subject must be a string")
		}
	}
	if cs.jti.Exists() {
		var isStr bool
		if c.JTI, isStr = cs.jti.String(); !isStr {
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
	if !cs.identity.Exists() {
		return invalid(ErrInvalidClaims, "Missing claim: "+m.cfg.identityClaim)
	}
	if s, isStr := cs.identity.String(); isStr {
		// flask accepts an empty identity; an identity that names nobody is
		// refused here so no handler ever runs for it.
		if s == "" {
			return invalid(ErrInvalidClaims, "Invalid claim: "+m.cfg.identityClaim+" must not be empty")
		}
		c.Identity = s
	} else {
		// null names nobody either; as text it would read "null", a
		// user name a handler could take at its word.
		if cs.identity.Kind() == jsonindex.Null {
			return invalid(ErrInvalidClaims, "Invalid claim: "+m.cfg.identityClaim+" must not be null")
		}
		c.Identity = cs.identity.Raw()
	}
	c.identityRaw = cs.identity.Raw()
	c.Type = TypeAccess
	if cs.typ.Exists() {
		s, isStr := cs.typ.String()
		if !isStr {
			return invalid(ErrInvalidClaims, "Invalid claim: type must be a string")
		}
		c.Type = s
	}
	if cs.csrf.Exists() {
		s, isStr := cs.csrf.String()
		if !isStr {
			return invalid(ErrInvalidClaims, "Invalid claim: csrf must be a string")
		}
		c.CSRF = s
	}
	// The session claims are ginjwt's own, so values of another type
	// (another issuer's claims of the same name) are not ours: ignored.
	if c.sid, c.hasSid = cs.sid.String(); !c.hasSid {
		c.sid, _ = cs.fam.String()
	}
	if t, ok, e := numericDate(cs.authTime, ""); e == nil && ok {
		c.authTime, c.hasAuthTime = t, true
	}
	switch cs.fresh.Raw() {
	case "", "false":
	case "true":
		c.fresh = true
	default:
		f, isNum := cs.fresh.Float()
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
func numericDate(v jsonindex.Value, msg string) (sec int64, present bool, e *Error) {
	if !v.Exists() {
		return 0, false, nil
	}
	f, ok := v.Float()
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
func (m *Manager) checkIssuer(v jsonindex.Value) *Error {
	if len(m.cfg.decodeIssuers) == 0 {
		return nil
	}
	if !v.Exists() {
		return invalid(ErrInvalidClaims, `Token is missing the "iss" claim`)
	}
	iss, isStr := v.String()
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
func (m *Manager) checkAudience(doc *jsonindex.Index, v jsonindex.Value) *Error {
	if len(m.cfg.decodeAudience) == 0 {
		return nil
	}
	if !pythonTruthy(v) {
		return invalid(ErrInvalidClaims, `Token is missing the "aud" claim`)
	}
	aud, ok := audienceValue(doc, v)
	if !ok {
		return invalid(ErrInvalidClaims, "Invalid claim format in token")
	}
	for _, a := range aud {
		if slices.Contains(m.cfg.decodeAudience, a) {
			return nil
		}
	}
	return invalid(ErrInvalidClaims, "Audience doesn't match")
}

// audienceValue reads "aud": a string or an array of strings.
func audienceValue(doc *jsonindex.Index, v jsonindex.Value) ([]string, bool) {
	if s, ok := v.String(); ok {
		return []string{s}, true
	}
	if v.Kind() != jsonindex.Array {
		return nil, false
	}
	var out []string
	for e := range doc.Elements(v) {
		s, isStr := e.String()
		out = append(out, s)
		if !isStr {
			return out, false
		}
	}
	return out, true
}
