package ginjwt_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// signRaw signs any header and payload text with HS256, as flask's test
// helper encode_token does, so tests can build tokens ginjwt would not.
func signRaw(header, payload, secret string) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(input))
	return input + "." + enc.EncodeToString(mac.Sum(nil))
}

func signPayload(payload string) string {
	return signRaw(`{"alg":"HS256","typ":"JWT"}`, payload, testSecret)
}

// guarded is a router with the three guards and the handler runs counted.
type guarded struct {
	r    *gin.Engine
	mu   sync.Mutex
	runs int
}

func newGuarded(m *ginjwt.Manager) *guarded {
	g := &guarded{r: newRouter()}
	handler := func(c *gin.Context) {
		g.mu.Lock()
		g.runs++
		g.mu.Unlock()
		echoToken(c)
	}
	g.r.Any("/protected", m.JWTRequired(), handler)
	g.r.Any("/refresh", m.RefreshRequired(), handler)
	g.r.Any("/fresh", m.FreshRequired(), handler)
	g.r.Any("/optional", m.JWTRequired(ginjwt.Optional()), handler)
	g.r.Any("/any-type", m.JWTRequired(ginjwt.VerifyType(false)), handler)
	return g
}

func TestGuards(t *testing.T) {
	now := time.Unix(1795566329, 0)
	m := newManager(t, ginjwt.WithClock(func() time.Time { return now }))
	access := ginjwttest.Access(t, m, "alice")
	fresh := ginjwttest.Fresh(t, m, "alice")
	freshFor := ginjwttest.Access(t, m, "alice", ginjwt.FreshFor(5*time.Minute))
	staleFresh := ginjwttest.Access(t, m, "alice", ginjwt.FreshFor(-time.Minute))
	refresh := ginjwttest.Refresh(t, m, "alice")
	expired := ginjwttest.Access(t, m, "alice", ginjwt.ExpiresIn(-time.Second))
	expiredRefresh := ginjwttest.Refresh(t, m, "alice", ginjwt.ExpiresIn(-time.Second))
	other := ginjwttest.Access(t, mustManager(t, ginjwt.WithSecretKey([]byte("another-secret-0123456789abcdef0123456789"))), "alice")

	tests := []struct {
		name   string
		path   string
		header []header
		status int
		msg    string // expected error message; "" means 200
		who    string // expected identity on 200
	}{
		{"access token on access route", "/protected", []header{bearer(access)}, 200, "", "alice"},
		{"no header", "/protected", nil, 401, "Missing Authorization Header", ""},
		{"refresh token on access route", "/protected", []header{bearer(refresh)}, 422, "Only non-refresh tokens are allowed", ""},
		{"refresh token on refresh route", "/refresh", []header{bearer(refresh)}, 200, "", "alice"},
		{"access token on refresh route", "/refresh", []header{bearer(access)}, 422, "Only refresh tokens are allowed", ""},
		{"no header on refresh route", "/refresh", nil, 401, "Missing Authorization Header", ""},
		{"verify_type=False takes access", "/any-type", []header{bearer(access)}, 200, "", "alice"},
		{"verify_type=False takes fresh", "/any-type", []header{bearer(fresh)}, 200, "", "alice"},
		{"verify_type=False takes refresh", "/any-type", []header{bearer(refresh)}, 200, "", "alice"},
		{"fresh route, fresh token", "/fresh", []header{bearer(fresh)}, 200, "", "alice"},
		{"fresh route, fresh for 5 more minutes", "/fresh", []header{bearer(freshFor)}, 200, "", "alice"},
		{"fresh route, freshness ran out", "/fresh", []header{bearer(staleFresh)}, 401, "Fresh token required", ""},
		{"fresh route, non-fresh token", "/fresh", []header{bearer(access)}, 401, "Fresh token required", ""},
		{"fresh route, refresh token", "/fresh", []header{bearer(refresh)}, 422, "Only non-refresh tokens are allowed", ""},
		{"expired access token", "/protected", []header{bearer(expired)}, 401, "Token has expired", ""},
		{"expired refresh token", "/refresh", []header{bearer(expiredRefresh)}, 401, "Token has expired", ""},
		{"token from another secret", "/protected", []header{bearer(other)}, 422, "Signature verification failed", ""},
		{"optional, no token", "/optional", nil, 200, "", ""},
		{"optional, basic credentials", "/optional", []header{{"Authorization", "basic creds"}}, 200, "", ""},
		{"optional, other schemes", "/optional", []header{{"Authorization", "Foo 1, Bar 2, Baz, 3"}}, 200, "", ""},
		{"optional, valid token", "/optional", []header{bearer(access)}, 200, "", "alice"},
		{"optional, Bearer without token", "/optional", []header{{"Authorization", "Bearer "}}, 422, "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'", ""},
		{"optional, lone Bearer among others", "/optional", []header{{"Authorization", "Foo 1, Bearer, Baz, 3"}}, 422, "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'", ""},
		{"optional, Bearer ,,0", "/optional", []header{{"Authorization", "Bearer ,,0"}}, 422, "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'", ""},
		{"optional, junk token", "/optional", []header{{"Authorization", "Bearer xxx"}}, 422, "Not enough segments", ""},
		{"optional, junk token among others", "/optional", []header{{"Authorization", "Foo 1, Bearer 2, Baz, 3"}}, 422, "Not enough segments", ""},
		{"optional, expired token", "/optional", []header{bearer(expired)}, 401, "Token has expired", ""},
		{"optional, refresh token", "/optional", []header{bearer(refresh)}, 422, "Only non-refresh tokens are allowed", ""},
		{"header segment of impossible length (flask's own test)", "/protected", []header{bearer("aaaaa.bbbbb.ccccc")}, 422, "Invalid header padding", ""},
		{"header segment that is not JSON", "/protected", []header{bearer("aaaa.bbbbb.ccccc")}, 422, "Invalid header string: must be a json object", ""},
		{"header segment not base64", "/protected", []header{bearer("a$aaa.bbbbb.ccccc")}, 422, "Invalid header padding", ""},
		{"one segment", "/protected", []header{bearer("foobarbaz")}, 422, "Not enough segments", ""},
		{"two segments", "/protected", []header{bearer("a.b")}, 422, "Not enough segments", ""},
		{"four segments", "/protected", []header{bearer(access + ".x")}, 422, "Too many segments", ""},
		{"missing sub", "/protected", []header{bearer(signPayload(`{"foo":"bar"}`))}, 422, "Missing claim: sub", ""},
		{"non-string sub", "/protected", []header{bearer(signPayload(`{"sub":1234}`))}, 422, "Subject must be a string", ""},
		{"empty sub", "/protected", []header{bearer(signPayload(`{"sub":""}`))}, 422, "Invalid claim: sub must not be empty", ""},
		{"non-string jti", "/protected", []header{bearer(signPayload(`{"sub":"a","jti":7}`))}, 422, "JWT ID must be a string", ""},
		{"iat in the future", "/protected", []header{bearer(signPayload(`{"sub":"a","iat":1795566400}`))}, 422, "The token is not yet valid (iat)", ""},
		{"nbf in the future", "/protected", []header{bearer(signPayload(`{"sub":"a","nbf":1795566400}`))}, 422, "The token is not yet valid (nbf)", ""},
		{"exp as a string", "/protected", []header{bearer(signPayload(`{"sub":"a","exp":"4318436137"}`))}, 422, "Expiration Time claim (exp) must be an integer.", ""},
		{"exp of 0 is long past", "/protected", []header{bearer(signPayload(`{"sub":"a","exp":0}`))}, 401, "Token has expired", ""},
		{"exp beyond int64", "/protected", []header{bearer(signPayload(`{"sub":"a","exp":1e300}`))}, 422, "Expiration Time claim (exp) must be an integer.", ""},
		{"iat null", "/protected", []header{bearer(signPayload(`{"sub":"a","iat":null}`))}, 422, "Issued At claim (iat) must be an integer.", ""},
		{"type of another kind passes access routes (flask #401)", "/protected", []header{bearer(signPayload(`{"sub":"a","type":"app"}`))}, 200, "", "a"},
		{"type that is not a string", "/protected", []header{bearer(signPayload(`{"sub":"a","type":1}`))}, 422, "Invalid claim: type must be a string", ""},
		{"fresh that is a string", "/fresh", []header{bearer(signPayload(`{"sub":"a","fresh":"yes"}`))}, 422, "Invalid claim: fresh must be a boolean or a timestamp", ""},
		{"fresh as 1 is a 1970 timestamp", "/fresh", []header{bearer(signPayload(`{"sub":"a","fresh":1}`))}, 401, "Fresh token required", ""},
		{"token without type, fresh or jti is an access token", "/protected", []header{bearer(signPayload(`{"sub":"a"}`))}, 200, "", "a"},
		{"payload not an object", "/protected", []header{bearer(signPayload(`["sub"]`))}, 422, "Invalid payload string: must be a json object", ""},
		{"alg none", "/protected", []header{bearer(signRaw(`{"alg":"none"}`, `{"sub":"a"}`, "") + "")}, 422, "The specified alg value is not allowed", ""},
		{"no alg", "/protected", []header{bearer(signRaw(`{"typ":"JWT"}`, `{"sub":"a"}`, testSecret))}, 422, "Algorithm not specified", ""},
		{"alg that is not a string", "/protected", []header{bearer(signRaw(`{"alg":256}`, `{"sub":"a"}`, testSecret))}, 422, "The specified alg value is not allowed", ""},
		{"kid that is not a string", "/protected", []header{bearer(signRaw(`{"alg":"HS256","kid":1}`, `{"sub":"a"}`, testSecret))}, 422, "Key ID header parameter must be a string", ""},
		{"crit header", "/protected", []header{bearer(signRaw(`{"alg":"HS256","crit":["exp"]}`, `{"sub":"a"}`, testSecret))}, 422, "Unsupported critical header parameters", ""},
		{"bad signature encoding", "/protected", []header{bearer(access[:len(access)-2] + "!!")}, 422, "Invalid crypto padding", ""},
	}
	g := newGuarded(m)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g.mu.Lock()
			before := g.runs
			g.mu.Unlock()
			w := get(g.r, tc.path, tc.header...)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			g.mu.Lock()
			ran := g.runs - before
			g.mu.Unlock()
			if tc.msg != "" {
				assertMsg(t, w, tc.msg)
				assert.Zero(t, ran, "handler must not run")
				return
			}
			assert.Equal(t, 1, ran)
			body := decodeBody(t, w)
			assert.Equal(t, tc.who, body["identity"])
			assert.Equal(t, tc.who != "", body["has"])
		})
	}
}

