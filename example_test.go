package ginjwt_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
)

// do sends one request to r and prints the answer.
func do(r http.Handler, method, path, token, body string) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Body.String())
}

func ExampleNew() {
	m, err := ginjwt.New(
		ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")),
		ginjwt.WithAccessExpires(15*time.Minute),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	token, _ := m.CreateAccessToken("alice")
	tok, _ := m.DecodeToken(token)
	fmt.Println(tok.Claims.Identity, tok.Claims.Type, tok.Header.Alg)

	// Misconfiguration is reported by New, never later.
	_, err = ginjwt.New(ginjwt.WithSecretKey([]byte("short")))
	fmt.Println(err)
	// Output:
	// alice access HS256
	// ginjwt: invalid configuration: HS256 needs a secret of at least 32 bytes, got 5 (WithInsecureShortSecret accepts it)
}

// The flask-jwt-extended quickstart: POST /login returns a token, GET
// /protected needs it.
func ExampleManager_JWTRequired() {
	gin.SetMode(gin.ReleaseMode)
	m, _ := ginjwt.New(ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")))
	r := gin.New()
	var token string
	r.POST("/login", func(c *gin.Context) {
		token, _ = m.CreateAccessToken("test")
		c.JSON(http.StatusOK, gin.H{"access_token": "..."})
	})
	r.GET("/protected", m.JWTRequired(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"logged_in_as": ginjwt.CurrentIdentity(c)})
	})

	do(r, "POST", "/login", "", `{"username":"test","password":"test"}`)
	do(r, "GET", "/protected", token, "")
	do(r, "GET", "/protected", "", "")
	do(r, "GET", "/protected", "not-a-jwt", "")
	// Output:
	// 200 {"access_token":"..."}
	// 200 {"logged_in_as":"test"}
	// 401 {"msg":"Missing Authorization Header"}
	// 422 {"msg":"Not enough segments"}
}

// Guard a whole router group, with Optional routes beside it.
func ExampleManager_JWTRequired_group() {
	gin.SetMode(gin.ReleaseMode)
	m, _ := ginjwt.New(ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")))
	r := gin.New()
	api := r.Group("/api", m.JWTRequired())
	api.GET("/me", func(c *gin.Context) { c.String(200, ginjwt.CurrentIdentity(c)) })
	r.GET("/hello", m.JWTRequired(ginjwt.Optional()), func(c *gin.Context) {
		if who := ginjwt.CurrentIdentity(c); who != "" {
			c.String(200, "hello "+who)
			return
		}
		c.String(200, "hello stranger")
	})
	// A route for every method: the guard answers OPTIONS itself (204, no
	// body) and the handler never sees an unauthenticated request.
	api.Any("/feed", func(c *gin.Context) { c.String(200, c.Request.Method+" feed") })
	token, _ := m.CreateAccessToken("alice")
	do(r, "GET", "/api/me", token, "")
	do(r, "GET", "/api/me", "", "")
	do(r, "GET", "/hello", token, "")
	do(r, "GET", "/hello", "", "")
	do(r, "POST", "/api/feed", token, "")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("OPTIONS", "/api/feed", nil))
	fmt.Println("OPTIONS", w.Code, "body bytes:", w.Body.Len())
	// Output:
	// 200 alice
	// 401 {"msg":"Missing Authorization Header"}
	// 200 hello alice
	// 200 hello stranger
	// 200 POST feed
	// OPTIONS 204 body bytes: 0
}

