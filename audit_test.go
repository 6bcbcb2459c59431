package ginjwt_test

import (
	"bytes"
	"context"
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
		assert.Equal(t, "access", rec["guard"])
		for k, v := range rec {
			assert.NotEqual(t, "", v, "no empty attribute: %s", k)
		}
	}
	assert.Equal(t, "DEBUG", recs[0]["level"], "a missing token is routine")
	assert.Equal(t, "no_token", recs[0]["reason"], "a stable code")
	assert.Equal(t, "/users/:id", recs[0]["route"], "the route pattern, not the path")
	assert.EqualValues(t, 401, recs[0]["status"])
	assert.NotContains(t, recs[0], "kid")

	assert.Equal(t, "INFO", recs[1]["level"], "an expired token is routine")
	assert.Equal(t, "expired", recs[1]["reason"])
	assert.Equal(t, "Token has expired", recs[1]["message"])
	assert.Equal(t, "alice", recs[1]["identity"], "whose token: it verified that far")
	assert.Equal(t, "k1", recs[1]["kid"])
	assert.Equal(t, expiredJTI, recs[1]["jti"])

	assert.Equal(t, "WARN", recs[2]["level"], "a forged signature")
	assert.Equal(t, "bad_signature", recs[2]["reason"])
	assert.Equal(t, "Signature verification failed", recs[2]["message"])
	assert.NotContains(t, recs[2], "jti", "nothing of a forged token is vouched for")
	assert.NotContains(t, recs[2], "identity")
	assert.Equal(t, "forbidden", recs[3]["reason"])
	assert.Equal(t, "bob", recs[3]["identity"])
	assert.EqualValues(t, 403, recs[3]["status"])
	assert.Equal(t, "WARN", recs[4]["level"])
	assert.Equal(t, "csrf_missing", recs[4]["reason"])
	assert.Equal(t, "POST", recs[4]["method"])

	for _, secret := range []string{expired, forged, valid, strings.Split(valid, ".")[2]} {
		assert.NotContains(t, buf.String(), secret, "no token in the audit log")
	}
}

// A failed login names the user name tried, never the password; a
// replayed refresh token and a log out everywhere are recorded too.
func TestAuditLogRecordsLoginsAndSessions(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	m := newManager(t, ginjwt.WithAuditLog(logger), ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)), ginjwt.WithRefreshRotation())
	r := newRouter()
	r.POST("/login", m.LoginHandler(func(c *gin.Context) (any, error) {
		var in struct{ Username, Password string }
		if err := c.ShouldBindJSON(&in); err != nil || in.Password != "right" {
			return nil, ginjwt.InvalidCredentials(in.Username)
		}
		return in.Username, nil
	}))
	r.POST("/refresh", m.RefreshHandler())

	w := postJSON(r, "/login", `{"username":"carol","password":"hunter2"}`)
	require.Equal(t, 401, w.Code)
	assertMsg(t, w, "Bad username or password")
	w = postJSON(r, "/login", `{"username":"carol","password":"right"}`)
	require.Equal(t, 200, w.Code)
	refresh := decodeBody(t, w)["refresh_token"].(string)
	require.Equal(t, 200, postJSON(r, "/refresh", "", bearer(refresh)).Code)
	require.Equal(t, 401, postJSON(r, "/refresh", "", bearer(refresh)).Code, "a replay")
	require.NoError(t, m.RevokeIdentity(context.Background(), "carol"))

	recs := auditRecords(t, &buf)
	require.Len(t, recs, 4, buf.String())
	assert.Equal(t, "login", recs[0]["guard"])
	assert.Equal(t, "bad_credentials", recs[0]["reason"])
	assert.Equal(t, "carol", recs[0]["username"])
	assert.Equal(t, "INFO", recs[0]["level"])
	assert.NotContains(t, buf.String(), "hunter2", "never the password")

	// The replay: the refusal, and the session it ended.
	byMsg := map[string]map[string]any{}
	for _, rec := range recs[1:] {
		byMsg[rec["msg"].(string)] = rec
	}
	refused := byMsg["ginjwt: request refused"]
	require.NotNil(t, refused)
	assert.Equal(t, "refresh_reused", refused["reason"])
	assert.Equal(t, "ERROR", refused["level"], "a replay is an attack")
	assert.Equal(t, "carol", refused["identity"])
	ended := byMsg["ginjwt: refresh token reused, its session ended"]
	require.NotNil(t, ended)
	assert.Equal(t, "carol", ended["identity"])
	assert.NotEmpty(t, ended["session"])
	assert.Equal(t, "ERROR", ended["level"])
	revoked := byMsg["ginjwt: identity revoked, every session ended"]
	require.NotNil(t, revoked)
	assert.Equal(t, "carol", revoked["identity"])
}

func TestAuditLogLevelsFilter(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m := newManager(t, ginjwt.WithAuditLog(logger), ginjwt.WithBlocklist(failingStore{errors.New("dial tcp: connection refused")}))
	r := newRouter()
	r.GET("/p", m.JWTRequired(), func(c *gin.Context) { c.Status(200) })
	get(r, "/p")
	get(r, "/p", bearer(ginjwttest.Expired(t, m, "alice")))
	assert.Empty(t, buf.String(), "Debug and Info records are filtered out at Warn")
	get(r, "/p", bearer(ginjwttest.Access(t, m, "alice")))
	recs := auditRecords(t, &buf)
	require.Len(t, recs, 1)
	assert.Equal(t, "ERROR", recs[0]["level"], "a store outage is an error")
	assert.Equal(t, "store_unavailable", recs[0]["reason"])
	assert.Contains(t, recs[0]["cause"], "connection refused")

	_, err := ginjwt.New(ginjwt.WithSecretKey([]byte(testSecret)), ginjwt.WithAuditLog(nil))
	assert.ErrorContains(t, err, "WithAuditLog: nil logger")
}
