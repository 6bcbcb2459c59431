// Command blocklist_redis is the Gin twin of flask-jwt-extended's
// blocklist_redis.py, made to run as several instances behind a load
// balancer: tokens revoked at logout are kept in Redis until they expire,
// and refresh tokens are rotated with reuse detection in Redis, so every
// instance refuses a revoked token and a refresh token is used only once
// across all of them.
//
//	go run .                                  # Redis at redis://127.0.0.1:6379/0, listens on 127.0.0.1:5000
//	REDIS_URL=redis://cache:6379/1 ADDR=127.0.0.1:5001 JWT_SECRET_KEY=... go run .
//	curl -s -X POST localhost:5000/login -H 'Content-Type: application/json' -d '{"username":"test","password":"test"}'
//	curl -s localhost:5000/protected -H "Authorization: Bearer $ACCESS_TOKEN"
//	curl -s -X POST localhost:5000/refresh -H "Authorization: Bearer $REFRESH_TOKEN"    # a new pair, once
//	curl -s -X DELETE localhost:5000/logout -H "Authorization: Bearer $ACCESS_TOKEN"   # ends the login
//	curl -s localhost:5000/protected -H "Authorization: Bearer $ACCESS_TOKEN"   # 401 Token has been revoked
//
// Every instance must share JWT_SECRET_KEY. Without it each start makes a
// random secret of its own (and says so): tokens then die with the process
// and other instances refuse them, which is safe but useless for more than
// one instance.
//
// This file depends on ginjwt (and its redisblocklist module), gin and
// go-redis only: copy it into a module of your own to start from it.
package main

import (
	"crypto/rand"
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
		ginjwt.WithAccessExpires(15*time.Minute),
		ginjwt.WithRefreshExpires(30*24*time.Hour),
		ginjwt.WithBlocklist(store),
		// A refresh token is good for one new pair; presented again (a
		// stolen copy, or a replay) it revokes the whole login.
		ginjwt.WithRefreshRotation(),
	)
	if err != nil {
		return nil, err
	}
	r := gin.Default()
	r.POST("/login", jwt.LoginHandler(func(c *gin.Context) (any, error) {
		var body struct{ Username, Password string }
		if c.ShouldBindJSON(&body) != nil ||
			subtle.ConstantTimeCompare([]byte(body.Username+"\x00"+body.Password), []byte("test\x00test")) != 1 {
			return nil, ginjwt.ErrInvalidCredentials
		}
		return body.Username, nil
	}))
	// Trade a refresh token for a new pair. Of concurrent requests with
	// one refresh token, on any instances, exactly one gets a pair; the
	// others get 401 and the login is revoked. 503 when Redis is down.
	r.POST("/refresh", jwt.RefreshRequired(), jwt.RefreshHandler())
	// Revoke the token the request carries and, with rotation, every
	// token of its login (the refresh token too). Each revocation stays
	// in Redis as long as its tokens could live. The answer is 200 only
	// once Redis confirmed them, 503 otherwise: try again.
	r.DELETE("/logout", jwt.JWTRequired(ginjwt.VerifyType(false)), jwt.LogoutHandler())
	r.GET("/protected", jwt.JWTRequired(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"hello": "world"})
	})
	return r, nil
}

// secretKey returns JWT_SECRET_KEY, or a random secret for this process
// alone when it is unset: never a secret published in an example.
func secretKey() ([]byte, error) {
	if s := os.Getenv("JWT_SECRET_KEY"); s != "" {
		return []byte(s), nil
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	log.Print("JWT_SECRET_KEY is not set: generated a random secret for this process; " +
		"its tokens die with it and other instances refuse them (set JWT_SECRET_KEY, the same for every instance)")
	return secret, nil
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
	secret, err := secretKey()
	if err != nil {
		log.Fatal(err)
	}
	store, err := redisblocklist.New(redis.NewClient(opts))
	if err != nil {
		log.Fatal(err)
	}
	r, err := newRouter(secret, store)
	if err != nil {
		log.Fatal(err)
	}
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:5000"
	}
	log.Printf("listening on %s, blocklist in Redis at %s", addr, opts.Addr)
	log.Fatal(r.Run(addr))
}
