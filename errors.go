package ginjwt

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Groups of guard failure kinds, one per flask loader: errors.Is(err,
// ErrInvalidToken) holds for every kind in its group.
var (
	// ErrUnauthorized is unauthorized_loader's group, 401: ErrNoToken and
	// ErrCSRF.
	ErrUnauthorized = errors.New("ginjwt: unauthorized")
	// ErrInvalidToken is invalid_token_loader's group: every 422 kind below.
	ErrInvalidToken = errors.New("ginjwt: invalid token")
)

// kindError is a guard failure kind that belongs to a group, so errors.Is
// matches the group through it.
type kindError struct {
	msg   string
	group error
}

func (k *kindError) Error() string { return k.msg }
func (k *kindError) Unwrap() error { return k.group }

// Kinds of guard failure, for errors.Is on the *Error a guard records in
// c.Errors and passes to the ErrorHandler. Each gives its default response
// (flask's) and the flask exception or loader behind it; docs/errors.md
// has every message.
var (
	// ErrNoToken: none where the guard looks (NoAuthorizationError). 401,
	// e.g. "Missing Authorization Header".
	ErrNoToken error = &kindError{"ginjwt: no token in request", ErrUnauthorized}
	// ErrInvalidHeader: not "<type> <JWT>" (InvalidHeaderError). 422.
	ErrInvalidHeader error = &kindError{"ginjwt: bad authorization header", ErrInvalidToken}
	// ErrInvalidQueryParam: no configured prefix (InvalidQueryParamError). 422.
	ErrInvalidQueryParam error = &kindError{"ginjwt: bad query parameter", ErrInvalidToken}
	// ErrCSRF: a cookie token's double-submit value missing or wrong
	// (CSRFError). 401 "Missing CSRF token" / "CSRF double submit tokens do
	// not match".
	ErrCSRF error = &kindError{"ginjwt: CSRF check failed", ErrUnauthorized}
	// ErrTokenMalformed: not a JWT (segments, base64, JSON, size). 422.
	ErrTokenMalformed error = &kindError{"ginjwt: malformed token", ErrInvalidToken}
	// ErrAlgorithmNotAllowed: "alg" not allowed, "none" included. 422 "The
	// specified alg value is not allowed".
	ErrAlgorithmNotAllowed error = &kindError{"ginjwt: algorithm not allowed", ErrInvalidToken}
	// ErrSignatureInvalid: 422 "Signature verification failed".
	ErrSignatureInvalid error = &kindError{"ginjwt: signature verification failed", ErrInvalidToken}
	// ErrTokenExpired: "exp" is past, the token's only defect
	// (expired_token_loader). 401 "Token has expired"; err.Token is set.
	ErrTokenExpired = errors.New("ginjwt: token has expired")
	// ErrTokenNotValidYet: "nbf" or "iat" in the future. 422.
	ErrTokenNotValidYet error = &kindError{"ginjwt: token not valid yet", ErrInvalidToken}
	// ErrInvalidClaims: a claim missing or of a wrong type or value. 422,
	// e.g. "Missing claim: sub".
	ErrInvalidClaims error = &kindError{"ginjwt: invalid claims", ErrInvalidToken}
	// ErrWrongTokenType: 422 "Only non-refresh tokens are allowed" / "Only
	// refresh tokens are allowed".
	ErrWrongTokenType error = &kindError{"ginjwt: wrong token type", ErrInvalidToken}
	// ErrFreshTokenRequired: not fresh (needs_fresh_token_loader). 401
	// "Fresh token required"; err.Token is set.
	ErrFreshTokenRequired = errors.New("ginjwt: fresh token required")
	// ErrClaimsVerification: WithTokenVerifier said no
	// (token_verification_failed_loader). 400 "User claims verification
	// failed".
	ErrClaimsVerification = errors.New("ginjwt: user claims verification failed")
	// ErrUserLookup: LoadUser found no user (401) or failed (500), "Error
	// loading the user <identity>" (user_lookup_error_loader).
	ErrUserLookup = errors.New("ginjwt: error loading the user")
	// ErrForbidden: a route requirement failed. 403 with its reason.
	ErrForbidden = errors.New("ginjwt: forbidden")
	// ErrRevoked: on the blocklist, or WithTokenInBlocklistLoader said so
	// (revoked_token_loader). 401 "Token has been revoked".
	ErrRevoked = errors.New("ginjwt: token has been revoked")
	// ErrRevocationUnavailable: the store failed; the guard fails closed.
	// 503 "Token revocation status is unavailable".
	ErrRevocationUnavailable = errors.New("ginjwt: revocation status unavailable")
	// ErrUnknownKey: "kid" names no key the Manager has. 422 "Unknown key ID".
	ErrUnknownKey error = &kindError{"ginjwt: unknown key ID", ErrInvalidToken}
	// ErrKeysUnavailable: a key loader or JWKS failed; fails closed. 503
	// "Verification keys unavailable" ("... out of date" past MaxStale).
	ErrKeysUnavailable = errors.New("ginjwt: verification keys unavailable")
	// ErrRouteParamMissing: RequireClaimParam's parameter is not on the
	// route, a programmer's error. 500 "Internal Server Error".
	ErrRouteParamMissing = errors.New("ginjwt: route has no such parameter")
	// ErrInvalidCredentials: a login's wrong user name or password (see
	// InvalidCredentials). 401 "Bad username or password".
	ErrInvalidCredentials = errors.New("ginjwt: bad username or password")
	// ErrNotJSON: a cookie login whose body is not application/json. 415
	// with Werkzeug's message.
	ErrNotJSON = errors.New("ginjwt: request body is not JSON")
)

// Errors outside a request.
var (
	// ErrConfig wraps every error New reports.
	ErrConfig = errors.New("ginjwt: invalid configuration")
	// ErrNoTokenInContext: no guard stored a token (none on the route, or
	// an Optional one found none).
	ErrNoTokenInContext = errors.New("ginjwt: no verified token in this request")
	// ErrInvalidIdentity: a token's identity cannot become its claim.
	ErrInvalidIdentity = errors.New("ginjwt: invalid identity")
	// ErrNoSigningKey: a verify-only Manager (a public key only) cannot
	// create tokens.
	ErrNoSigningKey = errors.New("ginjwt: no signing key")
	// ErrNoBlocklist: a revocation call without WithBlocklist.
	ErrNoBlocklist = errors.New("ginjwt: no blocklist configured (WithBlocklist)")
	// ErrNoUserLookup: CurrentUser without WithUserLookup.
	ErrNoUserLookup = errors.New("ginjwt: no user lookup configured (WithUserLookup)")
	// ErrUserNotFound is what a user lookup returns (or wraps) for a user
	// that does not exist: 401 "Error loading the user <identity>".
	ErrUserNotFound = errors.New("ginjwt: user not found")
	// ErrRefreshTokenReused is the cause of refusing a rotated refresh
	// token presented again; its login is revoked. 401, as ErrRevoked.
	ErrRefreshTokenReused = errors.New("ginjwt: refresh token reused")
)

// Error is a guard failure: its kind (a sentinel above, for errors.Is) and
// cause, and the default response.
type Error struct {
	// Status and Message are the default response's; Message is safe to
	// show clients.
	Status  int
	Message string
	// Token is the token when it was genuine (expired, wrong type, not
	// fresh), as flask's expired_token_loader and siblings get it; else nil.
	Token *Token

	kind  error
	cause error
	// observed: a guard's observers saw this refusal already, so an
	// Abort with it (after VerifyRequest) does not report it twice.
	observed bool
}

// Error returns Message followed by the cause (a store's, a key source's),
// for c.Errors and logs; the response body has Message alone.
func (e *Error) Error() string {
	if e.cause == nil {
		return e.Message
	}
	return e.Message + ": " + e.cause.Error()
}

// Unwrap gives errors.Is and errors.As the kind and the underlying cause.
func (e *Error) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

func newError(kind error, status int, msg string) *Error {
	return &Error{Status: status, Message: msg, kind: kind}
}

func invalid(kind error, msg string) *Error {
	return newError(kind, http.StatusUnprocessableEntity, msg)
}

// ErrorHandler writes the response of a refusal, telling kinds apart with
// errors.Is. One that writes nothing (no body, no status) leaves the
// default response, headers it set kept; a status alone is sent with an
// empty body (a bare 200 counts as none). The chain is aborted anyway.
type ErrorHandler func(c *gin.Context, err *Error)

// fail records err on the context, lets the configured handler answer and
// aborts the chain. The guards have told their observers already; refuse
// tells them for a handler.
func (m *Manager) fail(c *gin.Context, e *Error) {
	_ = c.Error(e)
	if m.errorHandler == nil {
		m.writeDefault(c, e)
		c.Abort()
		return
	}
	before := c.Writer.Status()
	m.errorHandler(c, e)
	if !answered(c, before) {
		m.writeDefault(c, e)
	}
	c.Abort()
}

// answered reports whether a hook (an ErrorHandler, a Responder) answered:
// it wrote a body, or set a status (sent here, with no body). Only a
// status the hook set counts, not one an earlier middleware did, and a
// bare 200 is no answer.
func answered(c *gin.Context, before int) bool {
	if c.Writer.Written() {
		return true
	}
	if status := c.Writer.Status(); status != before && status != http.StatusOK {
		c.Writer.WriteHeaderNow()
		return true
	}
	return false
}

// writeDefault answers {"<WithErrorMessageKey>": "<message>"}, as flask's
// jsonify does (no HTML escaping, so "<JWT>" stays readable).
func (m *Manager) writeDefault(c *gin.Context, e *Error) {
	c.Data(e.Status, "application/json", m.errorBody(e.Message))
}

func (m *Manager) errorBody(msg string) []byte {
	var b bytes.Buffer
	b.Grow(len(m.messageKeyJSON) + len(msg) + 8)
	b.WriteByte('{')
	b.Write(m.messageKeyJSON)
	b.WriteByte(':')
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(msg) // a string always encodes
	b.Truncate(b.Len() - 1)
	b.WriteByte('}')
	return b.Bytes()
}

// Abort answers the request as a guard would for err, an *Error or a
// sentinel, bare or wrapped (docs/errors.md has each response), through the
// ErrorHandler and the observers; any other error gets a 500 with an empty
// body. The chain is aborted and err recorded in c.Errors.
func (m *Manager) Abort(c *gin.Context, err error) {
	m.abortAs(c, GuardAbort, err)
}

// abortAs is Abort for a guard or handler of g's kind, telling the
// observers.
func (m *Manager) abortAs(c *gin.Context, g Guard, err error) {
	m.abortRun(c, guardRun{g: g}, err)
}

// guardRun is a ready-made handler's observed run: its guard kind and,
// once begun, the context and start time its outcome is reported with.
type guardRun struct {
	g     Guard
	ctx   context.Context
	start time.Time
}

// beginRun starts an observed run of a ready-made handler, so that its
// outcome's duration covers its work.
func (m *Manager) beginRun(c *gin.Context, g Guard) guardRun {
	r := guardRun{g: g}
	if len(m.observers) > 0 {
		r.ctx, r.start = m.startGuard(c, g)
	}
	return r
}

// done reports a run that succeeded.
func (m *Manager) done(c *gin.Context, r guardRun, tok *Token) {
	if len(m.observers) > 0 {
		if r.ctx == nil {
			r.ctx, r.start = c.Request.Context(), time.Now()
		}
		m.report(c, Outcome{Guard: r.g, Context: r.ctx, Reason: ReasonOK, Token: tok, Duration: time.Since(r.start)})
	}
}

// abortRun is Abort for run r.
func (m *Manager) abortRun(c *gin.Context, r guardRun, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = m.sentinelError(c, err)
	}
	if e == nil {
		_ = c.Error(err)
		c.AbortWithStatus(http.StatusInternalServerError)
		e = newError(ErrConfig, http.StatusInternalServerError, msgInternal)
		e.cause = err
	} else {
		m.fail(c, e)
	}
	if len(m.observers) > 0 && !e.observed {
		if r.ctx == nil {
			r.ctx, r.start = m.startGuard(c, r.g)
		}
		var username string
		var ce *credentialsError
		if errors.As(err, &ce) {
			username = ce.username
		}
		m.refused(c, r.g, r.ctx, r.start, e, username)
	}
}

