// Package otelginjwt reports what a ginjwt Manager does as OpenTelemetry
// metrics and traces: guard outcomes by guard and reason, guard and store
// latency, store errors, the store's breaker, the verified-token cache,
// sessions, rotations and refresh-token replays, and a span per guard with
// a child span per store call. It lives in its own module: ginjwt's users
// who do not need it never download OpenTelemetry.
//
//	obs, err := otelginjwt.Observer() // the global MeterProvider and TracerProvider
//	if err != nil {
//		log.Fatal(err)
//	}
//	m, err := ginjwt.New(ginjwt.WithSecretKey(secret), ginjwt.WithObserver(obs))
//
// A guard's span is a child of the span in the request's context (otelgin's
// server span, or any parent); the metric and attribute names are listed in
// docs/observability.md. No token, CSRF value, key or secret is ever
// recorded; the identity (personal data) only with WithIdentity.
package otelginjwt

import (
	"errors"

	"github.com/ginjwt/ginjwt"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of the meter and the tracer.
const ScopeName = "github.com/ginjwt/ginjwt/otelginjwt"

// Option configures Observer.
type Option func(*config) error

type config struct {
	meters   metric.MeterProvider
	tracers  trace.TracerProvider
	identity bool
}

// WithMeterProvider sets where the metrics go. Default: otel.GetMeterProvider()
// when Observer is called.
func WithMeterProvider(p metric.MeterProvider) Option {
	return func(c *config) error {
		if p == nil {
			return errors.New("otelginjwt: WithMeterProvider: nil provider")
		}
		c.meters = p
		return nil
	}
}

// WithTracerProvider sets where the spans go. Default: otel.GetTracerProvider()
// when Observer is called.
func WithTracerProvider(p trace.TracerProvider) Option {
	return func(c *config) error {
		if p == nil {
			return errors.New("otelginjwt: WithTracerProvider: nil provider")
		}
		c.tracers = p
		return nil
	}
}

// WithIdentity records whose request a span is: the token's identity as
// enduser.id on guard spans and session events, and the user name a
// refused login tried as user.name. Identities are personal data, kept as
// long as your traces are: off by default. Metrics never carry them.
func WithIdentity() Option {
	return func(c *config) error {
		c.identity = true
		return nil
	}
}

// Observer returns a ginjwt.Observer recording metrics and traces, for
// ginjwt.WithObserver. One Observer may serve several Managers; they then
// share its instruments. The error reports bad options and instruments the
// MeterProvider refused, all at once.
func Observer(opts ...Option) (ginjwt.Observer, error) {
	c := config{}
	var errs []error
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&c); err != nil {
			errs = append(errs, err)
		}
	}
	if c.meters == nil {
		c.meters = otel.GetMeterProvider()
	}
	if c.tracers == nil {
		c.tracers = otel.GetTracerProvider()
	}
	inst, err := newInstruments(c.meters.Meter(ScopeName))
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return ginjwt.Observer{}, err
	}
	o := &observer{instruments: inst, identity: c.identity}
	if _, off := c.tracers.(tracenoop.TracerProvider); !off {
		o.tracer = c.tracers.Tracer(ScopeName)
	}
	o.outcomeSets.build = outcomeSetOf
	o.guardStarts.build = guardStartOptions
	o.storeSets.build = storeSetOf
	return ginjwt.Observer{
		GuardStart: o.guardStart,
		GuardDone:  o.guardDone,
		StoreStart: o.storeStart,
		StoreDone:  o.storeDone,
		Event:      o.event,
	}, nil
}

// observer holds the instruments, the tracer and the attribute sets worked
// out once per guard, reason and store operation.
type observer struct {
	*instruments
	tracer   trace.Tracer // nil: tracing off (a no-op TracerProvider)
	identity bool

	outcomeSets sets[outcomeKey, *outcomeSet]
	guardStarts sets[ginjwt.Guard, *guardStart]
	storeSets   sets[storeKey, *storeSet]
}
