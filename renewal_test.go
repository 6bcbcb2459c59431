package ginjwt_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Renewals carry the refresh token's custom claims read from its parsed
// payload: numbers digit for digit, escaped keys decoded, the last of
// duplicate keys, and none of the registered claims.
func TestRenewalCarriesClaimsAsWritten(t *testing.T) {
	m := newManager(t)
	r := refreshRouter(t, m)
	refresh := signPayload(`{"sub":"alice","type":"refresh","jti":"r1","nbf":1,"iss":"x",` +
		`"id":12345678901234567891,"\u0061cl":{"x":[1,2.50]},"dup":1,"dup":2}`)
	w := request(r, http.MethodPost, "/refresh", bearer(refresh))
	require.Equal(t, 200, w.Code, w.Body.String())

	tok, err := m.DecodeToken(decodeBody(t, w)["access_token"].(string))
	require.NoError(t, err)
	id, ok := tok.Claims.Get("id")
	require.True(t, ok)
	assert.Equal(t, "12345678901234567891", id.(interface{ String() string }).String())
	acl, ok := tok.Claims.Get("acl")
	require.True(t, ok)
	assert.Equal(t, map[string]any{"x": []any{int64(1), 2.5}}, acl)
	dup, _ := tok.Claims.Get("dup")
	assert.Equal(t, int64(2), dup)
	assert.Equal(t, "access", tok.Claims.Type)
	assert.NotEqual(t, "r1", tok.Claims.JTI)
	assert.Empty(t, tok.Claims.Issuer(), "registered claims are not carried")
	assert.NotEqual(t, int64(1), tok.Claims.NotBefore().Unix(), "the new token's own nbf")
}
