package ginjwt_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
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

// testKeys are generated once: RSA key generation is slow.
var testKeys = sync.OnceValue(func() map[string]any {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaKey2, _ := rsa.GenerateKey(rand.Reader, 2048)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	return map[string]any{"RSA": rsaKey, "RSA2": rsaKey2, "P-256": p256, "P-384": p384, "P-521": p521, "Ed25519": ed}
})

func privateFor(alg string) any {
	k := testKeys()
	switch alg[:2] {
	case "RS", "PS":
		return k["RSA"]
	case "ES":
		return map[string]any{"ES256": k["P-256"], "ES384": k["P-384"], "ES512": k["P-521"]}[alg]
	}
	return k["Ed25519"]
}

func TestEveryAlgorithmRoundTrips(t *testing.T) {
	secret := []byte(testSecret + testSecret) // 88 bytes: enough for HS512
	for _, alg := range []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			opts := []ginjwt.Option{ginjwt.WithAlgorithm(alg)}
			var verifyKey any
			if alg[:2] == "HS" {
				opts = append(opts, ginjwt.WithSecretKey(secret))
				verifyKey = secret
			} else {
				priv := privateFor(alg)
				opts = append(opts, ginjwt.WithPrivateKey(priv))
				verifyKey = priv.(crypto.Signer).Public()
			}
			m, err := ginjwt.New(opts...)
			require.NoError(t, err)
			token := ginjwttest.Access(t, m, "alice")
			tok, err := m.DecodeToken(token)
			require.NoError(t, err)
			assert.Equal(t, alg, tok.Header.Alg)

			// golang-jwt, independently, accepts it.
			parsed, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return verifyKey, nil }, jwt.WithValidMethods([]string{alg}))
			require.NoError(t, err)
			assert.Equal(t, "alice", parsed.Claims.(jwt.MapClaims)["sub"])

			// And a token golang-jwt signs verifies here.
			claims := jwt.MapClaims{"sub": "bob", "exp": time.Now().Add(time.Hour).Unix()}
			var signKey any = secret
			if alg[:2] != "HS" {
				signKey = privateFor(alg)
			}
			foreign, err := jwt.NewWithClaims(jwt.GetSigningMethod(alg), claims).SignedString(signKey)
			require.NoError(t, err)
			tok, err = m.DecodeToken(foreign)
			require.NoError(t, err)
			assert.Equal(t, "bob", tok.Claims.Identity)
		})
	}
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestKeyFormats(t *testing.T) {
	rsaKey := testKeys()["RSA"].(*rsa.PrivateKey)
	ecKey := testKeys()["P-256"].(*ecdsa.PrivateKey)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	require.NoError(t, err)
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	require.NoError(t, err)
	spki, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "issuer"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rsaKey.PublicKey, rsaKey)
	require.NoError(t, err)

	for _, tc := range []struct {
		name      string
		alg       string
		priv, pub any
	}{
		{"PKCS#1 private, SPKI public", "RS256", pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), pemBlock("PUBLIC KEY", spki)},
		{"PKCS#8 private, PKCS#1 public", "PS256", string(pemBlock("PRIVATE KEY", pkcs8)), pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey))},
		{"PKCS#8 private, certificate", "RS512", pemBlock("PRIVATE KEY", pkcs8), pemBlock("CERTIFICATE", cert)},
		{"SEC 1 private, crypto public", "ES256", pemBlock("EC PRIVATE KEY", sec1), &ecKey.PublicKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			signer, err := ginjwt.New(ginjwt.WithAlgorithm(tc.alg), ginjwt.WithPrivateKey(tc.priv))
			require.NoError(t, err)
			verifier, err := ginjwt.New(ginjwt.WithAlgorithm(tc.alg), ginjwt.WithPublicKey(tc.pub))
			require.NoError(t, err)
			_, err = verifier.DecodeToken(ginjwttest.Access(t, signer, "alice"))
			assert.NoError(t, err)
		})
	}
}

