package compare_test

import (
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
// is reported as x_no_blocklist.
//
//	go test -run '^$' -bench GuardedRequestRatio -benchtime 400x
func BenchmarkGuardedRequestRatio(b *testing.B) {
	srv := rueidistest.Start(b)
	gin.SetMode(gin.ReleaseMode)
	goredis := redis.NewClient(&redis.Options{Addr: srv.Addr})
	b.Cleanup(func() { _ = goredis.Close() })
	type service struct {
		name string
		r    *gin.Engine
		req  *http.Request
	}
	var services []service
	for _, tc := range []struct {
		name  string
		store ginjwt.Blocklist
	}{
		{"no_blocklist", nil},
		{"memory_blocklist", ginjwt.NewMemoryBlocklist(nil)},
		{"redisblocklist_go-redis", must(redisblocklist.New(goredis))},
		{"rueidisblocklist_cached", must(rueidisblocklist.New(srv.Client(b, "bench", nil)))},
	} {
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
		services = append(services, service{tc.name, r, req})
	}
	out := &sink{header: http.Header{}}
	block := func(s service) time.Duration {
		start := time.Now()
		for range 256 {
			clear(out.header)
			s.r.ServeHTTP(out, s.req)
		}
		return time.Since(start)
	}
	for _, s := range services { // warm: connections up, answers cached
		for range 20 {
			block(s)
			time.Sleep(time.Millisecond)
		}
	}
	ratios := make([][]float64, len(services))
	for b.Loop() {
		base := block(services[0])
		for i, s := range services[1:] {
			ratios[i+1] = append(ratios[i+1], float64(block(s))/float64(base))
		}
	}
	for i, s := range services[1:] {
		r := ratios[i+1]
		slices.Sort(r)
		b.ReportMetric(r[len(r)/2], "x_no_blocklist_"+s.name)
	}
}