func TestHeaderParsing(t *testing.T) {
	m := newManager(t)
	token := ginjwttest.Access(t, m, "alice")
	missingType := "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'"
	tests := []struct {
		name    string
		headers []header
		status  int
		msg     string
	}{
		{"bearer first of several", []header{{"Authorization", "Bearer " + token + ", Basic creds"}}, 200, ""},
		{"bearer last of several", []header{{"Authorization", "Basic creds, Bearer " + token}}, 200, ""},
		{"trailing comma and spaces", []header{{"Authorization", "Bearer " + token + ",   "}}, 200, ""},
		{"leading comma", []header{{"Authorization", ", Bearer " + token}}, 200, ""},
		{"extra spaces between type and token", []header{{"Authorization", "Bearer    " + token}}, 200, ""},
		{"tab between type and token", []header{{"Authorization", "Bearer\t" + token}}, 200, ""},
		{"two header lines count as one value", []header{{"Authorization", "Basic x"}, {"Authorization", "Bearer " + token}}, 200, ""},
		{"basic only", []header{{"Authorization", "Basic basiccreds"}}, 401, missingType},
		{"lowercase bearer", []header{{"Authorization", "bearer " + token}}, 401, missingType},
		{"bare token", []header{{"Authorization", token}}, 401, missingType},
		{"two bearer elements", []header{{"Authorization", "Bearer " + token + ", Bearer " + token}}, 401, missingType},
		{"two bearer header lines", []header{bearer(token), bearer(token)}, 401, missingType},
		{"only commas and spaces", []header{{"Authorization", " , "}}, 401, "Missing Authorization Header"},
		{"only a comma", []header{{"Authorization", ","}}, 401, "Missing Authorization Header"},
		{"empty", []header{{"Authorization", ""}}, 401, "Missing Authorization Header"},
		// flask answers 500 here (IndexError on the blank element).
		{"commas around a blank", []header{{"Authorization", ", ,"}}, 401, missingType},
		{"bearer and two words", []header{{"Authorization", "Bearer a b"}}, 422, "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'"},
	}
	r := newRouter()
	r.GET("/protected", m.JWTRequired(), echoToken)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := get(r, "/protected", tc.headers...)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			if tc.msg != "" {
				assertMsg(t, w, tc.msg)
			} else {
				assert.Equal(t, "alice", decodeBody(t, w)["identity"])
			}
		})
	}
}

