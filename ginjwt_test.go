package ginjwt_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewRejectsMisconfiguration(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	smallRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)

	tests := []struct {
		name string
		opts []ginjwt.Option
		want string
	}{
		{"no key at all", nil, "HS256 needs WithSecretKey"},
		{"empty secret, as from an unset variable", []ginjwt.Option{ginjwt.WithSecretKey([]byte(os.Getenv("GINJWT_TEST_UNSET_VARIABLE")))}, "WithSecretKey: empty secret (is the environment variable you read it from, such as JWT_SECRET_KEY, set?)"},
		{"unknown algorithm", []ginjwt.Option{ginjwt.WithAlgorithm("HS1024")}, `unknown algorithm "HS1024"`},
		{"none is not an algorithm", []ginjwt.Option{ginjwt.WithAlgorithm("none")}, `unknown algorithm "none"`},
		{"unknown decode algorithm", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithDecodeAlgorithms("none")}, `unknown decode algorithm "none"`},
		{"short HS256 secret", []ginjwt.Option{ginjwt.WithSecretKey([]byte("too-short"))}, "HS256 needs a secret of at least 32 bytes, got 9"},
		{"HS512 secret shorter than 64 bytes", []ginjwt.Option{ginjwt.WithAlgorithm("HS512"), ginjwt.WithSecretKey([]byte(testSecret))}, "HS512 needs a secret of at least 64 bytes"},
		{"RS256 without keys", []ginjwt.Option{ginjwt.WithAlgorithm("RS256")}, "RS256 needs WithPublicKey or WithPrivateKey"},
		{"RS256 with an EC key", []ginjwt.Option{ginjwt.WithAlgorithm("RS256"), ginjwt.WithPrivateKey(p384)}, "RS256 cannot use a key of type *ecdsa.PublicKey"},
		{"ES256 with a P-384 key", []ginjwt.Option{ginjwt.WithAlgorithm("ES256"), ginjwt.WithPrivateKey(p384)}, "ES256 needs a P-256 key, got P-384"},
		{"EdDSA with an RSA key", []ginjwt.Option{ginjwt.WithAlgorithm("EdDSA"), ginjwt.WithPublicKey(&rsaKey.PublicKey)}, "EdDSA cannot use a key of type *rsa.PublicKey"},
		{"RSA key under 2048 bits", []ginjwt.Option{ginjwt.WithAlgorithm("RS256"), ginjwt.WithPrivateKey(smallRSA)}, "RSA key has 1024 bits, at least 2048 required"},
		{"public key that is not PEM", []ginjwt.Option{ginjwt.WithAlgorithm("RS256"), ginjwt.WithPublicKey("not a key")}, "public key: no PEM block found"},
		{"private key of unsupported type", []ginjwt.Option{ginjwt.WithAlgorithm("EdDSA"), ginjwt.WithPrivateKey(42)}, "unsupported private key type int"},
		{"HS decode algorithm without secret", []ginjwt.Option{ginjwt.WithAlgorithm("EdDSA"), ginjwt.WithPrivateKey(edKey), ginjwt.WithDecodeAlgorithms("HS256")}, "HS256 needs WithSecretKey"},
		{"zero access expiry", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithAccessExpires(0)}, "must be positive; use ginjwt.NeverExpires"},
		{"negative refresh expiry", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithRefreshExpires(-time.Hour)}, "must be positive; use ginjwt.NeverExpires"},
		{"empty header name", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithHeader("", "Bearer")}, "WithHeader: empty header name"},
		{"negative leeway", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithClaims(ginjwt.ClaimsConfig{Leeway: -time.Second})}, "must not be negative"},
		{"nil handler", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithErrorHandler(nil)}, "WithErrorHandler: nil handler"},
		{"nil responder", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithResponder(nil)}, "WithResponder: nil function"},
		{"legacy token window without a blocklist", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithLegacyTokensUntil(time.Now().Add(time.Hour))}, "WithLegacyTokensUntil needs WithBlocklist"},
		{"legacy token window in the past", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)), ginjwt.WithLegacyTokensUntil(time.Now().Add(-time.Minute))}, "the time is past, so the window is closed"},
		{"legacy token window at the zero time", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)), ginjwt.WithLegacyTokensUntil(time.Time{})}, "WithLegacyTokensUntil: zero time"},
		// Names net/http or browsers would silently drop later.
		{"cookie name with a space", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithCookies(ginjwt.CookieConfig{AccessName: "a b"})}, `cookie "a b": http: invalid Cookie.Name`},
		{"CSRF cookie name with a semicolon", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithCookies(ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{AccessCookieName: "c", RefreshCookieName: "x;y"}})}, `cookie "x;y": http: invalid Cookie.Name`},
		{"cookie domain with a space", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithCookies(ginjwt.CookieConfig{Domain: "bad domain"})}, `http: invalid Cookie.Domain`},
		{"cookie path with a semicolon", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithCookies(ginjwt.CookieConfig{RefreshPath: "/a;b"})}, `cookie "refresh_token_cookie": http: invalid byte ';' in Cookie.Path`},
		{"lower-case CSRF method", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithCookies(ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{Methods: []string{"post"}}})}, `CSRF method "post": HTTP methods are upper case`},
		{"header type of two words", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithHeader("Authorization", "Bear er")}, `header type "Bear er" must be one word`},
		{"header type with a trailing space", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithHeader("Authorization", "Bearer ")}, `header type "Bearer " must be one word`},
		{"header name with a space", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithHeader("Bad Name", "Bearer")}, `header name "Bad Name" is not a valid header name`},
		{"CSRF header with a colon", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithCookies(ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{AccessHeader: "X-A:", RefreshHeader: "X-R"}})}, `CSRF header "X-A:" is not a valid header name`},
		{"SameSite=None without Secure", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithCookies(ginjwt.CookieConfig{SameSite: http.SameSiteNoneMode, Insecure: true})}, "SameSite=None needs Secure cookies"},
		// Cookie prefixes browsers enforce by dropping the cookie.
		{"__Host- cookie with a Domain", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithCookies(ginjwt.CookieConfig{AccessName: "__Host-access", RefreshName: "__Host-refresh", Domain: "example.com"})}, `cookie "__Host-access": a __Host- cookie cannot have a Domain`},
		{"__Host- cookie off the root path", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithCookies(ginjwt.CookieConfig{AccessName: "access", RefreshName: "__Host-refresh", RefreshPath: "/auth/refresh"})}, `cookie "__Host-refresh": a __Host- cookie needs the path "/"`},
		{"__Host- cookie not Secure", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithCookies(ginjwt.CookieConfig{AccessName: "__Host-access", RefreshName: "refresh", Insecure: true})}, `cookie "__Host-access": its prefix needs Secure cookies`},
		{"__Secure- cookie not Secure", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithCookies(ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{AccessCookieName: "__Secure-csrf", RefreshCookieName: "csrf_refresh"}, Insecure: true})}, `cookie "__Secure-csrf": its prefix needs Secure cookies`},
		{"__host- in lower case is a prefix too", []ginjwt.Option{ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithCookies(ginjwt.CookieConfig{AccessName: "__host-access", RefreshName: "refresh", Domain: "example.com"})}, `cookie "__host-access": a __Host- cookie cannot have a Domain`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ginjwt.New(tc.opts...)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.ErrorIs(t, err, ginjwt.ErrConfig)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestNewReportsEveryProblemAtOnce(t *testing.T) {
	_, err := ginjwt.New(
		ginjwt.WithSecretKey([]byte("short")),
		ginjwt.WithAccessExpires(-1),
		ginjwt.WithHeader("", "Bearer"),
	)
	require.Error(t, err)
	for _, want := range []string{"at least 32 bytes", "WithAccessExpires", "WithHeader"} {
		assert.Contains(t, err.Error(), want)
	}
}

// Settings that no guard would read, or the second of two that would
// silently replace the first, are errors of New: each problem one line,
// all of them at once. An empty secret is reported once, not also as a
// missing key.
func TestNewRefusesSilentSettings(t *testing.T) {
	secret := ginjwt.WithSecretKey([]byte(testSecret))
	cookies := ginjwt.WithCookies(ginjwt.CookieConfig{SameSite: http.SameSiteLaxMode})
	const (
		cookiesAlone  = "WithCookies needs Cookies among WithTokenLocations"
		refreshAlone  = "WithImplicitRefresh renews access cookies: it needs Cookies among WithTokenLocations"
		secretTwice   = "WithSecretKey given twice: give one secret"
		emptySecret   = "WithSecretKey: empty secret"
		cookiesTwice  = "WithCookies given twice"
		implicitRenew = 30 * time.Minute
	)
	for _, tc := range []struct {
		name string
		opts []ginjwt.Option
		want []string
	}{
		{"WithCookies without the Cookies location", []ginjwt.Option{secret, cookies}, []string{cookiesAlone}},
		{"WithImplicitRefresh without the Cookies location", []ginjwt.Option{secret, ginjwt.WithTokenLocations(ginjwt.InHeaders, ginjwt.InJSONBody), ginjwt.WithImplicitRefresh(implicitRenew)}, []string{refreshAlone}},
		{"WithSecretKey twice", []ginjwt.Option{secret, ginjwt.WithSecretKey([]byte(testSecret + "-other"))}, []string{secretTwice}},
		{"an empty secret", []ginjwt.Option{ginjwt.WithSecretKey(nil)}, []string{emptySecret}},
		{"an empty secret for HS512", []ginjwt.Option{ginjwt.WithAlgorithm("HS512"), ginjwt.WithSecretKey([]byte{})}, []string{emptySecret}},
		{"all at once", []ginjwt.Option{ginjwt.WithSecretKey(nil), secret, cookies, cookies, ginjwt.WithImplicitRefresh(implicitRenew)},
			[]string{emptySecret, secretTwice, cookiesTwice, cookiesAlone, refreshAlone}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ginjwt.New(tc.opts...)
			require.ErrorIs(t, err, ginjwt.ErrConfig)
			assert.Nil(t, m)
			for _, want := range tc.want {
				assert.Contains(t, err.Error(), want)
			}
			assert.Equal(t, len(tc.want), strings.Count(err.Error(), "\n")+1, "one line per problem: %s", err)
		})
	}
	// With the Cookies location among others, both are what they say.
	_, err := ginjwt.New(secret, ginjwt.WithTokenLocations(ginjwt.InHeaders, ginjwt.InCookies), cookies, ginjwt.WithImplicitRefresh(implicitRenew))
	assert.NoError(t, err)
}