// HS256 signed with the RSA public key's PEM as the secret: the classic
// confusion attack. The allow-list refuses it before any key is used.
func TestAlgorithmConfusionIsRefused(t *testing.T) {
	rsaKey := testKeys()["RSA"].(*rsa.PrivateKey)
	spki, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	require.NoError(t, err)
	pubPEM := pemBlock("PUBLIC KEY", spki)
	m, err := ginjwt.New(ginjwt.WithAlgorithm("RS256"), ginjwt.WithPublicKey(pubPEM))
	require.NoError(t, err)
	r := newRouter()
	r.GET("/protected", m.JWTRequired(), echoToken)
	for name, token := range map[string]string{
		"HS256 with the public key": signRaw(`{"alg":"HS256","typ":"JWT"}`, `{"sub":"mallory"}`, string(pubPEM)),
		"alg none":                  signRaw(`{"alg":"none"}`, `{"sub":"mallory"}`, "")[:len(signRaw(`{"alg":"none"}`, `{"sub":"mallory"}`, ""))-43],
	} {
		w := get(r, "/protected", bearer(token))
		assert.Equal(t, 422, w.Code, name)
		assertMsg(t, w, "The specified alg value is not allowed")
	}
	_, err = ginjwt.New(ginjwt.WithAlgorithm("RS256"), ginjwt.WithPublicKey(pubPEM), ginjwt.WithDecodeAlgorithms("HS256"))
	assert.ErrorContains(t, err, "HS256 needs WithSecretKey", "HS* needs a secret: the public key is never one")
}

func TestKeyRotationByKid(t *testing.T) {
	old := testKeys()["RSA"].(*rsa.PrivateKey)
	cur := testKeys()["RSA2"].(*rsa.PrivateKey)
	before, err := ginjwt.New(ginjwt.WithAlgorithm("RS256"), ginjwt.WithPrivateKey(old), ginjwt.WithKeyID("k1"))
	require.NoError(t, err)
	oldToken := ginjwttest.Access(t, before, "alice")
	tok, err := before.DecodeToken(oldToken)
	require.NoError(t, err)
	assert.Equal(t, "k1", tok.Header.Kid, "new tokens carry the signing key's ID")

	during, err := ginjwt.New(ginjwt.WithAlgorithm("RS256"), ginjwt.WithPrivateKey(cur), ginjwt.WithKeyID("k2",
		ginjwt.VerificationKey{ID: "k1", PublicKey: &old.PublicKey}))
	require.NoError(t, err)
	newToken := ginjwttest.Access(t, during, "bob")
	after, err := ginjwt.New(ginjwt.WithAlgorithm("RS256"), ginjwt.WithPrivateKey(cur), ginjwt.WithKeyID("k2"))
	require.NoError(t, err)

	forged := ginjwttest.Access(t, mustManager(t, ginjwt.WithAlgorithm("RS256"), ginjwt.WithPrivateKey(cur), ginjwt.WithKeyID("k1")), "mallory")
	for _, tc := range []struct {
		name   string
		m      *ginjwt.Manager
		token  string
		status int
		msg    string
	}{
		{"old token during rotation", during, oldToken, 200, ""},
		{"new token during rotation", during, newToken, 200, ""},
		{"old token after retirement", after, oldToken, 422, "Unknown key ID"},
		{"new token after retirement", after, newToken, 200, ""},
		{"unknown kid", during, signRaw(`{"alg":"RS256","kid":"k9"}`, `{"sub":"a"}`, "x"), 422, "Unknown key ID"},
		{"right kid, wrong key", during, forged, 422, "Signature verification failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouter()
			r.GET("/protected", tc.m.JWTRequired(), echoToken)
			w := get(r, "/protected", bearer(tc.token))
			require.Equal(t, tc.status, w.Code, w.Body.String())
			if tc.msg != "" {
				assertMsg(t, w, tc.msg)
			}
		})
	}
	_, err = ginjwt.New(ginjwt.WithAlgorithm("RS256"), ginjwt.WithPrivateKey(cur), ginjwt.WithKeyID("k1", ginjwt.VerificationKey{ID: "k1", PublicKey: &old.PublicKey}))
	assert.ErrorContains(t, err, `key ID "k1" given twice`)
	_, err = ginjwt.New(ginjwt.WithAlgorithm("RS256"), ginjwt.WithPrivateKey(cur), ginjwt.WithKeyID("r", ginjwt.VerificationKey{ID: "ec", PublicKey: testKeys()["P-256"].(*ecdsa.PrivateKey).Public()}))
	assert.ErrorContains(t, err, `key "ec" fits no allowed algorithm`)
}

