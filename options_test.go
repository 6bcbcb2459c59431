package ginjwt_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// payloadOf returns the claims of a new access token for alice, as written.
func payloadOf(t *testing.T, m *ginjwt.Manager) map[string]any {
	t.Helper()
	token, err := m.CreateAccessToken("alice")
	require.NoError(t, err)
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(raw, &c))
	delete(c, "jti")
	delete(c, "csrf") // random, like jti
	delete(c, "sid")
	return c
}

func TestWithClaimsZeroValueIsTheDefault(t *testing.T) {
	clock := newFakeClock()
	want := payloadOf(t, newManager(t, clock.option()))
	require.Contains(t, want, "sub")
	require.Contains(t, want, "nbf")
	assert.Equal(t, want, payloadOf(t, newManager(t, clock.option(), ginjwt.WithClaims(ginjwt.ClaimsConfig{}))))

	m := newManager(t, clock.option(), ginjwt.WithClaims(ginjwt.ClaimsConfig{}))

	// And on the decode side: "sub" must be a string, "iss" and "aud" are
	// not checked, no leeway.
	r := newRouter()
	r.GET("/p", m.JWTRequired(), echoToken)
	now := clock.Now().Unix()
	payloadCases(t, r, []payloadCase{
		{"sub must be a string", `{"sub":7}`, 422, "Subject must be a string"},
		{"iss and aud are not checked", `{"sub":"a","iss":"anyone","aud":"anything"}`, 200, ""},
		{"no leeway", `{"sub":"a","exp":` + itoa(int(now-1)) + `}`, 401, "Token has expired"},
	})
}

// A second WithClaims is refused: translated one old option at a time,
// WithClaims{DecodeAudience} then WithClaims{Leeway} would drop the
// audience and issuer checks without a word.
func TestWithClaimsTwiceRefused(t *testing.T) {
	_, err := ginjwt.New(ginjwt.WithSecretKey([]byte(testSecret)),
		ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeAudience: []string{"orders"}, DecodeIssuers: []string{"me"}}),
		ginjwt.WithClaims(ginjwt.ClaimsConfig{Leeway: 30 * time.Second}))
	require.ErrorIs(t, err, ginjwt.ErrConfig)
	assert.ErrorContains(t, err, "WithClaims given twice: put every claim setting in one ClaimsConfig")
}

func TestWithClaimsFields(t *testing.T) {
	clock := newFakeClock()
	now := clock.Now().Unix()
	t.Run("encode side", func(t *testing.T) {
		c := payloadOf(t, newManager(t, clock.option(), ginjwt.WithClaims(ginjwt.ClaimsConfig{
			IdentityClaim:  "identity",
			EncodeIssuer:   "https://auth.example",
			EncodeAudience: []string{"orders", "billing"},
			OmitNBF:        true,
		})))
		assert.Equal(t, "alice", c["identity"])
		assert.NotContains(t, c, "sub")
		assert.Equal(t, "https://auth.example", c["iss"])
		assert.Equal(t, []any{"orders", "billing"}, c["aud"])
		assert.NotContains(t, c, "nbf")
	})
	decode := ginjwt.ClaimsConfig{
		IdentityClaim:     "identity",
		DecodeIssuers:     []string{"https://a.example", "https://b.example"},
		DecodeAudience:    []string{"orders"},
		Leeway:            10 * time.Second,
		AllowNonStringSub: true,
	}
	m := newManager(t, clock.option(), ginjwt.WithClaims(decode))
	decode.DecodeIssuers[0] = "https://changed.example" // the option keeps its own copy
	r := newRouter()
	r.GET("/p", m.JWTRequired(), echoToken)
	ok := `"identity":"a","iss":"https://a.example","aud":"orders"`
	payloadCases(t, r, []payloadCase{
		{"all checks pass", `{` + ok + `}`, 200, ""},
		{"second issuer", `{"identity":"a","iss":"https://b.example","aud":"orders"}`, 200, ""},
		{"issuer checked", `{"identity":"a","iss":"https://c.example","aud":"orders"}`, 422, "Invalid issuer"},
		{"audience checked", `{"identity":"a","iss":"https://a.example","aud":"billing"}`, 422, "Audience doesn't match"},
		{"identity claim read", `{"sub":"a","iss":"https://a.example","aud":"orders"}`, 422, "Missing claim: identity"},
		{"leeway applied", `{` + ok + `,"exp":` + itoa(int(now-5)) + `}`, 200, ""},
		{"leeway bounded", `{` + ok + `,"exp":` + itoa(int(now-11)) + `}`, 401, "Token has expired"},
		{"non-string sub allowed", `{` + ok + `,"sub":7}`, 200, ""},
	})
}

