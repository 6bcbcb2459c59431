// Command additional_data_in_access_token is the Gin twin of
// flask-jwt-extended's additional_data_in_access_token.py: extra claims go
// into the token at login and are read back with CurrentClaims.
//
//	go run ./additional_data_in_access_token
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

	r.POST("/login", func(c *gin.Context) {
		username, ok := demo.CheckPassword(c)
		if !ok {
			return
		}
		token, err := jwt.CreateAccessToken(username,
			ginjwt.AdditionalClaims(map[string]any{"aud": "some_audience", "foo": "bar"}))
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": token})
	})

	r.GET("/protected", jwt.JWTRequired(), func(c *gin.Context) {
		foo, _ := ginjwt.CurrentClaims(c).Get("foo")
		c.JSON(http.StatusOK, gin.H{"foo": foo})
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
