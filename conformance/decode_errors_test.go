package conformance

// Which refusal a bad token gets, and in which order the checks run, as
// PyJWT and flask-jwt-extended decide: pinned to PyJWT's messages (the
// PyJWT 2.10+ that flask-jwt-extended 4.7.1 runs with), and compared
// request by request with the real flask-jwt-extended.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every claim check PyJWT 2.x makes, with its message (jwt/api_jwt.py:
// _validate_iat, _validate_nbf, _validate_exp, _validate_iss, _validate_aud,
// _validate_sub, _validate_jti).
func TestPyJWTClaimMessages(t *testing.T) {
	now := time.Unix(1795566329, 0)
	clock := ginjwt.WithClock(func() time.Time { return now })
	iss := []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"https://auth"}})}
	aud := []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeAudience: []string{"orders"}})}
	tests := []struct {
		name    string
		opts    []ginjwt.Option
		payload string
		status  int
		msg     string
	}{
		{"iat not a number", nil, `{"sub":"a","iat":"soon"}`, 422, "Issued At claim (iat) must be an integer."},
		{"iat in the future", nil, `{"sub":"a","iat":1795569999}`, 422, "The token is not yet valid (iat)"},
		{"nbf not a number", nil, `{"sub":"a","nbf":"soon"}`, 422, "Not Before claim (nbf) must be an integer."},
		{"nbf in the future", nil, `{"sub":"a","nbf":1795569999}`, 422, "The token is not yet valid (nbf)"},
		{"exp not a number", nil, `{"sub":"a","exp":"soon"}`, 422, "Expiration Time claim (exp) must be an integer."},
		{"exp past", nil, `{"sub":"a","exp":1795566000}`, 401, "Token has expired"},

		{"iss absent", iss, `{"sub":"a"}`, 422, `Token is missing the "iss" claim`},
		{"iss empty string", iss, `{"sub":"a","iss":""}`, 422, "Invalid issuer"},
		{"iss null", iss, `{"sub":"a","iss":null}`, 422, "Payload Issuer (iss) must be a string"},
		{"iss a list", iss, `{"sub":"a","iss":["https://auth"]}`, 422, "Payload Issuer (iss) must be a string"},
		{"iss a number", iss, `{"sub":"a","iss":1}`, 422, "Payload Issuer (iss) must be a string"},
		{"iss another", iss, `{"sub":"a","iss":"https://other"}`, 422, "Invalid issuer"},
		{"iss a substring", iss, `{"sub":"a","iss":"auth"}`, 422, "Invalid issuer"},
		{"iss matches", iss, `{"sub":"a","iss":"https://auth"}`, 200, ""},
		{"iss not configured", nil, `{"sub":"a","iss":["x"]}`, 200, ""},

		{"aud absent", aud, `{"sub":"a"}`, 422, `Token is missing the "aud" claim`},
		{"aud empty string", aud, `{"sub":"a","aud":""}`, 422, `Token is missing the "aud" claim`},
		{"aud empty list", aud, `{"sub":"a","aud":[]}`, 422, `Token is missing the "aud" claim`},
		{"aud empty object", aud, `{"sub":"a","aud":{}}`, 422, `Token is missing the "aud" claim`},
		{"aud null", aud, `{"sub":"a","aud":null}`, 422, `Token is missing the "aud" claim`},
		{"aud false", aud, `{"sub":"a","aud":false}`, 422, `Token is missing the "aud" claim`},
		{"aud zero", aud, `{"sub":"a","aud":0}`, 422, `Token is missing the "aud" claim`},
		{"aud list of an empty string", aud, `{"sub":"a","aud":[""]}`, 422, "Audience doesn't match"},
		{"aud a number", aud, `{"sub":"a","aud":7}`, 422, "Invalid claim format in token"},
		{"aud true", aud, `{"sub":"a","aud":true}`, 422, "Invalid claim format in token"},
		{"aud an object", aud, `{"sub":"a","aud":{"orders":1}}`, 422, "Invalid claim format in token"},
		{"aud list with a number", aud, `{"sub":"a","aud":["orders",1]}`, 422, "Invalid claim format in token"},
		{"aud another", aud, `{"sub":"a","aud":"billing"}`, 422, "Audience doesn't match"},
		{"aud in a list", aud, `{"sub":"a","aud":["billing","orders"]}`, 200, ""},
		{"aud not configured", nil, `{"sub":"a","aud":7}`, 200, ""},

		{"sub a number", nil, `{"sub":7}`, 422, "Subject must be a string"},
		{"sub null", nil, `{"sub":null}`, 422, "Subject must be a string"},
		{"jti a number", nil, `{"sub":"a","jti":7}`, 422, "JWT ID must be a string"},
		{"jti null", nil, `{"sub":"a","jti":null}`, 422, "JWT ID must be a string"},

		// PyJWT's order: iat, nbf, exp, iss, aud, sub, jti.
		{"iss before aud", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"https://auth"}, DecodeAudience: []string{"orders"}})}, `{"sub":7,"iss":"x","aud":"y"}`, 422, "Invalid issuer"},
		{"aud before sub", aud, `{"sub":7,"aud":"y","jti":1}`, 422, "Audience doesn't match"},
		{"sub before jti", nil, `{"sub":7,"jti":1}`, 422, "Subject must be a string"},
		{"nbf before exp", nil, `{"sub":"a","nbf":1795569999,"exp":1}`, 422, "The token is not yet valid (nbf)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newManager(t, append(tc.opts, clock)...)
			r := newRouter()
			r.GET("/p", m.JWTRequired(), echoToken)
			w := newFlaskClient(t, r).get("/p", withBearer(signPayload(tc.payload)))
			require.Equal(t, tc.status, w.Code, w.Body.String())
			if tc.msg != "" {
				assertMsg(t, w, tc.msg)
			}
		})
	}
}

