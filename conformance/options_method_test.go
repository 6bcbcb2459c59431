package conformance

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
)

// test_options_method.py: flask exempts OPTIONS from the guard and runs the
// view ("ok", 200). ginjwt exempts OPTIONS too, but answers it at the guard
// (204, no body) without running the handler: a deliberate difference
// (README, "differs on purpose"), pinned here for the three guards.
func TestFlaskOptionsMethod(t *testing.T) {
	const file = "test_options_method.py::"
	m := newManager(t)
	r := newRouter()
	ran := 0
	ok := func(c *gin.Context) { ran++; c.String(http.StatusOK, "ok") }
	r.Match([]string{"GET", "OPTIONS"}, "/jwt_required", m.JWTRequired(), ok)
	r.Match([]string{"GET", "OPTIONS"}, "/fresh_jwt_required", m.FreshRequired(), ok)
	r.Match([]string{"GET", "OPTIONS"}, "/jwt_refresh_token_required", m.RefreshRequired(), ok)
	for name, path := range map[string]string{
		"test_access_jwt_required_enpoint":               "/jwt_required",
		"test_access_jwt_refresh_token_required_enpoint": "/jwt_refresh_token_required",
		"test_access_fresh_jwt_required_enpoint":         "/fresh_jwt_required",
	} {
		t.Run(file+name, func(t *testing.T) {
			ran = 0
			w := newFlaskClient(t, r).do(http.MethodOptions, path)
			assert.Equal(t, http.StatusNoContent, w.Code, "no token needed (flask: 200 from the view)")
			assert.Empty(t, w.Body.String())
			assert.Zero(t, ran, "the handler does not run")
		})
	}
}
