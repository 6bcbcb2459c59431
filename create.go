package ginjwt

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TokenOption configures one token's creation, as the keyword arguments
// of flask's create_access_token do.
type TokenOption interface{ applyToken(o *tokenOptions) }

// tokenOption is a TokenOption of a function.
type tokenOption func(*tokenOptions)

func (f tokenOption) applyToken(o *tokenOptions) { f(o) }

type tokenOptions struct {
	fresh      bool
	freshFor   time.Duration
	expires    time.Duration
	expiresSet bool
	noExpiry   bool
	claims     map[string]any
	headers    map[string]any
	// session is the login the token belongs to ("": a new one) and
	// start its login time, when the login is bounded (see sessionStart).
	session  string
	start    int64
	hasStart bool
	// A renewal (refresh, rotation, implicit refresh) starts from the
	// custom claims of the token it renews.
	renewal bool
	carried map[string]any
	// minted, when set, receives the new token and what it says.
	minted *minted
}

// minted is what a login or a renewal records of a token it creates.
type minted struct {
	token    string
	jti      string
	identity string
	issued   time.Time // "iat"
	expires  time.Time // zero: never
}

// record returns a TokenOption that fills n when the token is created.
func (n *minted) record() TokenOption {
	return tokenOption(func(o *tokenOptions) { o.minted = n })
}

// Fresh marks an access token fresh for its whole life (fresh=True): only
// right after the user gave their password.
func Fresh() TokenOption {
	return tokenOption(func(o *tokenOptions) { o.fresh = true })
}

// FreshFor marks an access token fresh for d from now
// (fresh=timedelta(...)).
func FreshFor(d time.Duration) TokenOption {
	return tokenOption(func(o *tokenOptions) { o.freshFor = d })
}

// ExpiresIn sets this token's lifetime (expires_delta); NeverExpires
// (expires_delta=False) starts a login without an end. A negative d makes
// an expired token, for tests. Unlike flask, 0 does not mean never.
func ExpiresIn(d time.Duration) TokenOption {
	if d == NeverExpires {
		return tokenOption(func(o *tokenOptions) { o.noExpiry, o.expiresSet = true, false })
	}
	return tokenOption(func(o *tokenOptions) { o.expires, o.expiresSet, o.noExpiry = d, true, false })
}

// AdditionalClaims adds claims to this token (additional_claims), over the
// loader's; as in flask, they may replace the standard ones.
func AdditionalClaims(claims map[string]any) TokenOption {
	return tokenOption(func(o *tokenOptions) { o.claims = claims })
}

// AdditionalHeaders adds JOSE header parameters to this token
// (additional_headers), over the loader's; "alg" cannot be set.
func AdditionalHeaders(headers map[string]any) TokenOption {
	return tokenOption(func(o *tokenOptions) { o.headers = headers })
}

// CreateAccessToken returns a signed access token for identity (flask's
// create_access_token); see WithUserIdentityLoader.
func (m *Manager) CreateAccessToken(identity any, opts ...TokenOption) (string, error) {
	return m.createToken(TypeAccess, identity, opts)
}

// CreateRefreshToken returns a signed refresh token for identity
// (flask's create_refresh_token). Refresh tokens are never fresh.
func (m *Manager) CreateRefreshToken(identity any, opts ...TokenOption) (string, error) {
	return m.createToken(TypeRefresh, identity, opts)
}

// member is one claim or header parameter, its value already JSON.
type member struct {
	key   string
	value []byte
}

