package compare_test

import (
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/ginjwt/ginjwt/rueidisblocklist"
	"github.com/ginjwt/ginjwt/rueidisblocklist/internal/rueidistest"
	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

// must returns a store whose options a benchmark knows to be good.
func must[S ginjwt.Blocklist](s S, err error) S {
	if err != nil {
		panic(err)
	}
	return s
}

// sink is a ResponseWriter that keeps nothing and is reused, so the
// harness adds no allocation of its own.
type sink struct{ header http.Header }

func (s *sink) Header() http.Header         { return s.header }
func (s *sink) Write(p []byte) (int, error) { return len(p), nil }
func (s *sink) WriteHeader(int)             {}

// BenchmarkGuardedRequest is one guarded GET through a real gin.Engine with
// each store, against none, in one run and on one redis-server (loopback):
// read the ratios to no_blocklist. The token is the same on every request,
// as for a client making many requests with one access token.
//
//	go test -run '^$' -bench GuardedRequest -benchmem -count 5
func BenchmarkGuardedRequest(b *testing.B) {
	srv := rueidistest.Start(b)
	gin.SetMode(gin.ReleaseMode)
	goredis := redis.NewClient(&redis.Options{Addr: srv.Addr})
	b.Cleanup(func() { _ = goredis.Close() })
	stores := []struct {
		name  string
		store ginjwt.Blocklist
	}{
		{"no_blocklist", nil},
		{"memory_blocklist", ginjwt.NewMemoryBlocklist(nil)},
		{"redisblocklist_go-redis", must(redisblocklist.New(goredis))},
		{"rueidisblocklist_cached", must(rueidisblocklist.New(srv.Client(b, "bench", nil)))},
	}
	for _, tc := range stores {
		opts := []ginjwt.Option{ginjwt.WithSecretKey([]byte(secret))}
		if tc.store != nil {
			opts = append(opts, ginjwt.WithBlocklist(tc.store))
		}
		m, err := ginjwt.New(opts...)
		if err != nil {
			b.Fatal(err)
		}
		r := gin.New()
		r.GET("/protected", m.JWTRequired(), func(c *gin.Context) {
			c.JSON(200, gin.H{"logged_in_as": ginjwt.CurrentIdentity(c)})
		})
		token, err := m.CreateAccessToken("alice")
		if err != nil {
			b.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "/protected", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		b.Run(tc.name, func(b *testing.B) {
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
			out := &sink{header: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				clear(out.header)
				r.ServeHTTP(out, req)
			}
		})
	}
}

// BenchmarkGuardedRequestRatio measures the same ratios on a busy machine,
// where load drifts between sub-benchmarks run one after the other: each
// iteration times 256 requests without a blocklist, then 256 with each
// store, back to back, and the median of each store's per-iteration ratio
// is reported as x_no_blocklist. live_tokens=1 sends one token, as above;
// live_tokens=N sends N tokens of N users, each once to every service
// first, then requests drawn from them Zipf-skewed (s = 1.1: a few busy
// clients, many occasional ones), the same ones to every service, without
// the go-redis store (a round trip per request in any case). It also
// reports the GETs rueidisblocklist sent Redis per request it was timed
// on (0: every answer came from memory; a check that misses sends three:
// the token's ID, its session, its user's cutoff).
//
//	go test -run '^$' -bench GuardedRequestRatio -benchtime 400x
func BenchmarkGuardedRequestRatio(b *testing.B) {
	srv := rueidistest.Start(b)
	gin.SetMode(gin.ReleaseMode)
	goredis := redis.NewClient(&redis.Options{Addr: srv.Addr})
	b.Cleanup(func() { _ = goredis.Close() })
	raw := srv.Raw(b)
	for _, live := range []int{1, 1024, 16384, 65536} {
		b.Run(fmt.Sprintf("live_tokens=%d", live), func(b *testing.B) {
			ratios(b, srv, goredis, raw, live)
		})
	}
}

func ratios(b *testing.B, srv *rueidistest.Server, goredis *redis.Client, raw rueidis.Client, live int) {
	type service struct {
		name string
		r    *gin.Engine
	}
	type store struct {
		name  string
		store ginjwt.Blocklist
	}
	stores := []store{{"no_blocklist", nil}, {"memory_blocklist", ginjwt.NewMemoryBlocklist(nil)}}
	if live == 1 {
		// A round trip per request whatever the tokens; over many tokens
		// its blocks would only space the others' out.
		stores = append(stores, store{"redisblocklist_go-redis", must(redisblocklist.New(goredis))})
	}
	stores = append(stores, store{"rueidisblocklist_cached", must(rueidisblocklist.New(srv.Client(b, fmt.Sprint("bench-", live), nil)))})
	var services []service
	for _, tc := range stores {
		opts := []ginjwt.Option{ginjwt.WithSecretKey([]byte(secret))}
		if tc.store != nil {
			opts = append(opts, ginjwt.WithBlocklist(tc.store))
		}
		m, err := ginjwt.New(opts...)
		if err != nil {
			b.Fatal(err)
		}
		r := gin.New()
		r.GET("/protected", m.JWTRequired(), func(c *gin.Context) {
			c.JSON(200, gin.H{"logged_in_as": ginjwt.CurrentIdentity(c)})
		})
		services = append(services, service{tc.name, r})
	}
	m, err := ginjwt.New(ginjwt.WithSecretKey([]byte(secret)))
	if err != nil {
		b.Fatal(err)
	}
	// One Authorization value per live token, each of its own user; the
	// request is reused with the value of the token drawn.
	auth := make([][]string, live)
	for i := range auth {
		token, err := m.CreateAccessToken(fmt.Sprintf("user-%d", i))
		if err != nil {
			b.Fatal(err)
		}
		auth[i] = []string{"Bearer " + token}
	}
	draws := make([]int, 1<<18)
	if live > 1 {
		rng := rand.New(rand.NewSource(int64(live))) //nolint:gosec // G404: a trace, not a secret
		zipf := rand.NewZipf(rng, 1.1, 1, uint64(live-1))
		rank := rng.Perm(live) // the busiest clients are any of them
		for i := range draws {
			draws[i] = rank[zipf.Uint64()]
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/protected", nil)
	out := &sink{header: http.Header{}}
	serve := func(s service, i int) {
		req.Header["Authorization"] = auth[i]
		clear(out.header)
		s.r.ServeHTTP(out, req)
	}
	for _, s := range services { // each token seen once before
		for i := range auth {
			serve(s, i)
		}
	}
	pos := 0
	block := func(s service) time.Duration {
		start := time.Now()
		for _, i := range draws[pos : pos+256] {
			serve(s, i)
		}
		return time.Since(start)
	}
	for range 20 { // warm: connections up, the tracking connection fresh
		for _, s := range services {
			block(s)
		}
		pos = (pos + 256) % len(draws)
		time.Sleep(time.Millisecond)
	}
	ratios := make([][]float64, len(services))
	var gets, timed int
	for b.Loop() {
		base := block(services[0])
		for i, s := range services[1:] {
			before := 0
			if i+1 == len(services)-1 {
				before = rueidistest.CommandCalls(b, raw, "get")
			}
			ratios[i+1] = append(ratios[i+1], float64(block(s))/float64(base))
			if i+1 == len(services)-1 {
				// The GETs of the other stores' blocks ran before.
				gets += rueidistest.CommandCalls(b, raw, "get") - before
				timed += 256
			}
		}
		pos = (pos + 256) % len(draws)
	}
	for i, s := range services[1:] {
		r := ratios[i+1]
		slices.Sort(r)
		b.ReportMetric(r[len(r)/2], "x_no_blocklist_"+s.name)
	}
	b.ReportMetric(float64(gets)/float64(timed), "redis_gets/req_rueidis")
}