func TestNeverExpires(t *testing.T) {
	m := newManager(t, ginjwt.WithAccessExpires(ginjwt.NeverExpires), ginjwt.WithRefreshExpires(ginjwt.NeverExpires))
	for _, create := range []func(any, ...ginjwt.TokenOption) (string, error){m.CreateAccessToken, m.CreateRefreshToken} {
		token, err := create("alice")
		require.NoError(t, err)
		tok, err := m.DecodeToken(token)
		require.NoError(t, err)
		assert.True(t, tok.Claims.ExpiresAt().IsZero(), "no exp")
	}
	// For one token too, on a Manager whose tokens expire.
	m = newManager(t)
	tok, err := m.DecodeToken(ginjwttest.Access(t, m, "alice", ginjwt.ExpiresIn(ginjwt.NeverExpires)))
	require.NoError(t, err, "not a token that expired 292 years ago")
	assert.True(t, tok.Claims.ExpiresAt().IsZero(), "no exp")
	for _, opt := range []ginjwt.Option{
		ginjwt.WithAccessExpires(0), ginjwt.WithAccessExpires(-time.Nanosecond),
		ginjwt.WithRefreshExpires(0), ginjwt.WithRefreshExpires(ginjwt.NeverExpires + 1),
	} {
		_, err := ginjwt.New(ginjwt.WithSecretKey([]byte(testSecret)), opt)
		require.ErrorIs(t, err, ginjwt.ErrConfig)
		assert.ErrorContains(t, err, "must be positive; use ginjwt.NeverExpires for tokens that never expire")
	}
}

func TestWithHeaderCustomNameAndBareToken(t *testing.T) {
	m := newManager(t, ginjwt.WithHeader("X-Token", ""))
	r := newRouter()
	r.GET("/p", m.JWTRequired(), echoToken)
	token, err := m.CreateAccessToken("alice")
	require.NoError(t, err)
	assert.Equal(t, 200, get(r, "/p", header{"X-Token", token}).Code)
	w := get(r, "/p", bearer(token))
	assert.Equal(t, 401, w.Code, "Authorization is not read any more")
	assertMsg(t, w, "Missing X-Token Header")
}

func TestWithKeyIDPreviousSecret(t *testing.T) {
	oldSecret := []byte(strings.Repeat("o", 32))
	before := newManagerWith(t, ginjwt.WithSecretKey(oldSecret), ginjwt.WithKeyID("k1"))
	oldToken, err := before.CreateAccessToken("alice")
	require.NoError(t, err)

	previous := ginjwt.VerificationKey{ID: "k1", Secret: oldSecret}
	during := newManagerWith(t, ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithKeyID("k2", previous))
	previous.Secret[0] = 'x' // the option keeps its own copy
	newToken, err := during.CreateAccessToken("bob")
	require.NoError(t, err)
	tok, err := during.DecodeToken(newToken)
	require.NoError(t, err)
	assert.Equal(t, "k2", tok.Header.Kid)

	forged, err := newManagerWith(t, ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithKeyID("k1")).CreateAccessToken("mallory")
	require.NoError(t, err)
	r := newRouter()
	r.GET("/p", during.JWTRequired(), echoToken)
	assert.Equal(t, 200, get(r, "/p", bearer(oldToken)).Code, "the previous secret verifies its tokens")
	assert.Equal(t, 200, get(r, "/p", bearer(newToken)).Code)
	w := get(r, "/p", bearer(forged))
	assert.Equal(t, 422, w.Code, "a kid is checked with its own key only")
	assertMsg(t, w, "Signature verification failed")
}

func TestWithKeyIDRefusesBadKeys(t *testing.T) {
	_, err := ginjwt.New(ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithKeyID("k2",
		ginjwt.VerificationKey{Secret: []byte(testSecret)},
		ginjwt.VerificationKey{ID: "both", Secret: []byte(testSecret), PublicKey: "pem"},
		ginjwt.VerificationKey{ID: "neither"},
	))
	require.ErrorIs(t, err, ginjwt.ErrConfig)
	for _, want := range []string{
		"WithKeyID: previous key 0 has no ID",
		`WithKeyID: previous key "both" needs exactly one of PublicKey and Secret`,
		`WithKeyID: previous key "neither" needs exactly one of PublicKey and Secret`,
	} {
		assert.ErrorContains(t, err, want)
	}
	_, err = ginjwt.New(ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithKeyID(""))
	assert.ErrorContains(t, err, "WithKeyID: empty key ID")
	_, err = ginjwt.New(ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithKeyID("k2",
		ginjwt.VerificationKey{ID: "hs", Secret: []byte("short")}))
	assert.ErrorContains(t, err, `key "hs" fits no allowed algorithm`, "a previous secret is held to the same length rule")
}

func newManagerWith(t *testing.T, opts ...ginjwt.Option) *ginjwt.Manager {
	t.Helper()
	m, err := ginjwt.New(opts...)
	require.NoError(t, err)
	return m
}

