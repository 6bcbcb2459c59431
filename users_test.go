package ginjwt_test

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type account struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// users is a fake user table with a lookup counter.
type users struct {
	calls atomic.Int32
	down  atomic.Bool
	table map[string]account
}

func (u *users) lookup(_ *gin.Context, tok *ginjwt.Token) (account, error) {
	u.calls.Add(1)
	if u.down.Load() {
		return account{}, errors.New("connection refused")
	}
	a, ok := u.table[tok.Claims.Identity]
	if !ok {
		return account{}, fmt.Errorf("no row for %q: %w", tok.Claims.Identity, ginjwt.ErrUserNotFound)
	}
	return a, nil
}

func TestUserLoading(t *testing.T) {
	db := &users{table: map[string]account{"alice": {Name: "Alice", Role: "admin"}}}
	m := newManager(t, ginjwt.WithUserLookup(db.lookup))
	alice := ginjwttest.Access(t, m, "alice")
	ghost := ginjwttest.Access(t, m, "ghost")

	handler := func(c *gin.Context) {
		u, err := ginjwt.CurrentUser[account](c)
		again, err2 := ginjwt.CurrentUser[account](c)
		if err != nil || err2 != nil || u != again {
			c.JSON(299, gin.H{"err": fmt.Sprint(err)})
			return
		}
		c.JSON(200, u)
	}
	r := newRouter()
	r.GET("/eager", m.JWTRequired(ginjwt.LoadUser()), handler)
	r.GET("/lazy", m.JWTRequired(), handler)
	r.GET("/unused", m.JWTRequired(), func(c *gin.Context) { c.String(200, "ok") })
	r.GET("/optional", m.JWTRequired(ginjwt.Optional(), ginjwt.LoadUser()), func(c *gin.Context) {
		_, err := ginjwt.CurrentUser[account](c)
		c.String(200, err.Error())
	})
	r.GET("/wrongtype", m.JWTRequired(), func(c *gin.Context) {
		_, err := ginjwt.CurrentUser[string](c)
		c.String(200, err.Error())
	})

	t.Run("found, loaded once per request", func(t *testing.T) {
		for _, path := range []string{"/eager", "/lazy"} {
			db.calls.Store(0)
			w := get(r, path, bearer(alice))
			require.Equal(t, 200, w.Code, w.Body.String())
			assert.JSONEq(t, `{"name":"Alice","role":"admin"}`, w.Body.String())
			assert.Equal(t, int32(1), db.calls.Load(), path)
		}
	})
	t.Run("not loaded where not needed", func(t *testing.T) {
		db.calls.Store(0)
		assert.Equal(t, 200, get(r, "/unused", bearer(alice)).Code)
		assert.Equal(t, 200, get(r, "/optional").Code)
		assert.Zero(t, db.calls.Load())
	})
	t.Run("not found: 401, handler not run", func(t *testing.T) {
		w := get(r, "/eager", bearer(ghost))
		assert.Equal(t, 401, w.Code)
		assertMsg(t, w, "Error loading the user ghost")
	})
	t.Run("not found through CurrentUser", func(t *testing.T) {
		w := get(r, "/lazy", bearer(ghost))
		assert.Equal(t, 299, w.Code)
		assert.Contains(t, w.Body.String(), "user not found")
	})
	t.Run("lookup failing: 500, handler not run", func(t *testing.T) {
		db.down.Store(true)
		defer db.down.Store(false)
		w := get(r, "/eager", bearer(alice))
		assert.Equal(t, 500, w.Code)
		assertMsg(t, w, "Error loading the user alice")
	})
	t.Run("optional route without token", func(t *testing.T) {
		w := get(r, "/optional")
		assert.Equal(t, "ginjwt: no verified token in this request", w.Body.String())
	})
	t.Run("wrong type asked", func(t *testing.T) {
		w := get(r, "/wrongtype", bearer(alice))
		assert.Equal(t, "ginjwt: CurrentUser[string], but the user lookup returns ginjwt_test.account", w.Body.String())
	})
}

func TestUserLookupErrorHandler(t *testing.T) {
	db := &users{table: map[string]account{}}
	m := newManager(t, ginjwt.WithUserLookup(db.lookup), handleKind(ginjwt.ErrUserLookup, func(c *gin.Context, err *ginjwt.Error) {
		c.JSON(404, gin.H{"msg": "User " + err.Token.Claims.Identity + " is gone", "not_found": errors.Is(err, ginjwt.ErrUserNotFound)})
	}))
	r := newRouter()
	r.GET("/me", m.JWTRequired(ginjwt.LoadUser()), echoToken)
	w := get(r, "/me", bearer(ginjwttest.Access(t, m, "bob")))
	assert.Equal(t, 404, w.Code)
	assert.JSONEq(t, `{"msg":"User bob is gone","not_found":true}`, w.Body.String())
}

func TestCurrentUserWithoutLookup(t *testing.T) {
	m := newManager(t)
	r := newRouter()
	r.GET("/me", m.JWTRequired(), func(c *gin.Context) {
		_, err := ginjwt.CurrentUser[account](c)
		assert.ErrorIs(t, err, ginjwt.ErrNoUserLookup)
		c.Status(204)
	})
	assert.Equal(t, 204, get(r, "/me", bearer(ginjwttest.Access(t, m, "a"))).Code)
	assert.PanicsWithError(t, "ginjwt: guard options: LoadUser needs WithUserLookup", func() {
		m.JWTRequired(ginjwt.LoadUser())
	}, "caught while routes are set up, not per request")
}
