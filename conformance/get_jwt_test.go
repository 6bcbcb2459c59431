package conformance

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// test_get_jwt_in_non_protected_contexts.py: flask raises RuntimeError
// (a 500) when a route without a guard asks for the token. ginjwt's
// CurrentUser returns ErrNoTokenInContext; CurrentClaims, CurrentHeader and
// CurrentIdentity return zero values instead of failing, a deliberate
// difference ("The accessors never panic") pinned here.
func TestFlaskGetJWTInNonProtectedContexts(t *testing.T) {
	const file = "test_get_jwt_in_non_protected_contexts.py::"
	unguarded := func(t *testing.T, h gin.HandlerFunc) *httptest.ResponseRecorder {
		r := newRouter()
		r.GET("/", h)
		return newFlaskClient(t, r).get("/")
	}

	t.Run(file+"test_get_jwt_in_non_protected_route", func(t *testing.T) {
		w := unguarded(t, func(c *gin.Context) {
			claims, err := ginjwt.CurrentClaims(c).Map()
			require.NoError(t, err)
			c.JSON(http.StatusOK, claims)
		})
		expectJSON(t, w, 200, `{}`)
	})

	t.Run(file+"test_get_jwt_header_in_non_protected_route", func(t *testing.T) {
		w := unguarded(t, func(c *gin.Context) {
			h, err := ginjwt.CurrentHeader(c).Map()
			require.NoError(t, err)
			c.JSON(http.StatusOK, h)
		})
		expectJSON(t, w, 200, `{}`)
	})

	t.Run(file+"test_get_jwt_identity_in_non_protected_route", func(t *testing.T) {
		w := unguarded(t, func(c *gin.Context) {
			c.JSON(http.StatusOK, gin.H{"identity": ginjwt.CurrentIdentity(c), "json": ginjwt.CurrentClaims(c).IdentityJSON()})
		})
		expectJSON(t, w, 200, `{"identity":"","json":null}`)
	})

	for _, name := range []string{"test_current_user_in_non_protected_route", "test_get_current_user_in_non_protected_route"} {
		t.Run(file+name, func(t *testing.T) {
			w := unguarded(t, func(c *gin.Context) {
				_, err := ginjwt.CurrentUser[string](c)
				assert.ErrorIs(t, err, ginjwt.ErrNoTokenInContext)
				c.Status(http.StatusInternalServerError)
			})
			assert.Equal(t, 500, w.Code)
		})
	}
}

// test_get_methods_in_optional_endpoint.py: an optional guard without a
// token gives empty claims and header, no identity and no user, and never
// runs the user lookup.
func TestFlaskGetMethodsInOptionalEndpoint(t *testing.T) {
	const file = "test_get_methods_in_optional_endpoint.py::"
	t.Run(file+"test_get_jwt_in_optional_route", func(t *testing.T) {
		m := newManager(t, ginjwt.WithUserLookup(func(*gin.Context, *ginjwt.Token) (string, error) {
			t.Error("the lookup must not run without a token")
			return "", nil
		}))
		r := newRouter()
		r.GET("/optional", m.JWTRequired(ginjwt.Optional()), func(c *gin.Context) {
			claims, err := ginjwt.CurrentClaims(c).Map()
			require.NoError(t, err)
			assert.Empty(t, claims)
			h, err := ginjwt.CurrentHeader(c).Map()
			require.NoError(t, err)
			assert.Empty(t, h)
			assert.Empty(t, ginjwt.CurrentIdentity(c))
			assert.Nil(t, ginjwt.CurrentClaims(c).IdentityJSON())
			_, err = ginjwt.CurrentUser[string](c)
			assert.ErrorIs(t, err, ginjwt.ErrNoTokenInContext)
			fooBar(c)
		})
		expectJSON(t, newFlaskClient(t, r).get("/optional"), 200, `{"foo":"bar"}`)
	})
}
