// Command token_freshness is the Gin twin of flask-jwt-extended's
// token_freshness.py: /login checks the password and returns a fresh access
// token; tokens from /refresh are not fresh; /protected takes fresh tokens
// only.
//
//	go run ./token_freshness
//	curl -s -X POST localhost:5000/login -H 'Content-Type: application/json' -d '{"username":"test","password":"test"}'
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

	// The password was checked just now, so the access token is fresh.
	r.POST("/login", func(c *gin.Context) {
		if _, ok := demo.CheckPassword(c); !ok {
			return
		}
		access, err := jwt.CreateAccessToken("example_user", ginjwt.Fresh())
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

	// No password was checked in a while: RefreshAccessToken makes a token
	// that is not fresh.
	r.POST("/refresh", jwt.RefreshRequired(), func(c *gin.Context) {
		access, err := jwt.RefreshAccessToken(c)
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": access})
	})

	// Only fresh tokens reach this route.
	r.GET("/protected", jwt.FreshRequired(), func(c *gin.Context) {
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