// flask decodes an expired token a second time with expiry ignored and
// reports whatever else is wrong with it; only an otherwise valid token gets
// "Token has expired" (and reaches the expired-token handler).
func TestExpiredTokenReportsOtherDefectsFirst(t *testing.T) {
	now := time.Unix(1795566329, 0)
	clock := ginjwt.WithClock(func() time.Time { return now })
	const past = `"exp":1795566000`
	tests := []struct {
		name    string
		opts    []ginjwt.Option
		payload string
		status  int
		msg     string
	}{
		{"otherwise valid", nil, `{"sub":"a",` + past + `}`, 401, "Token has expired"},
		{"without sub", nil, `{"identity":"a",` + past + `}`, 422, "Missing claim: sub"},
		{"numeric sub", nil, `{"sub":7,` + past + `}`, 422, "Subject must be a string"},
		{"another issuer, beyond the leeway", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"iss"}, Leeway: time.Minute})}, `{"sub":"a","iss":"other-iss",` + past + `}`, 422, "Invalid issuer"},
		{"no issuer", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"iss"}})}, `{"sub":"a",` + past + `}`, 422, `Token is missing the "iss" claim`},
		{"another audience", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeAudience: []string{"orders"}})}, `{"sub":"a","aud":"billing",` + past + `}`, 422, "Audience doesn't match"},
		{"numeric jti", nil, `{"sub":"a","jti":5,` + past + `}`, 422, "JWT ID must be a string"},
		{"custom identity claim missing", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{IdentityClaim: "identity"})}, `{"sub":"a",` + past + `}`, 422, "Missing claim: identity"},
		// Checks that come before expiry in PyJWT still come first.
		{"iat in the future", nil, `{"sub":"a","iat":1795569999,` + past + `}`, 422, "The token is not yet valid (iat)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var expiredCalls int
			m := newManager(t, append(tc.opts, clock, handleKind(ginjwt.ErrTokenExpired, func(c *gin.Context, err *ginjwt.Error) {
				expiredCalls++
				c.JSON(err.Status, gin.H{"msg": err.Message})
			}))...)
			r := newRouter()
			r.GET("/p", m.JWTRequired(), echoToken)
			token := signPayload(tc.payload)
			w := newFlaskClient(t, r).get("/p", withBearer(token))
			assert.Equal(t, tc.status, w.Code, w.Body.String())
			assertMsg(t, w, tc.msg)
			assert.Equal(t, tc.status == 401, expiredCalls == 1, "the expired handler sees only otherwise valid tokens")

			// decode_token(allow_expired=True) answers the same way.
			tok, err := m.DecodeExpiredToken(token)
			if tc.status == 401 {
				require.NoError(t, err)
				assert.Equal(t, "a", tok.Claims.Identity)
			} else {
				var e *ginjwt.Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, tc.msg, e.Message)
				assert.False(t, errors.Is(err, ginjwt.ErrTokenExpired))
			}
		})
	}
}

