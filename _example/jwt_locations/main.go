// Command jwt_locations is the Gin twin of flask-jwt-extended's
// jwt_locations.py: guards accept the token from the Authorization header,
// the access_token_cookie cookie, an "access_token" JSON key or the "jwt"
// query parameter, and /protected tells which one it came from. /only_headers
// overrides the locations for one route.
//
//	go run ./jwt_locations
//	curl -s -X POST localhost:5000/login_without_cookies
//	curl -s localhost:5000/protected -H "Authorization: Bearer $TOKEN"
//	curl -s "localhost:5000/protected?jwt=$TOKEN"
//	curl -s localhost:5000/protected -H 'Content-Type: application/json' -d "{\"access_token\":\"$TOKEN\"}"
//	curl -s -c jar -X POST localhost:5000/login_with_cookies -H 'Content-Type: application/json' -d '{"username":"test","password":"test"}'
//	curl -s -b jar localhost:5000/protected
//	curl -s -b jar localhost:5000/only_headers
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
		// Every way a token may arrive, tried in this order (flask's
		// JWT_TOKEN_LOCATION). By default only headers are read.
		ginjwt.WithTokenLocations(ginjwt.InHeaders, ginjwt.InCookies, ginjwt.InJSONBody, ginjwt.InQueryString),
		// The example is served over plain HTTP on localhost, where a
		// browser drops Secure cookies; never use this in production.
		ginjwt.WithCookies(ginjwt.CookieConfig{Insecure: true}),
	)
	if err != nil {
		return nil, err
	}
	r := gin.Default()

	r.POST("/login_without_cookies", func(c *gin.Context) {
		token, err := jwt.CreateAccessToken("example_user")
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": token})
	})

	// The access cookie is HttpOnly; its CSRF value goes into the readable
	// csrf_access_token cookie, to be sent back in X-CSRF-TOKEN on POST.
	// Unlike flask's example, this login wants a password in a JSON body:
	// a login that sets cookies on a bodyless POST lets any other site log
	// its visitors in as example_user (login CSRF).
	r.POST("/login_with_cookies", func(c *gin.Context) {
		if _, ok := checkPassword(c); !ok {
			return
		}
		token, err := jwt.CreateAccessToken("example_user")
		if err == nil {
			err = jwt.SetAccessCookies(c, token)
		}
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"msg": "login successful"})
	})

	r.POST("/logout_with_cookies", func(c *gin.Context) {
		jwt.UnsetJWTCookies(c)
		c.JSON(http.StatusOK, gin.H{"msg": "logout successful"})
	})

	protected := func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"foo": "bar", "location": ginjwt.CurrentLocation(c).String()})
	}
	r.GET("/protected", jwt.JWTRequired(), protected)
	r.POST("/protected", jwt.JWTRequired(), protected)

	// Locations overrides the Manager's locations for this route only.
	r.GET("/only_headers", jwt.JWTRequired(ginjwt.Locations(ginjwt.InHeaders)), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"foo": "baz"})
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
// the tutorials' test/test user (a real app checks a password hash).
//
// The body must come as application/json, as flask's request.json wants
// (415 otherwise): a page on another site can make a browser post a
// text/plain form whose body looks like JSON, but a cross-site
// application/json post needs a CORS preflight that this server never
// grants.
func checkPassword(c *gin.Context) (username string, ok bool) {
	if c.ContentType() != "application/json" {
		c.JSON(http.StatusUnsupportedMediaType, gin.H{"msg": "Did not attempt to load JSON data because the request Content-Type was not 'application/json'."})
		return "", false
	}
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
