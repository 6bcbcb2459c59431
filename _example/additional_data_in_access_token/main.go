// Command additional_data_in_access_token is the Gin twin of
// flask-jwt-extended's additional_data_in_access_token.py: extra claims go
// into the token at login and are read back with CurrentClaims.
//
//	go run ./additional_data_in_access_token
//	curl -s -X POST localhost:5000/login -H 'Content-Type: application/json' -d '{"username":"test","password":"test"}'
//	curl -s localhost:5000/protected -H "Authorization: Bearer $TOKEN"
package main

import (
	"crypto/rand"
	"log"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
)

func newRouter(secret []byte) (*gin.Engine, error) {
	jwt, err := ginjwt.New(ginjwt.WithSecretKey(secret))
	if err != nil {
		return nil, err
	}
	r := gin.Default()

	r.POST("/login", func(c *gin.Context) {
		username, ok := checkPassword(c)
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

// checkPassword reads {"username": ..., "password": ...} and accepts only
// the tutorials' test/test user (a real app checks a password hash);
// otherwise it answers as the Flask examples do.
func checkPassword(c *gin.Context) (username string, ok bool) {
	var body struct{ Username, Password string }
	if err := c.ShouldBindJSON(&body); err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"msg": "Missing JSON in request"})
		return "", false
	}
	if body.Username != "test" || body.Password != "test" {
		c.JSON(http.StatusUnauthorized, gin.H{"msg": "Bad username or password"})
		return "", false
	}
	return body.Username, true
}