func TestCustomHeaderNameAndType(t *testing.T) {
	t.Run("custom name", func(t *testing.T) {
		m := newManager(t, ginjwt.WithHeader("Foo", "Bearer"))
		token := ginjwttest.Access(t, m, "alice")
		r := newRouter()
		r.GET("/p", m.JWTRequired(), echoToken)
		assertMsg(t, get(r, "/p", bearer(token)), "Missing Foo Header")
		assert.Equal(t, 200, get(r, "/p", header{"foo", "Bearer " + token}).Code)
	})
	t.Run("custom type", func(t *testing.T) {
		m := newManager(t, ginjwt.WithHeader("Authorization", "JWT"))
		token := ginjwttest.Access(t, m, "alice")
		r := newRouter()
		r.GET("/p", m.JWTRequired(), echoToken)
		w := get(r, "/p", bearer(token))
		assert.Equal(t, 401, w.Code)
		assertMsg(t, w, "Missing 'JWT' type in 'Authorization' header. Expected 'Authorization: JWT <JWT>'")
		assert.Equal(t, 200, get(r, "/p", header{"Authorization", "JWT " + token}).Code)
	})
	t.Run("empty type takes the bare token only", func(t *testing.T) {
		m := newManager(t, ginjwt.WithHeader("Authorization", ""))
		token := ginjwttest.Access(t, m, "alice")
		r := newRouter()
		r.GET("/p", m.JWTRequired(), echoToken)
		assert.Equal(t, 200, get(r, "/p", header{"Authorization", token}).Code)
		w := get(r, "/p", bearer(token))
		assert.Equal(t, 422, w.Code)
		assertMsg(t, w, "Bad Authorization header. Expected 'Authorization: <JWT>'")
		w = get(r, "/p", header{"Authorization", ", ,"})
		assert.Equal(t, 422, w.Code, "blank between commas: no token (found by FuzzHeaderParsing)")
		assertMsg(t, w, "Bad Authorization header. Expected 'Authorization: <JWT>'")
	})
	t.Run("error message key", func(t *testing.T) {
		m := newManager(t, ginjwt.WithErrorMessageKey("message"))
		r := newRouter()
		r.GET("/p", m.JWTRequired(), echoToken)
		w := get(r, "/p")
		assert.Equal(t, 401, w.Code)
		assert.JSONEq(t, `{"message":"Missing Authorization Header"}`, w.Body.String())
	})
}

