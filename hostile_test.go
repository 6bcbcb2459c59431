package ginjwt_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The hostile-input suite: requests an attacker can send, through a real
// gin.Engine. None may get a 5xx, panic, or reach the handler; each gets
// the exact refusal.
func TestHostileInput(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	hdr := enc([]byte(`{"alg":"HS256","typ":"JWT"}`))
	valid := signPayload(`{"sub":"alice","jti":"j1","type":"access"}`)
	parts := strings.Split(valid, ".")
	otherSig := strings.Split(signPayload(`{"sub":"bob"}`), ".")[2]
	deep := `{"sub":"a","x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`
	rsaKey := testKeys()["RSA"].(*rsa.PrivateKey)
	ecKey := testKeys()["P-256"].(*ecdsa.PrivateKey)
	rsaSPKI, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	ecSPKI, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	rsaPEM, ecPEM := string(pemBlock("PUBLIC KEY", rsaSPKI)), string(pemBlock("PUBLIC KEY", ecSPKI))

	const (
		notAllowed = "The specified alg value is not allowed"
		badSig     = "Signature verification failed"
		segments   = "Not enough segments"
		hdrPad     = "Invalid header padding"
		hdrJSON    = "Invalid header string: must be a json object"
		payPad     = "Invalid payload padding"
		payJSON    = "Invalid payload string: must be a json object"
		cryptoPad  = "Invalid crypto padding"
		badHeader  = "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'"
		noType     = "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'"
		expInt     = "Expiration Time claim (exp) must be an integer."
		nbfInt     = "Not Before claim (nbf) must be an integer."
		iatInt     = "Issued At claim (iat) must be an integer."
		subStr     = "Subject must be a string"
	)
	type hcase struct {
		name    string
		headers [][2]string // raw header lines
		status  int
		msg     string
	}
	auth := func(v string) [][2]string { return [][2]string{{"Authorization", v}} }
	b := func(token string) [][2]string { return auth("Bearer " + token) }
	cases := []hcase{}
	add := func(name string, h [][2]string, status int, msg string) {
		cases = append(cases, hcase{name, h, status, msg})
	}
	// alg none in every casing, with and without a signature.
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		h := enc([]byte(`{"alg":"` + alg + `","typ":"JWT"}`))
		add("alg "+alg+", empty signature", b(h+"."+parts[1]+"."), 422, notAllowed)
		add("alg "+alg+", with a signature", b(h+"."+parts[1]+"."+parts[2]), 422, notAllowed)
	}
	add("alg missing", b(signRaw(`{"typ":"JWT"}`, `{"sub":"a"}`, testSecret)), 422, "Algorithm not specified")
	add("alg empty", b(signRaw(`{"alg":""}`, `{"sub":"a"}`, testSecret)), 422, notAllowed)
	add("alg null", b(signRaw(`{"alg":null}`, `{"sub":"a"}`, testSecret)), 422, notAllowed)
	add("alg lowercase hs256", b(signRaw(`{"alg":"hs256"}`, `{"sub":"a"}`, testSecret)), 422, notAllowed)
	add("alg HS512 not allowed", b(signRaw(`{"alg":"HS512"}`, `{"sub":"a"}`, testSecret)), 422, notAllowed)
	add("alg in an array", b(signRaw(`{"alg":["HS256"]}`, `{"sub":"a"}`, testSecret)), 422, notAllowed)
	add("duplicate alg, none last", b(signRaw(`{"alg":"HS256","alg":"none"}`, `{"sub":"a"}`, testSecret)), 422, notAllowed)
	// Signatures.
	add("empty signature", b(parts[0]+"."+parts[1]+"."), 422, badSig)
	add("truncated signature", b(valid[:len(valid)-5]), 422, badSig)
	add("signature of another token", b(parts[0]+"."+parts[1]+"."+otherSig), 422, badSig)
	add("signature over another payload", b(parts[0]+"."+enc([]byte(`{"sub":"mallory"}`))+"."+parts[2]), 422, badSig)
	add("signature padded with =", b(valid+"="), 422, cryptoPad)
	add("signature in standard base64", b(parts[0]+"."+parts[1]+"."+strings.NewReplacer("-", "+", "_", "/").Replace(parts[2])+"+/"), 422, cryptoPad)
	add("wrong secret", b(signRaw(`{"alg":"HS256"}`, `{"sub":"a"}`, "another-secret-0123456789abcdef0123456")), 422, badSig)
	// Segments.
	add("1 segment", b("abc"), 422, segments)
	add("2 segments", b(parts[0]+"."+parts[1]), 422, segments)
	add("4 segments", b(valid+"."+parts[2]), 422, "Too many segments")
	add("5 segments", b(valid+"."+parts[1]+"."+parts[2]), 422, "Too many segments")
	add("only dots", b(".."), 422, hdrJSON)
	// Base64.
	add("header with padding", b(hdr+"=."+parts[1]+"."+parts[2]), 422, hdrPad)
	add("header in standard base64", b("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9+/."+parts[1]+"."+parts[2]), 422, hdrPad)
	add("payload with a NUL", b(parts[0]+"."+parts[1][:4]+"\x00"+parts[1][4:]+"."+parts[2]), 422, payPad)
	add("header of impossible length", b("aaaaa."+parts[1]+"."+parts[2]), 422, hdrPad)
	// JSON shapes.
	for _, v := range []string{`[]`, `"alg"`, `42`, `null`, `{"alg":"HS256"`, `{"alg":"HS256"}x`} {
		add("header "+v, b(enc([]byte(v))+"."+parts[1]+"."+parts[2]), 422, hdrJSON)
	}
	for _, v := range []string{`[]`, `"sub"`, `42`, `null`, `{"sub":"a"`, `{"sub":"a"}x`, `{"sub":"a",}`} {
		add("payload "+v, b(signPayload(v)), 422, payJSON)
	}
	add("duplicate sub, number last", b(signPayload(`{"sub":"a","sub":1}`)), 422, subStr)
	add("nesting deeper than encoding/json allows", b(signPayload(deep)), 422, "Token is too large")
	add("crit header", b(signRaw(`{"alg":"HS256","crit":["exp"]}`, `{"sub":"a"}`, testSecret)), 422, "Unsupported critical header parameters")
	add("crit empty", b(signRaw(`{"alg":"HS256","crit":[]}`, `{"sub":"a"}`, testSecret)), 422, "Unsupported critical header parameters")
	add("kid not a string", b(signRaw(`{"alg":"HS256","kid":["a"]}`, `{"sub":"a"}`, testSecret)), 422, "Key ID header parameter must be a string")
	// Key confusion: HS256 signed with public keys as secrets.
	add("HS256 signed with the RSA public key (HS manager)", b(signRaw(`{"alg":"HS256"}`, `{"sub":"a"}`, rsaPEM)), 422, badSig)
	add("HS256 signed with the EC public key (HS manager)", b(signRaw(`{"alg":"HS256"}`, `{"sub":"a"}`, ecPEM)), 422, badSig)
	// Dates.
	for _, tc := range []struct{ claim, v, msg string }{
		{"exp", `"4318436137"`, expInt}, {"exp", `null`, expInt}, {"exp", `true`, expInt}, {"exp", `1e300`, expInt},
		{"exp", `-1e300`, expInt}, {"exp", `9223372036854775808`, expInt}, {"exp", `[1]`, expInt},
		{"nbf", `"0"`, nbfInt}, {"nbf", `1e300`, nbfInt}, {"nbf", `{}`, nbfInt},
		{"iat", `null`, iatInt}, {"iat", `99999999999.5`, "The token is not yet valid (iat)"},
	} {
		add(tc.claim+" = "+tc.v, b(signPayload(`{"sub":"a","`+tc.claim+`":`+tc.v+`}`)), map[bool]int{true: 401, false: 422}[tc.msg == "Token has expired"], tc.msg)
	}
	add("exp negative", b(signPayload(`{"sub":"a","exp":-5}`)), 401, "Token has expired")
	add("exp float in the past", b(signPayload(`{"sub":"a","exp":1.5}`)), 401, "Token has expired")
	// Identity and flask claims.
	for _, v := range []string{`1`, `{"id":1}`, `["a"]`, `true`, `null`} {
		add("sub "+v, b(signPayload(`{"sub":`+v+`}`)), 422, subStr)
	}
	add("sub empty", b(signPayload(`{"sub":""}`)), 422, "Invalid claim: sub must not be empty")
	add("no sub", b(signPayload(`{"user":"a"}`)), 422, "Missing claim: sub")
	add("type a number", b(signPayload(`{"sub":"a","type":1}`)), 422, "Invalid claim: type must be a string")
	add("type refresh on an access route", b(signPayload(`{"sub":"a","type":"refresh"}`)), 422, "Only non-refresh tokens are allowed")
	add("jti a number", b(signPayload(`{"sub":"a","jti":5}`)), 422, "JWT ID must be a string")
	add("csrf a number", b(signPayload(`{"sub":"a","csrf":5}`)), 422, "Invalid claim: csrf must be a string")
	add("fresh a string", b(signPayload(`{"sub":"a","fresh":"true"}`)), 422, "Invalid claim: fresh must be a boolean or a timestamp")
	// Headers.
	big := strings.Repeat("a", 9000)
	add("token above 8 KiB", b(big+"."+big+"."+big), 422, "Token is too large")
	add("two Authorization lines, two Bearers", [][2]string{{"Authorization", "Bearer " + valid}, {"Authorization", "Bearer " + valid}}, 401, noType)
	add("Bearer with two tokens", auth("Bearer "+valid+" "+valid), 422, badHeader)
	add("lowercase scheme", auth("bearer "+valid), 401, noType)
	add("scheme only", auth("Bearer"), 422, badHeader)
	add("token with a tab inside", auth("Bearer "+valid[:10]+"\t"+valid[10:]), 422, badHeader)
	add("NBSP between scheme and token parts", auth("Bearer "+valid[:10]+"\xa0"+valid[10:]), 422, badHeader)
	add("empty header", auth(""), 401, "Missing Authorization Header")
	add("Basic credentials only", auth("Basic YWxhZGRpbjpvcGVuc2VzYW1l"), 401, noType)

	var ran atomic.Int32
	m := newManager(t)
	r := newRouter()
	r.GET("/protected", m.JWTRequired(), func(c *gin.Context) { ran.Add(1); c.Status(200) })
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/protected", nil)
			for _, h := range tc.headers {
				req.Header.Add(h[0], h[1])
			}
			w := httptest.NewRecorder()
			before := ran.Load()
			require.NotPanics(t, func() { r.ServeHTTP(w, req) })
			assert.Equal(t, tc.status, w.Code, w.Body.String())
			assertMsg(t, w, tc.msg)
			assert.Equal(t, before, ran.Load(), "the handler must not run")
		})
	}
	assert.GreaterOrEqual(t, len(cases), 60)
	t.Logf("%d hostile cases", len(cases))
}