func (m *Manager) createToken(typ string, identity any, opts []TokenOption) (string, error) {
	kid, key, err := m.signingKey(identity)
	if err != nil {
		return "", err
	}
	var o tokenOptions
	for _, opt := range opts {
		if opt != nil {
			opt.applyToken(&o)
		}
	}
	if typ == TypeRefresh && (o.fresh || o.freshFor != 0) {
		return "", errors.New("ginjwt: refresh tokens cannot be fresh")
	}
	id, err := m.identityString(identity)
	if err != nil {
		return "", err
	}

	now := m.cfg.now()
	exp, err := m.expiry(typ, now, &o)
	if err != nil {
		return "", err
	}
	if o.session == "" {
		o.session = newUUIDv7(now)
	}
	iat := strconv.AppendInt(nil, now.Unix(), 10)
	claims := make([]member, 0, 14)
	claims = append(claims,
		member{"fresh", freshJSON(now, &o)},
		member{"iat", iat},
		member{"jti", quoted(newUUIDv7(now))},
		member{"type", []byte(`"` + typ + `"`)},
		member{m.cfg.identityClaim, mustJSON(id)},
	)
	if m.cfg.encodeNBF {
		claims = append(claims, member{"nbf", iat})
	}
	if m.cfg.csrfProtect {
		claims = append(claims, member{"csrf", quotedUUID()})
	}
	switch len(m.cfg.encodeAudience) {
	case 0:
	case 1:
		claims = append(claims, member{"aud", mustJSON(m.cfg.encodeAudience[0])})
	default:
		claims = append(claims, member{"aud", mustJSON(m.cfg.encodeAudience)})
	}
	if m.cfg.encodeIssuer != "" {
		claims = append(claims, member{"iss", mustJSON(m.cfg.encodeIssuer)})
	}
	if exp != nil {
		claims = append(claims, member{"exp", strconv.AppendInt(nil, *exp, 10)})
	}
	// The session claims follow flask's, in name order as additional
	// claims would be.
	if o.hasStart {
		claims = append(claims, member{authTimeClaim, strconv.AppendInt(nil, o.start, 10)})
	}
	claims = append(claims, member{sessionClaim, mustJSON(o.session)}) // a carried one may be any string
	if claims, err = m.mergeExtra(claims, m.cfg.claimsLoader, identity, o.renewal, o.carried, o.claims, "claim"); err != nil {
		return "", err
	}
	if o.minted != nil {
		// Read back what the token says: additional claims may replace
		// the standard ones.
		*o.minted = minted{identity: id}
		for _, mb := range claims {
			var date int64
			switch mb.key {
			case "jti":
				_ = json.Unmarshal(mb.value, &o.minted.jti)
			case "iat":
				if json.Unmarshal(mb.value, &date) == nil {
					o.minted.issued = time.Unix(date, 0)
				}
			case "exp":
				if json.Unmarshal(mb.value, &date) == nil {
					o.minted.expires = time.Unix(date, 0)
				}
			}
		}
	}

	header := []member{{"alg", mustJSON(m.signAlg.name)}, {"typ", []byte(`"JWT"`)}}
	if kid != "" {
		header = append(header, member{"kid", mustJSON(kid)})
	}
	if header, err = m.mergeExtra(header, m.cfg.headersLoader, identity, o.renewal, nil, o.headers, "header"); err != nil {
		return "", err
	}
	if string(header[0].value) != string(mustJSON(m.signAlg.name)) {
		return "", errors.New(`ginjwt: additional headers cannot set "alg"`)
	}
	// PyJWT writes header parameters sorted by name.
	slices.SortFunc(header, func(a, b member) int { return strings.Compare(a.key, b.key) })
	token, err := m.sign(encodeObject(header), encodeObject(claims), key)
	if err == nil && o.minted != nil {
		o.minted.token = token
	}
	return token, err
}

// identityString turns what the caller passed into the identity claim.
func (m *Manager) identityString(identity any) (string, error) {
	var id string
	switch v := identity.(type) {
	case nil:
	case string:
		id = v
	case fmt.Stringer:
		id = v.String()
	case int:
		id = strconv.Itoa(v)
	case int64:
		id = strconv.FormatInt(v, 10)
	case int32:
		id = strconv.FormatInt(int64(v), 10)
	case uint:
		id = strconv.FormatUint(uint64(v), 10)
	case uint64:
		id = strconv.FormatUint(v, 10)
	case uint32:
		id = strconv.FormatUint(uint64(v), 10)
	default:
		if m.cfg.identityLoader == nil {
			return "", fmt.Errorf("%w: %T is not a string, an integer or a fmt.Stringer; use WithUserIdentityLoader", ErrInvalidIdentity, identity)
		}
	}
	if m.cfg.identityLoader != nil {
		var err error
		if id, err = m.cfg.identityLoader(identity); err != nil {
			return "", err
		}
	}
	if id == "" {
		return "", fmt.Errorf("%w: empty identity", ErrInvalidIdentity)
	}
	return id, nil
}

// mergeExtra merges the carried values, the loader's and then the call's
// over members: a known key keeps its place, new keys follow in name order,
// as Python's dict.update does over flask's layout.
func (m *Manager) mergeExtra(members []member, loader func(any) (map[string]any, error), identity any,
	renewal bool, carried, call map[string]any, what string) ([]member, error) {
	extra := maps.Clone(carried)
	if loader != nil {
		loaded, err := loader(identity)
		var wrongType *wrongLoaderType
		switch {
		case renewal && errors.As(err, &wrongType):
			// A loader of user values cannot read the old token's identity
			// string; the carried claims stand in for what it gave.
		case err != nil:
			return nil, err
		}
		if extra == nil {
			extra = map[string]any{}
		}
		maps.Copy(extra, loaded)
	}
	if len(call) > 0 {
		if extra == nil {
			extra = map[string]any{}
		}
		maps.Copy(extra, call)
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		value, err := json.Marshal(extra[k])
		if err != nil {
			return nil, fmt.Errorf("ginjwt: %s %q: %w", what, k, err)
		}
		i := slices.IndexFunc(members, func(mb member) bool { return mb.key == k })
		if i >= 0 {
			members[i].value = value
		} else {
			members = append(members, member{k, value})
		}
	}
	return members, nil
}