func TestDecodeChecks(t *testing.T) {
	now := time.Unix(1795566329, 0)
	clock := ginjwt.WithClock(func() time.Time { return now })
	tests := []struct {
		name    string
		opts    []ginjwt.Option
		payload string
		status  int
		msg     string
	}{
		{"audience required, missing", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeAudience: []string{"orders"}})}, `{"sub":"a"}`, 422, `Token is missing the "aud" claim`},
		{"audience mismatch", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeAudience: []string{"orders"}})}, `{"sub":"a","aud":"billing"}`, 422, "Audience doesn't match"},
		{"audience in a list", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeAudience: []string{"orders"}})}, `{"sub":"a","aud":["billing","orders"]}`, 200, ""},
		{"one of several audiences", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeAudience: []string{"x", "orders"}})}, `{"sub":"a","aud":"orders"}`, 200, ""},
		{"audience of the wrong type", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeAudience: []string{"orders"}})}, `{"sub":"a","aud":7}`, 422, "Invalid claim format in token"},
		{"audience list with a number", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeAudience: []string{"orders"}})}, `{"sub":"a","aud":["orders",7]}`, 422, "Invalid claim format in token"},
		{"audience ignored when not configured", nil, `{"sub":"a","aud":7}`, 200, ""},
		{"issuer required, missing", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"https://auth"}})}, `{"sub":"a"}`, 422, `Token is missing the "iss" claim`},
		{"issuer mismatch", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"https://auth"}})}, `{"sub":"a","iss":"https://evil"}`, 422, "Invalid issuer"},
		{"issuer is never a substring match", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"https://auth.example"}})}, `{"sub":"a","iss":"auth"}`, 422, "Invalid issuer"},
		{"issuer matches", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"https://auth"}})}, `{"sub":"a","iss":"https://auth"}`, 200, ""},
		{"leeway lets a just-expired token in", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{Leeway: 10 * time.Second})}, `{"sub":"a","exp":1795566325}`, 200, ""},
		{"leeway has limits", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{Leeway: 10 * time.Second})}, `{"sub":"a","exp":1795566319}`, 401, "Token has expired"},
		{"exp equal to now is expired", nil, `{"sub":"a","exp":1795566329}`, 401, "Token has expired"},
		{"leeway covers a clock behind the issuer", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{Leeway: time.Minute})}, `{"sub":"a","iat":1795566359,"nbf":1795566359}`, 200, ""},
		{"a bad issuer wins over expiry, as in flask", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"x"}})}, `{"sub":"a","iss":"y","exp":1}`, 422, "Invalid issuer"},
		{"verify sub off accepts numbers", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{AllowNonStringSub: true})}, `{"sub":1234}`, 200, ""},
		{"custom identity claim", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{IdentityClaim: "identity"})}, `{"identity":"a"}`, 200, ""},
		{"custom identity claim missing", []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{IdentityClaim: "identity"})}, `{"sub":"a"}`, 422, "Missing claim: identity"},
		{"escaped keys are the same claim", nil, `{"s\u0075b":"a"}`, 200, ""},
		{"the last duplicate wins", nil, `{"sub":1,"sub":"a"}`, 200, ""},
		{"the last duplicate wins, both ways", nil, `{"sub":"a","sub":1}`, 422, "Subject must be a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newManager(t, append(tc.opts, clock)...)
			r := newRouter()
			r.GET("/p", m.JWTRequired(), echoToken)
			w := get(r, "/p", bearer(signPayload(tc.payload)))
			require.Equal(t, tc.status, w.Code, w.Body.String())
			if tc.msg != "" {
				assertMsg(t, w, tc.msg)
			}
		})
	}
}

