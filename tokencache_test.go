package ginjwt_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
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
	token := ginjwttest.Access(t, m, "alice", ginjwt.ExpiresIn(time.Minute))
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
		refresh := ginjwttest.Refresh(t, m, "alice")
		require.Equal(t, 200, get(g.r, "/refresh", bearer(refresh)).Code)
		w := get(g.r, "/protected", bearer(refresh))
		assert.Equal(t, 422, w.Code, "the type is checked though the signature is cached")
		assertMsg(t, w, "Only non-refresh tokens are allowed")
		w = get(g.r, "/fresh", bearer(token))
		assert.Equal(t, 401, w.Code)
		assertMsg(t, w, "Fresh token required")
	})

	t.Run("the route's requirements run on a cached token", func(t *testing.T) {
		g.r.GET("/admin", m.JWTRequired(ginjwt.RequireAll("roles", "admin")), echoToken)
		w := get(g.r, "/admin", bearer(token))
		assert.Equal(t, 403, w.Code, "a cached token without the role")
		admin := ginjwttest.Access(t, m, "carol", ginjwt.AdditionalClaims(map[string]any{"roles": []string{"admin"}}))
		assert.Equal(t, 200, get(g.r, "/admin", bearer(admin)).Code)
		assert.Equal(t, 200, get(g.r, "/admin", bearer(admin)).Code, "and with it, from the cache")
	})

	t.Run("revocation while cached", func(t *testing.T) {
		revoked := ginjwttest.Access(t, m, "bob")
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
	src := ginjwt.NewJWKS(a.srv.URL+"/.well-known/jwks.json", ginjwt.JWKSConfig{MinInterval: 10 * time.Second, Refresh: time.Minute})
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

// eddsaManager verifies and signs EdDSA tokens, the cheapest public-key
// algorithm to sign, with a verified-token cache of budget bytes.
func eddsaManager(t testing.TB, budget int) *ginjwt.Manager {
	return mustManager(t, ginjwt.WithAlgorithm("EdDSA"), ginjwt.WithPrivateKey(privateFor("EdDSA")), ginjwt.WithVerifiedTokenCacheBytes(budget))
}

// A flood of distinct valid tokens never takes the cache past its budget,
// by its own accounting and by the heap; forged tokens never enter.
func TestVerifiedTokenCacheIsBounded(t *testing.T) {
	const budget = 256 << 10
	m := eddsaManager(t, budget)
	g := newGuarded(m)
	require.Equal(t, 200, get(g.r, "/protected", bearer(ginjwttest.Access(t, m, "u"))).Code)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	// Three times what the budget holds, each token requested twice so that
	// the flood also fills the main queue.
	for i := range 1500 {
		token := ginjwttest.Access(t, m, "u"+strconv.Itoa(i))
		require.Equal(t, 200, get(g.r, "/protected", bearer(token)).Code)
		require.Equal(t, 200, get(g.r, "/protected", bearer(token)).Code)
		require.LessOrEqual(t, ginjwt.VerifiedCacheBytes(m), budget)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	assert.Greater(t, ginjwt.VerifiedCacheBytes(m), budget*9/10, "the flood filled the cache")
	assert.Less(t, int64(after.HeapAlloc)-int64(before.HeapAlloc), int64(2*budget), "the heap holds the budget, with room for the accounting's error")
	runtime.KeepAlive(g)

	m = eddsaManager(t, budget)
	g = newGuarded(m)
	good := ginjwttest.Access(t, m, "alice")
	parts := strings.Split(good, ".")
	for i := range 500 {
		forged := parts[0] + "." + parts[1] + "." + strconv.Itoa(i) + parts[2][len(strconv.Itoa(i)):]
		if forged == good {
			continue // the signature happened to start with these digits
		}
		assert.Equal(t, 422, get(g.r, "/protected", bearer(forged)).Code)
	}
	assert.Equal(t, 0, ginjwt.VerifiedCacheLen(m), "forged signatures never enter")
}

// Tokens clients keep sending stay cached through a scan of tokens seen
// once, many times what the cache holds: first in, first out would have
// evicted them.
func TestVerifiedTokenCacheKeepsHotTokensThroughAScan(t *testing.T) {
	m := eddsaManager(t, 64<<10) // about 140 tokens
	g := newGuarded(m)
	hot := make([]string, 4)
	for i := range hot {
		hot[i] = ginjwttest.Access(t, m, "hot"+strconv.Itoa(i))
		for range 3 {
			require.Equal(t, 200, get(g.r, "/protected", bearer(hot[i])).Code)
		}
	}
	var cold []string
	for i := range 1000 {
		token := ginjwttest.Access(t, m, "cold"+strconv.Itoa(i))
		require.Equal(t, 200, get(g.r, "/protected", bearer(token)).Code)
		cold = append(cold, token)
	}
	for i, token := range hot {
		assert.True(t, ginjwt.VerifiedCacheHolds(m, token), "hot token %d was evicted by the scan", i)
	}
	held := 0
	for _, token := range cold {
		if ginjwt.VerifiedCacheHolds(m, token) {
			held++
		}
	}
	assert.Less(t, held, 150, "the scan's tokens are evicted")
}

// Hits and insertions on several goroutines, under -race: every request
// answers as it would alone, and the budget holds.
func TestVerifiedTokenCacheConcurrentRequests(t *testing.T) {
	const budget = 64 << 10
	m := eddsaManager(t, budget)
	g := newGuarded(m)
	tokens := make([]string, 400) // about three times what the budget holds
	for i := range tokens {
		tokens[i] = ginjwttest.Access(t, m, "u"+strconv.Itoa(i))
	}
	var wg sync.WaitGroup
	codes := make([][]int, 4)
	for w := range codes {
		wg.Go(func() {
			for i := range 300 {
				// Each goroutine mostly repeats a few tokens, now and then
				// one from the whole set.
				token := tokens[w*10+i%10]
				if i%3 == 0 {
					token = tokens[(i*7+w)%len(tokens)]
				}
				codes[w] = append(codes[w], get(g.r, "/protected", bearer(token)).Code)
			}
		})
	}
	wg.Wait()
	for w := range codes {
		assert.Equal(t, slices.Repeat([]int{200}, 300), codes[w], "goroutine %d", w)
	}
	assert.LessOrEqual(t, ginjwt.VerifiedCacheBytes(m), budget)
}

func TestVerifiedTokenCacheBudgetOption(t *testing.T) {
	assert.Equal(t, -1, ginjwt.VerifiedCacheLen(newManager(t)), "HMAC managers need no cache")
	assert.Equal(t, -1, ginjwt.VerifiedCacheLen(eddsaManager(t, 0)), "0 turns it off")
	withLoader := mustManager(t, ginjwt.WithAlgorithm("EdDSA"), ginjwt.WithDecodeKeyLoader(func(*ginjwt.Token) (any, error) {
		return privateFor("EdDSA").(crypto.Signer).Public(), nil
	}))
	assert.Equal(t, -1, ginjwt.VerifiedCacheLen(withLoader), "a key loader's key is new for every token: nothing could hit")
	for _, n := range []int{-1, 1, 64<<10 - 1} {
		_, err := ginjwt.New(ginjwt.WithAlgorithm("EdDSA"), ginjwt.WithPrivateKey(privateFor("EdDSA")), ginjwt.WithVerifiedTokenCacheBytes(n))
		assert.ErrorContains(t, err, "WithVerifiedTokenCacheBytes: give 0 (off) or at least 64 KiB", "%d bytes", n)
	}
}
