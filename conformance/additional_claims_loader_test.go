package conformance

import (
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
)

// claimsApp is the fixture of test_additional_claims_loader.py: both
// routes answer get_jwt().
func claimsApp(t *testing.T, opts ...ginjwt.Option) (*ginjwt.Manager, *flaskClient) {
	return twoRouteApp(t, func(c *gin.Context) (map[string]any, error) { return ginjwt.CurrentClaims(c).Map() }, opts...)
}

func fooBarClaims(string) (map[string]any, error) { return map[string]any{"foo": "bar"}, nil }

func TestFlaskAdditionalClaimsLoader(t *testing.T) {
	const file = "test_additional_claims_loader.py::"

	t.Run(file+"test_additional_claims_in_access_token", func(t *testing.T) {
		m, fc := claimsApp(t, ginjwt.WithAdditionalClaimsLoader(fooBarClaims))
		w := fc.get("/protected", withBearer(ginjwttest.Access(t, m, "username")))
		assert.Equal(t, 200, w.Code)
		assert.Equal(t, "bar", decodeBody(t, w)["foo"])
	})

	// A claim Go cannot encode (here a channel, flask's "app") makes the
	// creation fail.
	t.Run(file+"test_non_serializable_claims", func(t *testing.T) {
		m := newManager(t, ginjwt.WithAdditionalClaimsLoader(func(string) (map[string]any, error) {
			return map[string]any{"app": make(chan int)}, nil
		}))
		_, err := m.CreateAccessToken("username")
		assert.Error(t, err)
	})

	t.Run(file+"test_token_from_complex_object", func(t *testing.T) {
		type testObject struct{ username string }
		m, fc := claimsApp(t,
			ginjwt.WithAdditionalClaimsLoader(func(o testObject) (map[string]any, error) {
				return map[string]any{"username": o.username}, nil
			}),
			ginjwt.WithUserIdentityLoader(func(o testObject) (string, error) { return o.username, nil }))
		token := ginjwttest.Access(t, m, testObject{"username"})
		claims := claimsOf(t, m, token)
		assert.Equal(t, "username", claims["sub"])
		assert.Equal(t, "username", claims["username"])
		w := fc.get("/protected", withBearer(token))
		assert.Equal(t, 200, w.Code)
		assert.Equal(t, "username", decodeBody(t, w)["username"])
	})

	t.Run(file+"test_additional_claims_in_refresh_token", func(t *testing.T) {
		m, fc := claimsApp(t, ginjwt.WithAdditionalClaimsLoader(fooBarClaims))
		w := fc.get("/protected2", withBearer(ginjwttest.Refresh(t, m, "username")))
		assert.Equal(t, 200, w.Code)
		assert.Equal(t, "bar", decodeBody(t, w)["foo"])
	})

	t.Run(file+"test_additional_claims_in_refresh_token_specified_at_creation", func(t *testing.T) {
		m, fc := claimsApp(t)
		w := fc.get("/protected2", withBearer(ginjwttest.Refresh(t, m, "username", ginjwt.AdditionalClaims(map[string]any{"foo": "bar"}))))
		assert.Equal(t, 200, w.Code)
		assert.Equal(t, "bar", decodeBody(t, w)["foo"])
	})

	t.Run(file+"test_additional_claims_in_access_token_specified_at_creation", func(t *testing.T) {
		m, fc := claimsApp(t)
		w := fc.get("/protected", withBearer(ginjwttest.Access(t, m, "username", ginjwt.AdditionalClaims(map[string]any{"foo": "bar"}))))
		assert.Equal(t, 200, w.Code)
		assert.Equal(t, "bar", decodeBody(t, w)["foo"])
	})

	t.Run(file+"test_addition_claims_merge", func(t *testing.T) {
		m, fc := claimsApp(t, ginjwt.WithAdditionalClaimsLoader(func(string) (map[string]any, error) {
			return map[string]any{"default": "value"}, nil
		}))
		w := fc.get("/protected", withBearer(ginjwttest.Access(t, m, "username", ginjwt.AdditionalClaims(map[string]any{"foo": "bar"}))))
		assert.Equal(t, 200, w.Code)
		body := decodeBody(t, w)
		assert.Equal(t, "bar", body["foo"])
		assert.Equal(t, "value", body["default"])
	})

	t.Run(file+"test_addition_claims_merge_tie_goes_to_create_access_token", func(t *testing.T) {
		m, fc := claimsApp(t, ginjwt.WithAdditionalClaimsLoader(func(string) (map[string]any, error) {
			return map[string]any{"default": "value"}, nil
		}))
		w := fc.get("/protected", withBearer(ginjwttest.Access(t, m, "username", ginjwt.AdditionalClaims(map[string]any{"default": "foo"}))))
		assert.Equal(t, 200, w.Code)
		assert.Equal(t, "foo", decodeBody(t, w)["default"])
	})
}
