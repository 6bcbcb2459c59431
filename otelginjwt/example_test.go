package otelginjwt_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/otelginjwt"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// A service's set-up: otelgin for the request's span, the observer for
// ginjwt's, both on the application's providers (an exporter's reader in
// production; a manual reader here, to print what was recorded).
func ExampleObserver() {
	reader := sdkmetric.NewManualReader()
	meters := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tracers := sdktrace.NewTracerProvider()

	obs, err := otelginjwt.Observer(otelginjwt.WithMeterProvider(meters), otelginjwt.WithTracerProvider(tracers))
	if err != nil {
		log.Fatal(err)
	}
	m, err := ginjwt.New(ginjwt.WithSecretKey([]byte(secret)), ginjwt.WithObserver(obs))
	if err != nil {
		log.Fatal(err)
	}
	r := gin.New()
	r.Use(otelgin.Middleware("api", otelgin.WithTracerProvider(tracers), otelgin.WithMeterProvider(meters)))
	r.GET("/me", m.JWTRequired(), func(c *gin.Context) { c.String(http.StatusOK, ginjwt.CurrentIdentity(c)) })

	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/me", nil))

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, metric := range sm.Metrics {
			if metric.Name != otelginjwt.MetricGuardOutcomes {
				continue
			}
			for _, dp := range metric.Data.(metricdata.Sum[int64]).DataPoints {
				reason, _ := dp.Attributes.Value(otelginjwt.AttrReason)
				fmt.Println(metric.Name, reason.AsString(), dp.Value)
			}
		}
	}
	// Output: ginjwt.guard.outcomes no_token 1
}
