// Command automatic_user_loading is the Gin twin of flask-jwt-extended's
// automatic_user_loading.py: the token carries the user's id, and
// WithUserLookup loads the user for CurrentUser (flask's current_user).
//
//	go run ./automatic_user_loading
//	curl -s -X POST localhost:5000/login -H 'Content-Type: application/json' -d '{"username":"panther","password":"password"}'
//	curl -s localhost:5000/who_am_i -H "Authorization: Bearer $TOKEN"
//
// The Flask example keeps users in SQLite through SQLAlchemy; here a map
// stands in, to keep the example free of dependencies (_example/fullstack
// uses a real database).
package main

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
)

// User is a row of the users table.
type User struct {
	ID       int    `json:"id"`
	Username string `json:"username"`
	FullName string `json:"full_name"`
}

func (u User) checkPassword(password string) bool {
	return subtle.ConstantTimeCompare([]byte(password), []byte("password")) == 1
}

// store is the users table.
type store struct {
	mu    sync.RWMutex
	users map[int]User
}

func newStore() *store {
	return &store{users: map[int]User{
		1: {1, "batman", "Bruce Wayne"},
		2: {2, "panther", "Ann Takamaki"},
		3: {3, "little_sapphire", "Jester Lavore"},
	}}
}

func (s *store) byName(name string) (User, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, u := range s.users {
		if u.Username == name {
			return u, true
		}
	}
	return User{}, false
}

// lookup is flask's user_lookup_loader: the token's identity is the id.
func (s *store) lookup(_ *gin.Context, tok *ginjwt.Token) (User, error) {
	id, err := strconv.Atoi(tok.Claims.Identity)
	if err != nil {
		return User{}, fmt.Errorf("identity %q: %w", tok.Claims.Identity, ginjwt.ErrUserNotFound)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.users[id]
	if !ok {
		return User{}, ginjwt.ErrUserNotFound
	}
	return u, nil
}

func (s *store) delete(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, id)
}

func newRouter(secret []byte, users *store) (*gin.Engine, error) {
	jwt, err := ginjwt.New(
		ginjwt.WithSecretKey(secret),
		// flask's user_identity_loader: a User becomes its id.
		ginjwt.WithUserIdentityLoader(func(u User) (string, error) { return strconv.Itoa(u.ID), nil }),
		ginjwt.WithUserLookup(users.lookup),
	)
	if err != nil {
		return nil, err
	}
	r := gin.Default()

	r.POST("/login", func(c *gin.Context) {
		var body struct{ Username, Password string }
		if err := c.ShouldBindJSON(&body); err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"msg": "Missing JSON in request"})
			return
		}
		user, ok := users.byName(body.Username)
		if !ok || !user.checkPassword(body.Password) {
			c.JSON(http.StatusUnauthorized, gin.H{"msg": "Wrong username or password"})
			return
		}
		token, err := jwt.CreateAccessToken(user)
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": token})
	})

	// LoadUser loads the user before the handler: a deleted user gets
	// 401 "Error loading the user <id>" and the handler never runs.
	r.GET("/who_am_i", jwt.JWTRequired(ginjwt.LoadUser()), func(c *gin.Context) {
		user, err := ginjwt.CurrentUser[User](c)
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, user)
	})
	return r, nil
}

func main() {
	r, err := newRouter(secretKey(), newStore())
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
