// Command loaders is the Gin twin of flask-jwt-extended's loaders.py: an
// expired token gets the application's own response instead of flask's.
//
//	go run ./loaders
//	curl -s -X POST localhost:5000/login
//	curl -s localhost:5000/protected -H "Authorization: Bearer $TOKEN"   # after 10 seconds
package main

import (
	"crypto/rand"
	"errors"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
)

func newRouter(secret []byte, opts ...ginjwt.Option) (*gin.Engine, error) {
	jwt, err := ginjwt.New(append([]ginjwt.Option{
		ginjwt.WithSecretKey(secret),
		// Short-lived, to see the handler at work.
		ginjwt.WithAccessExpires(10 * time.Second),
		// flask's @jwt.expired_token_loader; every other kind keeps the
		// default response, since the handler writes nothing for it.
		ginjwt.WithErrorHandler(func(c *gin.Context, err *ginjwt.Error) {
			if errors.Is(err, ginjwt.ErrTokenExpired) {
				c.JSON(http.StatusUnauthorized, gin.H{"code": "dave", "err": "I can't let you do that"})
			}
		}),
	}, opts...)...)
	if err != nil {
		return nil, err
	}
	r := gin.Default()

	r.POST("/login", func(c *gin.Context) {
		token, err := jwt.CreateAccessToken("example_user")
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": token})
	})

	r.GET("/protected", jwt.JWTRequired(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"hello": "world"})
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
