package ginjwt_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
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
	valid := ginjwttest.Access(b, m, "alice")
	expired := ginjwttest.Expired(b, m, "alice")
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
	withRoles := ginjwttest.Access(b, m, "alice", ginjwt.AdditionalClaims(map[string]any{"roles": []string{"editor", "admin"}}))
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
		req.Header.Set("Authorization", "Bearer "+ginjwttest.Access(b, tc.m, "alice"))
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
	token := ginjwttest.Access(b, m, "alice")
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
		req.Header.Set("Authorization", "Bearer "+ginjwttest.Access(b, sign, "alice"))
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
	viaJWKS := mustManager(b, append(aud, ginjwt.WithAlgorithm("ES256"), ginjwt.WithJWKS(ginjwt.NewJWKS(srv.URL+"/jwks", ginjwt.JWKSConfig{})))...)
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
		reqs[i].Header.Set("Authorization", "Bearer "+ginjwttest.Access(b, m, "user-"+strconv.Itoa(i)))
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

// BenchmarkWorkingSet is the cost of a public-key request against the
// number of live tokens an instance sees: every token sent once before,
// then requests drawn uniformly or Zipf-skewed (s = 1.1) from them, at the
// default cache budget (and the largest sets also with one that holds
// them). xHS256 is the ratio to an HS256 request with one token, timed in
// blocks between the blocks of the case (see interleaved); held% is the
// share of the live tokens cached at the end. The tokens are signed once
// per process: 65,536 RS256 signatures take about a minute.
func BenchmarkWorkingSet(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	hs := newManager(b)
	hsRouter := gin.New()
	hsRouter.GET("/protected", hs.JWTRequired(), benchIdentity)
	hsReq := httptest.NewRequest(http.MethodGet, "/protected", nil)
	hsReq.Header.Set("Authorization", "Bearer "+ginjwttest.Access(b, hs, "user-1", ginjwt.ExpiresIn(24*time.Hour)))
	b.Run("HS256", func(b *testing.B) { benchRequest(b, hsRouter, hsReq, 200) })
	hsOut := &sink{header: http.Header{}}
	baseline := func() {
		clear(hsOut.header)
		hsRouter.ServeHTTP(hsOut, hsReq)
	}
	type size struct {
		alg    string
		live   int
		budget int
	}
	var sizes []size
	for _, alg := range []string{"RS256", "ES256"} {
		for _, live := range []int{256, 1024, 4096, 16384, 65536} {
			sizes = append(sizes, size{alg, live, ginjwt.DefaultVerifiedTokenCacheBytes})
		}
	}
	sizes = append(sizes, size{"RS256", 65536, 64 << 20}, size{"ES256", 65536, 64 << 20})
	for _, sz := range sizes {
		for _, skew := range []string{"uniform", "zipf"} {
			name := fmt.Sprintf("%s_%s_%d", sz.alg, skew, sz.live)
			if sz.budget != ginjwt.DefaultVerifiedTokenCacheBytes {
				name += fmt.Sprintf("_%dMiB", sz.budget>>20)
			}
			b.Run(name, func(b *testing.B) {
				ws := warmWorkingSet(b, sz.alg, sz.live, sz.budget)
				trace := drawTrace(skew, sz.live)
				value := ws.req.Header["Authorization"]
				out := &sink{header: http.Header{}}
				b.ReportAllocs()
				i := 0
				interleaved(b, func() {
					value[0] = ws.tokens[trace[i%len(trace)]]
					clear(out.header)
					ws.r.ServeHTTP(out, ws.req)
					i++
				}, baseline)
				held := 0
				for _, t := range ws.tokens {
					if ginjwt.VerifiedCacheHolds(ws.m, strings.TrimPrefix(t, "Bearer ")) {
						held++
					}
				}
				b.ReportMetric(100*float64(held)/float64(sz.live), "held%")
			})
		}
	}
}