func mustManager(t testing.TB, opts ...ginjwt.Option) *ginjwt.Manager {
	t.Helper()
	m, err := ginjwt.New(opts...)
	require.NoError(t, err)
	return m
}

func TestJWKSHandler(t *testing.T) {
	rsaKey := testKeys()["RSA"].(*rsa.PrivateKey)
	ecKey := testKeys()["P-256"].(*ecdsa.PrivateKey)
	m := mustManager(t, ginjwt.WithAlgorithm("RS256"), ginjwt.WithPrivateKey(rsaKey), ginjwt.WithKeyID("r1", ginjwt.VerificationKey{ID: "e1", PublicKey: &ecKey.PublicKey}),
		ginjwt.WithDecodeAlgorithms("ES256", "HS256"), ginjwt.WithSecretKey([]byte(testSecret)))
	r := newRouter()
	r.GET("/.well-known/jwks.json", m.JWKSHandler())
	w := get(r, "/.well-known/jwks.json")
	require.Equal(t, 200, w.Code)
	assert.Equal(t, "application/jwk-set+json", w.Header().Get("Content-Type"))
	assert.Equal(t, "public, max-age=300", w.Header().Get("Cache-Control"))
	var set struct{ Keys []map[string]string }
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &set))
	kids := map[string]map[string]string{}
	for _, k := range set.Keys {
		kids[k["kid"]+"/"+k["alg"]] = k
		assert.NotContains(t, k, "k", "a secret is never published")
		assert.NotContains(t, k, "d", "a private part is never published")
	}
	require.Contains(t, kids, "r1/RS256")
	require.Contains(t, kids, "e1/ES256")
	assert.Equal(t, "RSA", kids["r1/RS256"]["kty"])
	assert.Equal(t, "AQAB", kids["r1/RS256"]["e"])
	assert.Equal(t, "P-256", kids["e1/ES256"]["crv"])
	assert.Len(t, set.Keys, 2)

	// Without an ID, the RFC 7638 thumbprint names the key.
	ed := testKeys()["Ed25519"].(ed25519.PrivateKey)
	plain := mustManager(t, ginjwt.WithAlgorithm("EdDSA"), ginjwt.WithPrivateKey(ed))
	r = newRouter()
	r.GET("/jwks", plain.JWKSHandler())
	require.NoError(t, json.Unmarshal(get(r, "/jwks").Body.Bytes(), &set))
	require.Len(t, set.Keys, 1)
	assert.Len(t, set.Keys[0]["kid"], 43)
}

// issuer is service A: it signs with its current key and publishes its JWKS
// on 127.0.0.1; rotate swaps in a new key and keeps the old one published.
type issuer struct {
	srv  *httptest.Server
	cur  atomic.Pointer[ginjwt.Manager]
	hits atomic.Int32
	down atomic.Bool
}

