package ginjwt_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The verified-token cache skips only the signature check of a token seen
// before: everything else is checked on every request, and nothing but a
// byte-identical, genuinely signed token ever hits.
func TestHostileVerifiedTokenCache(t *testing.T) {
	clock := newFakeClock()
	store := ginjwt.NewMemoryBlocklist(clock.Now)
	m := mustManager(t, ginjwt.WithAlgorithm("ES256"), ginjwt.WithPrivateKey(privateFor("ES256")), clock.option(),
		ginjwt.WithBlocklist(store))
	g := newGuarded(m)
	token := mustToken(t)(m.CreateAccessToken("alice", ginjwt.ExpiresIn(time.Minute)))
	require.Equal(t, 200, get(g.r, "/protected", bearer(token)).Code)
	require.Equal(t, 1, ginjwt.VerifiedCacheLen(m), "a verified token is remembered")
	require.Equal(t, 200, get(g.r, "/protected", bearer(token)).Code)

	t.Run("a bit flip anywhere never hits", func(t *testing.T) {
		for i := range len(token) {
			if token[i] == '.' {
				continue
			}
			flipped := []byte(token)
			flipped[i] ^= 0x01
			w := get(g.r, "/protected", bearer(string(flipped)))
			assert.NotEqual(t, 200, w.Code, "byte %d", i)
		}
		assert.Equal(t, 1, ginjwt.VerifiedCacheLen(m), "no tampered token entered")
	})

	t.Run("checks other than the signature run on every request", func(t *testing.T) {
		refresh := mustToken(t)(m.CreateRefreshToken("alice"))
		require.Equal(t, 200, get(g.r, "/refresh", bearer(refresh)).Code)
		w := get(g.r, "/protected", bearer(refresh))
		assert.Equal(t, 422, w.Code, "the type is checked though the signature is cached")
		assertMsg(t, w, "Only non-refresh tokens are allowed")
		w = get(g.r, "/fresh", bearer(token))
		assert.Equal(t, 401, w.Code)
		assertMsg(t, w, "Fresh token required")
	})

	t.Run("revocation while cached", func(t *testing.T) {
		revoked := mustToken(t)(m.CreateAccessToken("bob"))
		require.Equal(t, 200, get(g.r, "/protected", bearer(revoked)).Code)
		require.NoError(t, m.Revoke(t.Context(), revoked))
		w := get(g.r, "/protected", bearer(revoked))
		assert.Equal(t, 401, w.Code)
		assertMsg(t, w, "Token has been revoked")
	})

	t.Run("expiry while cached, by the request's clock", func(t *testing.T) {
		clock.Sleep(2 * time.Minute)
		w := get(g.r, "/protected", bearer(token))
		assert.Equal(t, 401, w.Code)
		assertMsg(t, w, "Token has expired")
	})
}

