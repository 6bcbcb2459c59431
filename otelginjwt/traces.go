package otelginjwt

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// guardKey and storeKey hold this observer's open spans in the contexts
// it hands out, so that it ends its own span even when other observers
// derive contexts (and spans) of their own from it.
type (
	guardKey     struct{}
	storeSpanKey struct{}
)

// guardStart is what a guard's span needs, per guard: its name. The
// attributes are all set at its end, in one call: an SDK span given some
// at its start and more later copies and deduplicates them again.
type guardStart struct {
	name string
	opts []trace.SpanStartOption
}

func guardStartOptions(g ginjwt.Guard) *guardStart {
	return &guardStart{name: "ginjwt " + string(g), opts: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal)}}
}

// guardStart opens the guard's span, a child of the request's, under which
// the guard's store calls run.
func (o *observer) guardStart(ctx context.Context, _ *gin.Context, g ginjwt.Guard) context.Context {
	if o.tracer == nil || unsampled(ctx) {
		return ctx
	}
	s := o.guardStarts.get(g)
	spanCtx, span := o.tracer.Start(ctx, s.name, s.opts...)
	if !span.IsRecording() {
		return ctx // not sampled: nothing to end, and nothing to parent
	}
	return context.WithValue(spanCtx, guardKey{}, span)
}

// unsampled says whether ctx holds a span its sampler left out: ginjwt's
// spans follow their parent's decision (as the SDK's default ParentBased
// sampler would decide), without starting a span to be told so.
func unsampled(ctx context.Context) bool {
	sc := trace.SpanContextFromContext(ctx)
	return sc.IsValid() && !sc.IsSampled()
}

// endGuardSpan sets the outcome on the guard's span and ends it. The
// ready-made handlers report a success without a GuardStart: their span is
// opened here, a mark of the moment in the request's trace.
func (o *observer) endGuardSpan(ctx context.Context, out ginjwt.Outcome, set *outcomeSet) {
	if o.tracer == nil {
		return
	}
	span, ok := ctx.Value(guardKey{}).(trace.Span)
	if !ok {
		if unsampled(ctx) {
			return
		}
		s := o.guardStarts.get(out.Guard)
		_, span = o.tracer.Start(ctx, s.name, s.opts...)
	}
	if !span.IsRecording() {
		return
	}
	tok := out.Token
	if tok == nil && out.Location == 0 && out.Username == "" {
		span.SetAttributes(set.span...)
	} else {
		kv := make([]attribute.KeyValue, 0, len(set.span)+5)
		kv = append(kv, set.span...)
		if out.Location != 0 {
			kv = append(kv, AttrLocation.String(out.Location.String()))
		}
		// Only a token whose signature verified says anything: the header
		// of a forged one is whatever its sender wrote.
		if tok != nil {
			kv = append(kv, AttrAlgorithm.String(tok.Header.Alg))
			if tok.Header.Kid != "" {
				kv = append(kv, AttrKeyID.String(tok.Header.Kid))
			}
			if o.identity && tok.Claims.Identity != "" {
				kv = append(kv, AttrEnduserID.String(tok.Claims.Identity))
			}
		}
		if o.identity && out.Username != "" {
			kv = append(kv, AttrUserName.String(out.Username))
		}
		span.SetAttributes(kv...)
	}
	// A refusal is the guard doing its job; a 5xx is the service failing.
	if out.Err != nil && out.Err.Status >= http.StatusInternalServerError {
		span.SetStatus(codes.Error, string(out.Reason))
	}
	span.End()
}

// storeStart opens a store call's span, a child of the guard's.
func (o *observer) storeStart(ctx context.Context, op ginjwt.StoreOp) context.Context {
	if o.tracer == nil || unsampled(ctx) {
		return ctx
	}
	s := o.storeSets.get(storeKey{op: op})
	spanCtx, span := o.tracer.Start(ctx, s.name, s.start...)
	if !span.IsRecording() {
		return ctx
	}
	return context.WithValue(spanCtx, storeSpanKey{}, span)
}

// endStoreSpan ends the store call's span, with its error.
func endStoreSpan(ctx context.Context, err error, set *storeSet) {
	span, ok := ctx.Value(storeSpanKey{}).(trace.Span)
	if !ok {
		return
	}
	// Attributes cost a success a copy and a deduplication map in the
	// SDK: its span says all in its name; a failure adds error.type.
	if err != nil {
		span.SetAttributes(set.span...)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// spanEvent adds what happened beside the outcome to the span of its
// context: a session started, renewed or ended, a rotation, a revocation,
// the breaker. The cache's events are too frequent and belong to no span.
func (o *observer) spanEvent(ctx context.Context, e ginjwt.Event) {
	if o.tracer == nil {
		return
	}
	switch e.Kind {
	case ginjwt.EventCacheHit, ginjwt.EventCacheMiss, ginjwt.EventCacheEviction:
		return
	}
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	var kv []attribute.KeyValue
	if e.Reason != "" {
		kv = append(kv, AttrReason.String(string(e.Reason)))
	}
	if o.identity && e.Identity != "" {
		kv = append(kv, AttrEnduserID.String(e.Identity))
	}
	span.AddEvent("ginjwt."+string(e.Kind), trace.WithAttributes(kv...))
}
