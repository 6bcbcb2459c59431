package ginjwt_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func auditRecords(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for line := range strings.Lines(buf.String()) {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		recs = append(recs, rec)
	}
	return recs
}

func TestAuditLogRecordsRefusals(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := newManager(t, ginjwt.WithAuditLog(logger), ginjwt.WithKeyID("k1"), ginjwt.WithTokenLocations(ginjwt.InHeaders, ginjwt.InCookies))
	r := newRouter()
	r.Any("/users/:id", m.JWTRequired(), func(c *gin.Context) { c.Status(200) })
	r.GET("/admin", m.JWTRequired(ginjwt.RequireClaim("role", "admin")), func(c *gin.Context) { c.Status(200) })

	expired := ginjwttest.Expired(t, m, "alice")
	decoded, err := m.DecodeExpiredToken(expired)
	require.NoError(t, err)
	expiredJTI := decoded.Claims.JTI
	forged := signRaw(`{"alg":"HS256","typ":"JWT","kid":"k1"}`, `{"sub":"mallory","type":"access"}`, "not-the-secret-not-the-secret-00")
	valid := ginjwttest.Access(t, m, "bob")

	get(r, "/users/42")
	get(r, "/users/42", bearer(expired))
	get(r, "/users/42", bearer(forged))
	get(r, "/admin", bearer(valid))
	assert.Equal(t, 200, get(r, "/users/42", bearer(valid)).Code, "accepted requests are not refusals")
	req := header{"Cookie", "access_token_cookie=" + valid}
	request(r, http.MethodPost, "/users/42", req) // no CSRF header

	recs := auditRecords(t, &buf)
	require.Len(t, recs, 5)
	for _, rec := range recs {
		assert.Equal(t, "ginjwt: request refused", rec["msg"])
		assert.Equal(t, "192.0.2.1", rec["client"])
	}
	assert.Equal(t, "INFO", recs[0]["level"], "a missing token is routine")
	assert.Equal(t, "no token in request", recs[0]["kind"])
	assert.Equal(t, "/users/:id", recs[0]["route"], "the route pattern, not the path")
	assert.EqualValues(t, 401, recs[0]["status"])

	assert.Equal(t, "WARN", recs[1]["level"])
	assert.Equal(t, "token has expired", recs[1]["kind"])
	assert.Equal(t, "k1", recs[1]["kid"])
	assert.Equal(t, expiredJTI, recs[1]["jti"])

	assert.Equal(t, "WARN", recs[2]["level"])
	assert.Equal(t, "Signature verification failed", recs[2]["reason"])
	assert.NotContains(t, recs[2], "jti", "nothing of a forged token is vouched for")
	assert.Equal(t, "forbidden", recs[3]["kind"])
	assert.EqualValues(t, 403, recs[3]["status"])
	assert.Equal(t, "POST", recs[4]["method"])

	for _, secret := range []string{expired, forged, valid, strings.Split(valid, ".")[2]} {
		assert.NotContains(t, buf.String(), secret, "no token in the audit log")
	}
}

func TestAuditLogLevelsFilter(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m := newManager(t, ginjwt.WithAuditLog(logger), ginjwt.WithBlocklist(failingStore{errors.New("dial tcp: connection refused")}))
	r := newRouter()
	r.GET("/p", m.JWTRequired(), func(c *gin.Context) { c.Status(200) })
	get(r, "/p")
	assert.Empty(t, buf.String(), "Info records are filtered out at Warn")
	get(r, "/p", bearer(ginjwttest.Access(t, m, "alice")))
	recs := auditRecords(t, &buf)
	require.Len(t, recs, 1)
	assert.Equal(t, "ERROR", recs[0]["level"], "a store outage is an error")
	assert.Equal(t, "revocation status unavailable", recs[0]["kind"])
	assert.Contains(t, recs[0]["cause"], "connection refused")

	_, err := ginjwt.New(ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithAuditLog(nil))
	assert.ErrorContains(t, err, "WithAuditLog: nil logger")
}
