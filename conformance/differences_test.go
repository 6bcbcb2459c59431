package conformance

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The deliberate differences from flask-jwt-extended 4.7.1, one test each.
// Every test here is an entry of the README's "Where ginjwt differs from
// flask-jwt-extended, on purpose"; the entry names the test.

// README: HMAC secrets shorter than the hash are refused.
func TestFlaskDifferenceShortSecret(t *testing.T) {
	_, err := ginjwt.New(ginjwt.WithSecretKey([]byte("super-secret")))
	assert.ErrorIs(t, err, ginjwt.ErrConfig)
	_, err = ginjwt.New(ginjwt.WithSecretKey([]byte("super-secret")), ginjwt.WithInsecureShortSecret())
	assert.NoError(t, err)
}

// README: small RSA keys are refused (flask's own test key has 1024 bits).
func TestFlaskDifferenceSmallRSAKey(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	_, err = ginjwt.New(ginjwt.WithAlgorithm("RS256"), ginjwt.WithPrivateKey(key))
	assert.ErrorIs(t, err, ginjwt.ErrConfig)
}

// README: ExpiresIn(0) is "expires now"; ExpiresIn(NeverExpires) is flask's expires_delta=False.
func TestFlaskDifferenceExpiresInZero(t *testing.T) {
	m := newManager(t)
	_, err := m.DecodeToken(ginjwttest.Access(t, m, "alice", ginjwt.ExpiresIn(0)))
	assert.ErrorIs(t, err, ginjwt.ErrTokenExpired)
	assert.NotContains(t, claimsOf(t, m, ginjwttest.Access(t, m, "alice", ginjwt.ExpiresIn(ginjwt.NeverExpires))), "exp")
}

// README: claims of the wrong type are refused with a 422 where flask
// accepts them or answers 500; this includes "iat", "nbf" and "exp" that are
// not JSON numbers (PyJWT runs int() on them: "123" and true pass, null and
// lists are a 500).
func TestFlaskDifferenceStricterClaims(t *testing.T) {
	m := newManager(t)
	r := newRouter()
	r.GET("/p", m.JWTRequired(), fooBar)
	for payload, msg := range map[string]string{
		`{"sub":""}`:                "Invalid claim: sub must not be empty",
		`{"sub":"a","type":1}`:      "Invalid claim: type must be a string",
		`{"sub":"a","csrf":1}`:      "Invalid claim: csrf must be a string",
		`{"sub":"a","fresh":"yes"}`: "Invalid claim: fresh must be a boolean or a timestamp",
		`{"sub":"a","exp":1e30}`:    "Expiration Time claim (exp) must be an integer.",
		`{"sub":"a","iat":"123"}`:   "Issued At claim (iat) must be an integer.",
		`{"sub":"a","nbf":true}`:    "Not Before claim (nbf) must be an integer.",
		`{"sub":"a","exp":null}`:    "Expiration Time claim (exp) must be an integer.",
		`{"sub":"a","iat":[1]}`:     "Issued At claim (iat) must be an integer.",
	} {
		expectMsg(t, newFlaskClient(t, r).get("/p", withBearer(signPayload(payload))), 422, msg)
	}
	w := newFlaskClient(t, r).get("/p", withBearer(signRaw(`{"alg":"HS256","crit":["x"],"x":1}`, `{"sub":"a"}`, testSecret)))
	expectMsg(t, w, 422, "Unsupported critical header parameters")
}

// README: an "exp" of 0 is a date in 1970.
func TestFlaskDifferenceExpZero(t *testing.T) {
	_, err := newManager(t).DecodeToken(signPayload(`{"sub":"a","exp":0}`))
	assert.ErrorIs(t, err, ginjwt.ErrTokenExpired)
}

// README: AdditionalHeaders cannot set "alg".
func TestFlaskDifferenceHeadersCannotSetAlg(t *testing.T) {
	_, err := newManager(t).CreateAccessToken("alice", ginjwt.AdditionalHeaders(map[string]any{"alg": "none"}))
	assert.Error(t, err)
}

