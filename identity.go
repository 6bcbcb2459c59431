package ginjwt

import "github.com/gin-gonic/gin"

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

// CurrentToken returns the token a guard verified for this request, and
// false when there is none: no guard ran, or an Optional guard found no
// token.
func CurrentToken(c *gin.Context) (*Token, bool) {
	st, ok := currentState(c)
	if !ok {
		return nil, false
	}
	return &st.tok, true
}

// CurrentIdentity returns the identity of the verified token (flask's
// get_jwt_identity), or "" when there is no token.
func CurrentIdentity(c *gin.Context) string {
	if tok, ok := CurrentToken(c); ok {
		return tok.Claims.Identity
	}
	return ""
}

// CurrentClaims returns the claims of the verified token (flask's get_jwt),
// or the zero Claims when there is no token.
func CurrentClaims(c *gin.Context) Claims {
	if tok, ok := CurrentToken(c); ok {
		return tok.Claims
	}
	return Claims{}
}

// CurrentHeader returns the JOSE header of the verified token (flask's
// get_jwt_header), or the zero Header when there is no token.
func CurrentHeader(c *gin.Context) Header {
	if tok, ok := CurrentToken(c); ok {
		return tok.Header
	}
	return Header{}
}

// ClaimsAs decodes the verified token's claims into the application's own
// type T, typically a struct with json tags:
//
//	type MyClaims struct {
//		Sub   string   `json:"sub"`
//		Roles []string `json:"roles"`
//	}
//	claims, err := ginjwt.ClaimsAs[MyClaims](c)
//
// The token is not parsed or verified again; only its JSON payload is
// decoded. Without a token it returns ErrNoTokenInContext.
func ClaimsAs[T any](c *gin.Context) (T, error) {
	var out T
	tok, ok := CurrentToken(c)
	if !ok {
		return out, ErrNoTokenInContext
	}
	err := tok.Claims.Decode(&out)
	return out, err
}
