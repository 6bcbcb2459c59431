// Command rbac is the tutorial's exercises as an app: users with a role,
// the role carried as a claim, an admin-only route, and a logout that
// revokes the token (in memory, or in Redis when REDIS_URL is set).
//
//	go run .
//	curl -s -X POST localhost:5000/login -H 'Content-Type: application/json' -d '{"username":"alice","password":"alice-password"}'
//	curl -s localhost:5000/admin -H "Authorization: Bearer $TOKEN"      # 200 for alice, 403 for bob
//	curl -s -X DELETE localhost:5000/logout -H "Authorization: Bearer $TOKEN"
//	curl -s localhost:5000/me -H "Authorization: Bearer $TOKEN"         # 401 Token has been revoked
package main

import (
	"crypto/rand"
	"log"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"
)

type user struct {
	Name string
	Role string
	hash []byte
}

// users is the tutorial's user table; the passwords exist only as hashes.
func users() map[string]user {
	table := map[string]user{}
	for name, u := range map[string][2]string{"alice": {"admin", "alice-password"}, "bob": {"user", "bob-password"}} {
		hash, err := bcrypt.GenerateFromPassword([]byte(u[1]), bcrypt.MinCost)
		if err != nil {
			panic(err)
		}
		table[name] = user{Name: name, Role: u[0], hash: hash}
	}
	return table
}

// unknownUserHash is what a login for a name not in the table is checked
// against; no password matches it.
var unknownUserHash, _ = bcrypt.GenerateFromPassword([]byte("no user has this password"), bcrypt.MinCost)

func newRouter(secret []byte, store ginjwt.Blocklist) (*gin.Engine, error) {
	table := users()
	jwt, err := ginjwt.New(
		ginjwt.WithSecretKey(secret),
		ginjwt.WithBlocklist(store),
		ginjwt.WithUserIdentityLoader(func(u user) (string, error) { return u.Name, nil }),
		// The role travels in the token.
		ginjwt.WithAdditionalClaimsLoader(func(u user) (map[string]any, error) {
			return map[string]any{"role": u.Role}, nil
		}),
	)
	if err != nil {
		return nil, err
	}
	r := gin.Default()
	r.POST("/login", func(c *gin.Context) {
		var in struct{ Username, Password string }
		if c.ShouldBindJSON(&in) != nil {
			c.JSON(http.StatusBadRequest, gin.H{"msg": "Missing JSON in request"})
			return
		}
		u, ok := table[in.Username]
		hash := u.hash
		if !ok {
			// Compare anyway, so an unknown name answers as slowly as a
			// known one and timing does not tell which names exist.
			hash = unknownUserHash
		}
		if bcrypt.CompareHashAndPassword(hash, []byte(in.Password)) != nil || !ok {
			c.JSON(http.StatusUnauthorized, gin.H{"msg": "Bad username or password"})
			return
		}
		token, err := jwt.CreateAccessToken(u)
		if err != nil {
			jwt.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": token})
	})
	r.GET("/me", jwt.JWTRequired(), func(c *gin.Context) {
		role, _ := ginjwt.CurrentClaims(c).Get("role")
		c.JSON(http.StatusOK, gin.H{"user": ginjwt.CurrentIdentity(c), "role": role})
	})
	// Only admins: 403 for anyone else with a valid token.
	r.GET("/admin", jwt.JWTRequired(ginjwt.RequireClaim("role", "admin")), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"msg": "Welcome, admin " + ginjwt.CurrentIdentity(c)})
	})
	r.DELETE("/logout", jwt.JWTRequired(), func(c *gin.Context) {
		if err := jwt.Logout(c); err != nil {
			jwt.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"msg": "Successfully logged out"})
	})
	return r, nil
}

// blocklist is Redis when REDIS_URL is set, memory otherwise.
func blocklist() (ginjwt.Blocklist, error) {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		return ginjwt.NewMemoryBlocklist(nil), nil
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	store, err := redisblocklist.New(redis.NewClient(opts))
	if err != nil {
		return nil, err
	}
	return store, nil
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

func main() {
	store, err := blocklist()
	if err != nil {
		log.Fatal(err)
	}
	r, err := newRouter(secretKey(), store)
	if err != nil {
		log.Fatal(err)
	}
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:5000"
	}
	log.Fatal(r.Run(addr))
}
