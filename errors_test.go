package ginjwt_test

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exportedErrors names the package's exported Err* variables.
func exportedErrors(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var names []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range f.Decls {
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.VAR {
				for _, spec := range gd.Specs {
					for _, n := range spec.(*ast.ValueSpec).Names {
						if n.IsExported() && strings.HasPrefix(n.Name, "Err") {
							names = append(names, n.Name)
						}
					}
				}
			}
		}
	}
	require.Contains(t, names, "ErrInvalidCredentials", "the package was not read")
	return names
}

// Every exported sentinel given to Abort, bare or wrapped, answers with the
// response of its kind (docs/errors.md), never a 500 with an empty body
// unless it is a programmer's error; the handler after it never runs. The
// table names every exported Err* variable, so a new one cannot be left
// out.
func TestAbortAnswersEverySentinel(t *testing.T) {
	const internal = "Internal Server Error"
	tests := []struct {
		name   string
		err    error
		status int
		msg    string
	}{
		{"ErrUnauthorized", ginjwt.ErrUnauthorized, 401, "Missing Authorization Header"},
		{"ErrInvalidToken", ginjwt.ErrInvalidToken, 422, "Invalid token"},
		{"ErrNoToken", ginjwt.ErrNoToken, 401, "Missing Authorization Header"},
		{"ErrInvalidHeader", ginjwt.ErrInvalidHeader, 422, "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'"},
		{"ErrInvalidQueryParam", ginjwt.ErrInvalidQueryParam, 422, "Invalid value for query parameter 'jwt'. Expected the value to start with 'bearer '"},
		{"ErrCSRF", ginjwt.ErrCSRF, 401, "CSRF double submit tokens do not match"},
		{"ErrTokenMalformed", ginjwt.ErrTokenMalformed, 422, "Malformed token"},
		{"ErrAlgorithmNotAllowed", ginjwt.ErrAlgorithmNotAllowed, 422, "The specified alg value is not allowed"},
		{"ErrSignatureInvalid", ginjwt.ErrSignatureInvalid, 422, "Signature verification failed"},
		{"ErrTokenExpired", ginjwt.ErrTokenExpired, 401, "Token has expired"},
		{"ErrTokenNotValidYet", ginjwt.ErrTokenNotValidYet, 422, "The token is not yet valid (nbf)"},
		{"ErrInvalidClaims", ginjwt.ErrInvalidClaims, 422, "Invalid claims"},
		{"ErrWrongTokenType", ginjwt.ErrWrongTokenType, 422, "Only non-refresh tokens are allowed"},
		{"ErrFreshTokenRequired", ginjwt.ErrFreshTokenRequired, 401, "Fresh token required"},
		{"ErrClaimsVerification", ginjwt.ErrClaimsVerification, 400, "User claims verification failed"},
		{"ErrUserLookup", ginjwt.ErrUserLookup, 401, "Error loading the user"},
		{"ErrForbidden", ginjwt.ErrForbidden, 403, "Forbidden"},
		{"ErrRevoked", ginjwt.ErrRevoked, 401, "Token has been revoked"},
		{"ErrRevocationUnavailable", ginjwt.ErrRevocationUnavailable, 503, "Token revocation status is unavailable"},
		{"ErrUnknownKey", ginjwt.ErrUnknownKey, 422, "Unknown key ID"},
		{"ErrKeysUnavailable", ginjwt.ErrKeysUnavailable, 503, "Verification keys unavailable"},
		{"ErrRouteParamMissing", ginjwt.ErrRouteParamMissing, 500, internal},
		{"ErrInvalidCredentials", ginjwt.ErrInvalidCredentials, 401, "Bad username or password"},
		{"ErrNotJSON", ginjwt.ErrNotJSON, 415, "Did not attempt to load JSON data because the request Content-Type was not 'application/json'."},
		{"ErrConfig", ginjwt.ErrConfig, 500, internal},
		{"ErrNoTokenInContext", ginjwt.ErrNoTokenInContext, 401, "Missing Authorization Header"},
		{"ErrInvalidIdentity", ginjwt.ErrInvalidIdentity, 500, internal},
		{"ErrNoSigningKey", ginjwt.ErrNoSigningKey, 500, internal},
		{"ErrNoBlocklist", ginjwt.ErrNoBlocklist, 500, internal},
		{"ErrNoUserLookup", ginjwt.ErrNoUserLookup, 500, internal},
		{"ErrUserNotFound", ginjwt.ErrUserNotFound, 401, "Error loading the user"},
		{"ErrRefreshTokenReused", ginjwt.ErrRefreshTokenReused, 401, "Token has been revoked"},
		{"ErrSessionExpired", ginjwt.ErrSessionExpired, 401, "Token has expired"},
		{"ErrSessionNotFound", ginjwt.ErrSessionNotFound, 404, "Session not found"},
	}
	listed := make([]string, len(tests))
	for i, tc := range tests {
		listed[i] = tc.name
	}
	assert.ElementsMatch(t, exportedErrors(t), listed, "every exported sentinel has a row")

	m := newManager(t, ginjwt.WithQueryString("jwt", "bearer "))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, err := range []error{tc.err, fmt.Errorf("login: %w", tc.err)} {
				var recorded error
				ran := false
				r := newRouter()
				r.GET("/p", func(c *gin.Context) {
					m.Abort(c, err)
					recorded = c.Errors.Last().Err
				}, func(*gin.Context) { ran = true })
				expectMsg(t, get(r, "/p"), tc.status, tc.msg)
				assert.False(t, ran, "the chain is aborted")
				assert.ErrorIs(t, recorded, tc.err, "%v is recorded, its cause kept", err)
			}
		})
	}
}

