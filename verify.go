package ginjwt

import (
	"github.com/gin-gonic/gin"
)

// VerifyRequest runs JWTRequired's checks without answering (flask's
// verify_jwt_in_request), for custom guards: it stores the token, or
// returns the *Error (for Abort) and writes nothing. Unlike the guards it
// checks OPTIONS requests too; options that cannot work are an error.
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
