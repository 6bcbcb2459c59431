// Command loaders is the Gin twin of flask-jwt-extended's loaders.py: an
// expired token gets the application's own response instead of flask's.
//
//	go run ./loaders
//	curl -s -X POST localhost:5000/login
//	curl -s localhost:5000/protected -H "Authorization: Bearer $TOKEN"   # after 10 seconds
package main

import (
	"log"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/_example/internal/demo"
)

func newRouter(secret []byte, opts ...ginjwt.Option) (*gin.Engine, error) {
	jwt, err := ginjwt.New(append([]ginjwt.Option{
		ginjwt.WithSecretKey(secret),
		// Short-lived, to see the handler at work.
		ginjwt.WithAccessExpires(10 * time.Second),
		// flask's @jwt.expired_token_loader.
		ginjwt.WithExpiredTokenHandler(func(c *gin.Context, _ *ginjwt.Error) {
			c.JSON(http.StatusUnauthorized, gin.H{"code": "dave", "err": "I can't let you do that"})
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
	r, err := newRouter(demo.SecretKey())
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(r.Run(demo.Addr()))
}
