package otelginjwt_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/otelginjwt"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// benchSetup is what an operator's service runs: an SDK tracer provider
// sampling every request into a batch processor (its exporter discards),
// an SDK meter provider, otelgin in front of every route.
type benchSetup struct {
	bare, off, on http.Handler // no otelgin; otelgin without, and with, the observer
	metricsOnly   http.Handler // the observer with a no-op TracerProvider
	tracesOnly    http.Handler // the observer with a no-op MeterProvider
	req           *http.Request
}

func newBenchSetup(b *testing.B, store bool, sampler sdktrace.Sampler) *benchSetup {
	gin.SetMode(gin.ReleaseMode)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler),
		sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	observer := func(opts ...otelginjwt.Option) ginjwt.Option {
		obs, err := otelginjwt.Observer(opts...)
		if err != nil {
			b.Fatal(err)
		}
		return ginjwt.WithObserver(obs)
	}
	common := []ginjwt.Option{ginjwt.WithSecretKey([]byte(secret))}
	if store {
		common = append(common, ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)))
	}
	plain, err := ginjwt.New(common...)
	if err != nil {
		b.Fatal(err)
	}
	observed := func(opts ...otelginjwt.Option) *ginjwt.Manager {
		m, err := ginjwt.New(slices.Concat(common, []ginjwt.Option{observer(opts...)})...)
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	identity := func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"logged_in_as": ginjwt.CurrentIdentity(c)}) }
	router := func(m *ginjwt.Manager, traced bool) http.Handler {
		r := gin.New()
		if traced {
			r.Use(otelgin.Middleware("bench", otelgin.WithTracerProvider(tp), otelgin.WithMeterProvider(mp)))
		}
		r.GET("/protected", m.JWTRequired(), identity)
		return r
	}
	tok, err := plain.CreateAccessToken("alice")
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/protected", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	s := &benchSetup{
		bare: router(plain, false),
		off:  router(plain, true),
		on:   router(observed(otelginjwt.WithMeterProvider(mp), otelginjwt.WithTracerProvider(tp)), true),
		metricsOnly: router(observed(otelginjwt.WithMeterProvider(mp),
			otelginjwt.WithTracerProvider(tracenoop.NewTracerProvider())), true),
		tracesOnly: router(observed(otelginjwt.WithMeterProvider(metricnoop.NewMeterProvider()),
			otelginjwt.WithTracerProvider(tp)), true),
		req: req,
	}
	for _, h := range []http.Handler{s.bare, s.off, s.on, s.metricsOnly, s.tracesOnly} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	return s
}

// sink is a ResponseWriter that keeps nothing and is reused, so the
// harness adds no allocation of its own.
type sink struct{ header http.Header }

func (s *sink) Header() http.Header         { return s.header }
func (s *sink) Write(p []byte) (int, error) { return len(p), nil }
func (s *sink) WriteHeader(int)             {}

func serve(b *testing.B, h http.Handler, req *http.Request) {
	b.ReportAllocs()
	out := &sink{header: http.Header{}}
	for b.Loop() {
		clear(out.header)
		h.ServeHTTP(out, req)
	}
}

// BenchmarkGuardedRequest is one guarded GET with a valid HS256 token:
// bare (no otelgin, no observer: the core as docs/performance.md
// measures it), otelgin_only (an operator's app without this module), and
// otelgin_otelginjwt (with metrics and traces on); with and without the
// in-memory blocklist, whose call is a span of its own.
func BenchmarkGuardedRequest(b *testing.B) {
	for _, store := range []bool{false, true} {
		s := newBenchSetup(b, store, sdktrace.AlwaysSample())
		name := "no_store/"
		if store {
			name = "memory_store/"
		}
		b.Run(name+"bare", func(b *testing.B) { serve(b, s.bare, s.req) })
		b.Run(name+"otelgin_only", func(b *testing.B) { serve(b, s.off, s.req) })
		b.Run(name+"otelgin_otelginjwt", func(b *testing.B) { serve(b, s.on, s.req) })
		b.Run(name+"otelgin_otelginjwt_metrics_only", func(b *testing.B) { serve(b, s.metricsOnly, s.req) })
		b.Run(name+"otelgin_otelginjwt_traces_only", func(b *testing.B) { serve(b, s.tracesOnly, s.req) })
	}
}

