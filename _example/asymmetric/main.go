// Command asymmetric signs tokens with a private key and verifies them with
// the public key alone, as flask-jwt-extended does with JWT_ALGORITHM =
// "RS256", JWT_PRIVATE_KEY and JWT_PUBLIC_KEY. The auth routes hold the
// private key; a second Manager, built from the public key only, guards the
// API, as another service would; the public keys are also published as a
// JWK Set.
//
//	go run ./asymmetric                 # a fresh key pair each start
//	PRIVATE_KEY_FILE=key.pem go run ./asymmetric
//	curl -s -X POST localhost:5000/login -H 'Content-Type: application/json' -d '{"username":"test","password":"test"}'
//	curl -s localhost:5000/protected -H "Authorization: Bearer $TOKEN"
//	curl -s localhost:5000/.well-known/jwks.json
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"log"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
)

func newRouter(privateKey any) (*gin.Engine, error) {
	// The auth side: signs with the private key, ES256 here (RS*, PS* and
	// EdDSA work the same way).
	auth, err := ginjwt.New(ginjwt.WithAlgorithm("ES256"), ginjwt.WithPrivateKey(privateKey), ginjwt.WithKeyID("auth-1"))
	if err != nil {
		return nil, err
	}
	// The API side: the public key only; it cannot make tokens.
	public := privateKey.(crypto.Signer).Public()
	api, err := ginjwt.New(ginjwt.WithAlgorithm("ES256"), ginjwt.WithPublicKey(public))
	if err != nil {
		return nil, err
	}

	r := gin.Default()
	r.POST("/login", func(c *gin.Context) {
		username, ok := checkPassword(c)
		if !ok {
			return
		}
		token, err := auth.CreateAccessToken(username)
		if err != nil {
			auth.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": token})
	})
	r.GET("/.well-known/jwks.json", auth.JWKSHandler())
	r.GET("/protected", api.JWTRequired(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"logged_in_as": ginjwt.CurrentIdentity(c), "alg": ginjwt.CurrentHeader(c).Alg})
	})
	return r, nil
}

// privateKey reads PRIVATE_KEY_FILE (PEM: PKCS#8, or SEC 1 for EC), or
// makes a fresh P-256 key, so tokens do not survive a restart.
func privateKey() (any, error) {
	if path := os.Getenv("PRIVATE_KEY_FILE"); path != "" {
		return os.ReadFile(path)
	}
	log.Print("PRIVATE_KEY_FILE is not set: using a new key for this run")
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

func main() {
	key, err := privateKey()
	if err != nil {
		log.Fatal(err)
	}
	r, err := newRouter(key)
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

// checkPassword reads {"username": ..., "password": ...} and accepts only
// the tutorials' test/test user (a real app checks a password hash);
// otherwise it answers as the Flask examples do.
func checkPassword(c *gin.Context) (username string, ok bool) {
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
