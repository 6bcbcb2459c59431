// Command oidc is the Gin twin of flask-jwt-extended's oidc.py: an API
// that accepts RS256 tokens from an OpenID Connect provider, verified with
// the keys the provider publishes (its jwks_uri), with the audience pinned,
// the email claim as the identity, and a group check.
//
// Instead of a real provider, the program also runs a small local issuer
// (service A) that signs tokens and publishes its JWKS; the API (service B)
// knows only its URL.
//
//	go run ./oidc
//	TOKEN=$(curl -s -X POST localhost:5001/token -d '{"email":"ann@example.com","groups":["admin"]}' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
//	curl -s localhost:5000/protected -H "Authorization: Bearer $TOKEN"
//	curl -s localhost:5000/admin -H "Authorization: Bearer $TOKEN"
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"log"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
)

const (
	clientID      = "example.my-identity-server" // the audience
	usernameClaim = "email"
	groupsClaim   = "groups"
)

// newIssuer is the stand-in identity provider: it signs with an RSA key
// and publishes the OpenID configuration and the JWK Set.
func newIssuer(issuerURL string) (*gin.Engine, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	idp, err := ginjwt.New(
		ginjwt.WithAlgorithm("RS256"),
		ginjwt.WithPrivateKey(key),
		ginjwt.WithKeyID("idp-1"),
		ginjwt.WithClaims(ginjwt.ClaimsConfig{
			IdentityClaim:  usernameClaim,
			EncodeIssuer:   issuerURL,
			EncodeAudience: []string{clientID},
		}),
	)
	if err != nil {
		return nil, err
	}
	r := gin.Default()
	r.GET("/.well-known/openid-configuration", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"issuer": issuerURL, "jwks_uri": issuerURL + "/.well-known/jwks.json"})
	})
	r.GET("/.well-known/jwks.json", idp.JWKSHandler())
	// A real provider authenticates the user first; this one trusts the
	// request, which is what makes it a stand-in.
	r.POST("/token", func(c *gin.Context) {
		var body struct {
			Email  string   `json:"email"`
			Groups []string `json:"groups"`
		}
		if err := c.ShouldBindJSON(&body); err != nil || body.Email == "" {
			c.JSON(http.StatusBadRequest, gin.H{"msg": "email required"})
			return
		}
		token, err := idp.CreateAccessToken(body.Email, ginjwt.AdditionalClaims(map[string]any{groupsClaim: body.Groups}))
		if err != nil {
			idp.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": token})
	})
	return r, nil
}

// newAPI is the resource server: it verifies tokens with the issuer's
// published keys.
func newAPI(issuerURL string) (*gin.Engine, error) {
	jwt, err := ginjwt.New(
		ginjwt.WithAlgorithm("RS256"),
		ginjwt.WithJWKS(ginjwt.NewJWKS(issuerURL+"/.well-known/jwks.json", ginjwt.JWKSConfig{})),
		ginjwt.WithClaims(ginjwt.ClaimsConfig{
			IdentityClaim:  usernameClaim,
			DecodeIssuers:  []string{issuerURL},
			DecodeAudience: []string{clientID},
		}),
	)
	if err != nil {
		return nil, err
	}
	// flask's group_required decorator.
	groupRequired := func(group string) gin.HandlerFunc {
		return jwt.JWTRequired(ginjwt.RequireAll(groupsClaim, group))
	}
	r := gin.Default()
	r.GET("/anonymous", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"result": "anonymous ok"}) })
	r.GET("/protected", jwt.JWTRequired(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"result": "protected ok", "user": ginjwt.CurrentIdentity(c)})
	})
	r.GET("/admin", groupRequired("admin"), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"result": "group admin ok"})
	})
	return r, nil
}

func main() {
	issuerAddr, apiAddr := env("ISSUER_ADDR", "127.0.0.1:5001"), env("ADDR", "127.0.0.1:5000")
	issuerURL := "http://" + issuerAddr
	idp, err := newIssuer(issuerURL)
	if err != nil {
		log.Fatal(err)
	}
	api, err := newAPI(issuerURL)
	if err != nil {
		log.Fatal(err)
	}
	go func() { log.Fatal(idp.Run(issuerAddr)) }()
	log.Fatal(api.Run(apiAddr))
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
