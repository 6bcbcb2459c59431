// Command blocklist_redis is the Gin twin of flask-jwt-extended's
// blocklist_redis.py: tokens revoked at logout are kept in Redis until they
// expire, so every instance of the service refuses them.
//
//	go run .                                  # Redis at redis://127.0.0.1:6379/0
//	REDIS_URL=redis://cache:6379/1 go run .
//	curl -s -X POST localhost:5000/login -H 'Content-Type: application/json' -d '{"username":"test","password":"test"}'
//	curl -s localhost:5000/protected -H "Authorization: Bearer $TOKEN"
//	curl -s -X DELETE localhost:5000/logout -H "Authorization: Bearer $TOKEN"
//	curl -s localhost:5000/protected -H "Authorization: Bearer $TOKEN"   # 401 Token has been revoked
package main

import (
	"crypto/subtle"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/redis/go-redis/v9"
)

func newRouter(secret []byte, store ginjwt.Blocklist) (*gin.Engine, error) {
	jwt, err := ginjwt.New(
		ginjwt.WithSecretKey(secret),
		ginjwt.WithAccessExpires(time.Hour),
		ginjwt.WithBlocklist(store),
	)
	if err != nil {
		return nil, err
	}
	r := gin.Default()
	r.POST("/login", func(c *gin.Context) {
		var body struct{ Username, Password string }
		if c.ShouldBindJSON(&body) != nil ||
			subtle.ConstantTimeCompare([]byte(body.Username+"\x00"+body.Password), []byte("test\x00test")) != 1 {
			c.JSON(http.StatusUnauthorized, gin.H{"msg": "Bad username or password"})
			return
		}
		token, err := jwt.CreateAccessToken(body.Username)
		if err != nil {
			jwt.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": token})
	})
	// Revoke the token the request carries; it stays in Redis as long as
	// it would have been valid.
	r.DELETE("/logout", jwt.JWTRequired(ginjwt.VerifyType(false)), func(c *gin.Context) {
		if err := jwt.RevokeCurrent(c); err != nil {
			jwt.Abort(c, err) // 503 when Redis is down
			return
		}
		c.JSON(http.StatusOK, gin.H{"msg": "Access token revoked"})
	})
	r.GET("/protected", jwt.JWTRequired(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"hello": "world"})
	})
	return r, nil
}

func main() {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		log.Fatal(err)
	}
	secret := []byte(os.Getenv("JWT_SECRET_KEY"))
	if len(secret) == 0 {
		log.Print("JWT_SECRET_KEY is not set: using the example's public development secret")
		secret = []byte("example-only-secret-change-me-0123456789")
	}
	r, err := newRouter(secret, redisblocklist.New(redis.NewClient(opts)))
	if err != nil {
		log.Fatal(err)
	}
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:5000"
	}
	log.Fatal(r.Run(addr))
}