// In a cookie, a CSRF mismatch is reported before the expiry, and a missing
// csrf claim too, as flask's second decode checks both.
func TestExpiredCookieChecksCSRFFirst(t *testing.T) {
	now := time.Unix(1795566329, 0)
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithClock(func() time.Time { return now }))
	r := newRouter()
	r.Any("/protected", m.JWTRequired(), echoToken)
	withCSRF := signPayload(`{"sub":"a","csrf":"right","exp":1795566000}`)
	noCSRF := signPayload(`{"sub":"a","exp":1795566000}`)
	fc := newFlaskClient(t, r)
	cookie := func(v string) reqOpt { return withCookie("access_token_cookie", v) }
	csrf := func(v string) reqOpt { return withHeader("X-CSRF-TOKEN", v) }

	w := fc.post("/protected", cookie(withCSRF), csrf("wrong"))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "CSRF double submit tokens do not match")

	w = fc.post("/protected", cookie(noCSRF), csrf("any"))
	assert.Equal(t, 422, w.Code)
	assertMsg(t, w, "Missing claim: csrf")

	w = fc.post("/protected", cookie(withCSRF))
	assert.Equal(t, 401, w.Code, "a missing CSRF header is found before the token is decoded")
	assertMsg(t, w, "Missing CSRF token")

	w = fc.post("/protected", cookie(withCSRF), csrf("right"))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Token has expired")

	w = fc.get("/protected", cookie(withCSRF), csrf("wrong"))
	assert.Equal(t, 401, w.Code, "GET is not a CSRF method")
	assertMsg(t, w, "Token has expired")
}

