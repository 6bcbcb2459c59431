package conformance

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeApp is the fixture of test_decode_tokens.py: cookies and headers,
// CSRF protection on.
func decodeApp(t *testing.T, opts ...ginjwt.Option) *ginjwt.Manager {
	return newManager(t, append([]ginjwt.Option{ginjwt.WithTokenLocations(ginjwt.InCookies, ginjwt.InHeaders)}, opts...)...)
}

// defaultAccessToken is the fixture default_access_token, as a payload with
// extra members spliced in.
func defaultAccessToken(extra map[string]any, drop ...string) string {
	claims := map[string]any{"jti": "1234", "sub": "username", "type": "access", "fresh": true, "csrf": "abcd"}
	for _, k := range drop {
		delete(claims, k)
	}
	for k, v := range extra {
		claims[k] = v
	}
	b, _ := json.Marshal(claims)
	return signPayload(string(b))
}

// decodeErr decodes and returns the guard error's message, "" on success.
func decodeErr(t *testing.T, m *ginjwt.Manager, token string) string {
	t.Helper()
	_, err := m.DecodeToken(token)
	if err == nil {
		return ""
	}
	var e *ginjwt.Error
	require.ErrorAs(t, err, &e)
	return e.Message
}

func claimsOf(t *testing.T, m *ginjwt.Manager, token string) map[string]any {
	t.Helper()
	tok, err := m.DecodeToken(token)
	require.NoError(t, err)
	claims, err := tok.Claims.Map()
	require.NoError(t, err)
	return claims
}