func TestNewAcceptsShortSecretWhenAllowed(t *testing.T) {
	m, err := ginjwt.New(ginjwt.WithSecretKey([]byte("short")), ginjwt.WithInsecureShortSecret())
	require.NoError(t, err)
	token, err := m.CreateAccessToken("alice")
	require.NoError(t, err)
	_, err = m.DecodeToken(token)
	assert.NoError(t, err)
}

// segments splits a token and decodes its header and payload without
// ginjwt, keeping the JSON text so key order can be checked.
func segments(t *testing.T, token string) (header, payload string) {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	return string(h), string(p)
}

// keysInOrder lists the top-level keys of a JSON object in document order.
func keysInOrder(t *testing.T, obj string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(obj))
	_, err := dec.Token()
	require.NoError(t, err)
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, k.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return keys
}

var (
	uuid4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	uuid7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// Tokens made here are read by golang-jwt alone (standing in for PyJWT) and
// have flask-jwt-extended's layout, followed by the session's claims.
func TestCreatedTokensHaveFlaskLayout(t *testing.T) {
	now := time.Unix(1795566329, 0)
	m := newManager(t, ginjwt.WithClock(func() time.Time { return now }))

	access, err := m.CreateAccessToken("alice")
	require.NoError(t, err)
	header, payload := segments(t, access)
	assert.Equal(t, `{"alg":"HS256","typ":"JWT"}`, header)
	assert.Equal(t, []string{"fresh", "iat", "jti", "type", "sub", "nbf", "csrf", "exp", "auth_time", "sid"}, keysInOrder(t, payload))

	parsed, err := jwt.Parse(access, func(*jwt.Token) (any, error) { return []byte(testSecret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return now }))
	require.NoError(t, err)
	claims := parsed.Claims.(jwt.MapClaims)
	assert.Equal(t, false, claims["fresh"])
	assert.Equal(t, float64(now.Unix()), claims["iat"])
	assert.Equal(t, claims["iat"], claims["nbf"])
	assert.Equal(t, float64(now.Unix()+900), claims["exp"], "access tokens last 15 minutes")
	assert.Equal(t, "access", claims["type"])
	assert.Equal(t, "alice", claims["sub"])
	assert.Regexp(t, uuid7, claims["jti"], "a UUIDv7: its issue time to the millisecond")
	assert.Equal(t, fmt.Sprintf("%012x", now.UnixMilli()), strings.ReplaceAll(claims["jti"].(string), "-", "")[:12])
	assert.Regexp(t, uuid4, claims["csrf"], "random through and through")
	assert.NotEqual(t, claims["jti"], claims["csrf"])
	assert.Equal(t, claims["iat"], claims["auth_time"], "the login is now")
	assert.Regexp(t, uuid7, claims["sid"])
	assert.NotEqual(t, claims["jti"], claims["sid"])

	refresh, err := m.CreateRefreshToken("alice")
	require.NoError(t, err)
	_, payload = segments(t, refresh)
	var rc map[string]any
	require.NoError(t, json.Unmarshal([]byte(payload), &rc))
	assert.Equal(t, "refresh", rc["type"])
	assert.Equal(t, false, rc["fresh"])
	assert.Equal(t, float64(now.Unix()+30*24*3600), rc["exp"], "refresh tokens last 30 days")
}

func TestCreateTokenOptions(t *testing.T) {
	now := time.Unix(1795566329, 172287000)
	claimsOf := func(t *testing.T, m *ginjwt.Manager, opts ...ginjwt.TokenOption) (map[string]any, string) {
		t.Helper()
		token, err := m.CreateAccessToken("alice", opts...)
		require.NoError(t, err)
		header, payload := segments(t, token)
		var c map[string]any
		require.NoError(t, json.Unmarshal([]byte(payload), &c))
		return c, header
	}
	clock := ginjwt.WithClock(func() time.Time { return now })

	t.Run("fresh", func(t *testing.T) {
		c, _ := claimsOf(t, newManager(t, clock), ginjwt.Fresh())
		assert.Equal(t, true, c["fresh"])
	})
	t.Run("fresh for five minutes is a float timestamp, as flask writes it", func(t *testing.T) {
		token, err := newManager(t, clock).CreateAccessToken("alice", ginjwt.FreshFor(5*time.Minute))
		require.NoError(t, err)
		_, payload := segments(t, token)
		assert.Contains(t, payload, `"fresh":1795566629.172287,`)
	})
	t.Run("fresh until a whole second keeps a decimal point", func(t *testing.T) {
		token, err := newManager(t, clock).CreateAccessToken("alice", ginjwt.FreshFor(time.Unix(1795566400, 0).Sub(now)))
		require.NoError(t, err)
		_, payload := segments(t, token)
		assert.Contains(t, payload, `"fresh":1795566400.0,`)
	})
	t.Run("expiry override", func(t *testing.T) {
		c, _ := claimsOf(t, newManager(t, clock), ginjwt.ExpiresIn(time.Hour))
		assert.Equal(t, float64(now.Unix()+3600), c["exp"])
	})
	t.Run("no expiry for one token", func(t *testing.T) {
		c, _ := claimsOf(t, newManager(t, clock), ginjwt.ExpiresIn(ginjwt.NeverExpires))
		assert.NotContains(t, c, "exp")
		c, _ = claimsOf(t, newManager(t, clock), ginjwt.ExpiresIn(0))
		assert.Equal(t, float64(now.Unix()), c["exp"], "ExpiresIn(0) is not flask's 'never'")
	})
	t.Run("no expiry for every access token", func(t *testing.T) {
		c, _ := claimsOf(t, newManager(t, clock, ginjwt.WithAccessExpires(ginjwt.NeverExpires)))
		assert.NotContains(t, c, "exp")
	})
	t.Run("manager expiry", func(t *testing.T) {
		c, _ := claimsOf(t, newManager(t, clock, ginjwt.WithAccessExpires(time.Minute)))
		assert.Equal(t, float64(now.Unix()+60), c["exp"])
	})
	t.Run("no nbf", func(t *testing.T) {
		c, _ := claimsOf(t, newManager(t, clock, ginjwt.WithClaims(ginjwt.ClaimsConfig{OmitNBF: true})))
		assert.NotContains(t, c, "nbf")
	})
	t.Run("issuer and audience", func(t *testing.T) {
		c, _ := claimsOf(t, newManager(t, clock, ginjwt.WithClaims(ginjwt.ClaimsConfig{EncodeIssuer: "https://auth.example", EncodeAudience: []string{"orders"}})))
		assert.Equal(t, "https://auth.example", c["iss"])
		assert.Equal(t, "orders", c["aud"])
		c, _ = claimsOf(t, newManager(t, clock, ginjwt.WithClaims(ginjwt.ClaimsConfig{EncodeAudience: []string{"a", "b"}})))
		assert.Equal(t, []any{"a", "b"}, c["aud"])
	})
	t.Run("custom identity claim", func(t *testing.T) {
		c, _ := claimsOf(t, newManager(t, clock, ginjwt.WithClaims(ginjwt.ClaimsConfig{IdentityClaim: "identity"})))
		assert.Equal(t, "alice", c["identity"])
		assert.NotContains(t, c, "sub")
	})
	t.Run("additional claims, call over loader, may replace reserved claims", func(t *testing.T) {
		m := newManager(t, clock, ginjwt.WithAdditionalClaimsLoader(func(id string) (map[string]any, error) {
			return map[string]any{"role": "user", "org": id + "-org"}, nil
		}))
		token, err := m.CreateAccessToken("alice", ginjwt.AdditionalClaims(map[string]any{"role": "admin", "type": "app"}))
		require.NoError(t, err)
		_, payload := segments(t, token)
		var c map[string]any
		require.NoError(t, json.Unmarshal([]byte(payload), &c))
		assert.Equal(t, "admin", c["role"])
		assert.Equal(t, "alice-org", c["org"])
		assert.Equal(t, "app", c["type"])
		assert.Equal(t, []string{"fresh", "iat", "jti", "type", "sub", "nbf", "csrf", "exp", "auth_time", "sid", "org", "role"}, keysInOrder(t, payload))
	})
	t.Run("additional headers are sorted like PyJWT's", func(t *testing.T) {
		m := newManager(t, clock, ginjwt.WithAdditionalHeadersLoader(func(any) (map[string]any, error) {
			return map[string]any{"kid": "loader"}, nil
		}))
		_, header := claimsOf(t, m, ginjwt.AdditionalHeaders(map[string]any{"kid": "abc", "typ": "at+jwt"}))
		assert.Equal(t, `{"alg":"HS256","kid":"abc","typ":"at+jwt"}`, header)
	})
	t.Run("headers cannot change the algorithm", func(t *testing.T) {
		_, err := newManager(t).CreateAccessToken("alice", ginjwt.AdditionalHeaders(map[string]any{"alg": "none"}))
		assert.ErrorContains(t, err, `cannot set "alg"`)
	})
	t.Run("claims that are not JSON fail", func(t *testing.T) {
		_, err := newManager(t).CreateAccessToken("alice", ginjwt.AdditionalClaims(map[string]any{"f": func() {}}))
		assert.ErrorContains(t, err, `claim "f"`)
	})
	t.Run("refresh tokens are never fresh", func(t *testing.T) {
		_, err := newManager(t).CreateRefreshToken("alice", ginjwt.Fresh())
		assert.Error(t, err)
	})
}

type user struct {
	ID   int
	Name string
}

type userID int

func (u userID) String() string { return fmt.Sprintf("user-%d", int(u)) }

func TestIdentities(t *testing.T) {
	m := newManager(t)
	for _, tc := range []struct {
		identity any
		want     string
	}{
		{"alice", "alice"},
		{42, "42"},
		{int64(-7), "-7"},
		{uint(9), "9"},
		{userID(3), "user-3"},
	} {
		token, err := m.CreateAccessToken(tc.identity)
		require.NoError(t, err, "%v", tc.identity)
		tok, err := m.DecodeToken(token)
		require.NoError(t, err)
		assert.Equal(t, tc.want, tok.Claims.Identity)
	}

	_, err := m.CreateAccessToken(user{ID: 1})
	assert.ErrorIs(t, err, ginjwt.ErrInvalidIdentity)
	_, err = m.CreateAccessToken("")
	assert.ErrorIs(t, err, ginjwt.ErrInvalidIdentity)
	_, err = m.CreateAccessToken(nil)
	assert.ErrorIs(t, err, ginjwt.ErrInvalidIdentity)
}

func TestUserIdentityLoader(t *testing.T) {
	var claimsFor []string
	m := newManager(t,
		ginjwt.WithUserIdentityLoader(func(u user) (string, error) {
			if u.Name == "" {
				return "", errors.New("user has no name")
			}
			return u.Name, nil
		}),
		ginjwt.WithAdditionalClaimsLoader(func(identity any) (map[string]any, error) {
			claimsFor = append(claimsFor, fmt.Sprintf("%T", identity))
			return nil, nil
		}),
	)
	token, err := m.CreateAccessToken(user{ID: 1, Name: "alice"})
	require.NoError(t, err)
	tok, err := m.DecodeToken(token)
	require.NoError(t, err)
	assert.Equal(t, "alice", tok.Claims.Identity)

	// A string is already an identity: the refresh flow passes one.
	token, err = m.CreateAccessToken("bob")
	require.NoError(t, err)
	tok, err = m.DecodeToken(token)
	require.NoError(t, err)
	assert.Equal(t, "bob", tok.Claims.Identity)
	assert.Equal(t, []string{"ginjwt_test.user", "string"}, claimsFor, "the claims loader sees the raw identity")

	_, err = m.CreateAccessToken(user{ID: 2})
	assert.EqualError(t, err, "user has no name")
	_, err = m.CreateAccessToken(3.5)
	assert.ErrorIs(t, err, ginjwt.ErrInvalidIdentity)
}

func TestTypedClaimsLoaderRejectsOtherTypes(t *testing.T) {
	m := newManager(t, ginjwt.WithAdditionalClaimsLoader(func(u user) (map[string]any, error) {
		return map[string]any{"uid": u.ID}, nil
	}), ginjwt.WithUserIdentityLoader(func(u user) (string, error) { return u.Name, nil }))
	_, err := m.CreateAccessToken(user{ID: 1, Name: "alice"})
	require.NoError(t, err)
	_, err = m.CreateAccessToken("alice")
	assert.ErrorIs(t, err, ginjwt.ErrInvalidIdentity)
	assert.ErrorContains(t, err, "additional claims loader takes ginjwt_test.user, got string")
}

func TestLoaderErrorsStopCreation(t *testing.T) {
	boom := errors.New("db down")
	m := newManager(t, ginjwt.WithAdditionalHeadersLoader(func(string) (map[string]any, error) { return nil, boom }))
	_, err := m.CreateAccessToken("alice")
	assert.ErrorIs(t, err, boom)
}
