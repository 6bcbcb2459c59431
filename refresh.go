package ginjwt

import (
	"errors"

	"github.com/gin-gonic/gin"
)

// RefreshAccessToken creates a new access token for the identity of the
// refresh token that RefreshRequired verified on this request: the body of
// flask's usual /refresh route.
//
//	r.POST("/refresh", m.RefreshRequired(), func(c *gin.Context) {
//		token, err := m.RefreshAccessToken(c)
//		...
//		c.JSON(200, gin.H{"access_token": token})
//	})
//
// The new token is not fresh (a refresh proves no password) unless opts
// say otherwise. Without a verified refresh token on the request it
// returns ErrNoTokenInContext.
func (m *Manager) RefreshAccessToken(c *gin.Context, opts ...TokenOption) (string, error) {
	tok, ok := CurrentToken(c)
	if !ok {
		return "", ErrNoTokenInContext
	}
	if tok.Claims.Type != TypeRefresh {
		return "", errors.New("ginjwt: RefreshAccessToken needs a refresh token; guard the route with RefreshRequired")
	}
	return m.CreateAccessToken(tok.Claims.Identity, opts...)
}