// jku, x5u, jwk and x5c headers are never fetched nor trusted: the token
// stands or falls by the configured key alone.
func TestHostileKeyHeadersAreIgnored(t *testing.T) {
	m := newManager(t)
	r := newRouter()
	r.GET("/protected", m.JWTRequired(), echoToken)
	for _, h := range []string{
		`{"alg":"HS256","jku":"http://127.0.0.1:1/jwks.json"}`,
		`{"alg":"HS256","x5u":"http://127.0.0.1:1/cert.pem"}`,
		`{"alg":"HS256","jwk":{"kty":"oct","k":"YQ"}}`,
		`{"alg":"HS256","x5c":["MIIB"]}`,
		`{"alg":"HS256","kid":"../../../../etc/passwd"}`,
		`{"alg":"HS256","kid":"` + strings.Repeat("k", 4000) + `"}`,
	} {
		w := get(r, "/protected", bearer(signRaw(h, `{"sub":"alice"}`, testSecret)))
		assert.Equal(t, 200, w.Code, "right key: accepted whatever the header points at: %s", h[:min(len(h), 60)])
		w = get(r, "/protected", bearer(signRaw(h, `{"sub":"alice"}`, "YQ-attacker-secret-0123456789abcdef0123")))
		assert.Equal(t, 422, w.Code, "attacker's key: refused")
		assertMsg(t, w, "Signature verification failed")
	}
}