// README: an Authorization value of commas and spaces is no token (401);
// flask answers 500.
func TestFlaskDifferenceBlankAuthorization(t *testing.T) {
	m := newManager(t)
	r := newRouter()
	r.GET("/p", m.JWTRequired(), fooBar)
	w := newFlaskClient(t, r).get("/p", withHeader("Authorization", ", ,"))
	assert.Equal(t, 401, w.Code, w.Body.String())
}

// README: a JSON body that is not an object (a list) has no token: 401;
// flask calls .get on the list and answers 500.
func TestFlaskDifferenceJSONBodyList(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InJSONBody))
	r := newRouter()
	r.POST("/p", m.JWTRequired(), fooBar)
	w := newFlaskClient(t, r).post("/p", withJSON([]string{ginjwttest.Access(t, m, "alice")}))
	expectMsg(t, w, 401, `Missing "access_token" key in json data.`)
}

// README: with a blocklist, tokens without "jti" are refused (they could
// never be revoked); flask's blocklist loader sees jti None and accepts.
func TestFlaskDifferenceBlocklistNeedsJTI(t *testing.T) {
	m := newManager(t, ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)))
	r := newRouter()
	r.GET("/p", m.JWTRequired(), fooBar)
	fc := newFlaskClient(t, r)
	expectMsg(t, fc.get("/p", withBearer(signPayload(`{"sub":"a"}`))), 422, "Missing claim: jti")
	expectJSON(t, fc.get("/p", withBearer(signPayload(`{"sub":"a","jti":"1"}`))), 200, `{"foo":"bar"}`)
}

// README: renewals keep the old token's custom claims; flask's refresh
// builds the new token from the claims loader alone.
func TestFlaskDifferenceRenewalsKeepClaims(t *testing.T) {
	m := newManager(t)
	r := refreshRouter(t, m)
	refresh := ginjwttest.Refresh(t, m, "alice", ginjwt.AdditionalClaims(map[string]any{"roles": []string{"admin"}}))
	w := newFlaskClient(t, r).post("/refresh", withBearer(refresh))
	require.Equal(t, 200, w.Code, w.Body.String())
	roles, _ := claimsOf(t, m, decodeBody(t, w)["access_token"].(string))["roles"].([]any)
	assert.Equal(t, []any{"admin"}, roles)
}

// README: a guard with a location that does not exist panics when the
// route is set up; flask answers 500 on every request to it.
func TestFlaskDifferenceInvalidLocationPanicsAtSetup(t *testing.T) {
	m := newManager(t)
	assert.Panics(t, func() { m.JWTRequired(ginjwt.Locations(ginjwt.Location(99))) })
	assert.Panics(t, func() { m.JWTRequired(ginjwt.Locations()) })
}

// README: non-string identities are written as strings; flask 4.7 writes
// create_access_token(1234) as the number and then refuses its own token
// (422 "Subject must be a string").
func TestFlaskDifferenceNumericIdentityMintedAsString(t *testing.T) {
	m := newManager(t)
	tok, err := m.DecodeToken(ginjwttest.Access(t, m, 1234))
	require.NoError(t, err)
	assert.Equal(t, `"1234"`, string(tok.Claims.IdentityJSON()))
}

// README: cookies are Secure unless CookieConfig.Insecure (flask: not Secure).
func TestFlaskDifferenceSecureCookies(t *testing.T) {
	for _, insecure := range []bool{false, true} {
		opts := []ginjwt.Option{ginjwt.WithTokenLocations(ginjwt.InCookies)}
		if insecure {
			opts = append(opts, ginjwt.WithCookies(ginjwt.CookieConfig{Insecure: true}))
		}
		w := newFlaskClient(t, cookiesRoutes(t, newManager(t, opts...))).get("/access_token")
		for _, name := range []string{"access_token_cookie", "csrf_access_token"} {
			c := flaskCookie(t, w, name)
			require.NotNil(t, c, name)
			_, secure := c["secure"]
			assert.Equal(t, !insecure, secure, name)
		}
	}
}

// README: a misconfiguration is an error of New, not a 500 on the first
// request (flask raises RuntimeError when the key is first needed).
func TestFlaskDifferenceConfigErrorsAtNew(t *testing.T) {
	_, err := ginjwt.New()
	assert.ErrorIs(t, err, ginjwt.ErrConfig)
	_, err = ginjwt.New(ginjwt.WithAlgorithm("RS256"), ginjwt.WithSecretKey([]byte(testSecret)))
	assert.ErrorIs(t, err, ginjwt.ErrConfig)
}

