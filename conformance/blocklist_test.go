package conformance

import (
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
)

// blocklistApp is the fixture of test_blocklist.py with flask's
// token_in_blocklist_loader answering revoked.
func blocklistApp(t *testing.T, revoked bool, opts ...ginjwt.Option) (*ginjwt.Manager, *flaskClient) {
	m := newManager(t, append([]ginjwt.Option{ginjwt.WithTokenInBlocklistLoader(func(_ *gin.Context, tok *ginjwt.Token) (bool, error) {
		assert.Equal(t, "HS256", tok.Header.Alg)
		assert.Equal(t, "username", tok.Claims.Identity)
		return revoked, nil
	})}, opts...)...)
	r := newRouter()
	r.GET("/protected", m.JWTRequired(), fooBar)
	r.GET("/protected_skip_blocklist", m.JWTRequired(ginjwt.VerifyType(false), ginjwt.SkipRevocationCheck()), fooBar)
	r.GET("/protected_noskip_blocklist", m.JWTRequired(ginjwt.VerifyType(false)), fooBar)
	r.GET("/refresh_protected", m.RefreshRequired(), fooBar)
	return m, newFlaskClient(t, r)
}

// The flask tests are parametrized over JWT_BLOCKLIST_TOKEN_CHECKS-style
// lists that flask 4 no longer reads; each runs once here.
func TestFlaskBlocklist(t *testing.T) {
	const file = "test_blocklist.py::"
	ok := `{"foo":"bar"}`
	const revokedMsg = "Token has been revoked"

	t.Run(file+"test_blocklisted_access_token_revocation_skip", func(t *testing.T) {
		m, fc := blocklistApp(t, true)
		expectJSON(t, fc.get("/protected_skip_blocklist", withBearer(ginjwttest.Access(t, m, "username"))), 200, ok)
	})

	t.Run(file+"test_blocklisted_access_token_revocation_no_skip", func(t *testing.T) {
		m, fc := blocklistApp(t, true)
		expectMsg(t, fc.get("/protected_noskip_blocklist", withBearer(ginjwttest.Access(t, m, "username"))), 401, revokedMsg)
	})

	t.Run(file+"test_non_blocklisted_access_token", func(t *testing.T) {
		m, fc := blocklistApp(t, false)
		expectJSON(t, fc.get("/protected", withBearer(ginjwttest.Access(t, m, "username"))), 200, ok)
	})

	t.Run(file+"test_blocklisted_access_token", func(t *testing.T) {
		m, fc := blocklistApp(t, true)
		expectMsg(t, fc.get("/protected", withBearer(ginjwttest.Access(t, m, "username"))), 401, revokedMsg)
	})

	t.Run(file+"test_non_blocklisted_refresh_token", func(t *testing.T) {
		m, fc := blocklistApp(t, false)
		expectJSON(t, fc.get("/refresh_protected", withBearer(ginjwttest.Refresh(t, m, "username"))), 200, ok)
	})

	t.Run(file+"test_blocklisted_refresh_token", func(t *testing.T) {
		m, fc := blocklistApp(t, true)
		expectMsg(t, fc.get("/refresh_protected", withBearer(ginjwttest.Refresh(t, m, "username"))), 401, revokedMsg)
	})

	t.Run(file+"test_custom_blocklisted_message", func(t *testing.T) {
		m, fc := blocklistApp(t, true, handleKind(ginjwt.ErrRevoked, func(c *gin.Context, err *ginjwt.Error) {
			assert.Equal(t, "HS256", err.Token.Header.Alg)
			assert.Equal(t, "username", err.Token.Claims.Identity)
			c.JSON(404, gin.H{"baz": "foo"})
		}))
		expectJSON(t, fc.get("/protected", withBearer(ginjwttest.Access(t, m, "username"))), 404, `{"baz":"foo"}`)
	})
}
