package conformance

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
