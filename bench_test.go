package ginjwt_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
)

// Benchmarks of one request through a real gin.Engine. Compare within one
// run: BenchmarkRequest/bare_route is the baseline (the cost of Gin and the
// recorder); the others add the guard. For peer libraries, see _bench.

func benchRequest(b *testing.B, r http.Handler, req *http.Request, status int) {
	b.Helper()
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if w.Code != status {
		b.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	out := &sink{header: http.Header{}}
	for b.Loop() {
		clear(out.header)
		r.ServeHTTP(out, req)
	}
}

// sink is a ResponseWriter that keeps nothing and is reused, so the
// harness adds no allocation of its own.
type sink struct{ header http.Header }

func (s *sink) Header() http.Header         { return s.header }
func (s *sink) Write(p []byte) (int, error) { return len(p), nil }
func (s *sink) WriteHeader(int)             {}

func BenchmarkRequest(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	m := newManager(b)
	valid := mustToken(b)(m.CreateAccessToken("alice"))
	expired := mustToken(b)(m.CreateAccessToken("alice", ginjwt.ExpiresIn(-time.Minute)))
	identity := func(c *gin.Context) { c.JSON(200, gin.H{"logged_in_as": ginjwt.CurrentIdentity(c)}) }

	r := gin.New()
	r.GET("/bare", func(c *gin.Context) { c.JSON(200, gin.H{"logged_in_as": "alice"}) })
	r.GET("/protected", m.JWTRequired(), identity)

	newReq := func(path, token string) *http.Request {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return req
	}
	b.Run("bare_route", func(b *testing.B) { benchRequest(b, r, newReq("/bare", ""), 200) })
	b.Run("valid_HS256", func(b *testing.B) { benchRequest(b, r, newReq("/protected", valid), 200) })
	b.Run("expired", func(b *testing.B) { benchRequest(b, r, newReq("/protected", expired), 401) })
	b.Run("no_token", func(b *testing.B) { benchRequest(b, r, newReq("/protected", ""), 401) })

	// One role requirement against the same token without it.
	withRoles := mustToken(b)(m.CreateAccessToken("alice", ginjwt.AdditionalClaims(map[string]any{"roles": []string{"editor", "admin"}})))
	r.GET("/admin", m.JWTRequired(ginjwt.RequireAll("roles", "admin")), identity)
	b.Run("roles_token_no_requirement", func(b *testing.B) { benchRequest(b, r, newReq("/protected", withRoles), 200) })
	b.Run("roles_token_one_requirement", func(b *testing.B) { benchRequest(b, r, newReq("/admin", withRoles), 200) })
}

// The same request with the in-memory blocklist, against none.
func BenchmarkRevocation(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	plain := newManager(b)
	withList := newManager(b, ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)))
	identity := func(c *gin.Context) { c.JSON(200, gin.H{"logged_in_as": ginjwt.CurrentIdentity(c)}) }
	for _, tc := range []struct {
		name string
		m    *ginjwt.Manager
	}{{"no_blocklist", plain}, {"memory_blocklist", withList}} {
		r := gin.New()
		r.GET("/protected", tc.m.JWTRequired(), identity)
		req := httptest.NewRequest(http.MethodGet, "/protected", nil)
		req.Header.Set("Authorization", "Bearer "+mustToken(b)(tc.m.CreateAccessToken("alice")))
		b.Run(tc.name, func(b *testing.B) { benchRequest(b, r, req, 200) })
	}
}

