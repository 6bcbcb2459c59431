package conformance

import (
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
)

// claimsVerificationApp is the fixture of test_claims_verification.py, with
// flask's token_verification_loader answering verified.
func claimsVerificationApp(t *testing.T, verified bool, opts ...ginjwt.Option) (*ginjwt.Manager, *flaskClient) {
	m := newManager(t, append([]ginjwt.Option{
		ginjwt.WithAdditionalClaimsLoader(func(string) (map[string]any, error) { return map[string]any{"foo": "bar"}, nil }),
		ginjwt.WithTokenVerifier(func(_ *gin.Context, tok *ginjwt.Token) bool {
			assert.Equal(t, "HS256", tok.Header.Alg)
			assert.Equal(t, "username", tok.Claims.Identity)
			return verified
		}),
	}, opts...)...)
	r := newRouter()
	r.GET("/protected1", m.JWTRequired(), fooBar)
	r.GET("/protected2", m.FreshRequired(), fooBar)
	r.GET("/protected3", m.JWTRequired(ginjwt.Optional()), fooBar)
	return m, newFlaskClient(t, r)
}

var claimsVerificationURLs = []string{"/protected1", "/protected2", "/protected3"}

func TestFlaskClaimsVerification(t *testing.T) {
	const file = "test_claims_verification.py::"

	t.Run(file+"test_successful_claims_validation", func(t *testing.T) {
		for _, url := range claimsVerificationURLs {
			m, fc := claimsVerificationApp(t, true)
			expectJSON(t, fc.get(url, withBearer(ginjwttest.Fresh(t, m, "username"))), 200, `{"foo":"bar"}`)
		}
	})

	t.Run(file+"test_unsuccessful_claims_validation", func(t *testing.T) {
		for _, url := range claimsVerificationURLs {
			m, fc := claimsVerificationApp(t, false)
			expectMsg(t, fc.get(url, withBearer(ginjwttest.Fresh(t, m, "username"))), 400, "User claims verification failed")
		}
	})

	t.Run(file+"test_claims_validation_custom_error", func(t *testing.T) {
		for _, url := range claimsVerificationURLs {
			m, fc := claimsVerificationApp(t, false, handleKind(ginjwt.ErrClaimsVerification, func(c *gin.Context, err *ginjwt.Error) {
				assert.Equal(t, "HS256", err.Token.Header.Alg)
				c.JSON(404, gin.H{"msg": "claims failed for " + err.Token.Claims.Identity})
			}))
			expectJSON(t, fc.get(url, withBearer(ginjwttest.Fresh(t, m, "username"))), 404, `{"msg":"claims failed for username"}`)
		}
	})
}