// interleaved runs request once per b.Loop iteration and, after every
// block of 256, as many baseline requests, timing each block: on a shared
// machine the load changes within a second, and blocks a few milliseconds
// long see the same load. It reports ns/op, B/op and allocs/op of request
// alone, and xHS256, its time as a ratio to baseline's.
func interleaved(b *testing.B, request, baseline func()) {
	const block = 256
	var baseBytes, baseAllocs uint64
	for range 2 { // the first block warms the baseline's pools
		baseBytes, baseAllocs = allocated(func() {
			for range block {
				baseline()
			}
		})
	}
	var spent, spentBaseline time.Duration
	n := 0
	bytes, allocs := allocated(func() {
		start := time.Now()
		for b.Loop() {
			request()
			if n++; n%block == 0 {
				mid := time.Now()
				for range block {
					baseline()
				}
				spent += mid.Sub(start)
				start = time.Now()
				spentBaseline += start.Sub(mid)
			}
		}
		spent += time.Since(start)
	})
	if n < block { // too few for a block: the baseline's own block times it
		mid := time.Now()
		for range block {
			baseline()
		}
		spentBaseline = time.Since(mid)
	}
	baselines := max(n/block, 1)
	per := float64(spent) / float64(n)
	b.ReportMetric(per, "ns/op")
	b.ReportMetric(per/(float64(spentBaseline)/float64(baselines*block)), "xHS256")
	own := func(total, perBlock uint64) float64 {
		return (float64(total) - float64(n/block)*float64(perBlock)) / float64(n)
	}
	b.ReportMetric(own(bytes, baseBytes), "B/op")
	b.ReportMetric(own(allocs, baseAllocs), "allocs/op")
}

// allocated returns the bytes and objects f allocates.
func allocated(f func()) (bytes, objects uint64) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs
}

func benchIdentity(c *gin.Context) {
	c.JSON(200, gin.H{"logged_in_as": ginjwt.CurrentIdentity(c)})
}

// workingSet is a guarded router whose cache has seen every token once.
type workingSet struct {
	key    string
	m      *ginjwt.Manager
	r      *gin.Engine
	req    *http.Request
	tokens []string // "Bearer <token>"
}

// lastWorkingSet is kept for the next run of the same sub-benchmark
// (-count, and the uniform and Zipf runs share one): warming 65,536
// tokens verifies each once.
var lastWorkingSet *workingSet