func BenchmarkCreateAccessToken(b *testing.B) {
	m := newManager(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.CreateAccessToken("alice"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeToken(b *testing.B) {
	m := newManager(b)
	token := mustToken(b)(m.CreateAccessToken("alice"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.DecodeToken(token); err != nil {
			b.Fatal(err)
		}
	}
}

// One guarded request per algorithm, and ES256 with keys from a warm JWKS
// cache against the same key configured locally.
func BenchmarkAlgorithms(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	identity := func(c *gin.Context) { c.JSON(200, gin.H{"logged_in_as": ginjwt.CurrentIdentity(c)}) }
	run := func(b *testing.B, verify, sign *ginjwt.Manager) {
		r := gin.New()
		r.GET("/protected", verify.JWTRequired(), identity)
		req := httptest.NewRequest(http.MethodGet, "/protected", nil)
		req.Header.Set("Authorization", "Bearer "+mustToken(b)(sign.CreateAccessToken("alice")))
		benchRequest(b, r, req, 200)
	}
	for _, alg := range []string{"HS256", "RS256", "ES256", "EdDSA"} {
		if alg == "HS256" {
			m := newManager(b)
			b.Run(alg, func(b *testing.B) { run(b, m, m) })
			continue
		}
		// repeated: the same token again, as a client sends it (the
		// verified-token cache answers); uncached: every request pays the
		// signature check, as the first request of each token does.
		m := mustManager(b, ginjwt.WithAlgorithm(alg), ginjwt.WithPrivateKey(privateFor(alg)))
		uncached := mustManager(b, ginjwt.WithAlgorithm(alg), ginjwt.WithPrivateKey(privateFor(alg)), ginjwt.WithVerifiedTokenCacheBytes(0))
		b.Run(alg+"_repeated", func(b *testing.B) { run(b, m, m) })
		b.Run(alg+"_uncached", func(b *testing.B) { run(b, uncached, uncached) })
		small := mustManager(b, ginjwt.WithAlgorithm(alg), ginjwt.WithPrivateKey(privateFor(alg)), ginjwt.WithVerifiedTokenCacheBytes(64<<10))
		b.Run(alg+"_first_seen", func(b *testing.B) { firstSeen(b, small, identity) })
	}

	aud := []ginjwt.Option{ginjwt.WithClaims(ginjwt.ClaimsConfig{EncodeIssuer: "https://a.example", EncodeAudience: []string{"api"}, DecodeIssuers: []string{"https://a.example"}, DecodeAudience: []string{"api"}})}
	signer := mustManager(b, append(aud, ginjwt.WithAlgorithm("ES256"), ginjwt.WithPrivateKey(privateFor("ES256")), ginjwt.WithKeyID("k1"))...)
	r := gin.New()
	r.GET("/jwks", signer.JWKSHandler())
	srv := httptest.NewServer(r)
	defer srv.Close()
	viaJWKS := mustManager(b, append(aud, ginjwt.WithAlgorithm("ES256"), ginjwt.WithJWKS(ginjwt.NewJWKS(srv.URL+"/jwks")))...)
	b.Run("ES256_local_key", func(b *testing.B) { run(b, signer, signer) })
	b.Run("ES256_warm_JWKS", func(b *testing.B) { run(b, viaJWKS, signer) })
}

// firstSeen sends a new token on every request (a cycle of more distinct
// tokens than m's smallest cache holds): the cost of a token's first
// request with the cache on.
func firstSeen(b *testing.B, m *ginjwt.Manager, h gin.HandlerFunc) {
	r := gin.New()
	r.GET("/protected", m.JWTRequired(), h)
	reqs := make([]*http.Request, 1024)
	for i := range reqs {
		reqs[i] = httptest.NewRequest(http.MethodGet, "/protected", nil)
		reqs[i].Header.Set("Authorization", "Bearer "+mustToken(b)(m.CreateAccessToken("user-"+strconv.Itoa(i))))
	}
	out := &sink{header: http.Header{}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		clear(out.header)
		r.ServeHTTP(out, reqs[i%len(reqs)])
		i++
	}
}

// BenchmarkRotation rotates one login's refresh token in a loop, as a
// client hammering /refresh does: the store holds one record however many
// rotations ran (reported as entries).
func BenchmarkRotation(b *testing.B) {
	store := ginjwt.NewMemoryBlocklist(nil)
	m, err := ginjwt.New(ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithBlocklist(store), ginjwt.WithRefreshRotation())
	if err != nil {
		b.Fatal(err)
	}
	_, refresh, err := m.CreateTokenPair("alice")
	if err != nil {
		b.Fatal(err)
	}
	r := gin.New()
	r.POST("/refresh", m.RefreshRequired(), func(c *gin.Context) {
		_, next, err := m.RotateRefreshToken(c)
		if err != nil {
			m.Abort(c, err)
			return
		}
		refresh = next
	})
	b.ReportAllocs()
	w := httptest.NewRecorder()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/refresh", nil)
		req.Header.Set("Authorization", "Bearer "+refresh)
		r.ServeHTTP(w, req)
	}
	if w.Code != http.StatusOK {
		b.Fatalf("status %d: %s", w.Code, w.Body)
	}
	b.ReportMetric(float64(store.Len()), "entries")
}

// BenchmarkMemoryBlocklistExpiry revokes while a million entries expire at
// once: each write sweeps a bounded share of them, so its cost (and the
// time readers wait for the lock) stays flat instead of one write paying
// for the whole sweep.
func BenchmarkMemoryBlocklistExpiry(b *testing.B) {
	now := time.Unix(1795566329, 0)
	clock := func() time.Time { return now }
	store := ginjwt.NewMemoryBlocklist(clock)
	ctx := context.Background()
	for i := range 1_000_000 {
		_ = store.Revoke(ctx, strconv.Itoa(i), now.Add(time.Minute))
	}
	now = now.Add(2 * time.Minute)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		_ = store.Revoke(ctx, "new-"+strconv.Itoa(i), now.Add(time.Hour))
		_, _ = store.IsRevoked(ctx, "new-1")
	}
	b.ReportMetric(float64(store.Len()), "entries")
}