func newIssuer(t *testing.T, opts ...ginjwt.Option) *issuer {
	is := &issuer{}
	is.cur.Store(mustManager(t, opts...))
	r := gin.New()
	r.GET("/.well-known/jwks.json", func(c *gin.Context) {
		is.hits.Add(1)
		if is.down.Load() {
			c.AbortWithStatus(http.StatusBadGateway)
			return
		}
		is.cur.Load().JWKSHandler()(c)
	})
	is.srv = httptest.NewServer(r)
	t.Cleanup(is.srv.Close)
	return is
}

func (is *issuer) token(t *testing.T, who string) string {
	return ginjwttest.Access(t, is.cur.Load(), who)
}

func TestTwoServicesWithJWKS(t *testing.T) {
	k1 := testKeys()["P-256"].(*ecdsa.PrivateKey)
	k2, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	clock := newFakeClock()
	common := []ginjwt.Option{ginjwt.WithAlgorithm("ES256"), ginjwt.WithClaims(ginjwt.ClaimsConfig{EncodeIssuer: "https://a.example", EncodeAudience: []string{"orders"}}), clock.option()}
	a := newIssuer(t, append(common, ginjwt.WithPrivateKey(k1), ginjwt.WithKeyID("k1"))...)

	src := ginjwt.NewJWKS(a.srv.URL+"/.well-known/jwks.json", ginjwt.JWKSConfig{MinInterval: 10 * time.Second})
	b := mustManager(t, ginjwt.WithAlgorithm("ES256"), ginjwt.WithJWKS(src),
		ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"https://a.example"}, DecodeAudience: []string{"orders"}}), clock.option())
	r := newRouter()
	r.GET("/orders", b.JWTRequired(), echoToken)

	t1 := a.token(t, "alice")
	w := get(r, "/orders", bearer(t1))
	require.Equal(t, 200, w.Code, w.Body.String())
	assert.Equal(t, "alice", decodeBody(t, w)["identity"])
	assert.Equal(t, int32(1), a.hits.Load())
	for range 20 {
		require.Equal(t, 200, get(r, "/orders", bearer(t1)).Code)
	}
	assert.Equal(t, int32(1), a.hits.Load(), "cached")

	// A rotates: signs with k2, still publishes k1.
	a.cur.Store(mustManager(t, append(common, ginjwt.WithPrivateKey(k2), ginjwt.WithKeyID("k2",
		ginjwt.VerificationKey{ID: "k1", PublicKey: &k1.PublicKey}))...))
	t2 := a.token(t, "bob")
	clock.Sleep(11 * time.Second)
	w = get(r, "/orders", bearer(t2))
	require.Equal(t, 200, w.Code, "the unknown kid triggers one fetch: %s", w.Body.String())
	assert.Equal(t, int32(2), a.hits.Load())
	assert.Equal(t, 200, get(r, "/orders", bearer(t1)).Code, "old tokens keep verifying")

	// Forged kids cannot make B hammer A: within the minimum interval of
	// the last fetch none is made, after it exactly one.
	forge := func(round int) {
		for i := range 50 {
			w = get(r, "/orders", bearer(signRaw(fmt.Sprintf(`{"alg":"ES256","kid":"forged-%d-%d"}`, round, i), `{"sub":"x"}`, "x")))
			require.Equal(t, 422, w.Code)
			assertMsg(t, w, "Unknown key ID")
		}
	}
	forge(1)
	assert.Equal(t, int32(2), a.hits.Load(), "no fetch within the minimum interval")
	clock.Sleep(11 * time.Second)
	forge(2)
	assert.Equal(t, int32(3), a.hits.Load(), "one fetch per minimum interval")

	// A is down: B keeps verifying with the keys it has.
	a.down.Store(true)
	clock.Sleep(10 * time.Minute) // past the refresh time: B tries, fails, keeps its keys
	assert.Equal(t, 200, get(r, "/orders", bearer(t2)).Code)
	assert.Error(t, src.LastError())
	a.srv.Close()
	clock.Sleep(time.Minute)
	assert.Equal(t, 200, get(r, "/orders", bearer(t1)).Code)

	// Issuer and audience are checked.
	other := mustManager(t, ginjwt.WithAlgorithm("ES256"), ginjwt.WithPrivateKey(k2), ginjwt.WithKeyID("k2"),
		ginjwt.WithClaims(ginjwt.ClaimsConfig{EncodeIssuer: "https://evil.example", EncodeAudience: []string{"orders"}}), clock.option())
	w = get(r, "/orders", bearer(ginjwttest.Access(t, other, "mallory")))
	assert.Equal(t, 422, w.Code)
	assertMsg(t, w, "Invalid issuer")
	wrongAud := mustManager(t, ginjwt.WithAlgorithm("ES256"), ginjwt.WithPrivateKey(k2), ginjwt.WithKeyID("k2"),
		ginjwt.WithClaims(ginjwt.ClaimsConfig{EncodeIssuer: "https://a.example", EncodeAudience: []string{"billing"}}), clock.option())
	w = get(r, "/orders", bearer(ginjwttest.Access(t, wrongAud, "mallory")))
	assert.Equal(t, 422, w.Code)
	assertMsg(t, w, "Audience doesn't match")
}