// sign assembles and signs header.payload with key.
func (m *Manager) sign(header, payload []byte, key any) (string, error) {
	enc := base64.RawURLEncoding
	buf := make([]byte, 0, enc.EncodedLen(len(header))+enc.EncodedLen(len(payload))+2+enc.EncodedLen(64+512))
	buf = enc.AppendEncode(buf, header)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, payload)
	var sig []byte
	if v := m.signMAC; v != nil && m.cfg.encodeKeyLoader == nil {
		sig = v.mac(buf, nil) // the default secret: pooled HMAC state
	} else {
		var err error
		if sig, err = m.signAlg.method.Sign(string(buf), key); err != nil {
			return "", fmt.Errorf("ginjwt: signing: %w", err)
		}
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

func encodeObject(members []member) []byte {
	n := 2
	for _, mb := range members {
		n += len(mb.key) + len(mb.value) + 4
	}
	out := make([]byte, 0, n)
	out = append(out, '{')
	for i, mb := range members {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, mustJSON(mb.key)...)
		out = append(out, ':')
		out = append(out, mb.value...)
	}
	return append(out, '}')
}

// freshJSON writes the "fresh" claim: false, true, or a float timestamp
// with microseconds, as Python's float repr would.
func freshJSON(now time.Time, o *tokenOptions) []byte {
	switch {
	case o.freshFor != 0:
		until := now.Add(o.freshFor)
		b := strconv.AppendFloat(nil, float64(until.UnixMicro())/1e6, 'f', -1, 64)
		if slices.Index(b, '.') < 0 {
			b = append(b, ".0"...)
		}
		return b
	case o.fresh:
		return []byte("true")
	}
	return []byte("false")
}

// expiry returns the "exp" of a new token (nil: none), and settles its
// login's start: a token that starts a login starts it now (CreateTokenPair
// sets one start for both tokens), unless ExpiresIn(NeverExpires) makes it a login without
// an end. No token outlives its login's end, the start plus
// WithSessionLifetime: a renewal is cut short there and refused past it,
// and a new token asking to live longer is an error.
func (m *Manager) expiry(typ string, now time.Time, o *tokenOptions) (*int64, error) {
	life := m.cfg.accessExpires
	if typ == TypeRefresh {
		life = m.cfg.refreshExpires
	}
	expiring := life > 0
	switch {
	case o.expiresSet:
		life, expiring = o.expires, true
	case o.noExpiry:
		expiring = false
	}
	if !o.renewal {
		o.hasStart = !o.noExpiry
		if o.hasStart && o.start == 0 {
			o.start = now.Unix()
		}
	}
	var exp int64
	if expiring {
		exp = now.Add(life).Unix()
	}
	if lifetime := m.cfg.sessionLifetime; lifetime > 0 && o.hasStart {
		end := time.Unix(o.start, 0).Add(lifetime).Unix()
		switch {
		case o.renewal && end <= now.Unix():
			return nil, errSessionExpired()
		case !o.renewal && o.expiresSet && exp > end:
			return nil, fmt.Errorf("ginjwt: ExpiresIn(%v) goes past the login's end, WithSessionLifetime(%v)", o.expires, lifetime)
		case !expiring || exp > end:
			exp, expiring = end, true
		}
	}
	if !expiring {
		return nil, nil
	}
	return &exp, nil
}

// newUUIDv7 returns a UUID of version 7 (RFC 9562) for now: its first 48
// bits are the Unix time in milliseconds, the next 12 the fraction of the
// millisecond (§6.2, method 3, so IDs made one after the other sort in
// order), the rest random. Token IDs carry it so that RevokeIdentity can
// tell tokens issued before it from tokens issued after it within one
// second ("iat" has whole seconds).
func newUUIDv7(now time.Time) string {
	var u [16]byte
	ms := uint64(max(now.UnixMilli(), 0))                               //nolint:gosec // G115: not negative
	frac := uint64(now.Nanosecond()%int(time.Millisecond)) * 4096 / 1e6 //nolint:gosec // G115: below 1e6
	binary.BigEndian.PutUint64(u[:8], ms<<16|0x7000|frac)
	_, _ = rand.Read(u[8:]) // crypto/rand.Read never fails (Go 1.24+)
	u[8] = u[8]&0x3f | 0x80
	return formatUUID(&u)
}

// uuidV7Millis returns the time of a version 7 UUID in milliseconds.
func uuidV7Millis(s string) (int64, bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[14] != '7' {
		return 0, false
	}
	var ms int64
	for i := range 13 {
		if i == 8 {
			continue
		}
		d := unhex(s[i])
		if d < 0 {
			return 0, false
		}
		ms = ms<<4 | int64(d)
	}
	return ms, true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// quotedUUID returns a random (version 4) UUID as a JSON string: the CSRF
// value, which must be unpredictable through and through.
func quotedUUID() []byte {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails (Go 1.24+)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return quoted(formatUUID(&u))
}

// quoted is s as a JSON string, for strings that need no escaping.
func quoted(s string) []byte {
	return append(append(append(make([]byte, 0, len(s)+2), '"'), s...), '"')
}

func formatUUID(u *[16]byte) string {
	var out [36]byte
	hex.Encode(out[0:8], u[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], u[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], u[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], u[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], u[10:16])
	return string(out[:])
}

// mustJSON encodes strings and string slices, which cannot fail.
func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// CreateTokenPair returns an access and a refresh token of a new session
// for identity; opts apply to both, freshness to the access token only.
func (m *Manager) CreateTokenPair(identity any, opts ...TokenOption) (access, refresh string, err error) {
	a, r, _, err := m.createPair(identity, opts)
	return a.token, r.token, err
}
