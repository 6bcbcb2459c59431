package ginjwt_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Without a guard, or on an optional route without a token, the accessors
// give zero values and errors: they never panic (flask raises a 500 there).
func TestAccessorsWithoutToken(t *testing.T) {
	m := newManager(t)
	check := func(c *gin.Context) {
		_, ok := ginjwt.CurrentToken(c)
		claims := ginjwt.CurrentClaims(c)
		all, err := claims.Map()
		var typed map[string]any
		typedErr := ginjwt.CurrentClaims(c).Decode(&typed)
		header, herr := ginjwt.CurrentHeader(c).Map()
		_, found := claims.Get("sub")
		_, refreshErr := m.RefreshAccessToken(c)
		c.JSON(200, gin.H{
			"has": ok, "identity": ginjwt.CurrentIdentity(c), "claims": all, "claims_err": err == nil,
			"typed_err": typedErr.Error(), "header": header, "header_err": herr == nil, "found": found,
			"refresh_err": refreshErr.Error(), "fresh": claims.IsFresh(time.Now()),
		})
	}
	r := newRouter()
	r.GET("/open", check)
	r.GET("/optional", m.JWTRequired(ginjwt.Optional()), check)
	for _, path := range []string{"/open", "/optional"} {
		w := get(r, path)
		require.Equal(t, 200, w.Code)
		assert.JSONEq(t, `{"has":false,"identity":"","claims":{},"claims_err":true,
			"typed_err":"ginjwt: no verified token in this request","header":{},"header_err":true,
			"found":false,"refresh_err":"ginjwt: no verified token in this request","fresh":false}`, w.Body.String(), path)
	}
}

type appClaims struct {
	Sub    string         `json:"sub"`
	Role   string         `json:"role"`
	Scopes []string       `json:"scopes"`
	Org    map[string]int `json:"org"`
}

func TestAccessorsWithToken(t *testing.T) {
	m := newManager(t)
	token := ginjwttest.Access(t, m, "alice",
		ginjwt.AdditionalClaims(map[string]any{"role": "admin", "scopes": []string{"read", "write"}, "org": map[string]int{"id": 7}}),
		ginjwt.AdditionalHeaders(map[string]any{"kid": "k1"}))
	r := newRouter()
	r.GET("/me", m.JWTRequired(), func(c *gin.Context) {
		var typed appClaims
		require.NoError(t, ginjwt.CurrentClaims(c).Decode(&typed))
		claims := ginjwt.CurrentClaims(c)
		role, ok := claims.Get("role")
		require.True(t, ok)
		_, missing := claims.Get("nope")
		header := ginjwt.CurrentHeader(c)
		c.JSON(200, gin.H{"typed": typed, "role": role, "missing": missing, "kid": header.Kid,
			"alg": header.Alg, "type": claims.Type, "jti_set": claims.JTI != "", "csrf_set": claims.CSRF != ""})
	})
	w := get(r, "/me", bearer(token))
	require.Equal(t, 200, w.Code, w.Body.String())
	assert.JSONEq(t, `{"typed":{"sub":"alice","role":"admin","scopes":["read","write"],"org":{"id":7}},
		"role":"admin","missing":false,"kid":"k1","alg":"HS256","type":"access","jti_set":true,"csrf_set":true}`, w.Body.String())
}

// get_jwt() fills in flask's defaults for tokens from other issuers.
func TestClaimsMapDefaults(t *testing.T) {
	m := newManager(t)
	tok, err := m.DecodeToken(signPayload(`{"sub":"a"}`))
	require.NoError(t, err)
	all, err := tok.Claims.Map()
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"sub": "a", "type": "access", "fresh": false, "jti": nil}, all)
	assert.Equal(t, `{"sub":"a"}`, tok.Claims.JSON())
	assert.Equal(t, `{"alg":"HS256","typ":"JWT"}`, tok.Header.JSON())
}

