package ginjwt

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Kinds of guard failure, usable with errors.Is on the error a guard records
// in c.Errors and passes to error handlers. The comment gives the default
// response, flask-jwt-extended's.
var (
	// ErrNoToken: no token where the route looks for one (flask's
	// NoAuthorizationError). 401, e.g. "Missing Authorization Header".
	ErrNoToken = errors.New("ginjwt: no token in request")
	// ErrInvalidHeader: a header that names the type but is not
	// "<type> <JWT>" (flask's InvalidHeaderError). 422.
	ErrInvalidHeader = errors.New("ginjwt: bad authorization header")
	// ErrInvalidQueryParam: the query parameter lacks the configured
	// prefix (flask's InvalidQueryParamError). 422.
	ErrInvalidQueryParam = errors.New("ginjwt: bad query parameter")
	// ErrCSRF: a cookie token on a CSRF method without the double-submit
	// value, or with another one (flask's CSRFError). 401 "Missing CSRF
	// token" / "CSRF double submit tokens do not match".
	ErrCSRF = errors.New("ginjwt: CSRF check failed")
	// ErrTokenMalformed: not a JWT (segments, base64, JSON, size). 422.
	ErrTokenMalformed = errors.New("ginjwt: malformed token")
	// ErrAlgorithmNotAllowed: the token's "alg" is not on the allow-list
	// (this includes "none"). 422 "The specified alg value is not allowed".
	ErrAlgorithmNotAllowed = errors.New("ginjwt: algorithm not allowed")
	// ErrSignatureInvalid: the signature does not match. 422 "Signature
	// verification failed".
	ErrSignatureInvalid = errors.New("ginjwt: signature verification failed")
	// ErrTokenExpired: "exp" is past and the token has no other defect
	// (as in flask, a missing claim, a wrong issuer or audience or a CSRF
	// mismatch is reported first). 401 "Token has expired".
	ErrTokenExpired = errors.New("ginjwt: token has expired")
	// ErrTokenNotValidYet: "nbf" or "iat" is in the future. 422.
	ErrTokenNotValidYet = errors.New("ginjwt: token not valid yet")
	// ErrInvalidClaims: a claim is missing or has the wrong type or value
	// (identity, iss, aud, sub, jti, type, fresh, csrf). 422, e.g.
	// "Missing claim: sub".
	ErrInvalidClaims = errors.New("ginjwt: invalid claims")
	// ErrWrongTokenType: a refresh token on an access route or the other way
	// round. 422 "Only non-refresh tokens are allowed" / "Only refresh
	// tokens are allowed".
	ErrWrongTokenType = errors.New("ginjwt: wrong token type")
	// ErrFreshTokenRequired: a non-fresh token on a fresh route. 401 "Fresh
	// token required".
	ErrFreshTokenRequired = errors.New("ginjwt: fresh token required")
	// ErrClaimsVerification: WithTokenVerifier's check returned false. 400
	// "User claims verification failed".
	ErrClaimsVerification = errors.New("ginjwt: user claims verification failed")
	// ErrUserLookup: LoadUser found no user (401 "Error loading the user
	// <identity>") or the lookup failed (500, same message).
	ErrUserLookup = errors.New("ginjwt: error loading the user")
	// ErrForbidden: a valid token failed a route's requirement. 403 with
	// the requirement's reason.
	ErrForbidden = errors.New("ginjwt: forbidden")
	// ErrRevoked: the token (or its login) is on the blocklist, or
	// WithTokenInBlocklistLoader says so. 401 "Token has been revoked".
	ErrRevoked = errors.New("ginjwt: token has been revoked")
	// ErrRevocationUnavailable: the revocation check failed (the store is
	// down or slow). The guard fails closed: 503 "Token revocation status
	// is unavailable", and the handler does not run.
	ErrRevocationUnavailable = errors.New("ginjwt: revocation status unavailable")
	// ErrUnknownKey: the token's "kid" names no key the Manager has (or a
	// retired one). 422 "Unknown key ID".
	ErrUnknownKey = errors.New("ginjwt: unknown key ID")
	// ErrKeysUnavailable: the verification keys could not be had (a key
	// loader failed, or a JWKS was never fetched). The guard fails closed:
	// 503 "Verification keys unavailable".
	ErrKeysUnavailable = errors.New("ginjwt: verification keys unavailable")
	// ErrRouteParamMissing: RequireClaimParam names a parameter its route
	// does not have, a programmer's error rather than an authorization
	// failure. 500 "Internal Server Error".
	ErrRouteParamMissing = errors.New("ginjwt: route has no such parameter")
	// ErrInvalidCredentials: what a LoginHandler credential check returns
	// (or wraps) for a wrong user name or password. 401 "Bad username or
	// password", the message of flask-jwt-extended's examples.
	ErrInvalidCredentials = errors.New("ginjwt: bad username or password")
	// ErrNotJSON: a LoginHandler request whose body is not
	// application/json. 415 with Werkzeug's message for request.json: "Did
	// not attempt to load JSON data because the request Content-Type was
	// not 'application/json'."
	ErrNotJSON = errors.New("ginjwt: request body is not JSON")
)

