package conformance

// Cookies and CSRF values between ginjwt and the real flask-jwt-extended,
// both ways, and the same answers to the same Cookie and CSRF headers.

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Cookies go both ways too: flask's guard accepts the cookie and CSRF value
// ginjwt sets, and refuses it without the CSRF header; ginjwt accepts the
// cookies flask's set_access_cookies writes.
func TestRealFlaskCookieInterop(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InCookies), ginjwt.WithCookies(ginjwt.CookieConfig{Insecure: true}))
	r := newRouter()
	r.GET("/login", func(c *gin.Context) {
		access, refresh, err := m.CreateTokenPair("alice")
		require.NoError(t, err)
		require.NoError(t, m.SetAccessCookies(c, access))
		require.NoError(t, m.SetRefreshCookies(c, refresh))
		c.Status(http.StatusNoContent)
	})
	r.POST("/protected", m.JWTRequired(), func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"who": ginjwt.CurrentIdentity(c)}) })
	browser := newFlaskClient(t, r)
	require.Equal(t, http.StatusNoContent, browser.get("/login").Code)
	jar := browser.jar
	resp := flaskPeerFull(t, map[string]any{
		// Debian's flask-jwt-extended (4.4) enables CSRF only with cookies
		// among the configured locations; 4.7 always does.
		"config": map[string]any{"JWT_SECRET_KEY": testSecret, "JWT_TOKEN_LOCATION": []string{"headers", "cookies"}},
		"cookie_check": []map[string]string{
			{"cookie": jar["access_token_cookie"], "csrf": jar["csrf_access_token"], "method": "POST"},
			{"cookie": jar["access_token_cookie"], "method": "POST"},
			{"cookie": jar["access_token_cookie"], "method": "GET"},
		},
		"cookie_mint": []string{"carol"},
	})
	require.Len(t, resp.CookieChecked, 3)
	assert.Equal(t, 200, resp.CookieChecked[0].Status, resp.CookieChecked[0].Body)
	assert.Equal(t, "alice", resp.CookieChecked[0].Body["identity"])
	assert.Equal(t, 401, resp.CookieChecked[1].Status)
	assert.Equal(t, "Missing CSRF token", resp.CookieChecked[1].Body["msg"])
	assert.Equal(t, 200, resp.CookieChecked[2].Status)

	require.Len(t, resp.CookieMinted, 1)
	cookies := map[string]string{}
	for _, line := range resp.CookieMinted[0] {
		c, err := http.ParseSetCookie(line)
		require.NoError(t, err, line)
		cookies[c.Name] = c.Value
	}
	require.Contains(t, cookies, "access_token_cookie")
	require.Contains(t, cookies, "csrf_access_token")
	fc := newFlaskClient(t, r)
	w := fc.post("/protected", withCookie("access_token_cookie", cookies["access_token_cookie"]), withHeader("X-CSRF-TOKEN", cookies["csrf_access_token"]))
	require.Equal(t, 200, w.Code, w.Body.String())
	assert.JSONEq(t, `{"who":"carol"}`, w.Body.String())
	w = fc.post("/protected", withCookie("access_token_cookie", cookies["access_token_cookie"]))
	assert.Equal(t, 401, w.Code)
	assertMsg(t, w, "Missing CSRF token")
}

// Repeated CSRF headers and Cookie headers with white space, against the
// real flask-jwt-extended: the same status and body.
func TestRealFlaskCookieAndCSRFHeaderParity(t *testing.T) {
	token := signPayload(`{"sub":"a","csrf":"right"}`)
	checks := []map[string]any{
		{"cookie": token, "csrf": []string{"right", "wrong"}, "method": "POST"},
		{"cookie": token, "csrf": []string{"wrong", "right"}, "method": "POST"},
		{"cookie": token, "csrf": []string{"right", "right"}, "method": "POST"},
		{"cookie": token, "csrf": []string{"right"}, "method": "POST"},
		{"cookie_header": "access_token_cookie = " + token, "method": "GET"},
		{"cookie_header": "access_token_cookie=\t" + token + " ", "method": "GET"},
		{"cookie_header": `access_token_cookie = "` + token + `"`, "method": "GET"},
		{"cookie_header": "access_token_cookie=; access_token_cookie=" + token, "method": "GET"},
	}
	resp := flaskPeerFull(t, map[string]any{
		"config":       map[string]any{"JWT_SECRET_KEY": testSecret, "JWT_TOKEN_LOCATION": []string{"headers", "cookies"}},
		"cookie_check": checks,
	})
	require.Len(t, resp.CookieChecked, len(checks))

	m := newManager(t, ginjwt.WithTokenLocations(ginjwt.InHeaders, ginjwt.InCookies))
	r := newRouter()
	r.Any("/cookie", m.JWTRequired(ginjwt.Locations(ginjwt.InCookies)), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"identity": ginjwt.CurrentIdentity(c)})
	})
	for i, check := range checks {
		var opts []reqOpt
		if h, ok := check["cookie_header"].(string); ok {
			opts = append(opts, withHeader("Cookie", h))
		} else {
			opts = append(opts, withHeader("Cookie", "access_token_cookie="+check["cookie"].(string)))
		}
		csrf, _ := check["csrf"].([]string)
		for _, v := range csrf {
			opts = append(opts, withHeader("X-CSRF-TOKEN", v))
		}
		w := newFlaskClient(t, r).do(check["method"].(string), "/cookie", opts...)
		want := resp.CookieChecked[i]
		require.Equal(t, want.Status, w.Code, "check %d: flask said %v, ginjwt %s", i, want.Body, w.Body.String())
		got := decodeBody(t, w)
		if want.Status == http.StatusOK {
			assert.Equal(t, want.Body["identity"], got["identity"], "check %d", i)
		} else {
			assert.Equal(t, want.Body, got, "check %d", i)
		}
	}
}