func TestRefreshFlow(t *testing.T) {
	now := time.Unix(1795566329, 0)
	m := newManager(t, ginjwt.WithClock(func() time.Time { return now }))
	r := newRouter()
	r.POST("/refresh", m.RefreshRequired(), func(c *gin.Context) {
		token, err := m.RefreshAccessToken(c)
		if err != nil {
			c.JSON(500, gin.H{"msg": err.Error()})
			return
		}
		c.JSON(200, gin.H{"access_token": token})
	})
	r.POST("/misuse", m.JWTRequired(), func(c *gin.Context) {
		_, err := m.RefreshAccessToken(c)
		c.JSON(400, gin.H{"msg": err.Error()})
	})
	refresh := ginjwttest.Refresh(t, m, "alice")
	w := request(r, http.MethodPost, "/refresh", bearer(refresh))
	require.Equal(t, 200, w.Code, w.Body.String())
	access := decodeBody(t, w)["access_token"].(string)
	tok, err := m.DecodeToken(access)
	require.NoError(t, err)
	assert.Equal(t, "alice", tok.Claims.Identity)
	assert.Equal(t, ginjwt.TypeAccess, tok.Claims.Type)
	assert.False(t, tok.Claims.IsFresh(now), "refreshed tokens are not fresh")
	assert.Equal(t, now.Add(15*time.Minute), tok.Claims.ExpiresAt())

	w = request(r, http.MethodPost, "/refresh", bearer(access))
	assert.Equal(t, 422, w.Code)
	assertMsg(t, w, "Only refresh tokens are allowed")

	w = request(r, http.MethodPost, "/misuse", bearer(access))
	assert.Contains(t, decodeBody(t, w)["msg"], "a refresh token is needed")
}

func TestDecodeExpiredToken(t *testing.T) {
	m := newManager(t)
	expired := ginjwttest.Access(t, m, "alice", ginjwt.ExpiresIn(-time.Hour))
	_, err := m.DecodeToken(expired)
	assert.ErrorIs(t, err, ginjwt.ErrTokenExpired)
	tok, err := m.DecodeExpiredToken(expired)
	require.NoError(t, err)
	assert.Equal(t, "alice", tok.Claims.Identity)
	assert.NotEmpty(t, tok.Claims.JTI)

	_, err = m.DecodeExpiredToken("a.b.c")
	assert.ErrorIs(t, err, ginjwt.ErrTokenMalformed)
}

// Claims keep integers exact, as flask's get_jwt() (Python ints) does:
// float64 would turn a 64-bit ID into another user's.
func TestClaimsKeepIntegersExact(t *testing.T) {
	m := newManager(t)
	token := signPayload(`{"sub":"alice","jti":"j","type":"access","uid":12345678901234567,"big":9223372036854775809,` +
		`"ratio":0.5,"whole":1.0,"exp1":1e3,"list":[12345678901234567,{"n":-9007199254740993}]}`)
	r := newRouter()
	r.GET("/claims", m.JWTRequired(), func(c *gin.Context) {
		all, err := ginjwt.CurrentClaims(c).Map()
		require.NoError(t, err)
		c.JSON(200, all)
	})
	w := get(r, "/claims", bearer(token))
	require.Equal(t, 200, w.Code)
	body := w.Body.String()
	for _, exact := range []string{`"uid":12345678901234567`, `"big":9223372036854775809`, `"ratio":0.5`,
		`[12345678901234567,{"n":-9007199254740993}]`} {
		assert.Contains(t, body, exact, "written back digit for digit")
	}

	tok := mustDecode(t, m, token)
	uid, _ := tok.Claims.Get("uid")
	assert.Equal(t, int64(12345678901234567), uid)
	big, _ := tok.Claims.Get("big")
	assert.Equal(t, json.Number("9223372036854775809"), big, "2**63+1 keeps its digits")
	for name, want := range map[string]any{"ratio": 0.5, "whole": 1.0, "exp1": 1000.0} {
		got, _ := tok.Claims.Get(name)
		assert.Equal(t, want, got, "%s is a float, as in Python", name)
	}
}