// README: guards answer OPTIONS themselves (204, no body) instead of
// running the handler, which flask does. Pinned per guard in
// TestFlaskOptionsMethod; here with a token-less preflight on a group.
func TestFlaskDifferenceOptionsAnsweredByGuard(t *testing.T) {
	m := newManager(t)
	r := newRouter()
	ran := false
	api := r.Group("/api", m.JWTRequired())
	api.OPTIONS("/x", func(c *gin.Context) { ran = true; c.String(200, "ok") })
	w := newFlaskClient(t, r).do(http.MethodOptions, "/api/x")
	assert.Equal(t, http.StatusNoContent, w.Code)
	assert.False(t, ran)
}

// README: a string with a lone surrogate escape is refused (422); flask
// keeps it, so "admin\ud800", "admin\udfff" and "admin\ufffd" are three
// users there, which encoding/json would read as one ("admin\ufffd").
func TestFlaskDifferenceLoneSurrogates(t *testing.T) {
	m := newManager(t)
	r := newRouter()
	r.GET("/p", m.JWTRequired(), func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"identity": ginjwt.CurrentIdentity(c)}) })
	fc := newFlaskClient(t, r)
	for _, payload := range []string{`{"sub":"admin\ud800"}`, `{"sub":"admin\udfff"}`, `{"sub":"a","note":"\udc00\ud800"}`} {
		expectMsg(t, fc.get("/p", withBearer(signPayload(payload))), 422, "Invalid payload string: invalid UTF-8 or lone surrogate in a string")
	}
	expectJSON(t, fc.get("/p", withBearer(signPayload(`{"sub":"admin\ufffd"}`))), 200, `{"identity":"admin\ufffd"}`)
}

// README: a number beyond the float range is refused (422 "Invalid payload
// string: number out of range"); flask reads it as infinity, and answers
// 500 when it is "exp".
func TestFlaskDifferenceNumberBeyondFloatRange(t *testing.T) {
	m := newManager(t)
	r := newRouter()
	r.GET("/p", m.JWTRequired(), fooBar)
	fc := newFlaskClient(t, r)
	for _, payload := range []string{`{"sub":"a","x":1e400}`, `{"sub":"a","x":{"y":[-1e400]}}`, `{"sub":"a","exp":1e400}`} {
		expectMsg(t, fc.get("/p", withBearer(signPayload(payload))), 422, "Invalid payload string: number out of range")
	}
	w := fc.get("/p", withBearer(signRaw(`{"alg":"HS256","x":1e400}`, `{"sub":"a"}`, testSecret)))
	expectMsg(t, w, 422, "Invalid header string: number out of range")
}

// README: tokens longer than 8 KiB are refused before they are parsed
// (422 "Token is too large"); flask takes a 12 KB token. WithMaxTokenSize
// raises the limit.
func TestFlaskDifferenceTokenSizeLimit(t *testing.T) {
	big := signPayload(`{"sub":"a","pad":"` + strings.Repeat("x", 9000) + `"}`)
	require.Greater(t, len(big), 12000)
	for _, tc := range []struct {
		opts   []ginjwt.Option
		status int
		body   string
	}{
		{nil, 422, `{"msg":"Token is too large"}`},
		{[]ginjwt.Option{ginjwt.WithMaxTokenSize(16 << 10)}, 200, `{"foo":"bar"}`},
	} {
		r := newRouter()
		r.GET("/p", newManager(t, tc.opts...).JWTRequired(), fooBar)
		expectJSON(t, newFlaskClient(t, r).get("/p", withBearer(big)), tc.status, tc.body)
	}
}

