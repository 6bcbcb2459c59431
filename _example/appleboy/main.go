// Command appleboy is appleboy/gin-jwt's README example on ginjwt: the same
// routes, users, claim and answers, so that its clients keep working.
//
//	go run ./appleboy
//	curl -s -X POST localhost:8000/login -H 'Content-Type: application/json' -d '{"username":"admin","password":"admin"}'
//	curl -s localhost:8000/auth/hello -H "Authorization: Bearer $ACCESS_TOKEN"
//	curl -s "localhost:8000/auth/hello?token=$ACCESS_TOKEN"
//	curl -s localhost:8000/auth/hello -b "jwt=$ACCESS_TOKEN"
//	curl -s -X POST localhost:8000/refresh -H 'Content-Type: application/json' -d "{\"refresh_token\":\"$REFRESH_TOKEN\"}"
//	curl -s -X POST localhost:8000/auth/logout -H "Authorization: Bearer $ACCESS_TOKEN"
//
// admin/admin may read /auth/hello, test/test may log in but gets 403.
// With the secret of the appleboy/gin-jwt service it replaces
// (JWT_SECRET_KEY) and LEGACY_TOKENS_UNTIL set to an RFC 3339 time, the
// tokens that service issued keep working until then.
package main

import (
	"crypto/rand"
	"errors"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
)

type login struct {
	Username string `form:"username" json:"username" binding:"required"`
	Password string `form:"password" json:"password" binding:"required"`
}

// identityKey is appleboy's IdentityKey: the claim holding the user name.
const identityKey = "id"

// User demo
type User struct {
	UserName  string
	FirstName string
	LastName  string
}

// newRouter builds the service; legacyUntil, when not zero, is when the
// old service's tokens stop being accepted.
func newRouter(secret []byte, legacyUntil time.Time) (*gin.Engine, error) {
	opts := []ginjwt.Option{
		ginjwt.WithSecretKey(secret),         // Key
		ginjwt.WithAccessExpires(time.Hour),  // Timeout
		ginjwt.WithRefreshExpires(time.Hour), // MaxRefresh: a refresh token's life
		// IdentityKey: new tokens name the user in "id", as the old ones do.
		ginjwt.WithClaims(ginjwt.ClaimsConfig{IdentityClaim: identityKey}),
		// PayloadFunc: the *User the authenticator returns names the tokens.
		ginjwt.WithUserIdentityLoader(func(u *User) (string, error) { return u.UserName, nil }),
		// IdentityHandler: the user of a verified token, for CurrentUser.
		ginjwt.WithUserLookup(func(_ *gin.Context, tok *ginjwt.Token) (*User, error) {
			return &User{UserName: tok.Claims.Identity}, nil
		}),
		// TokenLookup "header: Authorization, query: token, cookie: jwt",
		// and the JSON body's "refresh_token", as appleboy v3 reads it.
		ginjwt.WithTokenLocations(ginjwt.InHeaders, ginjwt.InQueryString, ginjwt.InCookies, ginjwt.InJSONBody),
		ginjwt.WithQueryString("token", ""),
		ginjwt.WithCookies(ginjwt.CookieConfig{AccessName: "jwt", RefreshName: "refresh_token"}),
		// A logout that revokes, and a refresh token used once.
		ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)),
		ginjwt.WithRefreshRotation(),
		ginjwt.WithErrorHandler(unauthorized),
		ginjwt.WithResponder(respond),
	}
	if !legacyUntil.IsZero() {
		opts = append(opts, ginjwt.WithLegacyTokensUntil(legacyUntil))
	}
	jwt, err := ginjwt.New(opts...)
	if err != nil {
		return nil, err
	}

	r := gin.Default()
	r.POST("/login", jwt.LoginHandler(authenticator))
	r.POST("/refresh", jwt.RefreshHandler())
	// Outside the group: every user may log out, not only admin.
	r.POST("/auth/logout", jwt.LogoutHandler())

	// Authorizer: only admin gets through.
	guard := jwt.JWTRequired(
		ginjwt.Locations(ginjwt.InHeaders, ginjwt.InQueryString, ginjwt.InCookies),
		ginjwt.LoadUser(),
		ginjwt.Require("you don't have permission to access this resource", func(_ *gin.Context, tok *ginjwt.Token) bool {
			return tok.Claims.Identity == "admin"
		}),
	)
	r.NoRoute(guard, func(c *gin.Context) {
		c.JSON(http.StatusNotFound, gin.H{"code": "PAGE_NOT_FOUND", "message": "Page not found"})
	})
	auth := r.Group("/auth", guard)
	auth.GET("/hello", helloHandler)
	return r, nil
}

func authenticator(c *gin.Context) (any, error) {
	var in login
	if err := c.ShouldBindJSON(&in); err != nil {
		return nil, ginjwt.ErrInvalidCredentials
	}
	if (in.Username == "admin" && in.Password == "admin") || (in.Username == "test" && in.Password == "test") {
		return &User{UserName: in.Username, LastName: "Bo-Yi", FirstName: "Wu"}, nil
	}
	return nil, ginjwt.InvalidCredentials(in.Username)
}

// unauthorized is appleboy's Unauthorized: {"code", "message"} for every
// refusal, 401 where ginjwt (as flask) answers 422 for a token that is
// not valid, since clients log in again on 401.
func unauthorized(c *gin.Context, err *ginjwt.Error) {
	status := err.Status
	if errors.Is(err, ginjwt.ErrInvalidToken) {
		status = http.StatusUnauthorized
	}
	c.JSON(status, gin.H{"code": status, "message": err.Message})
}

// respond is appleboy v3's LoginResponse and RefreshResponse (RFC 6749's
// token answer) and the README's LogoutResponse.
func respond(c *gin.Context, r ginjwt.Response) {
	if r.Handler == ginjwt.GuardLogout {
		body := gin.H{"code": http.StatusOK, "message": "Successfully logged out"}
		if r.Identity != "" {
			body["logged_out_user"] = r.Identity
		}
		c.JSON(http.StatusOK, body)
		return
	}
	c.JSON(http.StatusOK, gin.H{
		"access_token":  r.AccessToken,
		"token_type":    "Bearer",
		"expires_in":    r.ExpiresIn(),
		"refresh_token": r.RefreshToken,
	})
}

func helloHandler(c *gin.Context) {
	claims := ginjwt.CurrentClaims(c)
	userID, _ := claims.Get(identityKey)
	user, _ := ginjwt.CurrentUser[*User](c) // the guard loaded it (LoadUser)
	c.JSON(http.StatusOK, gin.H{
		"userID":   userID,
		"userName": user.UserName,
		"text":     "Hello World.",
	})
}

func main() {
	var legacyUntil time.Time
	if v := os.Getenv("LEGACY_TOKENS_UNTIL"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			log.Fatalf("LEGACY_TOKENS_UNTIL: %v", err)
		}
		legacyUntil = t
	}
	r, err := newRouter(secretKey(), legacyUntil)
	if err != nil {
		log.Fatal(err)
	}
	// ADDR, or appleboy's example's port on the loopback interface.
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:8000"
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