func TestFlaskDecodeTokens(t *testing.T) {
	const file = "test_decode_tokens.py::"

	// decode_token(token, csrf_value=...) is the cookie guard on a CSRF
	// method: the csrf case is checked through it.
	t.Run(file+"test_missing_claims", func(t *testing.T) {
		m := decodeApp(t)
		assert.Equal(t, "Missing claim: sub", decodeErr(t, m, defaultAccessToken(nil, "sub")))
		r := newRouter()
		r.POST("/p", m.JWTRequired(), fooBar)
		w := newFlaskClient(t, r).post("/p", withHeader("Cookie", "access_token_cookie="+defaultAccessToken(nil, "csrf")), withHeader("X-CSRF-TOKEN", "abcd"))
		expectMsg(t, w, 422, "Missing claim: csrf")
	})

	t.Run(file+"test_default_decode_token_values", func(t *testing.T) {
		claims := claimsOf(t, decodeApp(t), defaultAccessToken(nil, "type", "jti", "fresh"))
		assert.Equal(t, "access", claims["type"])
		assert.Contains(t, claims, "jti")
		assert.Nil(t, claims["jti"])
		assert.Equal(t, false, claims["fresh"])
	})

	t.Run(file+"test_supports_decoding_other_token_types", func(t *testing.T) {
		tok, err := decodeApp(t).DecodeToken(defaultAccessToken(map[string]any{"type": "app"}))
		require.NoError(t, err)
		assert.Equal(t, "app", tok.Claims.Type)
	})

	t.Run(file+"test_encode_decode_audience", func(t *testing.T) {
		m := decodeApp(t)
		assert.NotContains(t, claimsOf(t, m, ginjwttest.Access(t, m, "username")), "aud")

		m = decodeApp(t, ginjwt.WithClaims(ginjwt.ClaimsConfig{EncodeAudience: []string{"foo"}, DecodeAudience: []string{"foo"}}))
		assert.Equal(t, "foo", claimsOf(t, m, ginjwttest.Access(t, m, "username"))["aud"])

		m = decodeApp(t, ginjwt.WithClaims(ginjwt.ClaimsConfig{EncodeAudience: []string{"foo"}, DecodeAudience: []string{"bar"}}))
		assert.Equal(t, "Audience doesn't match", decodeErr(t, m, ginjwttest.Access(t, m, "username")))

		m = decodeApp(t, ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeAudience: []string{"foo"}}))
		assert.Equal(t, `Token is missing the "aud" claim`, decodeErr(t, m, ginjwttest.Access(t, m, "username")))

		m = decodeApp(t, ginjwt.WithClaims(ginjwt.ClaimsConfig{EncodeAudience: []string{"foo"}}))
		assert.Equal(t, "foo", claimsOf(t, m, ginjwttest.Access(t, m, "username"))["aud"])
	})

	t.Run(file+"test_expired_token", func(t *testing.T) {
		m := decodeApp(t)
		for _, token := range []string{
			ginjwttest.Access(t, m, "username", ginjwt.ExpiresIn(-5*time.Minute)),
			ginjwttest.Refresh(t, m, "username", ginjwt.ExpiresIn(-5*time.Minute)),
		} {
			_, err := m.DecodeToken(token)
			assert.ErrorIs(t, err, ginjwt.ErrTokenExpired)
		}
	})

	t.Run(file+"test_allow_expired_token", func(t *testing.T) {
		m := decodeApp(t)
		for _, token := range []string{
			ginjwttest.Access(t, m, "username", ginjwt.ExpiresIn(-5*time.Minute)),
			ginjwttest.Refresh(t, m, "username", ginjwt.ExpiresIn(-5*time.Minute)),
		} {
			tok, err := m.DecodeExpiredToken(token)
			require.NoError(t, err)
			assert.Equal(t, "username", tok.Claims.Identity)
			assert.False(t, tok.Claims.ExpiresAt().IsZero())
		}
	})

	t.Run(file+"test_never_expire_token", func(t *testing.T) {
		m := decodeApp(t)
		for _, token := range []string{ginjwttest.Access(t, m, "username", ginjwt.ExpiresIn(ginjwt.NeverExpires)), ginjwttest.Refresh(t, m, "username", ginjwt.ExpiresIn(ginjwt.NeverExpires))} {
			assert.NotContains(t, claimsOf(t, m, token), "exp")
		}
	})

	t.Run(file+"test_nbf_token_in_future", func(t *testing.T) {
		m := decodeApp(t)
		future := time.Now().Add(30 * time.Second).Unix()
		token := ginjwttest.Access(t, m, "username", ginjwt.AdditionalClaims(map[string]any{"nbf": future}))
		assert.Equal(t, "The token is not yet valid (nbf)", decodeErr(t, m, token))

		m = decodeApp(t, ginjwt.WithClaims(ginjwt.ClaimsConfig{Leeway: 30 * time.Second}))
		assert.Empty(t, decodeErr(t, m, ginjwttest.Access(t, m, "username")))
	})

	t.Run(file+"test_alternate_identity_claim", func(t *testing.T) {
		m := decodeApp(t, ginjwt.WithClaims(ginjwt.ClaimsConfig{IdentityClaim: "banana"}))
		assert.Equal(t, "Missing claim: banana", decodeErr(t, m, defaultAccessToken(nil)))
		claims := claimsOf(t, m, defaultAccessToken(map[string]any{"banana": "username"}, "sub"))
		assert.Contains(t, claims, "banana")
		assert.NotContains(t, claims, "sub")
	})

	t.Run(file+"test_get_jti", func(t *testing.T) {
		tok, err := decodeApp(t).DecodeToken(defaultAccessToken(nil))
		require.NoError(t, err)
		assert.Equal(t, "1234", tok.Claims.JTI)
	})

	t.Run(file+"test_custom_encode_decode_key_callbacks", func(t *testing.T) {
		different := []byte("different secret, long enough for HS256!")
		encode := ginjwt.WithEncodeKeyLoader(func(identity string) (string, any, error) {
			assert.Equal(t, "username", identity)
			return "", different, nil
		})
		m := decodeApp(t, encode)
		assert.Equal(t, "Signature verification failed", decodeErr(t, m, ginjwttest.Access(t, m, "username")))
		assert.Equal(t, "Signature verification failed", decodeErr(t, m, ginjwttest.Refresh(t, m, "username")))

		m = decodeApp(t, encode, ginjwt.WithDecodeKeyLoader(func(tok *ginjwt.Token) (any, error) {
			assert.Equal(t, "HS256", tok.Header.Alg)
			sub, _ := tok.Claims.Get("sub") // unverified yet: the fields are not filled
			assert.Equal(t, "username", sub)
			return different, nil
		}))
		assert.Empty(t, decodeErr(t, m, ginjwttest.Access(t, m, "username")))
		assert.Empty(t, decodeErr(t, m, ginjwttest.Refresh(t, m, "username")))
	})

	t.Run(file+"test_valid_aud", func(t *testing.T) {
		m := decodeApp(t, ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeAudience: []string{"foo", "bar"}}))
		for _, aud := range []any{"foo", []any{"bar"}, []any{"foo", "bar", "baz"}} {
			assert.Equal(t, aud, claimsOf(t, m, defaultAccessToken(map[string]any{"aud": aud}))["aud"])
		}
	})

	t.Run(file+"test_invalid_aud", func(t *testing.T) {
		m := decodeApp(t, ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeAudience: []string{"foo"}}))
		for _, aud := range []any{"bar", []any{"bar"}, []any{"bar", "baz"}} {
			assert.Equal(t, "Audience doesn't match", decodeErr(t, m, defaultAccessToken(map[string]any{"aud": aud})))
		}
	})

	t.Run(file+"test_verify_no_aud", func(t *testing.T) {
		m := decodeApp(t)
		for _, aud := range []any{"bar", []any{"bar"}, []any{"bar", "baz"}} {
			assert.Equal(t, aud, claimsOf(t, m, defaultAccessToken(map[string]any{"aud": aud}))["aud"])
		}
	})

	t.Run(file+"test_invalid_sub_values", func(t *testing.T) {
		m := decodeApp(t)
		for _, sub := range []any{123, map[string]any{}, []any{}, false} {
			assert.Equal(t, "Subject must be a string", decodeErr(t, m, defaultAccessToken(map[string]any{"sub": sub})), "%v", sub)
		}
	})

	t.Run(file+"test_invalid_sub_values_allowed_with_no_verify", func(t *testing.T) {
		m := decodeApp(t, ginjwt.WithClaims(ginjwt.ClaimsConfig{AllowNonStringSub: true}))
		for _, sub := range []any{123, map[string]any{}, []any{}, false} {
			tok, err := m.DecodeToken(defaultAccessToken(map[string]any{"sub": sub}))
			require.NoError(t, err, "%v", sub)
			want, _ := json.Marshal(sub)
			assert.JSONEq(t, string(want), string(tok.Claims.IdentityJSON()))
		}
	})

	t.Run(file+"test_encode_iss", func(t *testing.T) {
		m := decodeApp(t, ginjwt.WithClaims(ginjwt.ClaimsConfig{EncodeIssuer: "foobar"}))
		assert.Equal(t, "foobar", claimsOf(t, m, ginjwttest.Access(t, m, "username"))["iss"])
	})

	t.Run(file+"test_mismatch_iss", func(t *testing.T) {
		m := decodeApp(t, ginjwt.WithClaims(ginjwt.ClaimsConfig{EncodeIssuer: "foobar", DecodeIssuers: []string{"baz"}}))
		assert.Equal(t, "Invalid issuer", decodeErr(t, m, ginjwttest.Access(t, m, "username")))
	})

	t.Run(file+"test_valid_decode_iss", func(t *testing.T) {
		m := decodeApp(t, ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"foobar"}}))
		assert.Equal(t, "foobar", claimsOf(t, m, defaultAccessToken(map[string]any{"iss": "foobar"}))["iss"])
	})

	t.Run(file+"test_invalid_decode_iss", func(t *testing.T) {
		m := decodeApp(t, ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"baz"}}))
		assert.Equal(t, "Invalid issuer", decodeErr(t, m, defaultAccessToken(map[string]any{"iss": "foobar"})))
	})

	t.Run(file+"test_malformed_token", func(t *testing.T) {
		_, err := decodeApp(t).DecodeToken("foobarbaz")
		assert.ErrorIs(t, err, ginjwt.ErrTokenMalformed)
	})

	t.Run(file+"test_jwt_headers", func(t *testing.T) {
		m := decodeApp(t)
		extra := ginjwt.AdditionalHeaders(map[string]any{"foo": "bar"})
		for _, token := range []string{ginjwttest.Access(t, m, "username", extra), ginjwttest.Refresh(t, m, "username", extra)} {
			header, err := ginjwt.UnverifiedHeader(token)
			require.NoError(t, err)
			h, err := header.Map()
			require.NoError(t, err)
			assert.Equal(t, "bar", h["foo"])
		}
	})

	t.Run(file+"test_token_expires_time", func(t *testing.T) {
		m := decodeApp(t, ginjwt.WithAccessExpires(time.Hour), ginjwt.WithRefreshExpires(2*time.Hour))
		now := time.Now()
		access, err := m.DecodeToken(ginjwttest.Access(t, m, "username"))
		require.NoError(t, err)
		refresh, err := m.DecodeToken(ginjwttest.Refresh(t, m, "username"))
		require.NoError(t, err)
		assert.WithinDuration(t, now.Add(time.Hour), access.Claims.ExpiresAt(), 2*time.Second)
		assert.WithinDuration(t, now.Add(2*time.Hour), refresh.Claims.ExpiresAt(), 2*time.Second)
	})

	t.Run(file+"test_nbf_is_present_by_default", func(t *testing.T) {
		m := decodeApp(t)
		assert.Contains(t, claimsOf(t, m, ginjwttest.Fresh(t, m, "username")), "nbf")
	})

	t.Run(file+"test_disable_nbf_encoding", func(t *testing.T) {
		m := decodeApp(t, ginjwt.WithClaims(ginjwt.ClaimsConfig{OmitNBF: true}))
		assert.NotContains(t, claimsOf(t, m, ginjwttest.Fresh(t, m, "username")), "nbf")
	})
}
