package ginjwt

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"

	"github.com/gin-gonic/gin"
)

// WithUserLookup loads the application's user for a verified token
// (flask's user_lookup_loader), for CurrentUser. It runs at most once per
// request, and only on requests that ask for the user: a guard with the
// LoadUser option, or a handler calling CurrentUser. Return ErrUserNotFound
// (or an error wrapping it) for a user that does not exist; other errors
// count as failures of the lookup itself.
func WithUserLookup[U any](lookup func(c *gin.Context, tok *Token) (U, error)) Option {
	return func(c *config) error {
		if lookup == nil {
			return errors.New("WithUserLookup: nil function")
		}
		c.userType = reflect.TypeFor[U]()
		c.userLookup = func(ctx *gin.Context, tok *Token) (any, error) {
			return lookup(ctx, tok)
		}
		return nil
	}
}

// LoadUser makes the guard load the user with WithUserLookup before the
// handler runs, so a missing user gets flask's 401 "Error loading the user
// <identity>" (or WithErrorHandler's response) and the handler
// can count on CurrentUser.
func LoadUser() GuardOption {
	return guardFunc(func(g *guard) { g.loadUser = true })
}

// CurrentUser returns the user that WithUserLookup loads for this
// request's token (flask's current_user), loading it on the first call.
// U must be the type the lookup returns. It returns ErrNoTokenInContext
// without a verified token and ErrNoUserLookup without a lookup.
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

func (st *requestState) loadUser(c *gin.Context) (any, error) {
	lookup := st.m.cfg.userLookup
	if lookup == nil {
		return nil, ErrNoUserLookup
	}
	st.userOnce.Do(func() {
		st.user, st.userErr = lookup(c, &st.tok)
	})
	return st.user, st.userErr
}

// userError turns a failed lookup into the guard's response.
func (m *Manager) userError(tok *Token, err error) *Error {
	status := http.StatusUnauthorized
	if !errors.Is(err, ErrUserNotFound) {
		status = http.StatusInternalServerError
	}
	e := newError(ErrUserLookup, status, "Error loading the user "+tok.Claims.Identity)
	e.Token, e.cause = tok, err
	return e
}
