package ginjwt

import (
	"github.com/gin-gonic/gin"
)

// VerifyRequest runs JWTRequired's checks on c without answering: flask's
// verify_jwt_in_request, the heart of custom decorators. On success the
// token is stored in the context for CurrentIdentity and the others; on
// failure the *Error is returned and nothing is written, so the caller
// decides:
//
//	func adminRequired(m *ginjwt.Manager) gin.HandlerFunc {
//		return func(c *gin.Context) {
//			if err := m.VerifyRequest(c); err != nil {
//				m.Abort(c, err) // flask's response for err
//				return
//			}
//			if role, _ := ginjwt.CurrentClaims(c).Get("role"); role != "admin" {
//				c.AbortWithStatusJSON(403, gin.H{"msg": "Admins only!"})
//			}
//		}
//	}
//
// Unlike the guards it checks OPTIONS requests like any other, so a
// middleware built on it never hands the handler an unverified request.
// Options that cannot work together are returned as an error.
func (m *Manager) VerifyRequest(c *gin.Context, opts ...GuardOption) error {
	return m.verifyAs(c, guard{verifyType: true}, opts)
}

// VerifyRefreshRequest is VerifyRequest for refresh tokens
// (verify_jwt_in_request(refresh=True)).
func (m *Manager) VerifyRefreshRequest(c *gin.Context, opts ...GuardOption) error {
	return m.verifyAs(c, guard{refresh: true, verifyType: true}, opts)
}

// VerifyFreshRequest is VerifyRequest for fresh access tokens
// (verify_jwt_in_request(fresh=True)).
func (m *Manager) VerifyFreshRequest(c *gin.Context, opts ...GuardOption) error {
	return m.verifyAs(c, guard{fresh: true, verifyType: true}, opts)
}

func (m *Manager) verifyAs(c *gin.Context, g guard, opts []GuardOption) error {
	if err := m.setupGuard(&g, opts); err != nil {
		return err
	}
	if err := m.guardRequest(c, &g); err != nil {
		return err
	}
	return nil
}