// README: a token has one spelling. PyJWT decodes the signature leniently
// (padding, and characters outside base64url dropped), so it accepts a
// valid token with "=", "==" or "!!" appended; ginjwt refuses them (422
// "Invalid crypto padding").
func TestFlaskDifferenceSignatureSpelling(t *testing.T) {
	m := newManager(t)
	r := newRouter()
	r.GET("/p", m.JWTRequired(), fooBar)
	fc := newFlaskClient(t, r)
	token := signPayload(`{"sub":"a"}`)
	expectJSON(t, fc.get("/p", withBearer(token)), 200, `{"foo":"bar"}`)
	for _, suffix := range []string{"=", "==", "!!"} {
		expectMsg(t, fc.get("/p", withBearer(token+suffix)), 422, "Invalid crypto padding")
	}
}

// README: header and payload are UTF-8 JSON without a byte order mark;
// Python's json.loads also takes a UTF-8 BOM and UTF-16 or UTF-32 texts,
// so flask accepts these spellings of {"sub":"a"}; ginjwt refuses them
// (422).
func TestFlaskDifferenceJSONEncodings(t *testing.T) {
	m := newManager(t)
	r := newRouter()
	r.GET("/p", m.JWTRequired(), fooBar)
	fc := newFlaskClient(t, r)
	utf16LE := func(s string) string {
		var b strings.Builder
		for _, c := range []byte(s) {
			b.WriteByte(c)
			b.WriteByte(0)
		}
		return b.String()
	}
	for _, payload := range []string{"\xef\xbb\xbf" + `{"sub":"a"}`, utf16LE(`{"sub":"a"}`), "\xff\xfe" + utf16LE(`{"sub":"a"}`)} {
		expectMsg(t, fc.get("/p", withBearer(signPayload(payload))), 422, "Invalid payload string: must be a json object")
	}
	w := fc.get("/p", withBearer(signRaw("\xef\xbb\xbf"+`{"alg":"HS256"}`, `{"sub":"a"}`, testSecret)))
	expectMsg(t, w, 422, "Invalid header string: must be a json object")
}

// README: every token carries a "csrf" claim unless CSRFConfig.Disabled,
// whatever the locations, as flask 4.7 does; flask 4.4 (Debian's) adds it
// only when cookies are among JWT_TOKEN_LOCATION.
func TestFlaskDifferenceCSRFClaimInEveryToken(t *testing.T) {
	headersOnly := newManager(t)
	assert.NotEmpty(t, claimsOf(t, headersOnly, ginjwttest.Access(t, headersOnly, "alice"))["csrf"])
	assert.NotEmpty(t, claimsOf(t, headersOnly, ginjwttest.Refresh(t, headersOnly, "alice"))["csrf"])
	disabled := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithCookies(ginjwt.CookieConfig{CSRF: ginjwt.CSRFConfig{Disabled: true}}))
	assert.NotContains(t, claimsOf(t, disabled, ginjwttest.Access(t, disabled, "alice")), "csrf")
}

// README: cookie settings need Cookies among the Manager's locations;
// flask takes JWT_COOKIE_* settings with JWT_TOKEN_LOCATION = ["headers"]
// for a route that reads cookies through locations=["cookies"]. Here that
// Manager lists both and narrows its other routes.
func TestFlaskDifferenceCookieSettingsNeedCookieLocation(t *testing.T) {
	insecure := ginjwt.WithCookies(ginjwt.CookieConfig{Insecure: true})
	_, err := ginjwt.New(ginjwt.WithSecretKey([]byte(testSecret)), insecure)
	require.ErrorIs(t, err, ginjwt.ErrConfig)
	assert.ErrorContains(t, err, "WithCookies needs Cookies among WithTokenLocations")

	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InHeaders, ginjwt.InCookies), insecure)
	r := newRouter()
	r.GET("/api", m.JWTRequired(ginjwt.Locations(ginjwt.InHeaders)), fooBar)
	r.GET("/cookie", m.JWTRequired(ginjwt.Locations(ginjwt.InCookies)), fooBar)
	fc := newFlaskClient(t, r)
	access := ginjwttest.Access(t, m, "alice")
	expectJSON(t, fc.get("/api", withBearer(access)), 200, `{"foo":"bar"}`)
	expectMsg(t, fc.get("/api", withHeader("Cookie", "access_token_cookie="+access)), 401, "Missing Authorization Header")
	expectJSON(t, fc.get("/cookie", withHeader("Cookie", "access_token_cookie="+access)), 200, `{"foo":"bar"}`)
}