// InvalidCredentials is ErrInvalidCredentials naming the user name tried,
// for the observers (Outcome.Username); never pass the password.
func InvalidCredentials(username string) error { return &credentialsError{username} }

type credentialsError struct{ username string }

func (e *credentialsError) Error() string { return ErrInvalidCredentials.Error() }
func (e *credentialsError) Unwrap() error { return ErrInvalidCredentials }

// sentinelResponse is the response Abort gives a sentinel: the guard's for
// its kind, with the message of the kind's most common case.
type sentinelResponse struct {
	sentinel error
	kind     error // the *Error's kind; the sentinel itself when nil
	status   int
	msg      func(m *Manager, c *gin.Context) string
	// withToken attaches the request's verified token, as the guard does
	// for failures that concern a genuine token.
	withToken bool
}

func fixed(msg string) func(*Manager, *gin.Context) string {
	return func(*Manager, *gin.Context) string { return msg }
}

// Messages of default responses that Abort gives too.
const (
	msgInternal              = "Internal Server Error"
	msgRevoked               = "Token has been revoked"
	msgRevocationUnavailable = "Token revocation status is unavailable"
	msgKeysUnavailable       = "Verification keys unavailable"
	msgInvalidCredentials    = "Bad username or password"
	msgNotJSON               = "Did not attempt to load JSON data because the request Content-Type was not 'application/json'."
)

