package ginjwt_test

import (
	"encoding/base64"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A custom decorator built on VerifyRequest, as flask's docs build one on
// verify_jwt_in_request.
func TestVerifyRequestInACustomDecorator(t *testing.T) {
	m := newManager(t)
	adminRequired := func(c *gin.Context) {
		if err := m.VerifyRequest(c); err != nil {
			m.Abort(c, err)
			return
		}
		if role, _ := ginjwt.CurrentClaims(c).Get("role"); role != "admin" {
			c.AbortWithStatusJSON(403, gin.H{"msg": "Admins only!"})
		}
	}
	var runs atomic.Int32
	r := newRouter()
	r.Any("/admin", adminRequired, func(c *gin.Context) {
		runs.Add(1)
		c.JSON(200, gin.H{"who": ginjwt.CurrentIdentity(c)})
	})
	admin := ginjwttest.Access(t, m, "ada", ginjwt.AdditionalClaims(map[string]any{"role": "admin"}))
	user := ginjwttest.Access(t, m, "bob")
	refresh := ginjwttest.Refresh(t, m, "ada")

	w := get(r, "/admin", bearer(admin))
	assert.Equal(t, 200, w.Code)
	assert.JSONEq(t, `{"who":"ada"}`, w.Body.String())
	w = get(r, "/admin", bearer(user))
	assert.Equal(t, 403, w.Code)
	assertMsg(t, w, "Admins only!")
	w = get(r, "/admin")
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Missing Authorization Header")
	w = get(r, "/admin", bearer(refresh))
	assert.Equal(t, 422, w.Code)
	assertMsg(t, w, "Only non-refresh tokens are allowed")
	w = request(r, http.MethodOptions, "/admin")
	assert.Equal(t, 401, w.Code, "VerifyRequest checks OPTIONS like any method")
	assert.Equal(t, int32(1), runs.Load())
}

func TestVerifyRefreshAndFreshRequest(t *testing.T) {
	m := newManager(t)
	refresh := ginjwttest.Refresh(t, m, "ada")
	fresh := ginjwttest.Fresh(t, m, "ada")
	stale := ginjwttest.Access(t, m, "ada")
	r := newRouter()
	answer := func(verify func(*gin.Context, ...ginjwt.GuardOption) error) gin.HandlerFunc {
		return func(c *gin.Context) {
			if err := verify(c); err != nil {
				m.Abort(c, err)
				return
			}
			c.JSON(200, gin.H{"who": ginjwt.CurrentIdentity(c)})
		}
	}
	r.GET("/refresh", answer(m.VerifyRefreshRequest))
	r.GET("/fresh", answer(m.VerifyFreshRequest))
	r.GET("/optional", func(c *gin.Context) {
		require.NoError(t, m.VerifyRequest(c, ginjwt.Optional()))
		_, has := ginjwt.CurrentToken(c)
		c.JSON(200, gin.H{"has": has})
	})
	assert.Equal(t, 200, get(r, "/refresh", bearer(refresh)).Code)
	assertMsg(t, get(r, "/refresh", bearer(fresh)), "Only refresh tokens are allowed")
	assert.Equal(t, 200, get(r, "/fresh", bearer(fresh)).Code)
	w := get(r, "/fresh", bearer(stale))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Fresh token required")
	assert.JSONEq(t, `{"has":false}`, get(r, "/optional").Body.String())
	assert.JSONEq(t, `{"has":true}`, get(r, "/optional", bearer(stale)).Body.String())
}

func TestVerifyRequestReportsImpossibleOptions(t *testing.T) {
	m := newManager(t)
	r := newRouter()
	var err error
	r.GET("/x", func(c *gin.Context) { err = m.VerifyRequest(c, ginjwt.LoadUser()) })
	get(r, "/x", bearer(ginjwttest.Access(t, m, "ada")))
	assert.ErrorContains(t, err, "LoadUser needs WithUserLookup")
}

func TestUnverifiedHeader(t *testing.T) {
	m := newManager(t, ginjwt.WithKeyID("key-2026"))
	tok := ginjwttest.Access(t, m, "ada")
	h, err := ginjwt.UnverifiedHeader(tok)
	require.NoError(t, err)
	assert.Equal(t, "HS256", h.Alg)
	assert.Equal(t, "key-2026", h.Kid)
	all, err := h.Map()
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": "key-2026"}, all)

	// Nothing is verified: a forged token's header reads the same.
	h, err = ginjwt.UnverifiedHeader(signRaw(`{"alg":"HS256","kid":"x"}`, `{}`, "another-secret-another-secret-00"))
	require.NoError(t, err)
	assert.Equal(t, "x", h.Kid)

	// Not verified, so not refused: no alg, an unknown one, crit.
	for _, header := range []string{`{}`, `{"alg":"none"}`, `{"alg":"HS256","crit":["b64"]}`} {
		_, err := ginjwt.UnverifiedHeader(base64.RawURLEncoding.EncodeToString([]byte(header)) + ".e30.")
		assert.NoError(t, err, header)
	}
	for raw, msg := range map[string]string{
		"no-dots":           "Not enough segments",
		"!!!.e30.sig":       "Invalid header padding",
		"W10.e30.sig":       "Invalid header string: must be a json object",
		"eyJraWQiOjF9.e30.": "Key ID header parameter must be a string",
	} {
		_, err := ginjwt.UnverifiedHeader(raw)
		var e *ginjwt.Error
		require.ErrorAs(t, err, &e, raw)
		assert.Equal(t, msg, e.Message, raw)
		assert.ErrorIs(t, err, ginjwt.ErrTokenMalformed, raw)
	}
}