func TestDecodeAlgorithms(t *testing.T) {
	long := []byte(testSecret + testSecret)
	hs256 := mustManager(t, ginjwt.WithSecretKey(long))
	token := ginjwttest.Access(t, hs256, "alice")

	hs512, err := ginjwt.New(ginjwt.WithSecretKey(long), ginjwt.WithAlgorithm("HS512"))
	require.NoError(t, err)
	_, err = hs512.DecodeToken(token)
	require.Error(t, err)
	assert.ErrorIs(t, err, ginjwt.ErrAlgorithmNotAllowed)
	assert.EqualError(t, err, "The specified alg value is not allowed")

	otherKey, err := ginjwt.New(ginjwt.WithSecretKey([]byte(testSecret+testSecret+"x")), ginjwt.WithAlgorithm("HS512"), ginjwt.WithDecodeAlgorithms("HS256"))
	require.NoError(t, err)
	// The algorithm is allowed, the secret differs: the signature fails.
	_, err = otherKey.DecodeToken(token)
	assert.ErrorIs(t, err, ginjwt.ErrSignatureInvalid)
	sameKey, err := ginjwt.New(ginjwt.WithSecretKey(long), ginjwt.WithAlgorithm("HS384"), ginjwt.WithDecodeAlgorithms("HS256"))
	require.NoError(t, err)
	tok, err := sameKey.DecodeToken(token)
	require.NoError(t, err)
	assert.Equal(t, "HS256", tok.Header.Alg)
}

func TestOversizedTokenIsRejectedBeforeParsing(t *testing.T) {
	m := newManager(t, ginjwt.WithMaxTokenSize(512))
	r := newRouter()
	r.GET("/p", m.JWTRequired(), echoToken)
	big := ginjwttest.Access(t, m, "alice", ginjwt.AdditionalClaims(map[string]any{"pad": string(make([]byte, 600))}))
	w := get(r, "/p", bearer(big))
	assert.Equal(t, 422, w.Code)
	assertMsg(t, w, "Token is too large")
}

// Gin runs a route's handler for OPTIONS (r.Any, r.OPTIONS), unlike Flask,
// so the guard answers OPTIONS itself: no token needed (preflights carry
// none), and the handler never runs.
func TestOptionsRequestsNeverReachTheHandler(t *testing.T) {
	m := newManager(t)
	g := newGuarded(m)
	var adminRuns atomic.Int32
	admin := func(c *gin.Context) { adminRuns.Add(1); c.String(200, "purged") }
	g.r.Any("/admin/purge", m.JWTRequired(ginjwt.RequireClaim("role", "admin")), admin)
	g.r.OPTIONS("/admin/options-only", m.FreshRequired(), admin)
	group := g.r.Group("/api", m.JWTRequired())
	group.Any("/items", m.Authorize(ginjwt.RequireClaim("role", "admin")), admin)

	token := ginjwttest.Access(t, m, "alice")
	for _, path := range []string{"/protected", "/refresh", "/fresh", "/optional", "/any-type",
		"/admin/purge", "/admin/options-only", "/api/items"} {
		for _, auth := range [][]header{nil, {bearer(token)}, {bearer("not.a.token")}} {
			w := request(g.r, http.MethodOptions, path, auth...)
			assert.Equal(t, 204, w.Code, path)
			assert.Empty(t, w.Body.String(), path)
		}
	}
	assert.Zero(t, g.runs, "no guarded handler ran for OPTIONS")
	assert.Zero(t, adminRuns.Load(), "no admin handler ran for OPTIONS")

	// Other methods on the same Any() routes are guarded as ever.
	w := request(g.r, http.MethodPost, "/admin/purge")
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Missing Authorization Header")
	w = request(g.r, http.MethodDelete, "/api/items", bearer(token))
	assert.Equal(t, 403, w.Code)
	assert.Zero(t, adminRuns.Load())
}

// What the docs say of OPTIONS where no OPTIONS handler is registered: Gin
// answers before any guard runs (404, or 405 with HandleMethodNotAllowed);
// a guard installed on the engine runs for such unmatched requests too and
// answers 204. No handler ever runs.
func TestOptionsWithoutAnOptionsHandler(t *testing.T) {
	m := newManager(t)
	var runs atomic.Int32
	h := func(*gin.Context) { runs.Add(1) }
	r := newRouter()
	r.GET("/route", m.JWTRequired(), h)
	r.Group("/api", m.JWTRequired()).GET("/items", h)
	for _, path := range []string{"/route", "/api/items"} {
		w := request(r, http.MethodOptions, path)
		assert.Equal(t, 404, w.Code, path)
		assert.Equal(t, "404 page not found", w.Body.String(), path)
	}
	r.HandleMethodNotAllowed = true
	for _, path := range []string{"/route", "/api/items"} {
		w := request(r, http.MethodOptions, path)
		assert.Equal(t, 405, w.Code, path)
		assert.Equal(t, "405 method not allowed", w.Body.String(), path)
	}

	engine := newRouter()
	engine.Use(m.JWTRequired())
	engine.GET("/route", h)
	for _, path := range []string{"/route", "/nowhere"} {
		w := request(engine, http.MethodOptions, path)
		assert.Equal(t, 204, w.Code, path)
		assert.Empty(t, w.Body.String(), path)
	}
	assert.Equal(t, 401, get(engine, "/route").Code)
	assert.Zero(t, runs.Load())
}