// BenchmarkCostRatio times otelgin_otelginjwt against otelgin_only (and
// otelgin against bare, and the observer with metrics only or traces
// only against otelgin_only) in alternating blocks of 256 requests, so
// that all see the same load on a shared machine, and reports the median
// of the blocks' ratios. Every request is traced, or one in ten (a
// ParentBased(TraceIDRatioBased(0.1)) sampler, as services often run).
func BenchmarkCostRatio(b *testing.B) {
	for _, sampling := range []struct {
		name    string
		sampler sdktrace.Sampler
	}{
		{"all_traced", sdktrace.AlwaysSample()},
		{"one_in_ten_traced", sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1))},
	} {
		for _, store := range []bool{false, true} {
			s := newBenchSetup(b, store, sampling.sampler)
			name := sampling.name + "/no_store"
			if store {
				name = sampling.name + "/memory_store"
			}
			b.Run(name, func(b *testing.B) { costRatio(b, s) })
		}
	}
}

func costRatio(b *testing.B, s *benchSetup) {
	out := &sink{header: http.Header{}}
	block := func(h http.Handler) time.Duration {
		start := time.Now()
		for range 256 {
			clear(out.header)
			h.ServeHTTP(out, s.req)
		}
		return time.Since(start)
	}
	var onOff, metricsOff, tracesOff, otelBare []float64
	for b.Loop() {
		bare, off, on := block(s.bare), block(s.off), block(s.on)
		metrics, traces := block(s.metricsOnly), block(s.tracesOnly)
		onOff = append(onOff, float64(on)/float64(off))
		metricsOff = append(metricsOff, float64(metrics)/float64(off))
		tracesOff = append(tracesOff, float64(traces)/float64(off))
		otelBare = append(otelBare, float64(off)/float64(bare))
	}
	b.ReportMetric(median(onOff), "on/off")
	b.ReportMetric(median(metricsOff), "metrics/off")
	b.ReportMetric(median(tracesOff), "traces/off")
	b.ReportMetric(median(otelBare), "otelgin/bare")
}

func median(xs []float64) float64 {
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// BenchmarkObserver is the observer's own work for one guarded request
// with one store call, without Gin: GuardStart, StoreStart, StoreDone and
// GuardDone under a sampled request span, with metrics only (a no-op
// TracerProvider: no allocation), traces only, and both.
func BenchmarkObserver(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
	parent, span := tp.Tracer("request").Start(context.Background(), "GET /")
	defer span.End()
	tok := &ginjwt.Token{Header: ginjwt.Header{Alg: "HS256"}}
	for _, tc := range []struct {
		name string
		opts []otelginjwt.Option
	}{
		{"metrics", []otelginjwt.Option{otelginjwt.WithMeterProvider(mp), otelginjwt.WithTracerProvider(tracenoop.NewTracerProvider())}},
		{"traces", []otelginjwt.Option{otelginjwt.WithMeterProvider(metricnoop.NewMeterProvider()), otelginjwt.WithTracerProvider(tp)}},
		{"both", []otelginjwt.Option{otelginjwt.WithMeterProvider(mp), otelginjwt.WithTracerProvider(tp)}},
	} {
		o, err := otelginjwt.Observer(tc.opts...)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				g := o.GuardStart(parent, c, ginjwt.GuardAccess)
				s := o.StoreStart(g, ginjwt.StoreIsRevoked)
				o.StoreDone(s, ginjwt.StoreIsRevoked, nil, time.Microsecond)
				o.GuardDone(c, ginjwt.Outcome{Guard: ginjwt.GuardAccess, Context: g, Reason: ginjwt.ReasonOK,
					Token: tok, Location: ginjwt.InHeaders, Duration: 3 * time.Microsecond})
			}
		})
	}
}
