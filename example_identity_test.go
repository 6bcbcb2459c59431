package ginjwt_test

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/golang-jwt/jwt/v5"
)

// Porting jsonify(logged_in_as=get_jwt_identity()) for tokens whose
// identity is not a string, here a token from another service that puts a
// numeric user ID in "identity".
func ExampleClaims_IdentityJSON() {
	secret := []byte("change-me-to-32-random-bytes-or-more!")
	m, err := ginjwt.New(ginjwt.WithSecretKey(secret), ginjwt.WithClaims(ginjwt.ClaimsConfig{IdentityClaim: "identity"}))
	if err != nil {
		panic(err)
	}
	r := gin.New()
	r.GET("/protected", m.JWTRequired(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{
			"logged_in_as": ginjwt.CurrentClaims(c).IdentityJSON(), // 42, as flask answers
			"as_string":    ginjwt.CurrentIdentity(c),              // "42"
		})
	})
	token, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"identity": 42}).SignedString(secret)
	do(r, "GET", "/protected", token, "")
	// Output:
	// 200 {"as_string":"42","logged_in_as":42}
}