func TestJWKSNeverFetched(t *testing.T) {
	src := ginjwt.NewJWKS("http://127.0.0.1:1/jwks.json", ginjwt.JWKSConfig{Client: &http.Client{Timeout: time.Second}})
	b := mustManager(t, ginjwt.WithAlgorithm("ES256"), ginjwt.WithJWKS(src),
		ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"https://a.example"}, DecodeAudience: []string{"orders"}}))
	r := newRouter()
	r.GET("/orders", b.JWTRequired(), echoToken)
	w := get(r, "/orders", bearer(signRaw(`{"alg":"ES256","kid":"k1"}`, `{"sub":"x"}`, "x")))
	assert.Equal(t, 503, w.Code, "no keys at all: fail closed")
	assertMsg(t, w, "Verification keys unavailable")

	_, err := ginjwt.New(ginjwt.WithAlgorithm("ES256"), ginjwt.WithJWKS(src))
	assert.ErrorContains(t, err, "WithJWKS needs ClaimsConfig.DecodeIssuers and DecodeAudience")
}

// Bad JWKS settings are errors of New, reported with the rest; before, a
// nil HTTP client passed New and the first guarded request panicked (now
// nil means the default client).
func TestJWKSOptionsRefusedAtNew(t *testing.T) {
	const url = "https://a.example/.well-known/jwks.json"
	claims := ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"https://a.example"}, DecodeAudience: []string{"orders"}})
	for name, tc := range map[string]struct {
		src  *ginjwt.JWKS
		msgs []string
	}{
		"negative durations": {
			ginjwt.NewJWKS(url, ginjwt.JWKSConfig{Refresh: -time.Second, MinInterval: -time.Second, MaxStale: -time.Minute}),
			[]string{"JWKSConfig.Refresh (-1s): must not be negative", "JWKSConfig.MinInterval (-1s): must not be negative", "JWKSConfig.MaxStale (-1m0s): must not be negative"},
		},
		"a staleness bound shorter than the refresh": {
			ginjwt.NewJWKS(url, ginjwt.JWKSConfig{Refresh: time.Hour, MaxStale: time.Minute}),
			[]string{"JWKSConfig.MaxStale (1m0s) is shorter than Refresh (1h0m0s)"},
		},
		"not an http URL":         {ginjwt.NewJWKS("jwks.json", ginjwt.JWKSConfig{}), []string{`NewJWKS("jwks.json"): not an http or https URL`}},
		"no JWKS":                 {nil, []string{"WithJWKS: no JWKS (make it with NewJWKS)"}},
		"a JWKS not from NewJWKS": {&ginjwt.JWKS{}, []string{"WithJWKS: no JWKS (make it with NewJWKS)"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ginjwt.New(ginjwt.WithAlgorithm("ES256"), ginjwt.WithJWKS(tc.src), claims)
			require.ErrorIs(t, err, ginjwt.ErrConfig)
			for _, msg := range tc.msgs {
				assert.ErrorContains(t, err, msg)
			}
		})
	}
	_, err := ginjwt.New(ginjwt.WithAlgorithm("ES256"), claims, ginjwt.WithJWKS(ginjwt.NewJWKS(url,
		ginjwt.JWKSConfig{Client: &http.Client{}, Refresh: time.Minute, MinInterval: time.Second, MaxStale: time.Minute})))
	assert.NoError(t, err, "a bound equal to the refresh time is fine")
	_, err = ginjwt.New(ginjwt.WithAlgorithm("ES256"), claims, ginjwt.WithJWKS(ginjwt.NewJWKS(url, ginjwt.JWKSConfig{})))
	assert.NoError(t, err, "the zero JWKSConfig is the default")
}

