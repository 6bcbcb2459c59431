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
//	curl -s -X DELETE localhost:5000/logout -H "Authorization: Bearer $ACCESS_TOKEN" \
//	     -H 'Content-Type: application/json' -d "{\"refresh_token\":\"$REFRESH_TOKEN\"}"
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
	"errors"
	"io"
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
	r.POST("/login", func(c *gin.Context) {
		var body struct{ Username, Password string }
		if c.ShouldBindJSON(&body) != nil ||
			subtle.ConstantTimeCompare([]byte(body.Username+"\x00"+body.Password), []byte("test\x00test")) != 1 {
			c.JSON(http.StatusUnauthorized, gin.H{"msg": "Bad username or password"})
			return
		}
		access, refresh, err := jwt.CreateTokenPair(body.Username)
		if err != nil {
			jwt.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": access, "refresh_token": refresh})
	})
	// Trade a refresh token for a new pair. Of concurrent requests with
	// one refresh token, on any instances, exactly one gets a pair; the
	// others get 401 and the login is revoked.
	r.POST("/refresh", jwt.RefreshRequired(), func(c *gin.Context) {
		access, refresh, err := jwt.RotateRefreshToken(c)
		if err != nil {
			jwt.Abort(c, err) // 401 on reuse, 503 when Redis is down
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": access, "refresh_token": refresh})
	})
	// Revoke the access token the request carries and, when the body
	// names it, the refresh token too; each stays in Redis as long as it
	// would have been valid. The answer is 200 only once Redis has them.
	r.DELETE("/logout", jwt.JWTRequired(), func(c *gin.Context) {
		var body struct {
			RefreshToken string `json:"refresh_token"`
		}
		if err := c.ShouldBindJSON(&body); err != nil && !errors.Is(err, io.EOF) {
			c.JSON(http.StatusBadRequest, gin.H{"msg": "Bad request body"})
			return
		}
		access, _ := ginjwt.CurrentToken(c)
		tokens := []string{access.Raw}
		if body.RefreshToken != "" {
			tokens = append(tokens, body.RefreshToken)
		}
		if err := jwt.Revoke(c.Request.Context(), tokens...); err != nil {
			var refused *ginjwt.Error
			if errors.As(err, &refused) {
				jwt.Abort(c, err) // an invalid refresh token: nothing was revoked
				return
			}
			// Redis failed or timed out: the logout is not known to have
			// happened, so do not say it did.
			_ = c.Error(err)
			c.JSON(http.StatusServiceUnavailable, gin.H{"msg": "Logout failed, try again"})
			return
		}
		c.JSON(http.StatusOK, gin.H{"msg": "Successfully logged out"})
	})
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
	r, err := newRouter(secret, redisblocklist.New(redis.NewClient(opts)))
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
