// Package demo holds what every example server shares: where its secret and
// listen address come from, and the tutorials' fake password check.
package demo

import (
	"log"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
)

// SecretKey reads JWT_SECRET_KEY. The fallback is for trying the examples
// only: anyone who reads this file can forge their tokens.
func SecretKey() []byte {
	if s := os.Getenv("JWT_SECRET_KEY"); s != "" {
		return []byte(s)
	}
	log.Print("JWT_SECRET_KEY is not set: using the examples' public development secret")
	return []byte("example-only-secret-change-me-0123456789")
}

// Addr reads ADDR; the default, 127.0.0.1:5000, is Flask's development port.
func Addr() string {
	if a := os.Getenv("ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:5000"
}

// CheckPassword reads {"username": ..., "password": ...} and accepts the
// tutorials' test/test user. Otherwise it answers as the Flask examples do
// and returns false.
func CheckPassword(c *gin.Context) (username string, ok bool) {
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
