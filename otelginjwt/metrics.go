package otelginjwt

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// The attribute keys, on metrics and spans.
const (
	AttrGuard          = attribute.Key("ginjwt.guard")           // access, refresh, fresh, login, logout, authorize, abort
	AttrReason         = attribute.Key("ginjwt.reason")          // an outcome's or an ended session's reason code
	AttrOutcome        = attribute.Key("ginjwt.outcome")         // allowed or refused
	AttrStoreOperation = attribute.Key("ginjwt.store.operation") // is_revoked, revoke, rotate, ...
	AttrErrorType      = attribute.Key("error.type")             // timeout, canceled or _OTHER: why a store call failed
	AttrCacheResult    = attribute.Key("ginjwt.cache.result")    // hit or miss
	AttrBreakerState   = attribute.Key("ginjwt.breaker.state")   // open or closed
	AttrLocation       = attribute.Key("ginjwt.token.location")  // headers, cookies, query_string, json (spans)
	AttrAlgorithm      = attribute.Key("ginjwt.token.algorithm") // the token's alg (spans)
	AttrKeyID          = attribute.Key("ginjwt.token.key_id")    // the token's kid, when it has one (spans)
	AttrEnduserID      = attribute.Key("enduser.id")             // the identity, with WithIdentity only (spans)
	AttrUserName       = attribute.Key("user.name")              // the user name a refused login tried, with WithIdentity only (spans)
)

// The metric names, as docs/observability.md lists them.
const (
	MetricGuardOutcomes      = "ginjwt.guard.outcomes"
	MetricGuardDuration      = "ginjwt.guard.duration"
	MetricStoreDuration      = "ginjwt.store.duration"
	MetricStoreErrors        = "ginjwt.store.errors"
	MetricBreakerOpen        = "ginjwt.store.breaker.open"
	MetricBreakerTransitions = "ginjwt.store.breaker.transitions"
	MetricCacheLookups       = "ginjwt.token_cache.lookups"
	MetricCacheEvictions     = "ginjwt.token_cache.evictions"
	MetricSessionsStarted    = "ginjwt.sessions.started"
	MetricSessionsRenewed    = "ginjwt.sessions.renewed"
	MetricSessionsEnded      = "ginjwt.sessions.ended"
	MetricIdentitiesRevoked  = "ginjwt.identities.revoked"
	MetricRotations          = "ginjwt.refresh.rotations"
	MetricReplays            = "ginjwt.refresh.replays"
)

// latencyBuckets are the histograms' bounds in seconds: a guard takes
// microseconds, a call to a remote store a fraction of a millisecond to
// its timeout (50 ms by default), a stalled one up to seconds.
var latencyBuckets = []float64{
	0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
}

type instruments struct {
	outcomes, storeErrors, breakerTransitions metric.Int64Counter
	cacheLookups, cacheEvictions              metric.Int64Counter
	started, renewed, ended, identities       metric.Int64Counter
	rotations, replays                        metric.Int64Counter
	guardDuration, storeDuration              metric.Float64Histogram
	breakerOpen                               metric.Int64Gauge

	// The attribute sets of the events, worked out once.
	hit, miss, opened, closed []metric.AddOption
	endedBy                   sets[ginjwt.Reason, []metric.AddOption]
}