// A CORS middleware in front of the guard answers preflights with its own
// headers, as it does on unguarded routes.
func TestCORSPreflightBeforeTheGuard(t *testing.T) {
	m := newManager(t)
	r := newRouter()
	r.Use(func(c *gin.Context) { // what gin-contrib/cors does for a preflight
		c.Header("Access-Control-Allow-Origin", "https://app.example")
		c.Header("Access-Control-Allow-Headers", "Authorization")
		if c.Request.Method == http.MethodOptions {
			c.AbortWithStatus(204)
		}
	})
	var runs atomic.Int32
	r.Any("/protected", m.JWTRequired(), func(c *gin.Context) { runs.Add(1) })
	w := request(r, http.MethodOptions, "/protected")
	assert.Equal(t, 204, w.Code)
	assert.Equal(t, "https://app.example", w.Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, 401, request(r, http.MethodGet, "/protected").Code)
	assert.Zero(t, runs.Load())
}

func TestGroupGuard(t *testing.T) {
	m := newManager(t)
	r := newRouter()
	api := r.Group("/api", m.JWTRequired())
	api.GET("/me", echoToken)
	api.POST("/items", echoToken)
	sensitive := api.Group("/account", m.FreshRequired())
	sensitive.POST("/password", echoToken)
	r.GET("/health", func(c *gin.Context) { c.String(200, "ok") })

	access := ginjwttest.Access(t, m, "alice")
	fresh := ginjwttest.Fresh(t, m, "alice")

	assert.Equal(t, 200, get(r, "/health").Code, "routes outside the group are open")
	assert.Equal(t, 401, get(r, "/api/me").Code)
	assert.Equal(t, 401, request(r, http.MethodPost, "/api/items").Code)
	assert.Equal(t, 200, get(r, "/api/me", bearer(access)).Code)
	assert.Equal(t, 200, request(r, http.MethodPost, "/api/items", bearer(access)).Code)
	w := request(r, http.MethodPost, "/api/account/password", bearer(access))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Fresh token required")
	assert.Equal(t, 200, request(r, http.MethodPost, "/api/account/password", bearer(fresh)).Code)
}

