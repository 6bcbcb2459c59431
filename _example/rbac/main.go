// Command rbac is the tutorial's exercises as an app: users with a role,
// the role carried as a claim, an admin-only route, and a logout that
// revokes the token (in memory, or in Redis when REDIS_URL is set). A
// password change, a role change and an account deletion end every session
// of the user (RevokeIdentity): a token carrying the old role, or a stolen
// one, stops working at once.
//
//	go run .
//	curl -s -X POST localhost:5000/login -H 'Content-Type: application/json' -d '{"username":"alice","password":"alice-password"}'
//	curl -s localhost:5000/admin -H "Authorization: Bearer $TOKEN"      # 200 for alice, 403 for bob
//	curl -s -X PUT localhost:5000/users/bob/role -H "Authorization: Bearer $TOKEN" -d '{"role":"admin"}'
//	curl -s -X DELETE localhost:5000/logout -H "Authorization: Bearer $TOKEN"
//	curl -s localhost:5000/me -H "Authorization: Bearer $TOKEN"         # 401 Token has been revoked
package main

import (
	"crypto/rand"
	"log"
	"net/http"
	"os"
	"sync"

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

// userTable is the tutorial's user table; the passwords exist only as
// hashes. Handlers change it while others read it.
type userTable struct {
	mu    sync.Mutex
	users map[string]user
}

func newUserTable() *userTable {
	t := &userTable{users: map[string]user{}}
	for name, u := range map[string][2]string{"alice": {"admin", "alice-password"}, "bob": {"user", "bob-password"}} {
		t.users[name] = user{Name: name, Role: u[0], hash: mustHash(u[1])}
	}
	return t
}

func mustHash(password string) []byte {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return hash
}

// check returns the user whose name and password these are.
func (t *userTable) check(name, password string) (user, bool) {
	t.mu.Lock()
	u, ok := t.users[name]
	t.mu.Unlock()
	hash := u.hash
	if !ok {
		// Compare anyway, so an unknown name answers as slowly as a known
		// one and timing does not tell which names exist.
		hash = unknownUserHash
	}
	return u, bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil && ok
}

// update changes user name with change, reporting whether it exists.
func (t *userTable) update(name string, change func(*user)) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, ok := t.users[name]
	if ok {
		change(&u)
		t.users[name] = u
	}
	return ok
}

func (t *userTable) remove(name string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.users[name]
	delete(t.users, name)
	return ok
}

// unknownUserHash is what a login for a name not in the table is checked
// against; no password matches it.
var unknownUserHash, _ = bcrypt.GenerateFromPassword([]byte("no user has this password"), bcrypt.MinCost)

func newRouter(secret []byte, store ginjwt.Blocklist) (*gin.Engine, error) {
	table := newUserTable()
	jwt, err := ginjwt.New(
		ginjwt.WithSecretKey(secret),
		ginjwt.WithBlocklist(store),
		ginjwt.WithUserIdentityLoader(func(u user) (string, error) { return u.Name, nil }),
		// The role travels in the token: a role change must end the
		// user's sessions, or their tokens keep the old role.
		ginjwt.WithAdditionalClaimsLoader(func(u user) (map[string]any, error) {
			return map[string]any{"role": u.Role}, nil
		}),
	)
	if err != nil {
		return nil, err
	}
	// endSessions ends every session of a user; the store being down
	// fails the change's answer (503), and the caller may retry.
	endSessions := func(c *gin.Context, name string) bool {
		if err := jwt.RevokeIdentity(c.Request.Context(), name); err != nil {
			jwt.Abort(c, err)
			return false
		}
		return true
	}
	r := gin.Default()
	r.POST("/login", func(c *gin.Context) {
		var in struct{ Username, Password string }
		if c.ShouldBindJSON(&in) != nil {
			c.JSON(http.StatusBadRequest, gin.H{"msg": "Missing JSON in request"})
			return
		}
		u, ok := table.check(in.Username, in.Password)
		if !ok {
			c.JSON(http.StatusUnauthorized, gin.H{"msg": "Bad username or password"})
			return
		}
		token, err := jwt.CreateAccessToken(u, ginjwt.Fresh())
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
	// A password change wants the old password and a fresh token, ends
	// every session of the user (a thief's included) and logs this one in
	// again.
	r.POST("/password", jwt.FreshRequired(), func(c *gin.Context) {
		var in struct{ Old, New string }
		if c.ShouldBindJSON(&in) != nil || len(in.New) < 8 {
			c.JSON(http.StatusBadRequest, gin.H{"msg": "Send the old password and a new one of 8 characters or more"})
			return
		}
		name := ginjwt.CurrentIdentity(c)
		u, ok := table.check(name, in.Old)
		if !ok {
			c.JSON(http.StatusUnauthorized, gin.H{"msg": "Bad username or password"})
			return
		}
		table.update(name, func(u *user) { u.hash = mustHash(in.New) })
		if !endSessions(c, name) {
			return
		}
		token, err := jwt.CreateAccessToken(u, ginjwt.Fresh())
		if err != nil {
			jwt.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": token})
	})
	// Only admins: 403 for anyone else with a valid token.
	admin := r.Group("/", jwt.JWTRequired(ginjwt.RequireClaim("role", "admin")))
	admin.GET("/admin", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"msg": "Welcome, admin " + ginjwt.CurrentIdentity(c)})
	})
	admin.PUT("/users/:name/role", func(c *gin.Context) {
		var in struct{ Role string }
		if c.ShouldBindJSON(&in) != nil || (in.Role != "admin" && in.Role != "user") {
			c.JSON(http.StatusBadRequest, gin.H{"msg": `Send {"role": "admin"} or {"role": "user"}`})
			return
		}
		name := c.Param("name")
		if !table.update(name, func(u *user) { u.Role = in.Role }) {
			c.JSON(http.StatusNotFound, gin.H{"msg": "No such user"})
			return
		}
		if endSessions(c, name) { // their tokens carry the old role
			c.JSON(http.StatusOK, gin.H{"msg": name + " is now " + in.Role})
		}
	})
	admin.DELETE("/users/:name", func(c *gin.Context) {
		name := c.Param("name")
		if !table.remove(name) {
			c.JSON(http.StatusNotFound, gin.H{"msg": "No such user"})
			return
		}
		if endSessions(c, name) {
			c.JSON(http.StatusOK, gin.H{"msg": name + " deleted"})
		}
	})
	r.DELETE("/logout", jwt.LogoutHandler())
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
