package conformance

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flaskPeer runs testdata/flask_peer.py with Debian's python3 and
// flask-jwt-extended (package python3-python-flask-jwt-extended, which
// .ci/run installs). Without it the test skips, unless
// GINJWT_REQUIRE_FLASK is set, as CI sets it, which makes that a failure.
func flaskPeer(t *testing.T, request any) (checked []peerAnswer, minted []string) {
	resp := flaskPeerFull(t, request)
	return resp.Checked, resp.Minted
}

type peerAnswer struct {
	Status int            `json:"status"`
	Body   map[string]any `json:"body"`
}

type peerResponse struct {
	Checked       []peerAnswer `json:"checked"`
	Minted        []string     `json:"minted"`
	CookieChecked []peerAnswer `json:"cookie_checked"`
	CookieMinted  [][]string   `json:"cookie_minted"`
}

func flaskPeerFull(t *testing.T, request any) peerResponse {
	t.Helper()
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import flask_jwt_extended").Run(); err != nil {
		if os.Getenv("GINJWT_REQUIRE_FLASK") != "" {
			t.Fatalf("GINJWT_REQUIRE_FLASK is set but %s cannot import flask_jwt_extended: %v", python, err)
		}
		t.Skip("SKIPPED: no flask-jwt-extended for /usr/bin/python3 (apt-get install python3-python-flask-jwt-extended)")
	}
	in, err := json.Marshal(request)
	require.NoError(t, err)
	cmd := exec.Command(python, "testdata/flask_peer.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	var resp peerResponse
	require.NoError(t, json.Unmarshal(out, &resp), string(out))
	return resp
}

type peerCheck struct {
	Token string `json:"token"`
	Route string `json:"route"`
}

// Tokens go both ways between ginjwt and the real flask-jwt-extended with
// the same secret: each side's guards accept the other's tokens, and reject
// them where flask would.
func TestRealFlaskInterop(t *testing.T) {
	m := newManager(t)
	access := ginjwttest.Access(t, m, "alice", ginjwt.AdditionalClaims(map[string]any{"role": "admin", "n": 7}))
	fresh := ginjwttest.Access(t, m, "alice", ginjwt.FreshFor(5*time.Minute))
	refresh := ginjwttest.Refresh(t, m, "alice")
	expired := ginjwttest.Expired(t, m, "alice")

	checked, minted := flaskPeer(t, map[string]any{
		"config": map[string]any{"JWT_SECRET_KEY": testSecret},
		"check": []peerCheck{
			{access, "access"}, {fresh, "fresh"}, {refresh, "refresh"},
			{access, "fresh"}, {refresh, "access"}, {expired, "access"},
		},
		"mint": []map[string]any{
			{"kind": "access", "identity": "bob", "claims": map[string]any{"role": "user"}},
			{"kind": "access", "identity": "bob", "fresh": 300},
			{"kind": "access", "identity": "bob", "fresh": true},
			{"kind": "refresh", "identity": "bob"},
		},
	})
	require.Len(t, checked, 6)
	assert.Equal(t, 200, checked[0].Status, checked[0].Body)
	assert.Equal(t, "alice", checked[0].Body["identity"])
	claims := checked[0].Body["claims"].(map[string]any)
	assert.Equal(t, "admin", claims["role"])
	assert.Equal(t, float64(7), claims["n"])
	assert.Equal(t, "access", claims["type"])
	assert.Equal(t, 200, checked[1].Status, "flask accepts ginjwt's float freshness: %v", checked[1].Body)
	assert.Equal(t, 200, checked[2].Status, checked[2].Body)
	assert.Equal(t, 401, checked[3].Status)
	assert.Equal(t, map[string]any{"msg": "Fresh token required"}, checked[3].Body)
	assert.Equal(t, 422, checked[4].Status)
	assert.Equal(t, map[string]any{"msg": "Only non-refresh tokens are allowed"}, checked[4].Body)
	assert.Equal(t, 401, checked[5].Status)
	assert.Equal(t, map[string]any{"msg": "Token has expired"}, checked[5].Body)

	require.Len(t, minted, 4)
	r := newRouter()
	r.GET("/protected", m.JWTRequired(), echoToken)
	r.GET("/fresh", m.FreshRequired(), echoToken)
	r.GET("/refresh", m.RefreshRequired(), echoToken)
	fc := newFlaskClient(t, r)
	w := fc.get("/protected", withBearer(minted[0]))
	require.Equal(t, 200, w.Code, w.Body.String())
	body := decodeBody(t, w)
	assert.Equal(t, "bob", body["identity"])
	assert.Equal(t, "user", body["claims"].(map[string]any)["role"])
	assert.Equal(t, 200, fc.get("/fresh", withBearer(minted[1])).Code, "flask's timedelta freshness")
	assert.Equal(t, 200, fc.get("/fresh", withBearer(minted[2])).Code)
	assert.Equal(t, 401, fc.get("/fresh", withBearer(minted[0])).Code)
	assert.Equal(t, 200, fc.get("/refresh", withBearer(minted[3])).Code)
	assert.Equal(t, 422, fc.get("/protected", withBearer(minted[3])).Code)
}

// The same with RS256 keys: Flask signs with the private key, ginjwt
// verifies with the public key alone, and the other way round.
func TestRealFlaskInteropRS256(t *testing.T) {
	var v flaskVector
	for _, x := range loadFlaskVectors(t) {
		if x.Alg == "RS256" {
			v = x
		}
	}
	require.NotEmpty(t, v.PrivateKeyPEM)
	signer := managerFor(t, v)
	token := ginjwttest.Fresh(t, signer, "alice")
	checked, minted := flaskPeer(t, map[string]any{
		"config": map[string]any{"JWT_ALGORITHM": "RS256", "JWT_PRIVATE_KEY": v.PrivateKeyPEM, "JWT_PUBLIC_KEY": v.PublicKeyPEM},
		"check":  []peerCheck{{token, "fresh"}},
		"mint":   []map[string]any{{"kind": "access", "identity": "bob"}},
	})
	require.Len(t, checked, 1)
	assert.Equal(t, 200, checked[0].Status, checked[0].Body)
	verifier, err := ginjwt.New(ginjwt.WithAlgorithm("RS256"), ginjwt.WithPublicKey(v.PublicKeyPEM))
	require.NoError(t, err)
	tok, err := verifier.DecodeToken(minted[0])
	require.NoError(t, err)
	assert.Equal(t, "bob", tok.Claims.Identity)
}

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