func TestErrorHandlers(t *testing.T) {
	now := time.Unix(1795566329, 0)
	clock := ginjwt.WithClock(func() time.Time { return now })
	plain := newManager(t, clock)
	access := ginjwttest.Access(t, plain, "alice")
	refresh := ginjwttest.Refresh(t, plain, "alice")
	expired := ginjwttest.Expired(t, plain, "alice")

	t.Run("expired handler sees the expired token", func(t *testing.T) {
		m := newManager(t, clock, handleKind(ginjwt.ErrTokenExpired, func(c *gin.Context, err *ginjwt.Error) {
			c.JSON(201, gin.H{"msg": "foobar", "who": err.Token.Claims.Identity, "type": err.Token.Claims.Type})
		}))
		g := newGuarded(m)
		w := get(g.r, "/protected", bearer(expired))
		assert.Equal(t, 201, w.Code)
		assert.JSONEq(t, `{"msg":"foobar","who":"alice","type":"access"}`, w.Body.String())
		assert.Zero(t, g.runs)
		assert.Equal(t, 401, get(g.r, "/protected").Code, "other errors keep the default")
	})
	t.Run("invalid token handler covers header, decode and type errors", func(t *testing.T) {
		var kinds []error
		m := newManager(t, clock, handleKind(ginjwt.ErrInvalidToken, func(c *gin.Context, err *ginjwt.Error) {
			kinds = append(kinds, err)
			c.JSON(400, gin.H{"error": err.Message, "status": err.Status})
		}))
		g := newGuarded(m)
		w := get(g.r, "/protected", bearer("a.b"))
		assert.Equal(t, 400, w.Code)
		assert.JSONEq(t, `{"error":"Not enough segments","status":422}`, w.Body.String())
		assert.Equal(t, 400, get(g.r, "/protected", bearer(refresh)).Code)
		assert.Equal(t, 400, get(g.r, "/protected", header{"Authorization", "Bearer a b"}).Code)
		require.Len(t, kinds, 3)
		assert.ErrorIs(t, kinds[0], ginjwt.ErrTokenMalformed)
		assert.ErrorIs(t, kinds[1], ginjwt.ErrWrongTokenType)
		assert.ErrorIs(t, kinds[2], ginjwt.ErrInvalidHeader)
		assert.Equal(t, 401, get(g.r, "/protected", bearer(expired)).Code)
	})
	t.Run("unauthorized handler", func(t *testing.T) {
		m := newManager(t, clock, handleKind(ginjwt.ErrUnauthorized, func(c *gin.Context, err *ginjwt.Error) {
			c.JSON(403, gin.H{"why": err.Message})
		}))
		g := newGuarded(m)
		w := get(g.r, "/protected")
		assert.Equal(t, 403, w.Code)
		assert.JSONEq(t, `{"why":"Missing Authorization Header"}`, w.Body.String())
		assert.Equal(t, 200, get(g.r, "/optional").Code, "optional routes never call it for a missing token")
	})
	t.Run("needs fresh handler", func(t *testing.T) {
		m := newManager(t, clock, handleKind(ginjwt.ErrFreshTokenRequired, func(c *gin.Context, err *ginjwt.Error) {
			c.JSON(403, gin.H{"reauth": err.Token.Claims.Identity})
		}))
		w := get(newGuarded(m).r, "/fresh", bearer(access))
		assert.Equal(t, 403, w.Code)
		assert.JSONEq(t, `{"reauth":"alice"}`, w.Body.String())
	})
	t.Run("one handler for everything, specific kinds first", func(t *testing.T) {
		m := newManager(t, clock,
			ginjwt.WithErrorHandler(func(c *gin.Context, err *ginjwt.Error) {
				if errors.Is(err, ginjwt.ErrTokenExpired) {
					c.JSON(419, gin.H{})
					return
				}
				c.JSON(err.Status, gin.H{"error": err.Message})
			}),
		)
		g := newGuarded(m)
		w := get(g.r, "/protected")
		assert.Equal(t, 401, w.Code)
		assert.JSONEq(t, `{"error":"Missing Authorization Header"}`, w.Body.String())
		assert.Equal(t, 419, get(g.r, "/protected", bearer(expired)).Code)
	})
	t.Run("a handler that writes nothing leaves flask's default response", func(t *testing.T) {
		m := newManager(t, clock, ginjwt.WithErrorHandler(func(*gin.Context, *ginjwt.Error) {}))
		g := newGuarded(m)
		w := get(g.r, "/protected", bearer(expired))
		assert.Equal(t, 401, w.Code)
		assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
		assert.JSONEq(t, `{"msg":"Token has expired"}`, w.Body.String())
		assert.Zero(t, g.runs)
		w = get(g.r, "/protected")
		assert.Equal(t, 401, w.Code)
		assert.JSONEq(t, `{"msg":"Missing Authorization Header"}`, w.Body.String())
	})
	t.Run("headers set by a handler that writes nothing are kept", func(t *testing.T) {
		m := newManager(t, clock, ginjwt.WithErrorHandler(func(c *gin.Context, err *ginjwt.Error) {
			if errors.Is(err, ginjwt.ErrUnauthorized) {
				c.Header("WWW-Authenticate", `Bearer realm="api"`)
			}
		}))
		w := get(newGuarded(m).r, "/protected")
		assert.Equal(t, 401, w.Code)
		assert.Equal(t, `Bearer realm="api"`, w.Header().Get("WWW-Authenticate"))
		assert.JSONEq(t, `{"msg":"Missing Authorization Header"}`, w.Body.String())
	})
	t.Run("a handler that only sets a status keeps it, with no body", func(t *testing.T) {
		m := newManager(t, clock, ginjwt.WithErrorHandler(func(c *gin.Context, _ *ginjwt.Error) { c.Status(404) }))
		g := newGuarded(m)
		w := get(g.r, "/protected")
		assert.Equal(t, 404, w.Code)
		assert.Empty(t, w.Body.String())
		assert.Zero(t, g.runs)
	})
	t.Run("a handler that sets 200 still rejects with the default", func(t *testing.T) {
		m := newManager(t, clock, ginjwt.WithErrorHandler(func(c *gin.Context, _ *ginjwt.Error) { c.Status(200) }))
		g := newGuarded(m)
		w := get(g.r, "/protected")
		assert.Equal(t, 401, w.Code)
		assert.JSONEq(t, `{"msg":"Missing Authorization Header"}`, w.Body.String())
		assert.Zero(t, g.runs)
	})
	t.Run("a status set before the guard is not the handler's answer", func(t *testing.T) {
		for name, h := range map[string][]ginjwt.Option{
			"handler that writes nothing": {ginjwt.WithErrorHandler(func(*gin.Context, *ginjwt.Error) {})},
			"no handler":                  nil,
		} {
			m := newManager(t, append(h, clock)...)
			r := newRouter()
			r.GET("/protected", func(c *gin.Context) { c.Status(http.StatusAccepted) }, m.JWTRequired(), echoToken)
			w := get(r, "/protected")
			assert.Equal(t, 401, w.Code, name)
			assert.JSONEq(t, `{"msg":"Missing Authorization Header"}`, w.Body.String(), name)
		}
	})
	t.Run("the default message key holds for a fall-through", func(t *testing.T) {
		m := newManager(t, clock, ginjwt.WithErrorMessageKey("error"), ginjwt.WithErrorHandler(func(*gin.Context, *ginjwt.Error) {}))
		w := get(newGuarded(m).r, "/protected", bearer(expired))
		assert.JSONEq(t, `{"error":"Token has expired"}`, w.Body.String())
	})
}

