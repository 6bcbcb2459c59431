// Command pyjwt_require_token is the Gin twin of the Flask-PyJWT tutorial
// (require_token): a login that puts the user's authorizations in the
// "scope" claim, a route whose "sub" must match the URL's username, an
// admin-only route, an override for admins, and the current token's
// details.
//
//	go run ./pyjwt_require_token
//	curl -s -X POST localhost:5000/login -d username=alice -d password=alice-password
//	curl -s localhost:5000/user_specific_route/alice -H "Authorization: Bearer $TOKEN"
//	curl -s localhost:5000/admin_dashboard -H "Authorization: Bearer $TOKEN"
package main

import (
	"crypto/rand"
	"crypto/subtle"
	"log"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
)

// account is a user of the demo: a password and the authorizations that
// go into the token's scope.
type account struct {
	password string
	scope    map[string]any
}

// accounts stands in for the tutorial's valid_login and
// get_user_authorizations.
var accounts = map[string]account{
	"alice": {"alice-password", map[string]any{"admin": true}},
	"bob":   {"bob-password", map[string]any{}},
}

// isAdmin is Flask-PyJWT's scope={"admin": True}: the scope object holds
// admin: true (other authorizations may sit beside it).
var isAdmin = map[string]any{"scope": map[string]any{"admin": true}}

func newRouter(secret []byte) (*gin.Engine, error) {
	jwt, err := ginjwt.New(ginjwt.WithSecretKey(secret),
		// JWT_ISSUER: tokens say who made them, and only those are accepted.
		ginjwt.WithClaims(ginjwt.ClaimsConfig{EncodeIssuer: "Flask_PyJWT", DecodeIssuers: []string{"Flask_PyJWT"}}))
	if err != nil {
		return nil, err
	}
	r := gin.Default()

	r.POST("/login", func(c *gin.Context) {
		username, password := c.PostForm("username"), c.PostForm("password")
		acct, known := accounts[username]
		if !known || subtle.ConstantTimeCompare([]byte(password), []byte(acct.password)) != 1 {
			c.JSON(http.StatusUnauthorized, gin.H{"error": "Invalid login credentials"})
			return
		}
		auth, refresh, err := jwt.CreateTokenPair(username, ginjwt.AdditionalClaims(map[string]any{"scope": acct.scope}))
		if err != nil {
			jwt.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"auth_token": auth, "refresh_token": refresh})
	})

	// @require_token()
	r.GET("/protected_route", jwt.JWTRequired(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"message": "You've reached the protected route!"})
	})

	// @require_token(sub="username")
	r.GET("/user_specific_route/:username", jwt.JWTRequired(ginjwt.RequireClaimParam("sub", "username")), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"message": "Hello, " + c.Param("username") + "!"})
	})

	// @require_token(scope={"admin": True})
	r.GET("/admin_dashboard", jwt.JWTRequired(ginjwt.RequireClaim("scope", isAdmin["scope"])), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"message": "Hello admin!"})
	})

	// current_token
	r.GET("/token/info", jwt.JWTRequired(), func(c *gin.Context) {
		tok, _ := ginjwt.CurrentToken(c)
		claims, err := tok.Claims.Map()
		if err != nil {
			jwt.Abort(c, err)
			return
		}
		scope, _ := tok.Claims.Get("scope")
		c.JSON(http.StatusOK, gin.H{
			"token_type":   tok.Claims.Type,
			"subject":      tok.Claims.Identity,
			"scope":        scope,
			"claims":       claims,
			"is_signed":    true, // a guard only lets verified tokens through
			"signed_token": tok.Raw,
		})
	})

	// @require_token(sub="username", override={"admin": True})
	r.GET("/overridable_route/:username", jwt.JWTRequired(
		ginjwt.RequireClaimParam("sub", "username"),
		ginjwt.Override(isAdmin),
	), func(c *gin.Context) {
		tok, _ := ginjwt.CurrentToken(c)
		name := c.Param("username")
		if scope, _ := tok.Claims.Get("scope"); scope != nil {
			if s, ok := scope.(map[string]any); ok && s["admin"] == true {
				name = "admin"
			}
		}
		c.JSON(http.StatusOK, gin.H{"message": "Hello, " + name + "!"})
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