// sentinelResponses, in the order they are tried: a kind before its group,
// a cause before the kind it is reported as.
var sentinelResponses = []sentinelResponse{
	{sentinel: ErrNoToken, status: http.StatusUnauthorized, msg: func(m *Manager, _ *gin.Context) string { return m.msgMissingHeader }},
	// As Authorize: no verified token in the context reads as none sent.
	{sentinel: ErrNoTokenInContext, kind: ErrNoToken, status: http.StatusUnauthorized, msg: func(m *Manager, _ *gin.Context) string { return m.msgMissingHeader }},
	{sentinel: ErrCSRF, status: http.StatusUnauthorized, msg: fixed("CSRF double submit tokens do not match")},
	{sentinel: ErrUnauthorized, status: http.StatusUnauthorized, msg: func(m *Manager, _ *gin.Context) string { return m.msgMissingHeader }},
	{sentinel: ErrInvalidHeader, status: http.StatusUnprocessableEntity, msg: func(m *Manager, _ *gin.Context) string { return m.msgBadHeader }},
	{sentinel: ErrInvalidQueryParam, status: http.StatusUnprocessableEntity, msg: func(m *Manager, _ *gin.Context) string {
		return fmt.Sprintf("Invalid value for query parameter '%s'. Expected the value to start with '%s'", m.cfg.queryName, m.cfg.queryPrefix)
	}},
	{sentinel: ErrTokenMalformed, status: http.StatusUnprocessableEntity, msg: fixed("Malformed token")},
	{sentinel: ErrAlgorithmNotAllowed, status: http.StatusUnprocessableEntity, msg: fixed(msgAlgNotAllowed)},
	{sentinel: ErrSignatureInvalid, status: http.StatusUnprocessableEntity, msg: fixed(msgBadSignature)},
	{sentinel: ErrTokenNotValidYet, status: http.StatusUnprocessableEntity, msg: fixed("The token is not yet valid (nbf)")},
	{sentinel: ErrInvalidClaims, status: http.StatusUnprocessableEntity, msg: fixed("Invalid claims")},
	{sentinel: ErrWrongTokenType, status: http.StatusUnprocessableEntity, msg: fixed("Only non-refresh tokens are allowed"), withToken: true},
	{sentinel: ErrUnknownKey, status: http.StatusUnprocessableEntity, msg: fixed(msgUnknownKey)},
	{sentinel: ErrInvalidToken, status: http.StatusUnprocessableEntity, msg: fixed("Invalid token")},
	{sentinel: ErrSessionExpired, kind: ErrTokenExpired, status: http.StatusUnauthorized, msg: fixed(msgExpired), withToken: true},
	{sentinel: ErrTokenExpired, status: http.StatusUnauthorized, msg: fixed(msgExpired)},
	{sentinel: ErrFreshTokenRequired, status: http.StatusUnauthorized, msg: fixed("Fresh token required"), withToken: true},
	{sentinel: ErrClaimsVerification, status: http.StatusBadRequest, msg: fixed("User claims verification failed"), withToken: true},
	{sentinel: ErrUserNotFound, kind: ErrUserLookup, status: http.StatusUnauthorized, msg: userLookupMessage, withToken: true},
	{sentinel: ErrUserLookup, status: http.StatusUnauthorized, msg: userLookupMessage, withToken: true},
	{sentinel: ErrForbidden, status: http.StatusForbidden, msg: fixed("Forbidden"), withToken: true},
	{sentinel: ErrRefreshTokenReused, kind: ErrRevoked, status: http.StatusUnauthorized, msg: fixed(msgRevoked), withToken: true},
	{sentinel: ErrRevoked, status: http.StatusUnauthorized, msg: fixed(msgRevoked), withToken: true},
	{sentinel: ErrRevocationUnavailable, status: http.StatusServiceUnavailable, msg: fixed(msgRevocationUnavailable)},
	{sentinel: ErrKeysUnavailable, status: http.StatusServiceUnavailable, msg: fixed(msgKeysUnavailable)},
	{sentinel: ErrInvalidCredentials, status: http.StatusUnauthorized, msg: fixed(msgInvalidCredentials)},
	{sentinel: ErrNotJSON, status: http.StatusUnsupportedMediaType, msg: fixed(msgNotJSON)},
	{sentinel: ErrSessionNotFound, status: http.StatusNotFound, msg: fixed("Session not found")},
	// A programmer's error: flask answers these with a 500 as well.
	{sentinel: ErrRouteParamMissing, status: http.StatusInternalServerError, msg: fixed(msgInternal)},
	{sentinel: ErrConfig, status: http.StatusInternalServerError, msg: fixed(msgInternal)},
	{sentinel: ErrInvalidIdentity, status: http.StatusInternalServerError, msg: fixed(msgInternal)},
	{sentinel: ErrNoSigningKey, status: http.StatusInternalServerError, msg: fixed(msgInternal)},
	{sentinel: ErrNoBlocklist, status: http.StatusInternalServerError, msg: fixed(msgInternal)},
	{sentinel: ErrNoUserLookup, status: http.StatusInternalServerError, msg: fixed(msgInternal)},
}

// userLookupMessage is flask's "Error loading the user <identity>", for
// the request's identity if it has one.
func userLookupMessage(_ *Manager, c *gin.Context) string {
	return strings.TrimSpace("Error loading the user " + CurrentIdentity(c))
}

// sentinelError is Abort's *Error for err, an exported sentinel or an
// error wrapping one; nil for any other error. A wrapping error stays the
// cause, for errors.Is and the audit log.
func (m *Manager) sentinelError(c *gin.Context, err error) *Error {
	for i := range sentinelResponses {
		r := &sentinelResponses[i]
		if !errors.Is(err, r.sentinel) {
			continue
		}
		kind := cmp.Or(r.kind, r.sentinel)
		e := newError(kind, r.status, r.msg(m, c))
		if err != kind && err.Error() != kind.Error() { // else it adds nothing
			e.cause = err
		}
		if tok, ok := CurrentToken(c); ok && r.withToken {
			e.Token = tok
		}
		return e
	}
	return nil
}