// A key the issuer removed while its JWKS endpoint fails keeps verifying
// only up to the staleness bound (1 hour by default) after the last fetch
// that worked; past it the guard answers 503 and the audit log says why.
// Once the endpoint answers again, the current set counts.
func TestJWKSStalenessIsBounded(t *testing.T) {
	k1 := testKeys()["P-256"].(*ecdsa.PrivateKey)
	k2, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	clock := newFakeClock()
	common := []ginjwt.Option{ginjwt.WithAlgorithm("ES256"), ginjwt.WithClaims(ginjwt.ClaimsConfig{EncodeIssuer: "https://a.example", EncodeAudience: []string{"orders"}}),
		ginjwt.WithAccessExpires(24 * time.Hour), clock.option()}
	a := newIssuer(t, append(common, ginjwt.WithPrivateKey(k1), ginjwt.WithKeyID("k1"))...)
	decode := ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"https://a.example"}, DecodeAudience: []string{"orders"}})

	var audit bytes.Buffer
	b := mustManager(t, ginjwt.WithAlgorithm("ES256"), ginjwt.WithJWKS(ginjwt.NewJWKS(a.srv.URL+"/.well-known/jwks.json", ginjwt.JWKSConfig{})), decode, clock.option(),
		ginjwt.WithAuditLog(slog.New(slog.NewJSONHandler(&audit, nil))))
	r := newRouter()
	r.GET("/orders", b.JWTRequired(), echoToken)
	old := a.token(t, "alice")
	require.Equal(t, 200, get(r, "/orders", bearer(old)).Code)

	// The issuer drops k1, and B can no longer fetch the set to learn it.
	a.cur.Store(mustManager(t, append(common, ginjwt.WithPrivateKey(k2), ginjwt.WithKeyID("k2"))...))
	a.down.Store(true)
	for _, step := range []time.Duration{6 * time.Minute, 53 * time.Minute} {
		clock.Sleep(step)
		w := get(r, "/orders", bearer(old))
		require.Equal(t, 200, w.Code, "within the bound the cached set verifies: %s", w.Body.String())
	}
	clock.Sleep(2 * time.Minute) // 61 minutes after the last fetch that worked
	w := get(r, "/orders", bearer(old))
	assert.Equal(t, 503, w.Code)
	assertMsg(t, w, "Verification keys out of date")
	recs := auditRecords(t, &audit)
	require.Len(t, recs, 1)
	assert.Equal(t, "ERROR", recs[0]["level"])
	assert.Equal(t, "keys_out_of_date", recs[0]["reason"])
	assert.Equal(t, "Verification keys out of date", recs[0]["message"])
	assert.Contains(t, recs[0]["cause"], "beyond JWKSConfig.MaxStale (1h0m0s)")
	assert.Contains(t, recs[0]["cause"], "status 502")

	// The issuer is back: after the minimum interval B fetches the set
	// without k1.
	a.down.Store(false)
	clock.Sleep(31 * time.Second)
	w = get(r, "/orders", bearer(old))
	assert.Equal(t, 422, w.Code)
	assertMsg(t, w, "Unknown key ID")
	assert.Equal(t, 200, get(r, "/orders", bearer(a.token(t, "bob"))).Code)

	// A longer bound is an option.
	patient := mustManager(t, ginjwt.WithAlgorithm("ES256"), decode, clock.option(),
		ginjwt.WithJWKS(ginjwt.NewJWKS(a.srv.URL+"/.well-known/jwks.json", ginjwt.JWKSConfig{MaxStale: 3 * time.Hour})))
	r = newRouter()
	r.GET("/orders", patient.JWTRequired(), echoToken)
	bob := a.token(t, "bob")
	require.Equal(t, 200, get(r, "/orders", bearer(bob)).Code)
	a.down.Store(true)
	clock.Sleep(2 * time.Hour)
	assert.Equal(t, 200, get(r, "/orders", bearer(bob)).Code)
}