func warmWorkingSet(b *testing.B, alg string, live, budget int) *workingSet {
	key := fmt.Sprint(alg, live, budget)
	if ws := lastWorkingSet; ws != nil && ws.key == key {
		return ws
	}
	lastWorkingSet = nil // let the previous one go before building the next
	m := mustManager(b, ginjwt.WithAlgorithm(alg), ginjwt.WithPrivateKey(privateFor(alg)), ginjwt.WithVerifiedTokenCacheBytes(budget))
	ws := &workingSet{key: key, m: m, r: gin.New(), tokens: bearerTokens(b, alg, live)}
	ws.r.GET("/protected", m.JWTRequired(), benchIdentity)
	ws.req = httptest.NewRequest(http.MethodGet, "/protected", nil)
	ws.req.Header.Set("Authorization", "")
	for _, t := range ws.tokens {
		ws.req.Header["Authorization"][0] = t
		w := httptest.NewRecorder()
		ws.r.ServeHTTP(w, ws.req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	lastWorkingSet = ws
	return ws
}

// drawTrace returns 1<<20 token indexes below live, uniform or Zipf-skewed
// (s = 1.1), the same for every run.
func drawTrace(skew string, live int) []int32 {
	rng := rand.New(rand.NewPCG(1, uint64(live)))
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(live-1))
	trace := make([]int32, 1<<20)
	for i := range trace {
		if skew == "zipf" {
			trace[i] = int32(zipf.Uint64())
		} else {
			trace[i] = rng.Int32N(int32(live))
		}
	}
	return trace
}

// benchTokens holds each algorithm's distinct tokens, signed once per
// process and grown as larger sets are asked for.
var benchTokens = struct {
	sync.Mutex
	byAlg map[string][]string
}{byAlg: map[string][]string{}}

// bearerTokens returns n distinct "Bearer <token>" values signed with
// alg's test key, in flask's layout, valid for a day.
func bearerTokens(b *testing.B, alg string, n int) []string {
	benchTokens.Lock()
	defer benchTokens.Unlock()
	have := benchTokens.byAlg[alg]
	if len(have) >= n {
		return have[:n]
	}
	m := mustManager(b, ginjwt.WithAlgorithm(alg), ginjwt.WithPrivateKey(privateFor(alg)))
	more := make([]string, n-len(have))
	errs := make([]error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for i := w; i < len(more); i += len(errs) {
				token, err := m.CreateAccessToken("user-"+strconv.Itoa(len(have)+i), ginjwt.ExpiresIn(24*time.Hour))
				if err != nil {
					errs[w] = err
					return
				}
				more[i] = "Bearer " + token
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		b.Fatal(err)
	}
	benchTokens.byAlg[alg] = append(have, more...)
	return benchTokens.byAlg[alg][:n]
}

// BenchmarkVerifiedTokenCacheBytes measures what an entry of the verified-
// token cache costs on the heap (B/entry), per algorithm: a cache of 4 MiB
// flooded with 16,384 tokens, about twice what it holds, every other one
// sent twice so that both queues and the ghost fill, against the token's
// own length (token-B).
func BenchmarkVerifiedTokenCacheBytes(b *testing.B) {
	const budget = 4 << 20
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		b.Run(alg, func(b *testing.B) {
			tokens := bearerTokens(b, alg, 16384)
			var perEntry float64
			for b.Loop() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				m := mustManager(b, ginjwt.WithAlgorithm(alg), ginjwt.WithPrivateKey(privateFor(alg)), ginjwt.WithVerifiedTokenCacheBytes(budget))
				r := gin.New()
				r.GET("/protected", m.JWTRequired(), benchIdentity)
				req := httptest.NewRequest(http.MethodGet, "/protected", nil)
				req.Header.Set("Authorization", "")
				out := &sink{header: http.Header{}}
				for i, t := range tokens {
					req.Header["Authorization"][0] = t
					for range 1 + i%2 {
						r.ServeHTTP(out, req)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				perEntry = float64(after.HeapAlloc-before.HeapAlloc) / float64(ginjwt.VerifiedCacheLen(m))
				runtime.KeepAlive(r)
			}
			b.ReportMetric(perEntry, "B/entry")
			b.ReportMetric(float64(len(tokens[0])-len("Bearer ")), "token-B")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkParallelRequests sends requests from every core at once, ES256
// over 4,096 cached tokens (Zipf), where every request looks the cache up,
// against HS256 with one token: each goroutine alternates blocks of the
// two as interleaved does, and xHS256 is the ratio of their times (ns/op,
// B/op and allocs/op count both).
func BenchmarkParallelRequests(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	hs := newManager(b)
	hsRouter := gin.New()
	hsRouter.GET("/protected", hs.JWTRequired(), benchIdentity)
	hsToken := "Bearer " + ginjwttest.Access(b, hs, "user-1", ginjwt.ExpiresIn(24*time.Hour))
	ws := warmWorkingSet(b, "ES256", 4096, ginjwt.DefaultVerifiedTokenCacheBytes)
	trace := drawTrace("zipf", 4096)
	const block = 256
	var spent, spentBaseline, requests, baselines, offset atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodGet, "/protected", nil)
		req.Header.Set("Authorization", "")
		value := req.Header["Authorization"]
		hsReq := httptest.NewRequest(http.MethodGet, "/protected", nil)
		hsReq.Header.Set("Authorization", hsToken)
		out := &sink{header: http.Header{}}
		i := int(offset.Add(7919)) // a different place in the trace per goroutine
		n := 0
		start := time.Now()
		for pb.Next() {
			value[0] = ws.tokens[trace[i%len(trace)]]
			clear(out.header)
			ws.r.ServeHTTP(out, req)
			i++
			if n++; n%block == 0 {
				mid := time.Now()
				for range block {
					clear(out.header)
					hsRouter.ServeHTTP(out, hsReq)
				}
				spent.Add(int64(mid.Sub(start)))
				start = time.Now()
				spentBaseline.Add(int64(start.Sub(mid)))
				baselines.Add(block)
			}
		}
		spent.Add(int64(time.Since(start)))
		requests.Add(int64(n))
	})
	if baselines.Load() > 0 {
		per := float64(spent.Load()) / float64(requests.Load())
		b.ReportMetric(per/(float64(spentBaseline.Load())/float64(baselines.Load())), "xHS256")
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
	b.ReportMetric(float64(ginjwt.MemoryBlocklistLen(store)), "entries")
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
	b.ReportMetric(float64(ginjwt.MemoryBlocklistLen(store)), "entries")
}
