package ginjwt_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With the query-string location, the access log must not hold the token:
// gin.Logger would write GET "/protected?jwt=eyJ...".
func TestLoggerRedactsTheQueryStringToken(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InQueryString))
	var log bytes.Buffer
	r := newRouter()
	r.Use(m.Logger(gin.LoggerConfig{Output: &log}))
	r.GET("/protected", m.JWTRequired(), echoToken)
	token := ginjwttest.Access(t, m, "alice")

	for _, query := range []string{"jwt=" + token, "page=2&jwt=" + token + "&sort=asc", "j%77t=" + token} {
		log.Reset()
		w := get(r, "/protected?"+query)
		require.Equal(t, 200, w.Code, "the guard still reads the token: %s", query)
		assert.NotContains(t, log.String(), token, query)
		assert.NotContains(t, log.String(), strings.Split(token, ".")[2], "no part of the signature")
		assert.Contains(t, log.String(), "=REDACTED", query)
		assert.Contains(t, log.String(), "| 200 |")
	}
	log.Reset()
	get(r, "/protected?page=2&sort=asc")
	assert.Contains(t, log.String(), `"/protected?page=2&sort=asc"`, "other parameters are logged as they are")
	assert.Contains(t, log.String(), "| 401 |")
}

func TestLoggerKeepsACustomFormatter(t *testing.T) {
	m := newManager(t, ginjwt.WithQueryString("token", ""))
	var log bytes.Buffer
	r := newRouter()
	r.Use(m.Logger(gin.LoggerConfig{Output: &log, Formatter: func(p gin.LogFormatterParams) string {
		return p.Method + " " + p.Path + "\n"
	}}))
	r.GET("/x", func(c *gin.Context) {})
	get(r, "/x?token=secret.value.here&jwt=kept")
	assert.Equal(t, "GET /x?token=REDACTED&jwt=kept\n", log.String())
}

func TestRedactQuery(t *testing.T) {
	m := newManager(t)
	for in, want := range map[string]string{
		"/p":                     "/p",
		"/p?":                    "/p?",
		"/p?jwt":                 "/p?jwt",
		"/p?jwt=":                "/p?jwt=REDACTED",
		"/p?jwt=a.b.c&jwt=d":     "/p?jwt=REDACTED&jwt=REDACTED",
		"/p?xjwt=a&jwtx=b":       "/p?xjwt=a&jwtx=b",
		"/p?%6Awt=a.b.c":         "/p?%6Awt=REDACTED",
		"/p?%zz=1&jwt=a":         "/p?%zz=1&jwt=REDACTED",
		"/p?a=1&&jwt=a.b.c#frag": "/p?a=1&&jwt=REDACTED",
	} {
		assert.Equal(t, want, m.RedactQuery(in), in)
	}
}
