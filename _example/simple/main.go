// Command simple is the Gin twin of flask-jwt-extended's simple.py: POST
// /login with {"username": "test", "password": "test"} returns an access
// token; GET /protected needs it.
//
//	go run ./simple
//	curl -s -X POST localhost:5000/login -H 'Content-Type: application/json' -d '{"username":"test","password":"test"}'
//	curl -s localhost:5000/protected -H "Authorization: Bearer $TOKEN"
package main

import (
	"log"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/_example/internal/demo"
)

func newRouter(secret []byte) (*gin.Engine, error) {
	jwt, err := ginjwt.New(ginjwt.WithSecretKey(secret))
	if err != nil {
		return nil, err
	}
	r := gin.Default()

	// Authenticate the user and return a JWT made by CreateAccessToken.
	r.POST("/login", func(c *gin.Context) {
		username, ok := demo.CheckPassword(c)
		if !ok {
			return
		}
		token, err := jwt.CreateAccessToken(username)
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": token})
	})

	// JWTRequired kicks out requests without a valid JWT.
	r.GET("/protected", jwt.JWTRequired(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"logged_in_as": ginjwt.CurrentIdentity(c)})
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