// After a guard, Abort's answers concern the request's token, as the
// guard's own would; an ErrorHandler answers them like any refusal.
func TestAbortAfterAGuard(t *testing.T) {
	m := newManager(t, handleKind(ginjwt.ErrInvalidCredentials, func(c *gin.Context, _ *ginjwt.Error) {
		c.JSON(401, gin.H{"error": "invalid_credentials"})
	}))
	r := newRouter()
	var seen *ginjwt.Error
	r.GET("/user", m.JWTRequired(), func(c *gin.Context) {
		m.Abort(c, fmt.Errorf("users table: %w", ginjwt.ErrUserNotFound))
		seen, _ = c.Errors.Last().Err.(*ginjwt.Error)
	})
	r.POST("/login", func(c *gin.Context) { m.Abort(c, ginjwt.ErrInvalidCredentials) })
	expectMsg(t, get(r, "/user", bearer(ginjwttest.Access(t, m, "alice"))), 401, "Error loading the user alice")
	require.NotNil(t, seen)
	assert.True(t, errors.Is(seen, ginjwt.ErrUserLookup) && errors.Is(seen, ginjwt.ErrUserNotFound))
	require.NotNil(t, seen.Token, "the token the failure concerns")
	assert.Equal(t, "alice", seen.Token.Claims.Identity)

	expectJSON(t, request(r, "POST", "/login"), 401, `{"error":"invalid_credentials"}`)
	// Any other error stays a 500 without a body.
	r.GET("/db", func(c *gin.Context) { m.Abort(c, errors.New("db down")) })
	w := get(r, "/db")
	assert.Equal(t, 500, w.Code)
	assert.Empty(t, w.Body.String())
}

// A 503 for a store that is down names the store's error where operators
// look (c.Errors, the error's text), never in the body clients see.
func TestErrorTextCarriesItsCause(t *testing.T) {
	m := newManager(t, ginjwt.WithBlocklist(failingStore{errors.New("dial tcp 127.0.0.1:6379: connection refused")}))
	var recorded string
	r := newRouter()
	r.Use(func(c *gin.Context) {
		c.Next()
		recorded = c.Errors.String()
	})
	r.GET("/p", m.JWTRequired(), func(c *gin.Context) { c.Status(200) })
	w := get(r, "/p", bearer(ginjwttest.Access(t, m, "alice")))
	expectMsg(t, w, 503, "Token revocation status is unavailable")
	assert.Contains(t, recorded, "Token revocation status is unavailable: dial tcp 127.0.0.1:6379: connection refused")
	assert.NotContains(t, w.Body.String(), "6379")
}
