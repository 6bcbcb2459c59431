package ginjwt

import (
	"errors"
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
	return option(func(c *config) error {
		if lookup == nil {
			return errors.New("WithUserLookup: nil function")
		}
		c.userType = reflect.TypeFor[U]()
		c.userLookup = func(ctx *gin.Context, tok *Token) (any, error) {
			return lookup(ctx, tok)
		}
		return nil
	})
}

// LoadUser makes the guard load the user with WithUserLookup before the
// handler runs, so a missing user gets flask's 401 "Error loading the user
// <identity>" (or WithErrorHandler's response) and the handler
// can count on CurrentUser.
func LoadUser() GuardOption {
	return guardFunc(func(g *guard) { g.loadUser = true })
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
