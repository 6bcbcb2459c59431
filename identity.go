package ginjwt

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt/internal/jsonindex"
)

// stateKey is the gin.Context key of the guard's requestState; being
// unexported, no other package can read or overwrite it.
type stateKey struct{}

func currentState(c *gin.Context) (*requestState, bool) {
	v, ok := c.Get(stateKey{})
	if !ok {
		return nil, false
	}
	st, ok := v.(*requestState)
	return st, ok && st != nil
}

// CurrentToken returns the token a guard verified for this request; false
// when none did, or an Optional guard found none.
func CurrentToken(c *gin.Context) (*Token, bool) {
	st, ok := currentState(c)
	if !ok {
		return nil, false
	}
	return &st.tok, true
}

// CurrentIdentity returns the verified token's identity (flask's
// get_jwt_identity), or "". Where no guard ran, Gin's debug mode warns.
func CurrentIdentity(c *gin.Context) string {
	if tok, ok := tokenOrWarn(c, "CurrentIdentity"); ok {
		return tok.Claims.Identity
	}
	return ""
}

// tokenOrWarn is CurrentToken for the accessors that answer a zero value
// without a token, which a forgotten guard would make look like an
// anonymous request. Flask raises there; Gin's debug mode warns.
func tokenOrWarn(c *gin.Context, accessor string) (*Token, bool) {
	tok, ok := CurrentToken(c)
	if !ok && gin.IsDebugging() {
		if _, guarded := c.Get(stateKey{}); !guarded {
			_, _ = fmt.Fprintf(gin.DefaultWriter, "[GIN-debug] [WARNING] ginjwt.%s on %s %s, where no ginjwt guard ran: it returns a zero value. Guard the route (JWTRequired, Optional() for anonymous access).\n",
				accessor, c.Request.Method, c.FullPath())
		}
	}
	return tok, ok
}

// CurrentClaims returns the claims of the verified token (flask's get_jwt),
// or zero Claims when there is no token.
func CurrentClaims(c *gin.Context) *Claims {
	if tok, ok := tokenOrWarn(c, "CurrentClaims"); ok {
		return &tok.Claims
	}
	return new(Claims)
}

// CurrentHeader returns the JOSE header of the verified token (flask's
// get_jwt_header), or the zero Header when there is no token.
func CurrentHeader(c *gin.Context) Header {
	if tok, ok := tokenOrWarn(c, "CurrentHeader"); ok {
		return tok.Header
	}
	return Header{}
}

// requestState is what a guard stores in the gin.Context: the token, and
// the user once loaded.
type requestState struct {
	tok      Token
	m        *Manager
	location Location
	// ctx is what the guard's store calls run under: the request's
	// context, or an observer's child of it.
	ctx context.Context

	userOnce sync.Once
	user     any
	userErr  error
}

// claim returns one claim of the verified token, from its parsed payload.
func (st *requestState) claim(name string) (jsonindex.Value, bool) {
	return st.tok.Claims.lookup(name)
}

// CurrentUser returns the user WithUserLookup loads, of type U, for this
// request's token (flask's current_user), loading it on the first call. See
// ErrNoTokenInContext and ErrNoUserLookup.
func CurrentUser[U any](c *gin.Context) (U, error) {
	var zero U
	st, ok := currentState(c)
	if !ok {
		return zero, ErrNoTokenInContext
	}
	user, err := st.loadUser(c)
	if err != nil {
		return zero, err
	}
	u, ok := user.(U)
	if !ok {
		return zero, fmt.Errorf("ginjwt: CurrentUser[%v], but the user lookup returns %v", reflect.TypeFor[U](), st.m.cfg.userType)
	}
	return u, nil
}

// CurrentLocation returns where the verified token of this request was
// found (flask's get_jwt_request_location), or 0 without one.
func CurrentLocation(c *gin.Context) Location {
	if st, ok := currentState(c); ok {
		return st.location
	}
	return 0
}