// Errors outside a request.
var (
	// ErrConfig wraps every error New reports.
	ErrConfig = errors.New("ginjwt: invalid configuration")
	// ErrNoTokenInContext is returned by the accessors when no guard stored
	// a token: the route has no guard, or an optional guard found none.
	ErrNoTokenInContext = errors.New("ginjwt: no verified token in this request")
	// ErrInvalidIdentity is returned when a token is created for an
	// identity that cannot become the identity claim.
	ErrInvalidIdentity = errors.New("ginjwt: invalid identity")
	// ErrNoSigningKey is returned when a token is created by a Manager that
	// only verifies (it was given a public key only).
	ErrNoSigningKey = errors.New("ginjwt: no signing key")
	// ErrNoBlocklist is returned by the revocation helpers of a Manager
	// without WithBlocklist.
	ErrNoBlocklist = errors.New("ginjwt: no blocklist configured (WithBlocklist)")
	// ErrNoUserLookup is returned by CurrentUser when the Manager has no
	// WithUserLookup.
	ErrNoUserLookup = errors.New("ginjwt: no user lookup configured (WithUserLookup)")
	// ErrUserNotFound is what a user lookup returns (or wraps) when the
	// token's user does not exist (any more): the guard answers 401 "Error
	// loading the user <identity>", as flask does when user_lookup_loader
	// returns None.
	ErrUserNotFound = errors.New("ginjwt: user not found")
	// ErrRefreshTokenReused is the cause (errors.Is) of the refusal of a
	// refresh token presented after it was rotated; its login is revoked.
	// 401 "Token has been revoked".
	ErrRefreshTokenReused = errors.New("ginjwt: refresh token reused")
)

// Error is a guard failure: the HTTP status and client-safe message of the
// default response, the kind (one of the Err... sentinels above, reachable
// with errors.Is) and, when the token itself was readable, the token.
type Error struct {
	// Status is the HTTP status of the default response.
	Status int
	// Message is the default response's message, safe to show clients.
	Message string
	// Token is the decoded token when the failure concerns a genuine token
	// (expired, wrong type, not fresh); nil otherwise. It is what
	// flask-jwt-extended passes to expired_token_loader and its siblings.
	Token *Token

	kind  error
	cause error
}

// Error returns the client-safe message.
func (e *Error) Error() string { return e.Message }

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

// ErrorHandler writes the response for a failed guard. The guard aborts the
// chain whatever the handler does; if the handler writes nothing, the
// status of the default response is sent, so a forgetful handler cannot
// turn a rejection into a 200.
type ErrorHandler func(c *gin.Context, err *Error)

// fail records err on the context, lets the configured handler answer and
// aborts the chain.
func (m *Manager) fail(c *gin.Context, e *Error) {
	_ = c.Error(e)
	m.audit(c, e)
	h := m.handlers[e.kind]
	if h == nil {
		h = m.errorHandler
	}
	if h == nil {
		m.writeDefault(c, e)
	} else {
		h(c, e)
	}
	if !c.Writer.Written() {
		status := c.Writer.Status()
		if status == http.StatusOK {
			status = e.Status
		}
		c.Writer.WriteHeader(status)
		c.Writer.WriteHeaderNow()
	}
	c.Abort()
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

// Error kinds that each replaceable response covers, mirroring
// flask-jwt-extended's loaders.
var (
	unauthorizedKinds = []error{ErrNoToken, ErrCSRF}
	invalidKinds      = []error{
		ErrInvalidHeader, ErrInvalidQueryParam, ErrTokenMalformed, ErrAlgorithmNotAllowed,
		ErrSignatureInvalid, ErrTokenNotValidYet, ErrInvalidClaims, ErrWrongTokenType,
	}
)

// Abort answers the request as a guard would for err: an *Error returned
// by a Manager method gets its response (or the configured handler's),
// any other error a 500. The chain is aborted and err recorded.
func (m *Manager) Abort(c *gin.Context, err error) {
	var e *Error
	if errors.As(err, &e) {
		m.fail(c, e)
		return
	}
	_ = c.Error(err)
	c.AbortWithStatus(http.StatusInternalServerError)
}
