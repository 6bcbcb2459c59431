package conformance

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
)

type lookedUp map[string]string

// userLookupApp is the fixture of test_user_lookup.py. flask loads the user
// on every guarded request; in ginjwt that is the LoadUser guard option.
// get_current_user() and current_user are both CurrentUser, so /get_user1
// and /get_user2 are the same route twice.
func userLookupApp(t *testing.T, opts ...ginjwt.Option) (*ginjwt.Manager, *flaskClient, []string) {
	m := newManager(t, opts...)
	r := newRouter()
	guard := m.JWTRequired()
	if len(opts) > 0 {
		guard = m.JWTRequired(ginjwt.LoadUser())
	}
	h := func(c *gin.Context) {
		u, err := ginjwt.CurrentUser[lookedUp](c)
		if err != nil {
			c.JSON(http.StatusOK, gin.H{"error": err.Error()})
			return
		}
		c.JSON(http.StatusOK, gin.H{"foo": u["username"]})
	}
	r.GET("/get_user1", guard, h)
	r.GET("/get_user2", guard, h)
	return m, newFlaskClient(t, r), []string{"/get_user1", "/get_user2"}
}

func TestFlaskUserLookup(t *testing.T) {
	const file = "test_user_lookup.py::"
	none := ginjwt.WithUserLookup(func(*gin.Context, *ginjwt.Token) (lookedUp, error) { return nil, ginjwt.ErrUserNotFound })

	t.Run(file+"test_no_user_lookup_loader_specified", func(t *testing.T) {
		m, fc, urls := userLookupApp(t)
		for _, url := range urls {
			w := fc.get(url, withBearer(ginjwttest.Access(t, m, "username")))
			msg, _ := decodeBody(t, w)["error"].(string)
			assert.True(t, strings.Contains(msg, "WithUserLookup"), msg)
		}
	})

	t.Run(file+"test_load_valid_user", func(t *testing.T) {
		m, fc, urls := userLookupApp(t, ginjwt.WithUserLookup(func(_ *gin.Context, tok *ginjwt.Token) (lookedUp, error) {
			return lookedUp{"username": tok.Claims.Identity}, nil
		}))
		for _, url := range urls {
			expectJSON(t, fc.get(url, withBearer(ginjwttest.Access(t, m, "username"))), 200, `{"foo":"username"}`)
		}
	})

	t.Run(file+"test_load_invalid_user", func(t *testing.T) {
		m, fc, urls := userLookupApp(t, none)
		for _, url := range urls {
			expectMsg(t, fc.get(url, withBearer(ginjwttest.Access(t, m, "username"))), 401, "Error loading the user username")
		}
	})

	t.Run(file+"test_custom_user_lookup_errors", func(t *testing.T) {
		m, fc, urls := userLookupApp(t, none, handleKind(ginjwt.ErrUserLookup, func(c *gin.Context, err *ginjwt.Error) {
			assert.Equal(t, "HS256", err.Token.Header.Alg)
			assert.Equal(t, "username", err.Token.Claims.Identity)
			assert.True(t, errors.Is(err, ginjwt.ErrUserNotFound))
			c.JSON(201, gin.H{"foo": "bar"})
		}))
		for _, url := range urls {
			expectJSON(t, fc.get(url, withBearer(ginjwttest.Access(t, m, "username"))), 201, `{"foo":"bar"}`)
		}
	})
}