// Refresh tokens get new access tokens; they are not accepted elsewhere.
func ExampleManager_RefreshRequired() {
	gin.SetMode(gin.ReleaseMode)
	m, _ := ginjwt.New(ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")))
	r := gin.New()
	r.POST("/refresh", m.RefreshRequired(), func(c *gin.Context) {
		access, err := m.RefreshAccessToken(c)
		if err != nil {
			_ = c.Error(err)
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		tok, _ := m.DecodeToken(access)
		c.JSON(http.StatusOK, gin.H{"new_access_token_for": tok.Claims.Identity})
	})
	access, _ := m.CreateAccessToken("alice")
	refresh, _ := m.CreateRefreshToken("alice")
	do(r, "POST", "/refresh", refresh, "")
	do(r, "POST", "/refresh", access, "")
	// Output:
	// 200 {"new_access_token_for":"alice"}
	// 422 {"msg":"Only refresh tokens are allowed"}
}

// Fresh tokens come from a password login; refreshed ones are not fresh.
func ExampleManager_FreshRequired() {
	gin.SetMode(gin.ReleaseMode)
	m, _ := ginjwt.New(ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")))
	r := gin.New()
	r.POST("/password", m.FreshRequired(), func(c *gin.Context) { c.String(200, "changed") })
	fresh, _ := m.CreateAccessToken("alice", ginjwt.Fresh())
	stale, _ := m.CreateAccessToken("alice")
	do(r, "POST", "/password", fresh, "")
	do(r, "POST", "/password", stale, "")
	// Output:
	// 200 changed
	// 401 {"msg":"Fresh token required"}
}

// One handler for every guard failure, as flask's loaders: it answers the
// kinds it cares about (expired_token_loader, revoked_token_loader) and
// writes nothing for the rest, which keep flask's default response.
func ExampleWithErrorHandler() {
	gin.SetMode(gin.ReleaseMode)
	blocklist := ginjwt.NewMemoryBlocklist(time.Now)
	m, _ := ginjwt.New(
		ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")),
		ginjwt.WithBlocklist(blocklist),
		ginjwt.WithErrorHandler(func(c *gin.Context, err *ginjwt.Error) {
			switch {
			case errors.Is(err, ginjwt.ErrTokenExpired):
				c.JSON(http.StatusUnauthorized, gin.H{
					"code": "token_expired",
					"msg":  "The token of " + err.Token.Claims.Identity + " has expired",
				})
			case errors.Is(err, ginjwt.ErrRevoked):
				c.JSON(http.StatusUnauthorized, gin.H{"code": "token_revoked", "msg": "Please log in again"})
			}
			// Any other kind: nothing written, so the default response is sent.
		}),
	)
	r := gin.New()
	r.GET("/protected", m.JWTRequired(), func(c *gin.Context) { c.String(200, "ok") })
	r.DELETE("/logout", m.LogoutHandler())
	expired, _ := m.CreateAccessToken("alice", ginjwt.ExpiresIn(-1))
	revoked, _ := m.CreateAccessToken("bob")
	do(r, "GET", "/protected", expired, "")
	do(r, "DELETE", "/logout", revoked, "")
	do(r, "GET", "/protected", revoked, "")
	do(r, "GET", "/protected", "", "")
	// Output:
	// 401 {"code":"token_expired","msg":"The token of alice has expired"}
	// 200 {"msg":"Access token successfully revoked"}
	// 401 {"code":"token_revoked","msg":"Please log in again"}
	// 401 {"msg":"Missing Authorization Header"}
}

// Read the claims into the application's own struct.
func ExampleClaims_Decode() {
	gin.SetMode(gin.ReleaseMode)
	m, _ := ginjwt.New(ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")))
	type claims struct {
		Sub   string   `json:"sub"`
		Roles []string `json:"roles"`
	}
	r := gin.New()
	r.GET("/roles", m.JWTRequired(), func(c *gin.Context) {
		var cl claims
		if err := ginjwt.CurrentClaims(c).Decode(&cl); err != nil {
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		c.JSON(200, gin.H{"user": cl.Sub, "roles": cl.Roles})
	})
	token, _ := m.CreateAccessToken("alice", ginjwt.AdditionalClaims(map[string]any{"roles": []string{"admin"}}))
	do(r, "GET", "/roles", token, "")
	// Output:
	// 200 {"roles":["admin"],"user":"alice"}
}

// Turn the application's user into the identity, and add claims from it.
func ExampleWithUserIdentityLoader() {
	type User struct {
		ID   int
		Name string
		Role string
	}
	m, _ := ginjwt.New(
		ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")),
		ginjwt.WithUserIdentityLoader(func(u User) (string, error) { return u.Name, nil }),
		ginjwt.WithAdditionalClaimsLoader(func(u User) (map[string]any, error) {
			return map[string]any{"role": u.Role}, nil
		}),
	)
	token, _ := m.CreateAccessToken(User{ID: 1, Name: "alice", Role: "admin"})
	tok, _ := m.DecodeToken(token)
	role, _ := tok.Claims.Get("role")
	fmt.Println(tok.Claims.Identity, role)
	// Output:
	// alice admin
}

// A custom guard, the Go answer to flask's custom decorators: a guard plus
// a requirement, in a function of its own.
func ExampleRequire() {
	gin.SetMode(gin.ReleaseMode)
	m, _ := ginjwt.New(ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")))

	adminRequired := func(opts ...ginjwt.GuardOption) gin.HandlerFunc {
		isAdmin := ginjwt.Require("Admins only!", func(_ *gin.Context, tok *ginjwt.Token) bool {
			v, _ := tok.Claims.Get("is_administrator")
			return v == true
		})
		return m.JWTRequired(append(opts, isAdmin)...)
	}

	r := gin.New()
	r.GET("/admin", adminRequired(), func(c *gin.Context) { c.String(200, "welcome") })
	admin, _ := m.CreateAccessToken("root", ginjwt.AdditionalClaims(map[string]any{"is_administrator": true}))
	user, _ := m.CreateAccessToken("bob")
	do(r, "GET", "/admin", admin, "")
	do(r, "GET", "/admin", user, "")
	// Output:
	// 200 welcome
	// 403 {"msg":"Admins only!"}
}

// Roles on a group, a route parameter that must match the token, and an
// override for administrators.
func ExampleRequireClaimParam() {
	gin.SetMode(gin.ReleaseMode)
	m, _ := ginjwt.New(ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")))
	r := gin.New()
	users := r.Group("/users", m.JWTRequired(ginjwt.RequireAll("scope", "profile")))
	users.GET("/:username", m.Authorize(
		ginjwt.RequireClaimParam("sub", "username"),
		ginjwt.Override(map[string]any{"admin": true}),
	), func(c *gin.Context) { c.String(200, "profile of "+c.Param("username")) })

	bob, _ := m.CreateAccessToken("bob", ginjwt.AdditionalClaims(map[string]any{"scope": "profile"}))
	root, _ := m.CreateAccessToken("root", ginjwt.AdditionalClaims(map[string]any{"scope": "profile", "admin": true}))
	do(r, "GET", "/users/bob", bob, "")
	do(r, "GET", "/users/alice", bob, "")
	do(r, "GET", "/users/alice", root, "")
	// Output:
	// 200 profile of bob
	// 403 {"msg":"Claim 'sub' does not match the route parameter 'username'"}
	// 200 profile of alice
}

// Load the application's user once per request, as flask's
// user_lookup_loader and current_user.
func ExampleCurrentUser() {
	gin.SetMode(gin.ReleaseMode)
	type User struct{ Name, Email string }
	db := map[string]User{"alice": {"Alice", "alice@example.com"}}
	m, _ := ginjwt.New(
		ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")),
		ginjwt.WithUserLookup(func(_ *gin.Context, tok *ginjwt.Token) (User, error) {
			u, ok := db[tok.Claims.Identity]
			if !ok {
				return User{}, ginjwt.ErrUserNotFound
			}
			return u, nil
		}),
	)
	r := gin.New()
	r.GET("/me", m.JWTRequired(ginjwt.LoadUser()), func(c *gin.Context) {
		u, _ := ginjwt.CurrentUser[User](c)
		c.String(200, u.Email)
	})
	alice, _ := m.CreateAccessToken("alice")
	gone, _ := m.CreateAccessToken("mallory")
	do(r, "GET", "/me", alice, "")
	do(r, "GET", "/me", gone, "")
	// Output:
	// 200 alice@example.com
	// 401 {"msg":"Error loading the user mallory"}
}

// A logout route of your own: the logged-out token is refused from then
// on, as with flask-jwt-extended's token_in_blocklist_loader. No guard on
// the route: an expired token still logs out.
func ExampleManager_Logout() {
	gin.SetMode(gin.ReleaseMode)
	m, _ := ginjwt.New(
		ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")),
		ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)),
	)
	r := gin.New()
	r.GET("/protected", m.JWTRequired(), func(c *gin.Context) { c.String(200, "hello "+ginjwt.CurrentIdentity(c)) })
	r.DELETE("/logout", func(c *gin.Context) {
		if err := m.Logout(c); err != nil {
			m.Abort(c, err) // 503 when the store is down
			return
		}
		c.JSON(http.StatusOK, gin.H{"msg": "logged out"})
	})

	token, _ := m.CreateAccessToken("alice")
	do(r, "GET", "/protected", token, "")
	do(r, "DELETE", "/logout", token, "")
	do(r, "GET", "/protected", token, "")
	// Output:
	// 200 hello alice
	// 200 {"msg":"logged out"}
	// 401 {"msg":"Token has been revoked"}
}

// Refresh-token rotation: each refresh token works once and returns a new
// pair; presenting a used one again revokes the whole login.
func ExampleManager_RotateRefreshToken() {
	gin.SetMode(gin.ReleaseMode)
	m, _ := ginjwt.New(
		ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")),
		ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)),
		ginjwt.WithRefreshRotation(),
	)
	r := gin.New()
	var access, refresh string // the pair the last /refresh returned
	r.POST("/refresh", m.RefreshRequired(), func(c *gin.Context) {
		a, rt, err := m.RotateRefreshToken(c)
		if err != nil {
			m.Abort(c, err) // 401 on reuse, 503 when the store is down
			return
		}
		access, refresh = a, rt
		c.JSON(http.StatusOK, gin.H{"access_token": "...", "refresh_token": "..."})
	})
	r.GET("/protected", m.JWTRequired(), func(c *gin.Context) { c.String(200, "hello "+ginjwt.CurrentIdentity(c)) })

	// Login: CreateTokenPair starts a login (a token family).
	_, first, _ := m.CreateTokenPair("alice")
	do(r, "POST", "/refresh", first, "")   // a new pair
	do(r, "GET", "/protected", access, "") // the new access token works
	do(r, "POST", "/refresh", first, "")   // replay of a used refresh token
	do(r, "GET", "/protected", access, "") // the whole login is revoked...
	do(r, "POST", "/refresh", refresh, "") // ...the newest refresh token too
	// Output:
	// 200 {"access_token":"...","refresh_token":"..."}
	// 200 hello alice
	// 401 {"msg":"Token has been revoked"}
	// 401 {"msg":"Token has been revoked"}
	// 401 {"msg":"Token has been revoked"}
}

// Tokens in cookies with CSRF protection (double submit): login sets the
// cookies, and a POST must copy csrf_access_token into X-CSRF-TOKEN.
func ExampleManager_SetJWTCookies() {
	gin.SetMode(gin.ReleaseMode)
	m, _ := ginjwt.New(
		ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")),
		ginjwt.WithTokenLocations(ginjwt.InCookies),
	)
	r := gin.New()
	r.POST("/login", func(c *gin.Context) {
		// check the user's password first...
		access, refresh, err := m.CreateTokenPair("alice", ginjwt.Fresh())
		if err == nil {
			err = m.SetJWTCookies(c, access, refresh)
		}
		if err != nil {
			m.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"login": true})
	})
	r.POST("/orders", m.JWTRequired(), func(c *gin.Context) { c.String(200, "order placed by "+ginjwt.CurrentIdentity(c)) })

	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	cookies := w.Result().Cookies()
	var csrf string
	for _, ck := range cookies {
		fmt.Println("cookie", ck.Name, "HttpOnly:", ck.HttpOnly, "Secure:", ck.Secure)
		if ck.Name == "csrf_access_token" {
			csrf = ck.Value
		}
	}

	post := func(csrfHeader string) {
		req := httptest.NewRequest("POST", "/orders", nil)
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		if csrfHeader != "" {
			req.Header.Set("X-CSRF-TOKEN", csrfHeader)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		fmt.Println(w.Code, w.Body.String())
	}
	post("")
	post("not-the-value")
	post(csrf)
	// Output:
	// cookie access_token_cookie HttpOnly: true Secure: true
	// cookie csrf_access_token HttpOnly: false Secure: true
	// cookie refresh_token_cookie HttpOnly: true Secure: true
	// cookie csrf_refresh_token HttpOnly: false Secure: true
	// 401 {"msg":"Missing CSRF token"}
	// 401 {"msg":"CSRF double submit tokens do not match"}
	// 200 order placed by alice
}

// Requirements on a guarded group and on its routes: the guard verifies
// the token once, Authorize checks the roles each part of the API needs.
func ExampleManager_Authorize() {
	gin.SetMode(gin.ReleaseMode)
	m, _ := ginjwt.New(ginjwt.WithSecretKey([]byte("change-me-to-32-random-bytes-or-more!")))
	r := gin.New()
	api := r.Group("/api", m.JWTRequired())
	api.GET("/articles", func(c *gin.Context) { c.String(200, "articles") })
	api.DELETE("/articles/:id", m.Authorize(ginjwt.RequireAll("roles", "editor")),
		func(c *gin.Context) { c.String(200, "deleted "+c.Param("id")) })
	admin := api.Group("/admin", m.Authorize(ginjwt.RequireAll("roles", "admin", "editor")))
	admin.GET("/stats", func(c *gin.Context) { c.String(200, "stats") })

	editor, _ := m.CreateAccessToken("bob", ginjwt.AdditionalClaims(map[string]any{"roles": []string{"editor"}}))
	chief, _ := m.CreateAccessToken("carol", ginjwt.AdditionalClaims(map[string]any{"roles": "editor admin"}))
	do(r, "GET", "/api/articles", editor, "")
	do(r, "DELETE", "/api/articles/7", editor, "")
	do(r, "GET", "/api/admin/stats", editor, "")
	do(r, "GET", "/api/admin/stats", chief, "")
	do(r, "GET", "/api/admin/stats", "", "")
	// Output:
	// 200 articles
	// 200 deleted 7
	// 403 {"msg":"Missing required roles: admin"}
	// 200 stats
	// 401 {"msg":"Missing Authorization Header"}
}
