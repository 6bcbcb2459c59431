package ginjwt_test

import (
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const msgUnencodedPayload = `It is required that you pass in a value for the "detached_payload" argument to decode a message having the b64 header set to false.`

// Tokens that flask refuses are refused with its status, and with its
// message where PyJWT has one; the handler never runs.
func TestDecodeRefusesWhatFlaskRefuses(t *testing.T) {
	m := newManager(t)
	r := newRouter()
	var ran atomic.Int32
	r.GET("/p", m.JWTRequired(), func(c *gin.Context) { ran.Add(1); c.Status(http.StatusOK) })
	const hs = `{"alg":"HS256","typ":"JWT"}`
	for _, tc := range []struct{ name, header, payload, msg string }{
		// RFC 7797: the signature would cover the payload unencoded, so one
		// token means two things; PyJWT refuses it without a detached
		// payload, before it looks at "alg".
		{"b64 false", `{"alg":"HS256","b64":false}`, `{"sub":"a"}`, msgUnencodedPayload},
		{"b64 false, the last of two", `{"alg":"HS256","b64":true,"b64":false}`, `{"sub":"a"}`, msgUnencodedPayload},
		{"b64 false and no alg", `{"b64":false}`, `{"sub":"a"}`, msgUnencodedPayload},
		// Python's UTF-8 codec refuses these (flask words it as the codec
		// does: "'utf-8' codec can't decode byte 0xff in position 13").
		{"invalid UTF-8 in sub", hs, "{\"sub\":\"admin\xff\"}", "Invalid payload string: invalid UTF-8 or lone surrogate in a string"},
		{"a truncated sequence in a claim", hs, "{\"sub\":\"a\",\"n\":\"\xe2\x82\"}", "Invalid payload string: invalid UTF-8 or lone surrogate in a string"},
		{"invalid UTF-8 in the header", "{\"alg\":\"HS256\",\"kid\":\"\xff\"}", `{"sub":"a"}`, "Invalid header string: invalid UTF-8 or lone surrogate in a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := signRaw(tc.header, tc.payload, testSecret)
			expectMsg(t, get(r, "/p", bearer(token)), 422, tc.msg)
			_, err := m.DecodeToken(token)
			assert.ErrorIs(t, err, ginjwt.ErrTokenMalformed)
		})
	}
	assert.Zero(t, ran.Load())

	// b64 true, or not a boolean, is PyJWT's default: an encoded payload.
	for _, header := range []string{`{"alg":"HS256","b64":true}`, `{"alg":"HS256","b64":0}`} {
		assert.Equal(t, 200, get(r, "/p", bearer(signRaw(header, `{"sub":"a"}`, testSecret))).Code, header)
	}
	// Reading the header is not verifying it: get_unverified_jwt_headers
	// returns it.
	h, err := ginjwt.UnverifiedHeader(signRaw(`{"alg":"HS256","b64":false}`, `{"sub":"a"}`, testSecret))
	require.NoError(t, err)
	assert.Equal(t, "HS256", h.Alg)
}

// What the stricter reading of strings and numbers keeps accepting.
func TestDecodeAcceptsValidUnicodeAndSmallNumbers(t *testing.T) {
	m := newManager(t)
	r := newRouter()
	r.GET("/p", m.JWTRequired(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"identity": ginjwt.CurrentIdentity(c)})
	})
	for payload, identity := range map[string]string{
		`{"sub":"admin\ufffd"}`:                  "admin\ufffd", // U+FFFD itself is a character
		`{"sub":"\ud83d\ude00"}`:                 "\U0001F600",  // a surrogate pair is one
		"{\"sub\":\"\xf0\x9f\x98\x80\"}":         "\U0001F600",
		`{"sub":"a","x":1e-400}`:                 "a", // rounds to 0, as in Python
		`{"sub":"a","x":1.7976931348623157e308}`: "a",
	} {
		w := get(r, "/p", bearer(signPayload(payload)))
		require.Equal(t, 200, w.Code, "%s: %s", payload, w.Body.String())
		assert.Equal(t, identity, decodeBody(t, w)["identity"], payload)
	}
}
