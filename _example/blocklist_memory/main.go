// Command blocklist_memory is flask-jwt-extended's blocklist example with
// the in-memory store, for a single process, plus refresh-token rotation:
// login returns a pair, /refresh uses the refresh token up and returns a
// new pair (replaying an old one revokes the whole login), DELETE /logout
// ends the login of the token it is called with, its refresh token too.
//
//	go run ./blocklist_memory
//	curl -s -X POST localhost:5000/login -H 'Content-Type: application/json' -d '{"username":"test","password":"test"}'
//	curl -s localhost:5000/protected -H "Authorization: Bearer $ACCESS_TOKEN"
//	curl -s -X DELETE localhost:5000/logout -H "Authorization: Bearer $ACCESS_TOKEN"
//	curl -s localhost:5000/protected -H "Authorization: Bearer $ACCESS_TOKEN"   # 401 Token has been revoked
//
// Several instances of a service need a shared store: see
// _example/blocklist_redis.
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
	jwt, err := ginjwt.New(
		ginjwt.WithSecretKey(secret),
		ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)),
		ginjwt.WithRefreshRotation(),
	)
	if err != nil {
		return nil, err
	}
	r := gin.Default()

	r.POST("/login", func(c *gin.Context) {
		username, ok := checkPassword(c)
		if !ok {
			return
		}
		access, refresh, err := jwt.CreateTokenPair(username, ginjwt.Fresh())
		if err != nil {
			jwt.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": access, "refresh_token": refresh})
	})

	r.POST("/refresh", jwt.RefreshRequired(), func(c *gin.Context) {
		access, refresh, err := jwt.RotateRefreshToken(c)
		if err != nil {
			jwt.Abort(c, err) // 401 when the refresh token was used before
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": access, "refresh_token": refresh})
	})

	// VerifyType(false): one logout route for access and refresh tokens.
	r.DELETE("/logout", jwt.JWTRequired(ginjwt.VerifyType(false)), func(c *gin.Context) {
		if err := jwt.Logout(c); err != nil {
			jwt.Abort(c, err)
			return
		}
		kind := ginjwt.CurrentClaims(c).Type
		c.JSON(http.StatusOK, gin.H{"msg": kind + " token successfully revoked"})
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