// Per-tenant keys, as flask's encode_key_loader / decode_key_loader.
func TestDynamicKeys(t *testing.T) {
	secrets := map[string][]byte{"acme": []byte("acme-secret-0123456789abcdef0123456789"), "globex": []byte("globex-secret-0123456789abcdef012345678")}
	type tenantUser struct{ Tenant, Name string }
	m := mustManager(t,
		ginjwt.WithUserIdentityLoader(func(u tenantUser) (string, error) { return u.Name, nil }),
		ginjwt.WithEncodeKeyLoader(func(u tenantUser) (string, any, error) {
			s, ok := secrets[u.Tenant]
			if !ok {
				return "", nil, errors.New("no such tenant")
			}
			return u.Tenant, s, nil
		}),
		ginjwt.WithDecodeKeyLoader(func(tok *ginjwt.Token) (any, error) {
			if tok.Header.Kid == "down" {
				return nil, errors.New("key store down")
			}
			if tok.Header.Kid == "rsa" {
				return &testKeys()["RSA"].(*rsa.PrivateKey).PublicKey, nil
			}
			s, ok := secrets[tok.Header.Kid]
			if !ok {
				return nil, fmt.Errorf("tenant %q: %w", tok.Header.Kid, ginjwt.ErrUnknownKey)
			}
			return s, nil
		}),
	)
	r := newRouter()
	r.GET("/protected", m.JWTRequired(), echoToken)
	acme := ginjwttest.Access(t, m, tenantUser{"acme", "alice"})
	globex := ginjwttest.Access(t, m, tenantUser{"globex", "bob"})
	tok, err := m.DecodeToken(acme)
	require.NoError(t, err)
	assert.Equal(t, "acme", tok.Header.Kid)
	assert.Equal(t, 200, get(r, "/protected", bearer(acme)).Code)
	assert.Equal(t, 200, get(r, "/protected", bearer(globex)).Code)

	crossTenant := signRaw(`{"alg":"HS256","kid":"globex"}`, `{"sub":"alice"}`, string(secrets["acme"]))
	for _, tc := range []struct {
		token  string
		status int
		msg    string
	}{
		{crossTenant, 422, "Signature verification failed"},
		{signRaw(`{"alg":"HS256","kid":"initech"}`, `{"sub":"a"}`, "x"), 422, "Unknown key ID"},
		{signRaw(`{"alg":"HS256","kid":"down"}`, `{"sub":"a"}`, "x"), 503, "Verification keys unavailable"},
		{signRaw(`{"alg":"HS256","kid":"rsa"}`, `{"sub":"a"}`, "x"), 422, "The specified alg value is not allowed"},
	} {
		w := get(r, "/protected", bearer(tc.token))
		assert.Equal(t, tc.status, w.Code, w.Body.String())
		assertMsg(t, w, tc.msg)
	}
	_, err = m.CreateAccessToken(tenantUser{"initech", "eve"})
	assert.ErrorContains(t, err, "no such tenant")
}
