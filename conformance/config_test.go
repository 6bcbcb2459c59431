package conformance

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// test_config.py reads flask's config proxy; ginjwt has none, so the tests
// that can be checked by behaviour are, through New and the tokens it
// makes. The others are listed in index_table_test.go.
func TestFlaskConfig(t *testing.T) {
	const file = "test_config.py::"

	t.Run(file+"test_tokens_never_expire", func(t *testing.T) {
		m := newManager(t, ginjwt.WithAccessExpires(ginjwt.NeverExpires), ginjwt.WithRefreshExpires(ginjwt.NeverExpires))
		assert.NotContains(t, claimsOf(t, m, ginjwttest.Access(t, m, "username")), "exp")
		assert.NotContains(t, claimsOf(t, m, ginjwttest.Refresh(t, m, "username")), "exp")
	})

	// flask reads 300 and 432000 as seconds; Go says so with a Duration.
	t.Run(file+"test_tokens_with_int_values", func(t *testing.T) {
		m := newManager(t, ginjwt.WithAccessExpires(300*time.Second), ginjwt.WithRefreshExpires(432000*time.Second))
		access, err := m.DecodeToken(ginjwttest.Access(t, m, "username"))
		require.NoError(t, err)
		refresh, err := m.DecodeToken(ginjwttest.Refresh(t, m, "username"))
		require.NoError(t, err)
		assert.Equal(t, 5*time.Minute, access.Claims.ExpiresAt().Sub(access.Claims.IssuedAt()))
		assert.Equal(t, 5*24*time.Hour, refresh.Claims.ExpiresAt().Sub(refresh.Claims.IssuedAt()))
	})

	// flask raises when the key is first needed; New reports it at once.
	// (flask's fallback to app.secret_key has no Gin counterpart.)
	t.Run(file+"test_symmetric_secret_key", func(t *testing.T) {
		_, err := ginjwt.New()
		assert.ErrorIs(t, err, ginjwt.ErrConfig)
		_, err = ginjwt.New(ginjwt.WithSecretKey([]byte(testSecret)))
		assert.NoError(t, err)
	})

	t.Run(file+"test_default_with_asymmetric_secret_key", func(t *testing.T) {
		_, err := ginjwt.New(ginjwt.WithAlgorithm("RS256"))
		assert.ErrorIs(t, err, ginjwt.ErrConfig, "no key")
		_, err = ginjwt.New(ginjwt.WithAlgorithm("RS256"), ginjwt.WithSecretKey([]byte(testSecret)))
		assert.ErrorIs(t, err, ginjwt.ErrConfig, "the secret is not used for RS256")
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		_, err = ginjwt.New(ginjwt.WithAlgorithm("RS256"), ginjwt.WithPrivateKey(key), ginjwt.WithPublicKey(&key.PublicKey))
		assert.NoError(t, err)
	})

	// The Python-only cases (a string, a dict, an int or a range as the
	// location list; "banana" or True as an expiry) cannot be written in Go.
	t.Run(file+"test_invalid_config_options", func(t *testing.T) {
		for name, opt := range map[string]ginjwt.Option{
			"no location":           ginjwt.WithTokenLocations(),
			"unknown location":      ginjwt.WithTokenLocations(ginjwt.InHeaders, ginjwt.InCookies, ginjwt.Location(99)),
			"empty header name":     ginjwt.WithHeader("", "Bearer"),
			"access expiry not > 0": ginjwt.WithAccessExpires(-time.Second),
			"refresh expiry not >0": ginjwt.WithRefreshExpires(0),
		} {
			_, err := ginjwt.New(ginjwt.WithSecretKey([]byte(testSecret)), opt)
			assert.ErrorIs(t, err, ginjwt.ErrConfig, name)
		}
	})

	t.Run(file+"test_jwt_token_locations_config", func(t *testing.T) {
		for i := range allLocations {
			newManager(t, ginjwt.WithTokenLocations(allLocations[i]))
			newManager(t, ginjwt.WithTokenLocations(allLocations[:i+1]...))
		}
	})

	t.Run(file+"test_csrf_protect_config", func(t *testing.T) {
		for _, protect := range []bool{true, false} {
			m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithCookies(ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{Disabled: !protect}}))
			r := newRouter()
			r.POST("/p", m.JWTRequired(), fooBar)
			w := newFlaskClient(t, r).post("/p", withHeader("Cookie", "access_token_cookie="+ginjwttest.Access(t, m, "username")))
			if protect {
				expectMsg(t, w, 401, "Missing CSRF token")
			} else {
				expectJSON(t, w, 200, `{"foo":"bar"}`)
			}
		}
	})

	// JWT_ALGORITHM is always among the decode algorithms.
	t.Run(file+"test_missing_algorithm_in_decode_algorithms", func(t *testing.T) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		m, err := ginjwt.New(ginjwt.WithAlgorithm("RS256"), ginjwt.WithPrivateKey(key),
			ginjwt.WithSecretKey([]byte(testSecret+testSecret)), ginjwt.WithDecodeAlgorithms("HS512"))
		require.NoError(t, err)
		tok, err := m.DecodeToken(ginjwttest.Access(t, m, "username"))
		require.NoError(t, err)
		assert.Equal(t, "RS256", tok.Header.Alg)
	})
}
