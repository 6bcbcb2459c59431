package ginjwt

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Observer is told what a Manager does, for metrics, traces and logs
// (docs/observability.md). Any field may be nil. The functions run on the
// request's goroutine: they must be quick and safe for concurrent use.
type Observer struct {
	// GuardStart returns the context, ctx or a child (a span's), that the
	// guard's store calls run under; GuardDone gets its Outcome.
	GuardStart func(ctx context.Context, c *gin.Context, guard Guard) context.Context
	GuardDone  func(c *gin.Context, out Outcome)
	// StoreStart returns the context of a store call; StoreDone gets it.
	StoreStart func(ctx context.Context, op StoreOp) context.Context
	StoreDone  func(ctx context.Context, op StoreOp, err error, took time.Duration)
	Event      func(ctx context.Context, e Event)
}

// WithObserver adds o to the Manager's observers, called in the order
// given. A Manager without observers pays nothing for them.
func WithObserver(o Observer) Option {
	return option(func(c *config) error {
		c.observers = append(c.observers, o)
		return nil
	})
}

// Guard names what decided a request: a guard, a ready-made handler, or
// Abort.
type Guard string

// The Guard values, with what reports each.
const (
	GuardAccess    Guard = "access"    // JWTRequired, VerifyRequest
	GuardRefresh   Guard = "refresh"   // RefreshRequired, VerifyRefreshRequest
	GuardFresh     Guard = "fresh"     // FreshRequired, VerifyFreshRequest
	GuardLogin     Guard = "login"     // LoginHandler
	GuardLogout    Guard = "logout"    // LogoutHandler, Logout
	GuardAuthorize Guard = "authorize" // Authorize
	GuardAbort     Guard = "abort"     // Abort in a handler of your own
)

// Outcome is how a request ended at a Guard.
type Outcome struct {
	Guard   Guard
	Context context.Context // GuardStart's, else the request's
	// Reason is ReasonOK or ReasonAnonymous, else Err.Reason(); Err is nil
	// when the request went through.
	Reason Reason
	Err    *Error
	// Token is set once its signature verified, even if refused; Location
	// is where it was found (0: nowhere).
	Token    *Token
	Location Location
	Username string // InvalidCredentials' user name
	Duration time.Duration
}

// Reason is the stable code of an outcome, for metrics and alerts;
// docs/observability.md lists them with their status and message.
type Reason string

// The reasons of requests that went through.
const (
	ReasonOK        Reason = "ok"
	ReasonAnonymous Reason = "anonymous" // an Optional guard, no token
)

// The reasons of refusals, one per way a request is refused.
const (
	ReasonNoToken            Reason = "no_token"
	ReasonInvalidHeader      Reason = "invalid_header"
	ReasonInvalidQueryParam  Reason = "invalid_query_param"
	ReasonCSRFMissing        Reason = "csrf_missing"
	ReasonCSRFMismatch       Reason = "csrf_mismatch"
	ReasonMalformed          Reason = "malformed"
	ReasonAlgorithm          Reason = "algorithm_not_allowed"
	ReasonSignature          Reason = "bad_signature"
	ReasonUnknownKey         Reason = "unknown_key"
	ReasonExpired            Reason = "expired"
	ReasonSessionExpired     Reason = "session_expired"
	ReasonNotYetValid        Reason = "not_yet_valid"
	ReasonInvalidClaims      Reason = "invalid_claims"
	ReasonWrongType          Reason = "wrong_type"
	ReasonNotFresh           Reason = "not_fresh"
	ReasonRevoked            Reason = "revoked"
	ReasonRefreshReused      Reason = "refresh_reused"
	ReasonClaimsVerification Reason = "claims_verification"
	ReasonUserNotFound       Reason = "user_not_found"
	ReasonUserLookupFailed   Reason = "user_lookup_failed"
	ReasonForbidden          Reason = "forbidden"
	ReasonStoreUnavailable   Reason = "store_unavailable"
	ReasonKeysUnavailable    Reason = "keys_unavailable"
	ReasonKeysOutOfDate      Reason = "keys_out_of_date"
	ReasonBadCredentials     Reason = "bad_credentials"
	ReasonNotJSON            Reason = "not_json"
	ReasonSessionNotFound    Reason = "session_not_found"
	ReasonInternal           Reason = "internal" // a programmer's error: 500
)

// Reason returns the failure's stable code.
func (e *Error) Reason() Reason {
	switch {
	case errors.Is(e.kind, ErrCSRF):
		if e.Message == msgMissingCSRF {
			return ReasonCSRFMissing
		}
		return ReasonCSRFMismatch
	case e.kind == ErrTokenExpired && errors.Is(e.cause, ErrSessionExpired):
		return ReasonSessionExpired
	case e.kind == ErrRevoked && errors.Is(e.cause, ErrRefreshTokenReused):
		return ReasonRefreshReused
	case e.kind == ErrUserLookup && e.Status == http.StatusUnauthorized:
		return ReasonUserNotFound
	case e.kind == ErrKeysUnavailable && e.Message == msgKeysOutOfDate:
		return ReasonKeysOutOfDate
	}
	if r, ok := kindReasons[e.kind]; ok {
		return r
	}
	return ReasonInternal
}

