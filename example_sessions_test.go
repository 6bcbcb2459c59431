package ginjwt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
)

// A logout ends the login's session: the refresh token it never saw is
// refused too, and an expired access token would still name the session.
func ExampleManager_LogoutHandler() {
	gin.SetMode(gin.ReleaseMode)
	m, _ := ginjwt.New(
		ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")),
		ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)),
	)
	r := gin.New()
	r.POST("/refresh", m.RefreshHandler())
	r.POST("/logout", m.LogoutHandler())

	access, refresh, _ := m.CreateTokenPair("alice") // a login
	do(r, "POST", "/logout", access, "")
	do(r, "POST", "/refresh", refresh, "") // the same session
	do(r, "POST", "/logout", access, "")   // again: harmless
	// Output:
	// 200 {"msg":"Access token successfully revoked"}
	// 401 {"msg":"Token has been revoked"}
	// 200 {"msg":"Access token successfully revoked"}
}

// Log out everywhere: after a password change, every token issued to the
// user before it is refused; a login right after works.
func ExampleManager_RevokeIdentity() {
	gin.SetMode(gin.ReleaseMode)
	m, _ := ginjwt.New(
		ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")),
		ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)),
	)
	r := gin.New()
	r.GET("/me", m.JWTRequired(), func(c *gin.Context) { c.String(200, ginjwt.CurrentIdentity(c)) })

	phone, _, _ := m.CreateTokenPair("alice")
	laptop, _, _ := m.CreateTokenPair("alice")
	bob, _, _ := m.CreateTokenPair("bob")
	if err := m.RevokeIdentity(context.Background(), "alice"); err != nil {
		fmt.Println(err)
	}
	again, _, _ := m.CreateTokenPair("alice")
	do(r, "GET", "/me", phone, "")
	do(r, "GET", "/me", laptop, "")
	do(r, "GET", "/me", bob, "")
	do(r, "GET", "/me", again, "")
	// Output:
	// 401 {"msg":"Token has been revoked"}
	// 401 {"msg":"Token has been revoked"}
	// 200 bob
	// 200 alice
}

// A "your sessions" page: each login of the user, with the device it came
// from, and a sign-out per session.
func ExampleManager_Sessions() {
	gin.SetMode(gin.ReleaseMode)
	m, _ := ginjwt.New(
		ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")),
		ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)),
		ginjwt.WithSessionList(0),
	)
	r := gin.New()
	r.POST("/login", m.LoginHandler(func(c *gin.Context) (any, error) { return "alice", nil }))
	api := r.Group("/", m.JWTRequired())
	api.GET("/sessions", func(c *gin.Context) {
		list, err := m.Sessions(c.Request.Context(), ginjwt.CurrentIdentity(c))
		if err != nil {
			m.Abort(c, err)
			return
		}
		for _, s := range list {
			this := s.ID == ginjwt.CurrentClaims(c).SessionID()
			fmt.Printf("%s this device: %v\n", s.UserAgent, this)
		}
		c.String(http.StatusOK, "listed")
	})
	api.DELETE("/sessions/:id", func(c *gin.Context) {
		err := m.EndSession(c.Request.Context(), ginjwt.CurrentIdentity(c), c.Param("id"))
		if err != nil {
			c.JSON(http.StatusNotFound, gin.H{"msg": "No such session"})
			return
		}
		c.JSON(http.StatusOK, gin.H{"msg": "Signed out"})
	})

	phone := login(r, "phone")
	laptop := login(r, "laptop")
	do(r, "GET", "/sessions", phone, "")
	laptopSession, _ := m.DecodeToken(laptop)
	do(r, "DELETE", "/sessions/"+laptopSession.Claims.SessionID(), phone, "")
	do(r, "GET", "/sessions", laptop, "")
	// Output:
	// phone this device: true
	// laptop this device: false
	// 200 listed
	// 200 {"msg":"Signed out"}
	// 401 {"msg":"Token has been revoked"}
}

// login posts to /login as agent and returns the access token.
func login(r http.Handler, agent string) string {
	req := httptest.NewRequest("POST", "/login", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", agent)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	var body struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return body.AccessToken
}