// Each kind belongs to the group of the flask loader that answers it, and
// to no other.
func TestErrorGroups(t *testing.T) {
	unauthorized := []error{ginjwt.ErrNoToken, ginjwt.ErrCSRF}
	invalid := []error{
		ginjwt.ErrInvalidHeader, ginjwt.ErrInvalidQueryParam, ginjwt.ErrTokenMalformed,
		ginjwt.ErrAlgorithmNotAllowed, ginjwt.ErrSignatureInvalid, ginjwt.ErrTokenNotValidYet,
		ginjwt.ErrInvalidClaims, ginjwt.ErrWrongTokenType, ginjwt.ErrUnknownKey,
	}
	others := []error{
		ginjwt.ErrTokenExpired, ginjwt.ErrFreshTokenRequired, ginjwt.ErrClaimsVerification,
		ginjwt.ErrUserLookup, ginjwt.ErrForbidden, ginjwt.ErrRevoked, ginjwt.ErrRevocationUnavailable,
		ginjwt.ErrKeysUnavailable, ginjwt.ErrRouteParamMissing, ginjwt.ErrInvalidCredentials, ginjwt.ErrNotJSON,
	}
	for _, k := range unauthorized {
		assert.ErrorIs(t, k, ginjwt.ErrUnauthorized, k.Error())
		assert.NotErrorIs(t, k, ginjwt.ErrInvalidToken, k.Error())
	}
	for _, k := range invalid {
		assert.ErrorIs(t, k, ginjwt.ErrInvalidToken, k.Error())
		assert.NotErrorIs(t, k, ginjwt.ErrUnauthorized, k.Error())
	}
	for _, k := range others {
		assert.NotErrorIs(t, k, ginjwt.ErrInvalidToken, k.Error())
		assert.NotErrorIs(t, k, ginjwt.ErrUnauthorized, k.Error())
	}
	assert.NotErrorIs(t, ginjwt.ErrTokenMalformed, ginjwt.ErrSignatureInvalid, "kinds stay apart")
}

// A handler for a group answers every kind in it, as flask's
// invalid_token_loader does, and the other kinds keep their default.
func TestErrorHandlerByGroup(t *testing.T) {
	clock := newFakeClock()
	var kinds []string
	m := newManager(t, clock.option(), ginjwt.WithErrorHandler(func(c *gin.Context, err *ginjwt.Error) {
		switch {
		case errors.Is(err, ginjwt.ErrInvalidToken):
			kinds = append(kinds, "invalid")
			c.JSON(err.Status, gin.H{"error": "invalid_token", "detail": err.Message})
		case errors.Is(err, ginjwt.ErrUnauthorized):
			kinds = append(kinds, "unauthorized")
			c.JSON(err.Status, gin.H{"error": "unauthorized"})
		}
	}))
	g := newGuarded(m)
	access, err := m.CreateAccessToken("alice")
	require.NoError(t, err)
	refresh, err := m.CreateRefreshToken("alice")
	require.NoError(t, err)
	expired, err := m.CreateAccessToken("alice", ginjwt.ExpiresIn(-time.Minute))
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		h      []header
		status int
		body   string
	}{
		{"no token", nil, 401, `{"error":"unauthorized"}`},
		{"bad header", []header{{"Authorization", "Bearer a b"}}, 422, `{"error":"invalid_token","detail":"Bad Authorization header. Expected 'Authorization: Bearer <JWT>'"}`},
		{"malformed", []header{bearer("abc")}, 422, `{"error":"invalid_token","detail":"Not enough segments"}`},
		{"wrong signature", []header{bearer(access[:len(access)-2] + "AA")}, 422, `{"error":"invalid_token","detail":"Signature verification failed"}`},
		{"wrong type", []header{bearer(refresh)}, 422, `{"error":"invalid_token","detail":"Only non-refresh tokens are allowed"}`},
		{"expired keeps the default", []header{bearer(expired)}, 401, `{"msg":"Token has expired"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := get(g.r, "/protected", tc.h...)
			assert.Equal(t, tc.status, w.Code)
			assert.JSONEq(t, tc.body, w.Body.String())
		})
	}
	assert.Equal(t, []string{"unauthorized", "invalid", "invalid", "invalid", "invalid"}, kinds)
	assert.Zero(t, g.runs)
}

// payloadCase is a request with a token signed over payload, and the
// answer it must get ("" msg: not checked).
type payloadCase struct {
	name, payload string
	status        int
	msg           string
}

func payloadCases(t *testing.T, r http.Handler, cases []payloadCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := get(r, "/p", bearer(signPayload(tc.payload)))
			require.Equal(t, tc.status, w.Code, w.Body.String())
			if tc.msg != "" {
				assertMsg(t, w, tc.msg)
			}
		})
	}
}