// A token verified with a key that leaves the key set no longer passes,
// even if a new key takes over its kid.
func TestVerifiedTokenCacheFollowsKeyRotation(t *testing.T) {
	k1 := testKeys()["P-256"].(*ecdsa.PrivateKey)
	k2, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	clock := newFakeClock()
	common := []ginjwt.Option{ginjwt.WithAlgorithm("ES256"), ginjwt.WithClaims(ginjwt.ClaimsConfig{EncodeIssuer: "https://a.example", EncodeAudience: []string{"orders"}}), clock.option()}
	a := newIssuer(t, append(common, ginjwt.WithPrivateKey(k1), ginjwt.WithKeyID("k1"))...)
	src := ginjwt.NewJWKS(a.srv.URL+"/.well-known/jwks.json", ginjwt.JWKSClock(clock.Now), ginjwt.JWKSMinInterval(10*time.Second),
		ginjwt.JWKSRefresh(time.Minute))
	b := mustManager(t, ginjwt.WithAlgorithm("ES256"), ginjwt.WithJWKS(src),
		ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"https://a.example"}, DecodeAudience: []string{"orders"}}), clock.option())
	r := newRouter()
	r.GET("/orders", b.JWTRequired(), echoToken)
	old := a.token(t, "alice")
	for range 3 {
		require.Equal(t, 200, get(r, "/orders", bearer(old)).Code)
	}
	require.Equal(t, 1, ginjwt.VerifiedCacheLen(b))

	// The issuer retires k1: kid "k1" now names a new key (k2).
	a.cur.Store(mustManager(t, append(common, ginjwt.WithPrivateKey(k2), ginjwt.WithKeyID("k1"))...))
	clock.Sleep(2 * time.Minute) // past the refresh time
	w := get(r, "/orders", bearer(old))
	assert.Equal(t, 422, w.Code, "the cached verification by the retired key no longer counts")
	assertMsg(t, w, "Signature verification failed")
	assert.Equal(t, 200, get(r, "/orders", bearer(a.token(t, "bob"))).Code)

	// The key is gone altogether: unknown kid.
	a.cur.Store(mustManager(t, append(common, ginjwt.WithPrivateKey(k2), ginjwt.WithKeyID("k3"))...))
	clock.Sleep(2 * time.Minute)
	fresh := a.token(t, "carol")
	require.Equal(t, 200, get(r, "/orders", bearer(fresh)).Code)
	w = get(r, "/orders", bearer(old))
	assert.Equal(t, 422, w.Code)
	assertMsg(t, w, "Unknown key ID")
}

// A flood of distinct valid tokens evicts; hostile tokens never enter.
func TestVerifiedTokenCacheIsBounded(t *testing.T) {
	m := mustManager(t, ginjwt.WithAlgorithm("EdDSA"), ginjwt.WithPrivateKey(privateFor("EdDSA")), ginjwt.WithVerifiedTokenCache(64))
	g := newGuarded(m)
	for i := range 1000 {
		require.Equal(t, 200, get(g.r, "/protected", bearer(mustToken(t)(m.CreateAccessToken("u"+strconv.Itoa(i))))).Code)
	}
	assert.LessOrEqual(t, ginjwt.VerifiedCacheLen(m), 64)
	assert.Positive(t, ginjwt.VerifiedCacheLen(m))

	m = mustManager(t, ginjwt.WithAlgorithm("EdDSA"), ginjwt.WithPrivateKey(privateFor("EdDSA")))
	g = newGuarded(m)
	good := mustToken(t)(m.CreateAccessToken("alice"))
	parts := strings.Split(good, ".")
	for i := range 500 {
		forged := parts[0] + "." + parts[1] + "." + strconv.Itoa(i) + parts[2][len(strconv.Itoa(i)):]
		if forged == good {
			continue // the signature happened to start with these digits
		}
		assert.Equal(t, 422, get(g.r, "/protected", bearer(forged)).Code)
	}
	assert.Equal(t, 0, ginjwt.VerifiedCacheLen(m), "forged signatures never enter")

	assert.Equal(t, -1, ginjwt.VerifiedCacheLen(newManager(t)), "HMAC managers need no cache")
	assert.Equal(t, -1, ginjwt.VerifiedCacheLen(mustManager(t, ginjwt.WithAlgorithm("EdDSA"), ginjwt.WithPrivateKey(privateFor("EdDSA")),
		ginjwt.WithVerifiedTokenCache(0))), "0 turns it off")
	withLoader := mustManager(t, ginjwt.WithAlgorithm("EdDSA"), ginjwt.WithDecodeKeyLoader(func(*ginjwt.Token) (any, error) {
		return privateFor("EdDSA").(crypto.Signer).Public(), nil
	}))
	assert.Equal(t, -1, ginjwt.VerifiedCacheLen(withLoader), "a key loader's key is new for every token: nothing could hit")
	_, err := ginjwt.New(ginjwt.WithAlgorithm("EdDSA"), ginjwt.WithPrivateKey(privateFor("EdDSA")), ginjwt.WithVerifiedTokenCache(-1))
	assert.ErrorContains(t, err, "WithVerifiedTokenCache: negative size")
}