// Hostile input to the other locations, and their CSRF checks.
func TestHostileLocations(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies, ginjwt.InQueryString, ginjwt.InJSONBody), ginjwt.WithMaxBodySize(4096))
	r := cookieApp(t, m)
	jar := loggedIn(t, r)
	access, csrf := jar["access_token_cookie"], jar["csrf_access_token"]
	var ran atomic.Int32
	r.Any("/h", m.JWTRequired(), func(c *gin.Context) { ran.Add(1); c.Status(200) })

	for _, tc := range []struct {
		name   string
		build  func() *http.Request
		status int
		msg    string
	}{
		{"two cookies of the same name, bad first", func() *http.Request {
			q := httptest.NewRequest("GET", "/h", nil)
			q.Header.Add("Cookie", "access_token_cookie=a.b.c; access_token_cookie="+access)
			return q
		}, 422, "Invalid header padding"},
		{"CSRF header twice, the first wrong", func() *http.Request {
			q := httptest.NewRequest("POST", "/h", nil)
			q.AddCookie(&http.Cookie{Name: "access_token_cookie", Value: access})
			q.Header.Add("X-CSRF-TOKEN", "wrong")
			q.Header.Add("X-CSRF-TOKEN", csrf)
			return q
		}, 401, "CSRF double submit tokens do not match"},
		{"CSRF value differing only in case", func() *http.Request {
			q := httptest.NewRequest("POST", "/h", nil)
			q.AddCookie(&http.Cookie{Name: "access_token_cookie", Value: access})
			q.Header.Set("X-CSRF-TOKEN", strings.ToUpper(csrf))
			return q
		}, 401, "CSRF double submit tokens do not match"},
		// Base64 decoders skip CR and LF: a newline in the signature must
		// not leave a token that verifies.
		{"newline in the signature", func() *http.Request {
			return httptest.NewRequest("GET", "/h?jwt="+url.QueryEscape(access[:len(access)-4]+"\n"+access[len(access)-4:]), nil)
		}, 422, "Invalid crypto padding"},
		{"CR LF in the signature", func() *http.Request {
			return httptest.NewRequest("GET", "/h?jwt="+url.QueryEscape(access+"\r\n"), nil)
		}, 422, "Invalid crypto padding"},
		// In the signed part a newline changes what was signed.
		{"newline in the payload", func() *http.Request {
			dot := strings.IndexByte(access, '.')
			return httptest.NewRequest("GET", "/h?jwt="+url.QueryEscape(access[:dot+5]+"\n"+access[dot+5:]), nil)
		}, 422, "Signature verification failed"},
		{"newline in the header", func() *http.Request {
			return httptest.NewRequest("GET", "/h?jwt="+url.QueryEscape("\r\n"+access), nil)
		}, 422, "Signature verification failed"},
		{"NUL in the signature", func() *http.Request {
			return httptest.NewRequest("GET", "/h?jwt="+url.QueryEscape(access[:len(access)-4]+"\x00"+access[len(access)-4:]), nil)
		}, 422, "Invalid crypto padding"},
		{"repeated jwt parameter, bad first", func() *http.Request {
			return httptest.NewRequest("GET", "/h?jwt=a.b.c&jwt="+access, nil)
		}, 422, "Invalid header padding"},
		{"JSON body that is not JSON", func() *http.Request {
			q := httptest.NewRequest("POST", "/h", strings.NewReader("<xml/>"))
			q.Header.Set("Content-Type", "application/json")
			return q
		}, 401, `Missing JWT in cookies, query_string or json (Missing cookie "access_token_cookie"; Missing 'jwt' query paramater; Missing "access_token" key in json data.)`},
		{"JSON body above the limit", func() *http.Request {
			q := httptest.NewRequest("POST", "/h", strings.NewReader(`{"access_token":"`+access+`","pad":"`+strings.Repeat("x", 8192)+`"}`))
			q.Header.Set("Content-Type", "application/json")
			return q
		}, 401, `Missing JWT in cookies, query_string or json (Missing cookie "access_token_cookie"; Missing 'jwt' query paramater; Missing "access_token" key in json data.)`},
		{"JSON body truncated", func() *http.Request {
			q := httptest.NewRequest("POST", "/h", strings.NewReader(`{"access_token":"`+access[:20]))
			q.Header.Set("Content-Type", "application/json")
			return q
		}, 401, `Missing JWT in cookies, query_string or json (Missing cookie "access_token_cookie"; Missing 'jwt' query paramater; Missing "access_token" key in json data.)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			before := ran.Load()
			r.ServeHTTP(w, tc.build())
			assert.Equal(t, tc.status, w.Code, w.Body.String())
			assertMsg(t, w, tc.msg)
			assert.Equal(t, before, ran.Load(), "the handler must not run")
		})
	}
}

// Nesting deeper than encoding/json's limit, let through the size check.
func TestHostileDeepNesting(t *testing.T) {
	m := newManager(t, ginjwt.WithMaxTokenSize(1<<20))
	r := newRouter()
	r.GET("/protected", m.JWTRequired(), echoToken)
	for depth, status := range map[int]int{9990: 200, 10001: 422} {
		payload := `{"sub":"a","x":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`
		w := get(r, "/protected", bearer(signPayload(payload)))
		assert.Equal(t, status, w.Code, "depth %d", depth)
		if status == 422 {
			assertMsg(t, w, "Invalid payload string: must be a json object")
		}
	}
}

// The same attacks against services that verify with public keys: HS256
// signed with the public key (algorithm confusion), "none", and ES256
// signed with the attacker's own key, which the header embeds (jwk) or
// points at (jku, x5u, on a server that counts fetches). kid values reach
// no file system and pick no key.
func TestHostileAgainstPublicKeys(t *testing.T) {
	ecKey := testKeys()["P-256"].(*ecdsa.PrivateKey)
	rsaKey := testKeys()["RSA"].(*rsa.PrivateKey)
	attacker, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	point, err := attacker.PublicKey.Bytes() // 0x04 || X || Y
	require.NoError(t, err)
	enc := base64.RawURLEncoding.EncodeToString
	attackerJWK := `{"kty":"EC","crv":"P-256","x":"` + enc(point[1:33]) + `","y":"` + enc(point[33:]) + `"}`

	var fetched atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetched.Add(1)
		_, _ = w.Write([]byte(`{"keys":[` + attackerJWK + `]}`))
	}))
	defer evil.Close()

	signES := func(header, payload string, key *ecdsa.PrivateKey) string {
		input := enc([]byte(header)) + "." + enc([]byte(payload))
		sig, err := jwt.SigningMethodES256.Sign(input, key)
		require.NoError(t, err)
		return input + "." + enc(sig)
	}
	unsigned := func(header string) string {
		return enc([]byte(header)) + "." + enc([]byte(`{"sub":"mallory"}`)) + "."
	}
	spki := func(pub any) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		require.NoError(t, err)
		return string(pemBlock("PUBLIC KEY", der))
	}

	const notAllowed, badSig, unknownKid = "The specified alg value is not allowed", "Signature verification failed", "Unknown key ID"
	for _, svc := range []struct {
		name string
		m    *ginjwt.Manager
		pub  any
	}{
		{"ES256 service", mustManager(t, ginjwt.WithAlgorithm("ES256"), ginjwt.WithPrivateKey(ecKey), ginjwt.WithKeyID("k1")), &ecKey.PublicKey},
		{"RS256 service", mustManager(t, ginjwt.WithAlgorithm("RS256"), ginjwt.WithPrivateKey(rsaKey)), &rsaKey.PublicKey},
	} {
		pubPEM := spki(svc.pub)
		der, _ := x509.MarshalPKIXPublicKey(svc.pub)
		// ES256 itself is not allowed on the RS256 service.
		esRefusal := badSig
		if svc.name == "RS256 service" {
			esRefusal = notAllowed
		}
		cases := []struct {
			name, token, msg string
		}{
			{"HS256 signed with the public key PEM", signRaw(`{"alg":"HS256","kid":"k1"}`, `{"sub":"mallory"}`, pubPEM), notAllowed},
			{"HS256 signed with the public key DER", signRaw(`{"alg":"HS256","kid":"k1"}`, `{"sub":"mallory"}`, string(der)), notAllowed},
			{"HS512 signed with the public key PEM", signRaw(`{"alg":"HS512","kid":"k1"}`, `{"sub":"mallory"}`, pubPEM), notAllowed},
			{"alg none", unsigned(`{"alg":"none","kid":"k1"}`), notAllowed},
			{"alg NONE", unsigned(`{"alg":"NONE","kid":"k1"}`), notAllowed},
			{"alg nOnE with a signature", unsigned(`{"alg":"nOnE","kid":"k1"}`) + "c2ln", notAllowed},
			{"attacker's key embedded as jwk", signES(`{"alg":"ES256","kid":"k1","jwk":`+attackerJWK+`}`, `{"sub":"mallory"}`, attacker), esRefusal},
			{"attacker's JWKS at jku", signES(`{"alg":"ES256","kid":"k1","jku":"`+evil.URL+`"}`, `{"sub":"mallory"}`, attacker), esRefusal},
			{"attacker's certificate at x5u", signES(`{"alg":"ES256","kid":"k1","x5u":"`+evil.URL+`"}`, `{"sub":"mallory"}`, attacker), esRefusal},
		}
		if svc.name == "ES256 service" {
			// Only a Manager with key IDs reads kid; it picks nothing else.
			cases = append(cases,
				struct{ name, token, msg string }{"kid path traversal", signES(`{"alg":"ES256","kid":"../../../../etc/passwd"}`, `{"sub":"mallory"}`, attacker), unknownKid},
				struct{ name, token, msg string }{"kid of 4000 bytes", signES(`{"alg":"ES256","kid":"`+strings.Repeat("k", 4000)+`"}`, `{"sub":"mallory"}`, attacker), unknownKid},
				struct{ name, token, msg string }{"kid with a NUL", signES(`{"alg":"ES256","kid":"k1\u0000"}`, `{"sub":"mallory"}`, attacker), unknownKid},
			)
		}
		var ran atomic.Int32
		r := newRouter()
		r.GET("/protected", svc.m.JWTRequired(), func(c *gin.Context) { ran.Add(1); c.Status(200) })
		genuine := ginjwttest.Access(t, svc.m, "alice")
		require.Equal(t, 200, get(r, "/protected", bearer(genuine)).Code, "%s: its own token passes", svc.name)
		for _, tc := range cases {
			t.Run(svc.name+"/"+tc.name, func(t *testing.T) {
				before := ran.Load()
				w := get(r, "/protected", bearer(tc.token))
				assert.Equal(t, 422, w.Code, w.Body.String())
				assertMsg(t, w, tc.msg)
				assert.Equal(t, before, ran.Load(), "the handler must not run")
			})
		}
	}
	assert.Zero(t, fetched.Load(), "no key URL is ever fetched")
}

// Only the exact "refresh" is a refresh token. Refresh routes refuse every
// other spelling; access routes, as flask's, refuse only the exact one.
func TestHostileTokenTypes(t *testing.T) {
	m := newManager(t)
	var ran atomic.Int32
	r := newRouter()
	h := func(c *gin.Context) { ran.Add(1); c.Status(200) }
	r.GET("/access", m.JWTRequired(), h)
	r.POST("/refresh", m.RefreshRequired(), h)
	for _, typ := range []string{`"REFRESH"`, `"Refresh"`, `"refresh "`, `" refresh"`, `"refresh\u0000"`, `"refres\u0068"`} {
		token := signPayload(`{"sub":"a","type":` + typ + `}`)
		before := ran.Load()
		req := httptest.NewRequest(http.MethodPost, "/refresh", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		want := 422
		msg := "Only refresh tokens are allowed"
		if typ == `"refres\u0068"` { // the escape spells "refresh" exactly
			want, msg = 200, ""
		}
		assert.Equal(t, want, w.Code, "type %s on a refresh route: %s", typ, w.Body)
		if msg != "" {
			assertMsg(t, w, msg)
			assert.Equal(t, before, ran.Load(), "type %s: the handler must not run", typ)
		}
	}
	w := get(r, "/access", bearer(signPayload(`{"sub":"a","type":"refresh"}`)))
	assert.Equal(t, 422, w.Code)
	assertMsg(t, w, "Only non-refresh tokens are allowed")
	w = get(r, "/access", bearer(signPayload(`{"sub":"a","type":"refres\u0068"}`)))
	assert.Equal(t, 422, w.Code, "an escaped spelling is still refresh")
	w = get(r, "/access", bearer(signPayload(`{"sub":"a","type":"REFRESH"}`)))
	assert.Equal(t, 200, w.Code, "flask lets other spellings through access routes")
}

// Rotation keeps one record per login, not one per rotation: a client
// rotating as fast as it can does not grow the store.
func TestHostileRotationFloodStaysBounded(t *testing.T) {
	store := ginjwt.NewMemoryBlocklist(nil)
	m := newManager(t, ginjwt.WithBlocklist(store), ginjwt.WithRefreshRotation())
	r := rotationRouter(m)
	_, refresh, err := m.CreateTokenPair("alice")
	require.NoError(t, err)
	first := refresh
	for range 2000 {
		w := request(r, http.MethodPost, "/refresh", bearer(refresh))
		require.Equal(t, 200, w.Code, w.Body.String())
		refresh = decodeBody(t, w)["refresh_token"].(string)
	}
	assert.Equal(t, 1, ginjwt.MemoryBlocklistLen(store), "2000 rotations of one login: one record")
	for range 3 {
		_, other, err := m.CreateTokenPair("bob")
		require.NoError(t, err)
		require.Equal(t, 200, request(r, http.MethodPost, "/refresh", bearer(other)).Code)
	}
	assert.Equal(t, 4, ginjwt.MemoryBlocklistLen(store), "one record per login")

	// Reuse of any earlier token is still detected.
	w := request(r, http.MethodPost, "/refresh", bearer(first))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Token has been revoked")
	assert.Equal(t, 401, request(r, http.MethodPost, "/refresh", bearer(refresh)).Code, "the login is revoked")
}

// Concurrent requests with one refresh token that expires while they run
// (between the guard and the rotation): still exactly one new pair, and the
// replays revoke the login.
func TestHostileRotationAtTheRefreshTokensLastSecond(t *testing.T) {
	clock := newFakeClock()
	// A session outliving its refresh tokens, so that a rotation at the
	// last second may be granted.
	m := newManager(t, clock.option(), ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(clock.Now)), ginjwt.WithRefreshRotation(),
		ginjwt.WithSessionLifetime(90*24*time.Hour))
	const n = 40
	var passed sync.WaitGroup
	passed.Add(n)
	expired := make(chan struct{})
	r := newRouter()
	r.GET("/protected", m.JWTRequired(), echoToken)
	r.POST("/refresh", m.RefreshRequired(), func(c *gin.Context) {
		passed.Done()
		<-expired // the work between the guard and the rotation
		access, refresh, err := m.RotateRefreshToken(c)
		if err != nil {
			m.Abort(c, err)
			return
		}
		c.JSON(200, gin.H{"access_token": access, "refresh_token": refresh})
	})
	_, refresh, err := m.CreateTokenPair("alice")
	require.NoError(t, err)
	clock.Sleep(30*24*time.Hour - time.Second) // its last second

	codes := make(chan *httptest.ResponseRecorder, n)
	for range n {
		go func() { codes <- request(r, http.MethodPost, "/refresh", bearer(refresh)) }()
	}
	passed.Wait()
	clock.Sleep(2 * time.Second) // now it has expired
	close(expired)
	var winners []string
	for range n {
		w := <-codes
		switch w.Code {
		case 200:
			winners = append(winners, decodeBody(t, w)["access_token"].(string))
		case 401:
			assertMsg(t, w, "Token has been revoked")
		default:
			t.Errorf("unexpected %d %s", w.Code, w.Body)
		}
	}
	require.Len(t, winners, 1, "exactly one new pair")
	w := get(r, "/protected", bearer(winners[0]))
	assert.Equal(t, 401, w.Code, "the replays revoked the login, the winner's tokens included")
	assertMsg(t, w, "Token has been revoked")
}

// A rotated refresh token replayed after its expiry is still a replay: the
// login is revoked, though the answer is "Token has expired".
func TestHostileReplayAfterExpiryRevokesTheLogin(t *testing.T) {
	clock := newFakeClock()
	m := newManager(t, clock.option(), ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(clock.Now)), ginjwt.WithRefreshRotation(),
		ginjwt.WithSessionLifetime(90*24*time.Hour))
	r := rotationRouter(m)
	_, refresh, err := m.CreateTokenPair("alice")
	require.NoError(t, err)
	_, untouched, err := m.CreateTokenPair("alice")
	require.NoError(t, err)
	clock.Sleep(10 * 24 * time.Hour)
	w := request(r, http.MethodPost, "/refresh", bearer(refresh))
	require.Equal(t, 200, w.Code)
	access2, refresh2 := decodeBody(t, w)["access_token"].(string), decodeBody(t, w)["refresh_token"].(string)

	clock.Sleep(21 * 24 * time.Hour) // refresh has expired, refresh2 has not
	w = request(r, http.MethodPost, "/refresh", bearer(refresh))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Token has expired")
	w = request(r, http.MethodPost, "/refresh", bearer(refresh2))
	assert.Equal(t, 401, w.Code, "the thief's copy of the current token is revoked")
	assertMsg(t, w, "Token has been revoked")
	assert.Equal(t, 401, get(r, "/protected", bearer(access2)).Code)

	// The current token of another login, expired, is just expired.
	clock.Sleep(24 * time.Hour)
	w = request(r, http.MethodPost, "/refresh", bearer(untouched))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Token has expired")
}

// A refresh token without a session ID (flask's) is a session of its own:
// its ID names the session its successors continue, and a replay of it
// still ends them.
func TestRotationOfATokenWithoutSession(t *testing.T) {
	store := ginjwt.NewMemoryBlocklist(nil)
	old := flaskToken("refresh", "alice", time.Now(), time.Hour)
	m := newManager(t, ginjwt.WithBlocklist(store), ginjwt.WithRefreshRotation())
	r := rotationRouter(m)
	w := request(r, http.MethodPost, "/refresh", bearer(old))
	require.Equal(t, 200, w.Code, w.Body.String())
	next := decodeBody(t, w)["refresh_token"].(string)
	assert.Equal(t, mustDecode(t, m, old).Claims.JTI, session(t, m, next), "the old token's ID names the session")
	w = request(r, http.MethodPost, "/refresh", bearer(old))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Token has been revoked")
	assert.Equal(t, 401, request(r, http.MethodPost, "/refresh", bearer(next)).Code)
}

// OPTIONS on guarded Any() routes, with no token, a forged one or an
// expired one: the guard answers, no handler runs.
func TestHostileOptionsRequests(t *testing.T) {
	m := newManager(t)
	var runs atomic.Int32
	h := func(c *gin.Context) { runs.Add(1) }
	r := newRouter()
	r.Any("/jwt", m.JWTRequired(), h)
	r.Any("/refresh", m.RefreshRequired(), h)
	r.Any("/fresh", m.FreshRequired(), h)
	r.Any("/optional", m.JWTRequired(ginjwt.Optional()), h)
	r.Any("/admin", m.JWTRequired(ginjwt.RequireClaim("role", "admin")), h)
	forged := signRaw(`{"alg":"HS256","typ":"JWT"}`, `{"sub":"mallory","role":"admin","type":"access","fresh":true}`, "not-the-secret-not-the-secret-00")
	expired := ginjwttest.Access(t, m, "alice", ginjwt.ExpiresIn(-time.Hour))
	for _, path := range []string{"/jwt", "/refresh", "/fresh", "/optional", "/admin"} {
		for _, tok := range []string{"", forged, expired} {
			req := httptest.NewRequest(http.MethodOptions, path, nil)
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			assert.Equal(t, 204, w.Code, path)
			assert.Empty(t, w.Body.String(), path)
		}
	}
	assert.Zero(t, runs.Load(), "no handler ran")
}

// Cookie names with prefixes that browsers enforce are refused at New
// when the cookie would be dropped, so a login never silently fails.
func TestHostileCookiePrefixesRefusedAtSetup(t *testing.T) {
	_, err := ginjwt.New(ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithCookies(ginjwt.CookieConfig{
		AccessName: "__Host-a", RefreshName: "__Secure-r", Insecure: true, Domain: "example.com"}))
	require.ErrorIs(t, err, ginjwt.ErrConfig)
	for _, want := range []string{`"__Host-a": its prefix needs Secure`, `"__Secure-r": its prefix needs Secure`, `"__Host-a": a __Host- cookie cannot have a Domain`} {
		assert.Contains(t, err.Error(), want)
	}
}

// A token sent in the query string never reaches Manager.Logger's output,
// whatever spelling of the parameter an attacker or a client uses.
func TestHostileQueryTokenNeverLogged(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InQueryString))
	var log strings.Builder
	r := newRouter()
	r.Use(m.Logger(gin.LoggerConfig{Output: &log}))
	r.GET("/p", m.JWTRequired(), echoToken)
	token := ginjwttest.Access(t, m, "alice")
	for _, q := range []string{"jwt=", "%6a%77%74=", "x=1&jwt=", "jwt=a&jwt="} {
		get(r, "/p?"+q+url.QueryEscape(token))
	}
	assert.NotContains(t, log.String(), strings.Split(token, ".")[1])
	assert.Equal(t, 4, strings.Count(log.String(), "[GIN]"), "four requests logged")
}
