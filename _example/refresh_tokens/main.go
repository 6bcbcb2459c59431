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
	"crypto/rand"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
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

	// The ready-made refresh route: it lets refresh tokens only in and
	// answers {"access_token": ...}. By hand, it reads:
	//
	//	r.POST("/refresh", jwt.RefreshRequired(), func(c *gin.Context) {
	//		access, err := jwt.RefreshAccessToken(c)
	//		if err != nil {
	//			jwt.Abort(c, err)
	//			return
	//		}
	//		c.JSON(http.StatusOK, gin.H{"access_token": access})
	//	})
	r.POST("/refresh", jwt.RefreshHandler())

	r.GET("/protected", jwt.JWTRequired(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"foo": "bar"})
	})
	return r, nil
}

func main() {
	r, err := newRouter(secretKey())
	if err != nil {
		log.Fatal(err)
	}
	// ADDR, or Flask's development address.
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:5000"
	}
	log.Fatal(r.Run(addr))
}

// secretKey reads JWT_SECRET_KEY. Without it the server makes a random
// secret for this run rather than use a fixed one that anyone reading this
// file could forge tokens with; its tokens then stop working at a restart.
func secretKey() []byte {
	if s := os.Getenv("JWT_SECRET_KEY"); s != "" {
		return []byte(s)
	}
	log.Print("JWT_SECRET_KEY is not set: using a random secret, so tokens will not survive a restart")
	secret := make([]byte, 32)
	rand.Read(secret) // crypto/rand.Read never fails (Go 1.24+)
	return secret
}