func TestErrorsAreRecordedOnContext(t *testing.T) {
	m := newManager(t)
	var recorded []error
	r := newRouter()
	r.Use(func(c *gin.Context) {
		c.Next()
		for _, e := range c.Errors {
			recorded = append(recorded, e.Err)
		}
	})
	r.GET("/p", m.JWTRequired(), echoToken)
	expired := ginjwttest.Expired(t, m, "alice")
	get(r, "/p")
	get(r, "/p", bearer(expired))
	require.Len(t, recorded, 2)
	assert.ErrorIs(t, recorded[0], ginjwt.ErrNoToken)
	assert.ErrorIs(t, recorded[1], ginjwt.ErrTokenExpired)
	var e *ginjwt.Error
	require.True(t, errors.As(recorded[1], &e))
	assert.Equal(t, 401, e.Status)
	assert.Equal(t, "alice", e.Token.Claims.Identity)
}

// Two Managers in one process share nothing: keys, header names and error
// handlers stay their own.
func TestManagersAreIndependent(t *testing.T) {
	a := newManager(t, ginjwt.WithHeader("X-A-Token", "Bearer"), ginjwt.WithErrorHandler(func(c *gin.Context, err *ginjwt.Error) {
		c.JSON(err.Status, gin.H{"from": "a"})
	}))
	b, err := ginjwt.New(ginjwt.WithSecretKey([]byte("b-secret-0123456789abcdef0123456789abcdef")), ginjwt.WithErrorMessageKey("error"))
	require.NoError(t, err)
	r := newRouter()
	r.GET("/a", a.JWTRequired(), echoToken)
	r.GET("/b", b.JWTRequired(), echoToken)
	ta := ginjwttest.Access(t, a, "alice")
	tb := ginjwttest.Access(t, b, "bob")

	assert.Equal(t, 200, get(r, "/a", header{"X-A-Token", "Bearer " + ta}).Code)
	assert.Equal(t, 200, get(r, "/b", bearer(tb)).Code)
	w := get(r, "/a", header{"X-A-Token", "Bearer " + tb})
	assert.Equal(t, 422, w.Code)
	assert.JSONEq(t, `{"from":"a"}`, w.Body.String())
	w = get(r, "/b", bearer(ta))
	assert.Equal(t, 422, w.Code)
	assert.JSONEq(t, `{"error":"Signature verification failed"}`, w.Body.String())
	w = get(r, "/b", header{"X-A-Token", "Bearer " + tb})
	assert.JSONEq(t, `{"error":"Missing Authorization Header"}`, w.Body.String())
}

// Many goroutines through one Manager and router, each with its own user:
// run with -race; every answer must carry its own identity.
func TestConcurrentRequestsKeepTheirIdentity(t *testing.T) {
	m := newManager(t)
	r := newRouter()
	r.GET("/p", m.JWTRequired(), echoToken)
	const users, rounds = 16, 50
	tokens := make([]string, users)
	for i := range tokens {
		tokens[i] = ginjwttest.Access(t, m, i)
	}
	var wg sync.WaitGroup
	errs := make(chan string, users*rounds)
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				w := get(r, "/p", bearer(tokens[i]))
				var body struct{ Identity string }
				if w.Code != 200 || jsonUnmarshal(w.Body.Bytes(), &body) != nil || body.Identity != itoa(i) {
					errs <- w.Body.String()
				}
				// Creation runs concurrently with verification too.
				if _, err := m.CreateAccessToken(i); err != nil {
					errs <- err.Error()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestIndexPySpaceAgreesWithByteLoop(t *testing.T) {
	spaces := []byte{' ', '\t', '\n', '\v', '\f', '\r', 0x1c, 0x1d, 0x1e, 0x1f, 0x85, 0xa0}
	others := []byte{'a', 'Z', '.', '-', '_', '!', 0x20 + 1, 0x7f, 0x80, 0x84, 0x86, 0x9f, 0xa1, 0xff, 0x00, 0x1b}
	for n := 0; n < 40; n++ {
		for pos := 0; pos <= n; pos++ {
			for _, sp := range spaces {
				b := make([]byte, n)
				for i := range b {
					b[i] = others[(i*7+n)%len(others)]
					if b[i] <= 0x20 && b[i] != 0x00 && b[i] != 0x1b {
						b[i] = 'x'
					}
				}
				want := n
				if pos < n {
					b[pos] = sp
					want = pos
				}
				// 0x00 and 0x1b are not Python whitespace; the chunk test must
				// still look at them byte by byte and move on.
				assert.Equal(t, want, ginjwt.IndexPySpace(string(b)), "%q", b)
			}
		}
	}
}