func newInstruments(m metric.Meter) (*instruments, error) {
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	histogram := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(latencyBuckets...))
		errs = append(errs, err)
		return h
	}
	i := &instruments{
		outcomes:           counter(MetricGuardOutcomes, "{request}", "Requests a guard or ginjwt handler decided, by guard, reason and outcome."),
		guardDuration:      histogram(MetricGuardDuration, "Time a guard took to decide, by guard and outcome."),
		storeDuration:      histogram(MetricStoreDuration, "Duration of calls to the blocklist store, by operation (and error.type when they failed)."),
		storeErrors:        counter(MetricStoreErrors, "{call}", "Calls to the blocklist store that failed, by operation and error.type."),
		breakerTransitions: counter(MetricBreakerTransitions, "{transition}", "Times the store's breaker opened or closed."),
		cacheLookups:       counter(MetricCacheLookups, "{lookup}", "Lookups in the verified-token cache, by result (hit: a signature check spared)."),
		cacheEvictions:     counter(MetricCacheEvictions, "{token}", "Tokens evicted from the verified-token cache to stay in its budget."),
		started:            counter(MetricSessionsStarted, "{session}", "Sessions started (logins)."),
		renewed:            counter(MetricSessionsRenewed, "{session}", "Renewals of listed sessions (refreshes, rotations, implicit refreshes)."),
		ended:              counter(MetricSessionsEnded, "{session}", "Sessions ended (revoked), by reason."),
		identities:         counter(MetricIdentitiesRevoked, "{identity}", "Identities whose every session was ended (RevokeIdentity)."),
		rotations:          counter(MetricRotations, "{rotation}", "Refresh tokens used up for a new pair."),
		replays:            counter(MetricReplays, "{replay}", "Rotated refresh tokens presented again: each ended its session."),
	}
	gauge, err := m.Int64Gauge(MetricBreakerOpen, metric.WithUnit("{breaker}"),
		metric.WithDescription("1 while the store's breaker is open (the store is not asked), 0 once closed."))
	errs = append(errs, err)
	i.breakerOpen = gauge

	i.hit = addOptions(AttrCacheResult.String("hit"))
	i.miss = addOptions(AttrCacheResult.String("miss"))
	i.opened = addOptions(AttrBreakerState.String("open"))
	i.closed = addOptions(AttrBreakerState.String("closed"))
	i.endedBy.build = func(r ginjwt.Reason) []metric.AddOption { return addOptions(AttrReason.String(string(r))) }
	return i, errors.Join(errs...)
}

func addOptions(kv ...attribute.KeyValue) []metric.AddOption {
	return []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(kv...))}
}

// outcomeKey names an outcome's attribute set.
type outcomeKey struct {
	guard  ginjwt.Guard
	reason ginjwt.Reason
}

// outcomeSet is what a recording of one (guard, reason) needs, worked out
// on its first sight: the options of the two instruments (passed as
// slices, so that a recording allocates nothing for them) and the span's
// attributes.
type outcomeSet struct {
	count    []metric.AddOption    // guard, reason, outcome
	duration []metric.RecordOption // guard, outcome
	span     []attribute.KeyValue  // guard, reason, outcome
}

func outcomeSetOf(k outcomeKey) *outcomeSet {
	outcome := "refused"
	if k.reason == ginjwt.ReasonOK || k.reason == ginjwt.ReasonAnonymous {
		outcome = "allowed"
	}
	guard, reason, result := AttrGuard.String(string(k.guard)), AttrReason.String(string(k.reason)), AttrOutcome.String(outcome)
	return &outcomeSet{
		count:    addOptions(guard, reason, result),
		duration: []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(guard, result))},
		span:     []attribute.KeyValue{guard, reason, result},
	}
}

// timed says whether the core timed an outcome's guard: the guards do;
// the ready-made handlers and Abort report their refusals after the work,
// so their Duration says nothing.
func timed(g ginjwt.Guard) bool {
	return g == ginjwt.GuardAccess || g == ginjwt.GuardRefresh || g == ginjwt.GuardFresh
}

// guardDone records an outcome and ends its span.
func (o *observer) guardDone(_ *gin.Context, out ginjwt.Outcome) {
	ctx := out.Context
	if ctx == nil {
		ctx = context.Background()
	}
	set := o.outcomeSets.get(outcomeKey{out.Guard, out.Reason})
	o.outcomes.Add(ctx, 1, set.count...)
	if timed(out.Guard) {
		o.guardDuration.Record(ctx, out.Duration.Seconds(), set.duration...)
	}
	o.endGuardSpan(ctx, out, set)
}

