package conformance

import (
	"net/http"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// viewDecoratorsApp is the app fixture of test_view_decorators.py.
func viewDecoratorsApp(t *testing.T, opts ...ginjwt.Option) (*ginjwt.Manager, *gin.Engine) {
	m := newManager(t, opts...)
	r := newRouter()
	r.GET("/protected", m.JWTRequired(), fooBar)
	r.GET("/fresh_protected", m.FreshRequired(), fooBar)
	r.GET("/refresh_protected", m.RefreshRequired(), fooBar)
	r.GET("/optional_protected", m.JWTRequired(ginjwt.Optional()), func(c *gin.Context) {
		if ginjwt.CurrentIdentity(c) != "" {
			c.JSON(http.StatusOK, gin.H{"foo": "baz"})
			return
		}
		fooBar(c)
	})
	r.GET("/no_typecheck_protected", m.JWTRequired(ginjwt.VerifyType(false)), fooBar)
	return m, r
}

func TestFlaskViewDecorators(t *testing.T) {
	const file = "test_view_decorators.py::"
	const missingHeader = "Missing Authorization Header"

	t.Run(file+"test_jwt_required", func(t *testing.T) {
		m, r := viewDecoratorsApp(t)
		fc := newFlaskClient(t, r)
		for _, token := range []string{ginjwttest.Access(t, m, "username"), ginjwttest.Fresh(t, m, "username")} {
			expectJSON(t, fc.get("/protected", withBearer(token)), 200, `{"foo":"bar"}`)
		}
		expectMsg(t, fc.get("/protected"), 401, missingHeader)
		expectMsg(t, fc.get("/protected", withBearer(ginjwttest.Refresh(t, m, "username"))), 422, "Only non-refresh tokens are allowed")
	})

	t.Run(file+"test_fresh_jwt_required", func(t *testing.T) {
		custom := false
		m, r := viewDecoratorsApp(t, handleKind(ginjwt.ErrFreshTokenRequired, func(c *gin.Context, err *ginjwt.Error) {
			if !custom {
				c.JSON(err.Status, gin.H{"msg": err.Message})
				return
			}
			assert.Equal(t, "HS256", err.Token.Header.Alg)
			assert.Equal(t, "username", err.Token.Claims.Identity)
			c.JSON(201, gin.H{"msg": "foobar"})
		}))
		fc := newFlaskClient(t, r)
		access := ginjwttest.Access(t, m, "username")
		expectJSON(t, fc.get("/fresh_protected", withBearer(ginjwttest.Fresh(t, m, "username"))), 200, `{"foo":"bar"}`)
		expectMsg(t, fc.get("/fresh_protected", withBearer(access)), 401, "Fresh token required")
		expectJSON(t, fc.get("/fresh_protected", withBearer(ginjwttest.Access(t, m, "username", ginjwt.FreshFor(5*time.Minute)))), 200, `{"foo":"bar"}`)
		expectMsg(t, fc.get("/fresh_protected", withBearer(ginjwttest.Access(t, m, "username", ginjwt.FreshFor(-time.Minute)))), 401, "Fresh token required")
		expectMsg(t, fc.get("/fresh_protected"), 401, missingHeader)
		expectMsg(t, fc.get("/fresh_protected", withBearer(ginjwttest.Refresh(t, m, "username"))), 422, "Only non-refresh tokens are allowed")
		custom = true
		expectJSON(t, fc.get("/fresh_protected", withBearer(access)), 201, `{"msg":"foobar"}`)
	})

	t.Run(file+"test_refresh_jwt_required", func(t *testing.T) {
		m, r := viewDecoratorsApp(t)
		fc := newFlaskClient(t, r)
		expectMsg(t, fc.get("/refresh_protected", withBearer(ginjwttest.Fresh(t, m, "username"))), 422, "Only refresh tokens are allowed")
		expectMsg(t, fc.get("/refresh_protected", withBearer(ginjwttest.Access(t, m, "username"))), 422, "Only refresh tokens are allowed")
		expectMsg(t, fc.get("/refresh_protected"), 401, missingHeader)
		expectJSON(t, fc.get("/refresh_protected", withBearer(ginjwttest.Refresh(t, m, "username"))), 200, `{"foo":"bar"}`)
	})

	t.Run(file+"test_jwt_required_no_typecheck", func(t *testing.T) {
		m, r := viewDecoratorsApp(t)
		fc := newFlaskClient(t, r)
		for _, token := range []string{ginjwttest.Access(t, m, "username"), ginjwttest.Fresh(t, m, "username"), ginjwttest.Refresh(t, m, "username")} {
			expectJSON(t, fc.get("/no_typecheck_protected", withBearer(token)), 200, `{"foo":"bar"}`)
		}
		expectMsg(t, fc.get("/no_typecheck_protected"), 401, missingHeader)
	})

	// Parametrized over timedelta and relativedelta, which are both a Go
	// time.Duration.
	t.Run(file+"test_jwt_optional", func(t *testing.T) {
		m, r := viewDecoratorsApp(t)
		fc := newFlaskClient(t, r)
		expectJSON(t, fc.get("/optional_protected", withBearer(ginjwttest.Fresh(t, m, "username"))), 200, `{"foo":"baz"}`)
		expectJSON(t, fc.get("/optional_protected", withBearer(ginjwttest.Access(t, m, "username"))), 200, `{"foo":"baz"}`)
		expectMsg(t, fc.get("/optional_protected", withBearer(ginjwttest.Refresh(t, m, "username"))), 422, "Only non-refresh tokens are allowed")
		expectMsg(t, fc.get("/optional_protected", withBearer(ginjwttest.Expired(t, m, "username"))), 401, "Token has expired")
	})

	t.Run(file+"test_jwt_optional_with_no_valid_jwt", func(t *testing.T) {
		_, r := viewDecoratorsApp(t)
		fc := newFlaskClient(t, r)
		const bad = "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'"
		auth := func(v string) reqOpt { return withHeader("Authorization", v) }
		expectJSON(t, fc.get("/optional_protected"), 200, `{"foo":"bar"}`)
		expectJSON(t, fc.get("/optional_protected", auth("basic creds")), 200, `{"foo":"bar"}`)
		expectMsg(t, fc.get("/optional_protected", auth("Bearer ")), 422, bad)
		expectMsg(t, fc.get("/optional_protected", auth("Bearer xxx")), 422, "Not enough segments")
		expectJSON(t, fc.get("/optional_protected", auth("Foo 1, Bar 2, Baz, 3")), 200, `{"foo":"bar"}`)
		expectMsg(t, fc.get("/optional_protected", auth("Foo 1, Bearer, Baz, 3")), 422, bad)
		expectMsg(t, fc.get("/optional_protected", auth("Foo 1, Bearer 2, Baz, 3")), 422, "Not enough segments")
	})

	// The last step of the flask test (an invalid location answers 500 per
	// request) is a deliberate difference: see
	// TestFlaskDifferenceInvalidLocationPanicsAtSetup.
	t.Run(file+"test_override_jwt_location", func(t *testing.T) {
		m, r := viewDecoratorsApp(t, ginjwt.WithTokenLocations(ginjwt.InCookies))
		r.GET("/protected_other", m.JWTRequired(ginjwt.Locations(ginjwt.InHeaders)), fooBar)
		fc := newFlaskClient(t, r)
		token := ginjwttest.Access(t, m, "username")
		expectJSON(t, fc.get("/protected_other", withBearer(token)), 200, `{"foo":"bar"}`)
		expectMsg(t, fc.get("/protected", withBearer(token)), 401, `Missing cookie "access_token_cookie"`)
		assert.Panics(t, func() { m.JWTRequired(ginjwt.Locations(ginjwt.Location(99))) })
	})

	t.Run(file+"test_invalid_jwt", func(t *testing.T) {
		custom := false
		_, r := viewDecoratorsApp(t, handleKind(ginjwt.ErrInvalidToken, func(c *gin.Context, err *ginjwt.Error) {
			if custom {
				c.JSON(201, gin.H{"msg": "foobar"})
				return
			}
			c.JSON(err.Status, gin.H{"msg": err.Message})
		}))
		fc := newFlaskClient(t, r)
		expectMsg(t, fc.get("/protected", withBearer("aaaaa.bbbbb.ccccc")), 422, "Invalid header padding")
		custom = true
		expectJSON(t, fc.get("/protected", withBearer("aaaaa.bbbbb.ccccc")), 201, `{"msg":"foobar"}`)
	})

	t.Run(file+"test_jwt_missing_claims", func(t *testing.T) {
		_, r := viewDecoratorsApp(t)
		expectMsg(t, newFlaskClient(t, r).get("/protected", withBearer(signPayload(`{"foo":"bar"}`))), 422, "Missing claim: sub")
	})

	t.Run(file+"test_jwt_invalid_audience", func(t *testing.T) {
		_, r := viewDecoratorsApp(t)
		assert.Equal(t, 200, newFlaskClient(t, r).get("/protected", withBearer(signPayload(`{"sub":"me"}`))).Code)
		_, r = viewDecoratorsApp(t, ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeAudience: []string{"my_audience"}}))
		fc := newFlaskClient(t, r)
		expectMsg(t, fc.get("/protected", withBearer(signPayload(`{"sub":"me"}`))), 422, `Token is missing the "aud" claim`)
		expectMsg(t, fc.get("/protected", withBearer(signPayload(`{"aud":"different_audience","sub":"me"}`))), 422, "Audience doesn't match")
	})

	t.Run(file+"test_jwt_invalid_issuer", func(t *testing.T) {
		_, r := viewDecoratorsApp(t)
		assert.Equal(t, 200, newFlaskClient(t, r).get("/protected", withBearer(signPayload(`{"sub":"me"}`))).Code)
		_, r = viewDecoratorsApp(t, ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"my_issuer"}}))
		fc := newFlaskClient(t, r)
		expectMsg(t, fc.get("/protected", withBearer(signPayload(`{"sub":"me"}`))), 422, `Token is missing the "iss" claim`)
		expectMsg(t, fc.get("/protected", withBearer(signPayload(`{"iss":"different_issuer","sub":"me"}`))), 422, "Invalid issuer")
	})

	t.Run(file+"test_malformed_token", func(t *testing.T) {
		_, r := viewDecoratorsApp(t)
		expectMsg(t, newFlaskClient(t, r).get("/protected", withBearer("foobarbaz")), 422, "Not enough segments")
	})

	t.Run(file+"test_expired_token", func(t *testing.T) {
		custom := false
		m, r := viewDecoratorsApp(t, handleKind(ginjwt.ErrTokenExpired, func(c *gin.Context, err *ginjwt.Error) {
			if !custom {
				c.JSON(err.Status, gin.H{"msg": err.Message})
				return
			}
			assert.Equal(t, "HS256", err.Token.Header.Alg)
			assert.Equal(t, "username", err.Token.Claims.Identity)
			assert.Equal(t, "access", err.Token.Claims.Type)
			c.JSON(201, gin.H{"msg": "foobar"})
		}))
		fc := newFlaskClient(t, r)
		token := ginjwttest.Expired(t, m, "username")
		expectMsg(t, fc.get("/protected", withBearer(token)), 401, "Token has expired")
		custom = true
		expectJSON(t, fc.get("/protected", withBearer(token)), 201, `{"msg":"foobar"}`)
	})

	// flask's decode_token raises into the app's error handlers; in Gin the
	// handler passes the error to m.Abort.
	t.Run(file+"test_expired_token_via_decode_token", func(t *testing.T) {
		m, r := viewDecoratorsApp(t, handleKind(ginjwt.ErrTokenExpired, func(c *gin.Context, err *ginjwt.Error) {
			assert.Equal(t, "HS256", err.Token.Header.Alg)
			assert.Equal(t, "username", err.Token.Claims.Identity)
			c.JSON(401, gin.H{"msg": "foobar"})
		}))
		r.GET("/test", func(c *gin.Context) {
			token := ginjwttest.Expired(t, m, "username")
			if _, err := m.DecodeToken(token); err != nil {
				m.Abort(c, err)
				return
			}
			c.JSON(200, gin.H{"msg": "baz"})
		})
		expectJSON(t, newFlaskClient(t, r).get("/test"), 401, `{"msg":"foobar"}`)
	})

	t.Run(file+"test_no_token", func(t *testing.T) {
		_, r := viewDecoratorsApp(t)
		expectMsg(t, newFlaskClient(t, r).get("/protected"), 401, missingHeader)
		_, r = viewDecoratorsApp(t, handleKind(ginjwt.ErrUnauthorized, customJSON(201, gin.H{"msg": "foobar"})))
		expectJSON(t, newFlaskClient(t, r).get("/protected"), 201, `{"msg":"foobar"}`)
	})

	// HS512 needs a secret of 64 bytes (see the README's differences).
	t.Run(file+"test_different_token_algorightm", func(t *testing.T) {
		secret := []byte(testSecret + testSecret)
		m, err := ginjwt.New(ginjwt.WithSecretKey(secret))
		require.NoError(t, err)
		token := ginjwttest.Access(t, m, "username")
		hs512, err := ginjwt.New(ginjwt.WithSecretKey(secret), ginjwt.WithAlgorithm("HS512"))
		require.NoError(t, err)
		r := newRouter()
		r.GET("/protected", hs512.JWTRequired(), fooBar)
		expectMsg(t, newFlaskClient(t, r).get("/protected", withBearer(token)), 422, "The specified alg value is not allowed")
	})

	t.Run(file+"test_verify_jwt_in_request_returns_decoded_token", func(t *testing.T) {
		m, r := viewDecoratorsApp(t)
		r.GET("/custom", func(c *gin.Context) {
			if err := m.VerifyRequest(c); err != nil {
				m.Abort(c, err)
				return
			}
			assert.Equal(t, "HS256", ginjwt.CurrentHeader(c).Alg)
			sub, _ := ginjwt.CurrentClaims(c).Get("sub")
			assert.Equal(t, "username", sub)
			fooBar(c)
		})
		fc := newFlaskClient(t, r)
		expectJSON(t, fc.get("/custom", withBearer(ginjwttest.Access(t, m, "username"))), 200, `{"foo":"bar"}`)
		expectMsg(t, fc.get("/custom"), 401, missingHeader)
	})

	// flask 4.7 writes the number 1234 as "sub" and then refuses its own
	// token; ginjwt writes "1234" (a deliberate difference). A token that
	// does carry a number is refused with flask's message.
	t.Run(file+"test_non_string_identity", func(t *testing.T) {
		m, r := viewDecoratorsApp(t)
		fc := newFlaskClient(t, r)
		expectMsg(t, fc.get("/protected", withBearer(signPayload(`{"sub":1234}`))), 422, "Subject must be a string")
		expectJSON(t, fc.get("/protected", withBearer(ginjwttest.Access(t, m, 1234))), 200, `{"foo":"bar"}`)
	})
}
