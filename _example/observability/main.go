// Command observability is a Gin API guarded by ginjwt that operators can
// watch: otelgin traces each request, the otelginjwt observer adds a span
// per guard and per blocklist call and records ginjwt's metrics (outcomes
// by reason, latencies, sessions, rotations, replays, the verified-token
// cache), and OpenTelemetry's Prometheus exporter serves them on a port of
// their own. docs/observability.md lists the metrics and the alerts.
//
//	go run .
//	curl -s -X POST localhost:8080/login -H 'Content-Type: application/json' \
//	     -d '{"username":"alice","password":"wonderland"}'
//	curl -s localhost:8080/api/me -H "Authorization: Bearer $ACCESS_TOKEN"
//	curl -s localhost:9464/metrics | grep ginjwt_
//
// Spans go to an OpenTelemetry collector over OTLP/HTTP when
// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is
// set, e.g. http://127.0.0.1:4318; without it no trace is kept.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/otelginjwt"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// users stands for your user table. Never store passwords in clear: hash
// them (bcrypt, argon2id) and compare the hashes.
var users = map[string]string{"alice": "wonderland", "bob": "builder"}

// app is the API and the handler of its metrics.
type app struct {
	api     *gin.Engine
	metrics http.Handler
	jwt     *ginjwt.Manager
}

// newApp builds the API on key, reporting to tracers and to a Prometheus
// registry of its own, served by metrics.
func newApp(key *ecdsa.PrivateKey, tracers trace.TracerProvider) (*app, error) {
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return nil, err
	}
	meters := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	observer, err := otelginjwt.Observer(otelginjwt.WithMeterProvider(meters), otelginjwt.WithTracerProvider(tracers))
	if err != nil {
		return nil, err
	}
	jwt, err := ginjwt.New(
		// A public-key algorithm: a token seen again skips its signature
		// check (the verified-token cache, ginjwt_token_cache_lookups).
		ginjwt.WithAlgorithm("ES256"),
		ginjwt.WithPrivateKey(key),
		ginjwt.WithKeyID("demo-1"),
		ginjwt.WithAccessExpires(15*time.Minute),
		ginjwt.WithRefreshExpires(30*24*time.Hour),
		// Logouts and rotations need a store; in production one that all
		// instances share (redisblocklist, sqlblocklist), whose calls
		// show in ginjwt_store_duration_seconds.
		ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)),
		ginjwt.WithRefreshRotation(),
		ginjwt.WithSessionList(0),
		ginjwt.WithObserver(observer),
	)
	if err != nil {
		return nil, err
	}

	r := gin.New()
	r.Use(gin.Recovery(), otelgin.Middleware("observability-example", otelgin.WithTracerProvider(tracers),
		otelgin.WithMeterProvider(meters)))
	r.POST("/login", jwt.LoginHandler(func(c *gin.Context) (any, error) {
		var in struct{ Username, Password string }
		if err := c.ShouldBindJSON(&in); err != nil || in.Password == "" || users[in.Username] != in.Password {
			// The user name tried is recorded (the audit log's username,
			// otelginjwt's user.name with WithIdentity); never the password.
			return nil, ginjwt.InvalidCredentials(in.Username)
		}
		return in.Username, nil
	}))
	r.POST("/refresh", jwt.RefreshHandler())
	r.POST("/logout", jwt.LogoutHandler())

	api := r.Group("/api")
	api.GET("/hello", jwt.JWTRequired(ginjwt.Optional()), func(c *gin.Context) {
		who := ginjwt.CurrentIdentity(c)
		if who == "" {
			who = "stranger"
		}
		c.JSON(http.StatusOK, gin.H{"hello": who})
	})
	api.GET("/me", jwt.JWTRequired(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"user": ginjwt.CurrentIdentity(c)})
	})
	// Changing the password needs a token from a login, not a refresh.
	api.POST("/password", jwt.FreshRequired(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"msg": "password changed"})
	})
	// Only tokens with "role": "admin" (none of the demo users has one).
	api.GET("/admin", jwt.JWTRequired(ginjwt.RequireClaim("role", "admin")), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"msg": "welcome"})
	})
	// Log out everywhere: every session of the user ends.
	api.POST("/sessions/revoke", jwt.JWTRequired(), func(c *gin.Context) {
		if err := jwt.RevokeIdentity(c.Request.Context(), ginjwt.CurrentIdentity(c)); err != nil {
			jwt.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"msg": "every session ended"})
	})
	metrics := promhttp.HandlerFor(registry, promhttp.HandlerOpts{})
	return &app{api: r, metrics: metrics, jwt: jwt}, nil
}

// tracerProvider exports spans over OTLP/HTTP when an endpoint is set.
func tracerProvider(ctx context.Context) (trace.TracerProvider, func(context.Context) error, error) {
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return noop.NewTracerProvider(), func(context.Context) error { return nil }, nil
	}
	exporter, err := otlptracehttp.New(ctx) // reads the OTEL_EXPORTER_OTLP_* variables
	if err != nil {
		return nil, nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter))
	return tp, tp.Shutdown, nil
}

func main() {
	ctx := context.Background()
	tracers, shutdown, err := tracerProvider(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = shutdown(ctx) }()
	// A key for this run: tokens stop working at a restart. Load yours
	// from a file or a secret manager.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	a, err := newApp(key, tracers)
	if err != nil {
		log.Fatal(err)
	}
	// The metrics on a port of their own, for Prometheus only: they say
	// how many requests were refused and why, which is for operators.
	errs := make(chan error, 2)
	go func() { errs <- serve(envOr("METRICS_ADDR", "127.0.0.1:9464"), a.metrics) }()
	go func() { errs <- serve(envOr("ADDR", "127.0.0.1:8080"), a.api) }()
	log.Fatal(<-errs)
}

func serve(addr string, h http.Handler) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	err := srv.ListenAndServe()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
