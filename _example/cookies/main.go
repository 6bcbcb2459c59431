// Command cookies serves a small web page that logs in with JWT cookies, the
// way flask-jwt-extended's cookie examples (jwt_locations.py,
// implicit_refresh.py) are meant to be used from a browser: the JWT lives in
// an HttpOnly cookie that JavaScript cannot read, and every POST carries the
// CSRF double-submit value in X-CSRF-TOKEN.
//
//	cd _example/cookies && go run .
//	open http://127.0.0.1:5000/ and log in as test / test
//
// It is a module of its own so that its browser test's dependencies never
// reach ginjwt's other modules.
package main

import (
	"crypto/rand"
	_ "embed"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
)

//go:embed index.html
var indexHTML []byte

func newRouter(secret []byte) (*gin.Engine, error) {
	jwt, err := ginjwt.New(
		ginjwt.WithSecretKey(secret),
		ginjwt.WithTokenLocations(ginjwt.InCookies),
		ginjwt.WithCookies(ginjwt.CookieConfig{
			// The page is served over plain HTTP on 127.0.0.1, and a
			// browser only sends Secure cookies over HTTPS. Never use
			// this in production.
			Insecure: true,
			// Say it rather than rely on each browser's default; the CSRF
			// double submit (on: CSRF is left at its zero value) stays
			// the real protection.
			SameSite: http.SameSiteLaxMode,
			// The refresh token only travels to /refresh; its CSRF cookie
			// keeps Path=/ so the page can read it.
			RefreshPath: "/refresh",
		}),
		// As in flask's implicit_refresh.py: an hour-long access token,
		// replaced by any guarded request in its last 30 minutes, so an
		// active user never sees it expire.
		ginjwt.WithAccessExpires(time.Hour),
		ginjwt.WithImplicitRefresh(30*time.Minute),
	)
	if err != nil {
		return nil, err
	}
	r := gin.Default()

	r.GET("/", func(c *gin.Context) {
		c.Data(http.StatusOK, "text/html; charset=utf-8", indexHTML)
	})

	r.POST("/login", func(c *gin.Context) {
		username, ok := checkPassword(c)
		if !ok {
			return
		}
		access, refresh, err := jwt.CreateTokenPair(username, ginjwt.Fresh())
		if err == nil {
			err = jwt.SetAccessCookies(c, access)
		}
		if err == nil {
			err = jwt.SetRefreshCookies(c, refresh)
		}
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"msg": "login successful"})
	})

	// Not guarded, as in flask: a user whose token has expired must still
	// be able to clear the cookies.
	r.POST("/logout", func(c *gin.Context) {
		jwt.UnsetJWTCookies(c)
		c.JSON(http.StatusOK, gin.H{"msg": "logout successful"})
	})

	// The refresh cookie (and X-CSRF-TOKEN set to csrf_refresh_token) buys
	// a new access cookie once the old one has expired.
	r.POST("/refresh", jwt.RefreshRequired(), func(c *gin.Context) {
		access, err := jwt.RefreshAccessToken(c)
		if err == nil {
			err = jwt.SetAccessCookies(c, access)
		}
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"msg": "refresh successful"})
	})

	api := r.Group("/api", jwt.JWTRequired())
	api.POST("/echo", func(c *gin.Context) {
		var body any
		if err := c.ShouldBindJSON(&body); err != nil {
			body = nil
		}
		c.JSON(http.StatusOK, gin.H{"logged_in_as": ginjwt.CurrentIdentity(c), "echo": body})
	})
	return r, nil
}

// checkPassword reads {"username": ..., "password": ...} and accepts the
// tutorials' test/test user; otherwise it answers as the Flask examples do.
//
// The body must come as application/json, as flask's request.json wants
// (415 otherwise). This is what stops login CSRF: a page on another site
// can make a browser post a text/plain form whose body looks like JSON,
// and the login would then put the attacker's session cookies into the
// victim's browser. A cross-site application/json post needs a CORS
// preflight, which this server never grants.
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

// addr reads ADDR; the default, 127.0.0.1:5000, is Flask's development port.
func addr() string {
	if a := os.Getenv("ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:5000"
}

func main() {
	r, err := newRouter(secretKey())
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("open http://%s/ and log in as test / test", addr())
	log.Fatal(r.Run(addr()))
}
