// Command refresh_tokens is the Gin twin of flask-jwt-extended's
// refresh_tokens.py: /login returns an access and a refresh token, POST
// /refresh trades the refresh token for a new access token.
//
//	go run ./refresh_tokens
//	curl -s -X POST localhost:5000/login
//	curl -s -X POST localhost:5000/refresh -H "Authorization: Bearer $REFRESH_TOKEN"
//	curl -s localhost:5000/protected -H "Authorization: Bearer $ACCESS_TOKEN"
package main

import (
	"log"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/_example/internal/demo"
)

func newRouter(secret []byte) (*gin.Engine, error) {
	jwt, err := ginjwt.New(
		ginjwt.WithSecretKey(secret),
		ginjwt.WithAccessExpires(time.Hour),
		ginjwt.WithRefreshExpires(30*24*time.Hour),
	)
	if err != nil {
		return nil, err
	}
	r := gin.Default()

	r.POST("/login", func(c *gin.Context) {
		access, err := jwt.CreateAccessToken("example_user")
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		refresh, err := jwt.CreateRefreshToken("example_user")
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": access, "refresh_token": refresh})
	})

	// RefreshRequired only lets refresh tokens in.
	r.POST("/refresh", jwt.RefreshRequired(), func(c *gin.Context) {
		access, err := jwt.RefreshAccessToken(c)
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": access})
	})

	r.GET("/protected", jwt.JWTRequired(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"foo": "bar"})
	})
	return r, nil
}

func main() {
	r, err := newRouter(demo.SecretKey())
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(r.Run(demo.Addr()))
}