// With sub verification off, a null identity names nobody: refused, never
// the user "null".
func TestNullIdentityIsRefused(t *testing.T) {
	m := newManager(t, ginjwt.WithClaims(ginjwt.ClaimsConfig{AllowNonStringSub: true}))
	var runs int
	r := newRouter()
	r.GET("/me", m.JWTRequired(), func(c *gin.Context) { runs++; c.String(200, ginjwt.CurrentIdentity(c)) })
	w := get(r, "/me", bearer(signPayload(`{"sub":null,"jti":"j","type":"access"}`)))
	assert.Equal(t, 422, w.Code)
	assertMsg(t, w, "Invalid claim: sub must not be null")
	assert.Zero(t, runs)
	w = get(r, "/me", bearer(signPayload(`{"sub":7,"jti":"j","type":"access"}`)))
	assert.Equal(t, 200, w.Code, "other non-string identities are read as their JSON text")
	assert.Equal(t, "7", w.Body.String())
}

// A forgotten guard is visible in Gin's debug mode: the accessors would
// otherwise answer as for an anonymous request.
func TestForgottenGuardWarnsInDebugMode(t *testing.T) {
	var out bytes.Buffer
	oldWriter, oldMode := gin.DefaultWriter, gin.Mode()
	gin.DefaultWriter = &out
	gin.SetMode(gin.DebugMode)
	defer func() { gin.DefaultWriter = oldWriter; gin.SetMode(oldMode) }()

	m := newManager(t)
	r := newRouter()
	who := func(c *gin.Context) { c.String(200, ginjwt.CurrentIdentity(c)) }
	r.GET("/forgot/:id", who)
	r.GET("/optional", m.JWTRequired(ginjwt.Optional()), who)
	r.GET("/guarded", m.JWTRequired(), who)

	get(r, "/forgot/7")
	assert.Contains(t, out.String(), "[GIN-debug] [WARNING] ginjwt.CurrentIdentity on GET /forgot/:id, where no ginjwt guard ran")
	out.Reset()
	get(r, "/optional")
	get(r, "/guarded", bearer(ginjwttest.Access(t, m, "alice")))
	assert.NotContains(t, out.String(), "WARNING", "an Optional guard without a token is not a forgotten guard")

	gin.SetMode(gin.ReleaseMode)
	get(r, "/forgot/7")
	assert.NotContains(t, out.String(), "WARNING", "release mode stays quiet")
}

// get_jwt_identity() returns the claim with its JSON type; Claims.IdentityJSON
// does too, so jsonify(logged_in_as=get_jwt_identity()) ports exactly.
func TestIdentityJSON(t *testing.T) {
	m := newManager(t, ginjwt.WithClaims(ginjwt.ClaimsConfig{IdentityClaim: "identity"}))
	r := newRouter()
	h := func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"logged_in_as": ginjwt.CurrentClaims(c).IdentityJSON(), "as_string": ginjwt.CurrentIdentity(c)})
	}
	r.GET("/p", m.JWTRequired(), h)
	r.GET("/optional", m.JWTRequired(ginjwt.Optional()), h)
	r.GET("/unguarded", h)

	for payload, want := range map[string]string{
		`{"identity":42}`:                    `{"logged_in_as":42,"as_string":"42"}`,
		`{"identity":1234567890123456789}`:   `{"logged_in_as":1234567890123456789,"as_string":"1234567890123456789"}`,
		`{"identity":"alice"}`:               `{"logged_in_as":"alice","as_string":"alice"}`,
		`{"identity":{"id":7,"admin":true}}`: `{"logged_in_as":{"id":7,"admin":true},"as_string":"{\"id\":7,\"admin\":true}"}`,
		`{"identity":[1,"a"]}`:               `{"logged_in_as":[1,"a"],"as_string":"[1,\"a\"]"}`,
	} {
		w := get(r, "/p", bearer(signPayload(payload)))
		require.Equal(t, 200, w.Code, w.Body.String())
		assert.JSONEq(t, want, w.Body.String(), payload)
	}
	for _, path := range []string{"/optional", "/unguarded"} {
		w := get(r, path)
		require.Equal(t, 200, w.Code)
		assert.JSONEq(t, `{"logged_in_as":null,"as_string":""}`, w.Body.String(), "no token: flask's None")
	}

	tok, err := m.DecodeToken(signPayload(`{"identity":42.5}`))
	require.NoError(t, err)
	assert.Equal(t, "42.5", string(tok.Claims.IdentityJSON()))
	assert.Nil(t, new(ginjwt.Claims).IdentityJSON())
}