// storeKey names a store call's attribute set: its operation and, for a
// failure, its error type.
type storeKey struct {
	op        ginjwt.StoreOp
	errorType string
}

type storeSet struct {
	duration []metric.RecordOption
	errors   []metric.AddOption
	name     string // the span's
	start    []trace.SpanStartOption
	span     []attribute.KeyValue // error.type for a failure, set at the span's end
}

func storeSetOf(k storeKey) *storeSet {
	kv := []attribute.KeyValue{AttrStoreOperation.String(string(k.op))}
	var failure []attribute.KeyValue // the span's: the operation is its name
	if k.errorType != "" {
		failure = []attribute.KeyValue{AttrErrorType.String(k.errorType)}
		kv = append(kv, failure...)
	}
	set := attribute.NewSet(kv...)
	return &storeSet{
		duration: []metric.RecordOption{metric.WithAttributeSet(set)},
		errors:   []metric.AddOption{metric.WithAttributeSet(set)},
		name:     "ginjwt.store " + string(k.op),
		start:    []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal)},
		span:     failure,
	}
}

// errorType sorts a store's error into the values of error.type: a
// timeout, a canceled request, or another failure.
func errorType(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "_OTHER"
}

// storeDone records a store call and ends its span.
func (o *observer) storeDone(ctx context.Context, op ginjwt.StoreOp, err error, took time.Duration) {
	set := o.storeSets.get(storeKey{op, errorType(err)})
	o.storeDuration.Record(ctx, took.Seconds(), set.duration...)
	if err != nil {
		o.storeErrors.Add(ctx, 1, set.errors...)
	}
	endStoreSpan(ctx, err, set)
}

// event records what happens beside outcomes.
func (o *observer) event(ctx context.Context, e ginjwt.Event) {
	switch e.Kind {
	case ginjwt.EventCacheHit:
		o.cacheLookups.Add(ctx, 1, o.hit...)
	case ginjwt.EventCacheMiss:
		o.cacheLookups.Add(ctx, 1, o.miss...)
	case ginjwt.EventCacheEviction:
		o.cacheEvictions.Add(ctx, int64(e.Evicted))
	case ginjwt.EventBreakerOpened:
		o.breakerOpen.Record(ctx, 1)
		o.breakerTransitions.Add(ctx, 1, o.opened...)
	case ginjwt.EventBreakerClosed:
		o.breakerOpen.Record(ctx, 0)
		o.breakerTransitions.Add(ctx, 1, o.closed...)
	case ginjwt.EventSessionStarted:
		o.started.Add(ctx, 1)
	case ginjwt.EventSessionRenewed:
		o.renewed.Add(ctx, 1)
	case ginjwt.EventSessionEnded:
		o.ended.Add(ctx, 1, o.endedBy.get(e.Reason)...)
		if e.Reason == ginjwt.ReasonRefreshReused {
			o.replays.Add(ctx, 1)
		}
	case ginjwt.EventIdentityRevoked:
		o.identities.Add(ctx, 1)
	case ginjwt.EventRotated:
		o.rotations.Add(ctx, 1)
	}
	o.spanEvent(ctx, e)
}

// sets maps keys to what is worked out from them once: an immutable map
// read without a lock, replaced by a larger copy when a key is first seen.
// Its keys are the core's enumerations (guards, reasons, operations), so
// it stays small.
type sets[K comparable, V any] struct {
	m     atomic.Pointer[map[K]V]
	mu    sync.Mutex
	build func(K) V
}

func (s *sets[K, V]) get(k K) V {
	if m := s.m.Load(); m != nil {
		if v, ok := (*m)[k]; ok {
			return v
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.m.Load()
	if old != nil {
		if v, ok := (*old)[k]; ok {
			return v
		}
	}
	next := make(map[K]V, 1)
	if old != nil {
		next = make(map[K]V, len(*old)+1)
		for k, v := range *old {
			next[k] = v
		}
	}
	v := s.build(k)
	next[k] = v
	s.m.Store(&next)
	return v
}