var kindReasons = map[error]Reason{
	ErrNoToken:               ReasonNoToken,
	ErrInvalidHeader:         ReasonInvalidHeader,
	ErrInvalidQueryParam:     ReasonInvalidQueryParam,
	ErrTokenMalformed:        ReasonMalformed,
	ErrAlgorithmNotAllowed:   ReasonAlgorithm,
	ErrSignatureInvalid:      ReasonSignature,
	ErrUnknownKey:            ReasonUnknownKey,
	ErrTokenExpired:          ReasonExpired,
	ErrTokenNotValidYet:      ReasonNotYetValid,
	ErrInvalidClaims:         ReasonInvalidClaims,
	ErrWrongTokenType:        ReasonWrongType,
	ErrFreshTokenRequired:    ReasonNotFresh,
	ErrRevoked:               ReasonRevoked,
	ErrClaimsVerification:    ReasonClaimsVerification,
	ErrUserLookup:            ReasonUserLookupFailed,
	ErrForbidden:             ReasonForbidden,
	ErrRevocationUnavailable: ReasonStoreUnavailable,
	ErrKeysUnavailable:       ReasonKeysUnavailable,
	ErrInvalidCredentials:    ReasonBadCredentials,
	ErrNotJSON:               ReasonNotJSON,
	ErrSessionNotFound:       ReasonSessionNotFound,
	ErrUnauthorized:          ReasonNoToken,
	ErrInvalidToken:          ReasonInvalidClaims,
}

// StoreOp names a call to the blocklist store.
type StoreOp string

// The StoreOp values, one per store method (IsRevoked and IsRevokedFor
// are StoreIsRevoked).
const (
	StoreIsRevoked      StoreOp = "is_revoked"
	StoreRevoke         StoreOp = "revoke"
	StoreRotate         StoreOp = "rotate"
	StoreCurrent        StoreOp = "current"
	StoreRevokeIdentity StoreOp = "revoke_identity"
	StoreSaveSession    StoreOp = "save_session"
	StoreTouchSession   StoreOp = "touch_session"
	StoreSessions       StoreOp = "sessions"
	StoreDeleteSession  StoreOp = "delete_session"
)

// Event is something a Manager (or its store) did beside a request's
// outcome, with the user and session concerned when it has them.
type Event struct {
	Kind                EventKind
	Identity, SessionID string
	Reason              Reason // why an EventSessionEnded
	Evicted             int    // entries an EventCacheEviction evicted
}

// The reasons a session ended, besides ReasonRefreshReused.
const (
	ReasonLogout          Reason = "logout"
	ReasonEndSession      Reason = "end_session"
	ReasonSessionLimit    Reason = "session_limit"
	ReasonIdentityRevoked Reason = "identity_revoked"
)

// EventKind names an Event.
type EventKind string

// The EventKind values: sessions, rotations, the verified-token cache and
// an ObservedStore's breaker (docs/observability.md says when each comes).
const (
	EventSessionStarted  EventKind = "session_started"
	EventSessionRenewed  EventKind = "session_renewed"
	EventSessionEnded    EventKind = "session_ended"
	EventIdentityRevoked EventKind = "identity_revoked"
	EventRotated         EventKind = "rotated"
	EventCacheHit        EventKind = "cache_hit"
	EventCacheMiss       EventKind = "cache_miss"
	EventCacheEviction   EventKind = "cache_eviction"
	EventBreakerOpened   EventKind = "breaker_opened"
	EventBreakerClosed   EventKind = "breaker_closed"
)

// ObservedStore is a Blocklist that reports events of its own (a breaker)
// to the observers' Event, which New hands it.
type ObservedStore interface {
	Blocklist
	Observe(event func(ctx context.Context, e Event))
}

// emit reports e to the observers.
func (m *Manager) emit(ctx context.Context, e Event) {
	for i := range m.observers {
		if f := m.observers[i].Event; f != nil {
			f(ctx, e)
		}
	}
}

// storeCall runs one call to the blocklist store under the observers.
func (m *Manager) storeCall(ctx context.Context, op StoreOp, call func(context.Context) error) error {
	if len(m.observers) == 0 {
		return call(ctx)
	}
	for i := range m.observers {
		if f := m.observers[i].StoreStart; f != nil {
			ctx = f(ctx, op)
		}
	}
	start := time.Now()
	err := call(ctx)
	took := time.Since(start)
	for i := range m.observers {
		if f := m.observers[i].StoreDone; f != nil {
			f(ctx, op, err, took)
		}
	}
	return err
}

// startGuard begins an observed guard: the context its store calls run
// under (each observer's the next one's parent), and its start time.
func (m *Manager) startGuard(c *gin.Context, g Guard) (context.Context, time.Time) {
	ctx := c.Request.Context()
	for i := range m.observers {
		if f := m.observers[i].GuardStart; f != nil {
			ctx = f(ctx, c, g)
		}
	}
	return ctx, time.Now()
}

// doneGuard reports an observed guard's outcome: e nil for a request let
// through, st nil (or without a location) when no token was found and an
// Optional guard let the request through anonymous.
func (m *Manager) doneGuard(c *gin.Context, g Guard, ctx context.Context, start time.Time, e *Error, st *requestState) {
	out := Outcome{Guard: g, Context: ctx, Err: e, Duration: time.Since(start)}
	if st != nil {
		out.Location = st.location
	}
	switch {
	case e != nil:
		e.observed = true
		out.Reason, out.Token = e.Reason(), e.Token
	case st == nil || st.location == 0:
		out.Reason = ReasonAnonymous
	default:
		out.Reason, out.Token = ReasonOK, &st.tok
	}
	m.report(c, out)
}

// refused reports a refusal by a handler (Abort, LoginHandler, ...).
func (m *Manager) refused(c *gin.Context, g Guard, ctx context.Context, start time.Time, e *Error, username string) {
	m.report(c, Outcome{Guard: g, Context: ctx, Err: e, Reason: e.Reason(), Token: e.Token,
		Username: username, Duration: time.Since(start)})
}

func (m *Manager) report(c *gin.Context, out Outcome) {
	for i := range m.observers {
		if f := m.observers[i].GuardDone; f != nil {
			f(c, out)
		}
	}
}
