// Command custom_decorators is the Gin twin of flask-jwt-extended's
// custom_decorators.py: an admin_required decorator becomes an
// AdminRequired guard built from the library's pieces.
//
//	go run ./custom_decorators
//	curl -s -X POST localhost:5000/login
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

// AdminRequired is flask's admin_required(): a guard whose token must carry
// is_administrator: true, answering 403 {"msg": "Admins only!"} otherwise.
// Further options (FreshRequired's, Optional, ...) pass through.
func AdminRequired(jwt *ginjwt.Manager, opts ...ginjwt.GuardOption) gin.HandlerFunc {
	isAdmin := ginjwt.Require("Admins only!", func(_ *gin.Context, tok *ginjwt.Token) bool {
		v, _ := tok.Claims.Get("is_administrator")
		return v == true
	})
	return jwt.JWTRequired(append(opts, isAdmin)...)
}

func newRouter(secret []byte) (*gin.Engine, error) {
	jwt, err := ginjwt.New(ginjwt.WithSecretKey(secret))
	if err != nil {
		return nil, err
	}
	r := gin.Default()

	r.POST("/login", func(c *gin.Context) {
		token, err := jwt.CreateAccessToken("admin_user",
			ginjwt.AdditionalClaims(map[string]any{"is_administrator": true}))
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": token})
	})

	// Not in the Flask example: a user that is not an administrator.
	r.POST("/login/user", func(c *gin.Context) {
		token, err := jwt.CreateAccessToken("plain_user")
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": token})
	})

	r.GET("/protected", AdminRequired(jwt), func(c *gin.Context) {
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
