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
//	curl -s -c jar -X POST localhost:5000/login_with_cookies
//	curl -s -b jar localhost:5000/protected
//	curl -s -b jar localhost:5000/only_headers
package main

import (
	"log"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/_example/internal/demo"
)

func newRouter(secret []byte) (*gin.Engine, error) {
	jwt, err := ginjwt.New(
		ginjwt.WithSecretKey(secret),
		// Every way a token may arrive, tried in this order (flask's
		// JWT_TOKEN_LOCATION). By default only headers are read.
		ginjwt.WithTokenLocations(ginjwt.Headers, ginjwt.Cookies, ginjwt.JSON, ginjwt.QueryString),
		// The example is served over plain HTTP on localhost, where a
		// browser drops Secure cookies; never use this in production.
		ginjwt.WithInsecureCookies(),
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
	r.POST("/login_with_cookies", func(c *gin.Context) {
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
	r.GET("/only_headers", jwt.JWTRequired(ginjwt.Locations(ginjwt.Headers)), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"foo": "baz"})
	})
	return r, nil
}

func main() {
	r, err := newRouter(demo.SecretKey())
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(r.Run(demo.Addr()))
}
