package ginjwt

import (
	"errors"
	"net/http"
	"reflect"

	"github.com/gin-gonic/gin"
)

// WithUserLookup loads the user of a verified token (user_lookup_loader),
// at most once per request, when LoadUser or CurrentUser asks. It returns
// ErrUserNotFound for no such user; any other error is a failed lookup.
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

// LoadUser makes the guard load the user before the handler, so that a
// missing one gets 401 "Error loading the user <identity>" (ErrUserLookup).
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