// The edges of issue 15, request by request against the real
// flask-jwt-extended: expired tokens with other defects, PyJWT's audience
// and issuer messages, and a non-string identity. Debian ships
// flask-jwt-extended 4.4 with PyJWT 2.6, which already decodes an expired
// token a second time as 4.7.1 does; the checks PyJWT added later ("Subject
// must be a string", "Payload Issuer (iss) must be a string") are tested
// against PyJWT's source in TestPyJWTClaimMessages instead.
func TestRealFlaskEdgeParity(t *testing.T) {
	past := time.Now().Add(-time.Hour).Unix()
	payload := func(format string) string { return signPayload(fmt.Sprintf(format, past)) }

	tests := []struct {
		name   string
		config map[string]any
		opts   []ginjwt.Option
		tokens []string
	}{
		{
			name:   "expired tokens report their other defects first",
			config: map[string]any{"JWT_DECODE_ISSUER": "iss", "JWT_DECODE_LEEWAY": 60},
			opts:   []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"iss"}, Leeway: time.Minute})},
			tokens: []string{
				payload(`{"identity":"a","iss":"iss","exp":%d}`),
				payload(`{"sub":"a","iss":"other-iss","exp":%d}`),
				payload(`{"sub":"a","exp":%d}`),
				payload(`{"sub":"a","iss":"iss","exp":%d}`),
			},
		},
		{
			name:   "audience messages",
			config: map[string]any{"JWT_DECODE_AUDIENCE": "orders"},
			opts:   []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeAudience: []string{"orders"}})},
			tokens: []string{
				signPayload(`{"sub":"a","aud":[""]}`),
				signPayload(`{"sub":"a","aud":{}}`),
				signPayload(`{"sub":"a","aud":""}`),
				signPayload(`{"sub":"a","aud":[]}`),
				signPayload(`{"sub":"a","aud":0}`),
				signPayload(`{"sub":"a","aud":7}`),
				signPayload(`{"sub":"a","aud":{"orders":1}}`),
				signPayload(`{"sub":"a","aud":["orders",1]}`),
				signPayload(`{"sub":"a","aud":"billing"}`),
				signPayload(`{"sub":"a","aud":["x","orders"]}`),
				payload(`{"sub":"a","aud":"billing","exp":%d}`),
			},
		},
		{
			name:   "issuer messages",
			config: map[string]any{"JWT_DECODE_ISSUER": "iss"},
			opts:   []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"iss"}})},
			tokens: []string{
				signPayload(`{"sub":"a","iss":""}`),
				signPayload(`{"sub":"a"}`),
				signPayload(`{"sub":"a","iss":"is"}`),
				signPayload(`{"sub":"a","iss":"iss"}`),
			},
		},
		{
			name:   `"b64": false is refused with PyJWT's message, before "alg" is looked at`,
			config: map[string]any{},
			tokens: []string{
				signRaw(`{"alg":"HS256","b64":false}`, `{"sub":"a"}`, testSecret),
				signRaw(`{"b64":false}`, `{"sub":"a"}`, testSecret),
				signRaw(`{"alg":"HS256","b64":true}`, `{"sub":"a"}`, testSecret),
			},
		},
		{
			name:   "a non-string identity keeps its JSON type",
			config: map[string]any{"JWT_IDENTITY_CLAIM": "identity"},
			opts:   []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{IdentityClaim: "identity"})},
			tokens: []string{
				signPayload(`{"identity":42}`),
				signPayload(`{"identity":{"id":7}}`),
				signPayload(`{"identity":"alice"}`),
				payload(`{"sub":"a","exp":%d}`),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.config["JWT_SECRET_KEY"] = testSecret
			checks := make([]peerCheck, len(tc.tokens))
			for i, token := range tc.tokens {
				checks[i] = peerCheck{token, "access"}
			}
			checked, _ := flaskPeer(t, map[string]any{"config": tc.config, "check": checks})
			require.Len(t, checked, len(tc.tokens))

			m := newManager(t, tc.opts...)
			r := newRouter()
			r.GET("/access", m.JWTRequired(), func(c *gin.Context) {
				c.JSON(http.StatusOK, gin.H{"identity": ginjwt.CurrentClaims(c).IdentityJSON()})
			})
			fc := newFlaskClient(t, r)
			for i, token := range tc.tokens {
				w := fc.get("/access", withBearer(token))
				want := checked[i]
				require.Equal(t, want.Status, w.Code, "token %d: flask said %v, ginjwt %s", i, want.Body, w.Body.String())
				var got map[string]any
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
				if want.Status == http.StatusOK {
					assert.Equal(t, want.Body["identity"], got["identity"], "token %d", i)
				} else {
					assert.Equal(t, newerPyJWT(want.Body), got, "token %d", i)
				}
			}
		})
	}

	// In a cookie: a wrong CSRF value is reported before the expiry, and a
	// right one gets "Token has expired".
	t.Run("expired cookie with a wrong CSRF value", func(t *testing.T) {
		expired := payload(`{"sub":"a","csrf":"right","exp":%d}`)
		resp := flaskPeerFull(t, map[string]any{
			"config": map[string]any{"JWT_SECRET_KEY": testSecret, "JWT_TOKEN_LOCATION": []string{"headers", "cookies"}},
			"cookie_check": []map[string]string{
				{"cookie": expired, "csrf": "wrong", "method": "POST"},
				{"cookie": expired, "csrf": "right", "method": "POST"},
			},
		})
		require.Len(t, resp.CookieChecked, 2)
		m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InHeaders, ginjwt.InCookies))
		r := newRouter()
		r.POST("/cookie", m.JWTRequired(ginjwt.Locations(ginjwt.InCookies)), fooBar)
		for i, csrf := range []string{"wrong", "right"} {
			w := newFlaskClient(t, r).post("/cookie", withCookie("access_token_cookie", expired), withHeader("X-CSRF-TOKEN", csrf))
			assert.Equal(t, resp.CookieChecked[i].Status, w.Code)
			var got map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
			assert.Equal(t, resp.CookieChecked[i].Body, got)
		}
	})
}

// newerPyJWT rewrites the messages Debian's PyJWT 2.6 words differently
// from the PyJWT 2.10+ that flask-jwt-extended 4.7.1 runs with: an audience
// mismatch reads "Audience doesn't match" since PyJWT 2.7.
func newerPyJWT(body map[string]any) map[string]any {
	if body["msg"] == "Invalid audience" {
		return map[string]any{"msg": "Audience doesn't match"}
	}
	return body
}
