package ginjwt_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawJSON puts JSON text into a claim as is.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

func TestRequirements(t *testing.T) {
	m := newManager(t)
	tokenWith := func(identity string, claims map[string]any) string {
		return ginjwttest.Access(t, m, identity, ginjwt.AdditionalClaims(claims))
	}
	admin := tokenWith("alice", map[string]any{"role": "admin", "roles": []string{"admin", "editor"}, "admin": true,
		"org": map[string]any{"id": 7, "plan": "pro", "region": "eu"}, "scope": "orders:read orders:write", "uid": 42})
	bigID := tokenWith("carol", map[string]any{"uid": int64(1234567890123456789), "org": map[string]any{"id": int64(1234567890123456789)}})
	user := tokenWith("bob", map[string]any{"role": "user", "roles": []string{"editor"},
		"org": map[string]any{"id": 7, "plan": "free"}, "scope": "orders:read", "perms": map[string]bool{"billing": true, "admin": false}, "uid": 43})

	tests := []struct {
		name   string
		opts   []ginjwt.GuardOption
		path   string
		token  string
		status int
		msg    string
	}{
		{"claim equals constant", []ginjwt.GuardOption{ginjwt.RequireClaim("role", "admin")}, "/r", admin, 200, ""},
		{"claim differs", []ginjwt.GuardOption{ginjwt.RequireClaim("role", "admin")}, "/r", user, 403, "Claim 'role' does not have the required value"},
		{"claim absent", []ginjwt.GuardOption{ginjwt.RequireClaim("tenant", "x")}, "/r", user, 403, "Claim 'tenant' does not have the required value"},
		{"boolean claim", []ginjwt.GuardOption{ginjwt.RequireClaim("admin", true)}, "/r", admin, 200, ""},
		{"boolean claim absent", []ginjwt.GuardOption{ginjwt.RequireClaim("admin", true)}, "/r", user, 403, "Claim 'admin' does not have the required value"},
		{"number claim", []ginjwt.GuardOption{ginjwt.RequireClaim("uid", 42)}, "/r", admin, 200, ""},
		{"number claim as float", []ginjwt.GuardOption{ginjwt.RequireClaim("uid", 42.0)}, "/r", admin, 200, ""},
		{"number is not its string", []ginjwt.GuardOption{ginjwt.RequireClaim("uid", "42")}, "/r", admin, 403, "Claim 'uid' does not have the required value"},
		{"nested subset matches", []ginjwt.GuardOption{ginjwt.RequireClaim("org", map[string]any{"id": 7, "plan": "pro"})}, "/r", admin, 200, ""},
		{"nested: first key matches, later key fails", []ginjwt.GuardOption{ginjwt.RequireClaim("org", map[string]any{"id": 7, "plan": "pro"})}, "/r", user, 403, "Claim 'org' does not have the required value"},
		{"nested: later key missing", []ginjwt.GuardOption{ginjwt.RequireClaim("org", map[string]any{"id": 7, "region": "eu"})}, "/r", user, 403, "Claim 'org' does not have the required value"},
		{"list claim contains", []ginjwt.GuardOption{ginjwt.RequireClaim("roles", []string{"editor"})}, "/r", user, 200, ""},
		{"roles list has all", []ginjwt.GuardOption{ginjwt.RequireAll("roles", "admin", "editor")}, "/r", admin, 200, ""},
		{"roles list lacks one", []ginjwt.GuardOption{ginjwt.RequireAll("roles", "admin", "editor")}, "/r", user, 403, "Missing required roles: admin"},
		{"roles claim absent", []ginjwt.GuardOption{ginjwt.RequireAll("groups", "a", "b")}, "/r", user, 403, "Missing required groups: a, b"},
		{"space-delimited scope has all", []ginjwt.GuardOption{ginjwt.RequireAll("scope", "orders:read", "orders:write")}, "/r", admin, 200, ""},
		{"space-delimited scope lacks one", []ginjwt.GuardOption{ginjwt.RequireAll("scope", "orders:read", "orders:write")}, "/r", user, 403, "Missing required scope: orders:write"},
		{"escaped role matches", []ginjwt.GuardOption{ginjwt.RequireAll("esc", "admin")}, "/r", tokenWith("x", map[string]any{"esc": rawJSON(`["\u0061dmin"]`)}), 200, ""},
		{"escape is not its letters", []ginjwt.GuardOption{ginjwt.RequireAll("esc", `a\nb`)}, "/r", tokenWith("x", map[string]any{"esc": rawJSON(`["a\nb"]`)}), 403, `Missing required esc: a\nb`},
		{"map of booleans, true", []ginjwt.GuardOption{ginjwt.RequireAll("perms", "billing")}, "/r", user, 200, ""},
		{"map of booleans, false is not granted", []ginjwt.GuardOption{ginjwt.RequireAll("perms", "admin")}, "/r", user, 403, "Missing required perms: admin"},
		{"sub equals route param", []ginjwt.GuardOption{ginjwt.RequireClaimParam("sub", "username")}, "/users/alice", admin, 200, ""},
		{"sub differs from route param", []ginjwt.GuardOption{ginjwt.RequireClaimParam("sub", "username")}, "/users/alice", user, 403, "Claim 'sub' does not match the route parameter 'username'"},
		{"numeric claim equals numeric param", []ginjwt.GuardOption{ginjwt.RequireClaimParam("uid", "username")}, "/users/42", admin, 200, ""},
		{"numeric claim vs other number", []ginjwt.GuardOption{ginjwt.RequireClaimParam("uid", "username")}, "/users/43", admin, 403, "Claim 'uid' does not match the route parameter 'username'"},
		{"numeric claim vs text param", []ginjwt.GuardOption{ginjwt.RequireClaimParam("uid", "username")}, "/users/abc", admin, 403, "Claim 'uid' does not match the route parameter 'username'"},
		{"string claim is not a number", []ginjwt.GuardOption{ginjwt.RequireClaimParam("sub", "username")}, "/users/42", tokenWith("042", nil), 403, "Claim 'sub' does not match the route parameter 'username'"},
		{"64-bit ID equals its param", []ginjwt.GuardOption{ginjwt.RequireClaimParam("uid", "username")}, "/users/1234567890123456789", bigID, 200, ""},
		{"64-bit ID one below is another user", []ginjwt.GuardOption{ginjwt.RequireClaimParam("uid", "username")}, "/users/1234567890123456788", bigID, 403, "Claim 'uid' does not match the route parameter 'username'"},
		{"64-bit ID rounded is another user", []ginjwt.GuardOption{ginjwt.RequireClaimParam("uid", "username")}, "/users/1234567890123456800", bigID, 403, "Claim 'uid' does not match the route parameter 'username'"},
		{"leading zero is not the number", []ginjwt.GuardOption{ginjwt.RequireClaimParam("uid", "username")}, "/users/042", admin, 403, "Claim 'uid' does not match the route parameter 'username'"},
		{"plus sign is not the number", []ginjwt.GuardOption{ginjwt.RequireClaimParam("uid", "username")}, "/users/+42", admin, 403, "Claim 'uid' does not match the route parameter 'username'"},
		{"exponent is not the number", []ginjwt.GuardOption{ginjwt.RequireClaimParam("uid", "username")}, "/users/4.2e1", admin, 403, "Claim 'uid' does not match the route parameter 'username'"},
		{"trailing fraction is not the number", []ginjwt.GuardOption{ginjwt.RequireClaimParam("uid", "username")}, "/users/42.0", admin, 403, "Claim 'uid' does not match the route parameter 'username'"},
		{"hex float is not the number", []ginjwt.GuardOption{ginjwt.RequireClaimParam("uid", "username")}, "/users/0x2Ap0", admin, 403, "Claim 'uid' does not match the route parameter 'username'"},
		{"claim written with an exponent matches", []ginjwt.GuardOption{ginjwt.RequireClaimParam("uid", "username")}, "/users/42", tokenWith("x", map[string]any{"uid": rawJSON(`4.20e1`)}), 200, ""},
		{"fractional claim matches its decimal", []ginjwt.GuardOption{ginjwt.RequireClaimParam("uid", "username")}, "/users/-0.5", tokenWith("x", map[string]any{"uid": rawJSON(`-5e-1`)}), 200, ""},
		{"64-bit constant matches exactly", []ginjwt.GuardOption{ginjwt.RequireClaim("uid", int64(1234567890123456789))}, "/r", bigID, 200, ""},
		{"64-bit constant one above fails", []ginjwt.GuardOption{ginjwt.RequireClaim("uid", uint64(1234567890123456790))}, "/r", bigID, 403, "Claim 'uid' does not have the required value"},
		{"nested 64-bit ID one below fails", []ginjwt.GuardOption{ginjwt.RequireClaim("org", map[string]any{"id": int64(1234567890123456788)})}, "/r", bigID, 403, "Claim 'org' does not have the required value"},
		{"nested 64-bit ID matches", []ginjwt.GuardOption{ginjwt.RequireClaim("org", map[string]any{"id": int64(1234567890123456789)})}, "/r", bigID, 200, ""},
		{"override with a 64-bit ID one below does not grant", []ginjwt.GuardOption{ginjwt.RequireClaim("role", "root"), ginjwt.Override(map[string]any{"uid": int64(1234567890123456788)})}, "/r", bigID, 403, "Claim 'role' does not have the required value"},
		{"custom predicate passes", []ginjwt.GuardOption{ginjwt.Require("business hours only", func(c *gin.Context, tok *ginjwt.Token) bool { return tok.Claims.Identity == "alice" })}, "/r", admin, 200, ""},
		{"custom predicate fails", []ginjwt.GuardOption{ginjwt.Require("business hours only", func(c *gin.Context, tok *ginjwt.Token) bool { return tok.Claims.Identity == "alice" })}, "/r", user, 403, "business hours only"},
		{"all requirements must pass", []ginjwt.GuardOption{ginjwt.RequireAll("roles", "editor"), ginjwt.RequireClaim("role", "admin")}, "/r", user, 403, "Claim 'role' does not have the required value"},
		{"override grants", []ginjwt.GuardOption{ginjwt.RequireClaimParam("sub", "username"), ginjwt.Override(map[string]any{"admin": true})}, "/users/bob", admin, 200, ""},
		{"override absent: requirements apply", []ginjwt.GuardOption{ginjwt.RequireClaimParam("sub", "username"), ginjwt.Override(map[string]any{"admin": true})}, "/users/alice", user, 403, "Claim 'sub' does not match the route parameter 'username'"},
		{"override needs every claim", []ginjwt.GuardOption{ginjwt.RequireClaim("role", "admin"), ginjwt.Override(map[string]any{"role": "user", "admin": true})}, "/r", user, 403, "Claim 'role' does not have the required value"},
		{"any override suffices", []ginjwt.GuardOption{ginjwt.RequireClaim("role", "root"), ginjwt.Override(map[string]any{"role": "nobody"}), ginjwt.Override(map[string]any{"role": "user"})}, "/r", user, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ran := 0
			r := newRouter()
			h := func(c *gin.Context) { ran++; c.JSON(200, gin.H{"ok": true}) }
			r.GET("/r", m.JWTRequired(tc.opts...), h)
			r.GET("/users/:username", m.JWTRequired(tc.opts...), h)
			w := get(r, tc.path, bearer(tc.token))
			require.Equal(t, tc.status, w.Code, w.Body.String())
			if tc.msg == "" {
				assert.Equal(t, 1, ran)
				return
			}
			assertMsg(t, w, tc.msg)
			assert.Zero(t, ran, "handler must not run")
		})
	}
}

// Requirements never rescue an invalid token, and type checks come first.
func TestRequirementsComeAfterVerification(t *testing.T) {
	m := newManager(t)
	refresh := ginjwttest.Refresh(t, m, "alice", ginjwt.AdditionalClaims(map[string]any{"admin": true}))
	r := newRouter()
	r.GET("/r", m.JWTRequired(ginjwt.RequireClaim("role", "x"), ginjwt.Override(map[string]any{"admin": true})), echoToken)
	w := get(r, "/r", bearer(refresh))
	assert.Equal(t, 422, w.Code)
	assertMsg(t, w, "Only non-refresh tokens are allowed")
	assert.Equal(t, 401, get(r, "/r").Code)
}

func TestGroupAndRouteRequirements(t *testing.T) {
	m := newManager(t)
	r := newRouter()
	ran := 0
	h := func(c *gin.Context) { ran++; echoToken(c) }
	api := r.Group("/api", m.JWTRequired(ginjwt.RequireAll("scope", "api")))
	api.GET("/items", h)
	api.DELETE("/items", m.Authorize(ginjwt.RequireAll("roles", "admin")), h)
	// An override in Authorize lets support staff through the route's
	// requirement, not through the group's.
	api.PUT("/items", m.Authorize(ginjwt.RequireAll("roles", "admin"), ginjwt.Override(map[string]any{"support": true})), h)
	r.GET("/open", m.Authorize(ginjwt.RequireAll("roles", "admin")), h)
	support := ginjwttest.Access(t, m, "sam", ginjwt.AdditionalClaims(map[string]any{"scope": "api", "support": true}))
	supportOutside := ginjwttest.Access(t, m, "sue", ginjwt.AdditionalClaims(map[string]any{"support": true}))

	reader := ginjwttest.Access(t, m, "bob", ginjwt.AdditionalClaims(map[string]any{"scope": "api"}))
	admin := ginjwttest.Access(t, m, "alice", ginjwt.AdditionalClaims(map[string]any{"scope": "api", "roles": []string{"admin"}}))
	outsider := ginjwttest.Access(t, m, "eve", ginjwt.AdditionalClaims(map[string]any{"roles": []string{"admin"}}))

	assert.Equal(t, 200, get(r, "/api/items", bearer(reader)).Code)
	w := request(r, http.MethodDelete, "/api/items", bearer(reader))
	assert.Equal(t, 403, w.Code)
	assertMsg(t, w, "Missing required roles: admin")
	assert.Equal(t, 200, request(r, http.MethodDelete, "/api/items", bearer(admin)).Code)
	w = request(r, http.MethodDelete, "/api/items", bearer(outsider))
	assert.Equal(t, 403, w.Code, "the group's requirement applies too")
	assertMsg(t, w, "Missing required scope: api")
	w = get(r, "/open", bearer(admin))
	assert.Equal(t, 401, w.Code, "Authorize without a guard has no token to check")
	assertMsg(t, w, "Missing Authorization Header")
	assert.Equal(t, 2, ran, "the handler ran for the two allowed requests only")

	assert.Equal(t, 200, request(r, http.MethodPut, "/api/items", bearer(support)).Code, "the override grants the route")
	w = request(r, http.MethodPut, "/api/items", bearer(reader))
	assert.Equal(t, 403, w.Code)
	assertMsg(t, w, "Missing required roles: admin")
	w = request(r, http.MethodPut, "/api/items", bearer(supportOutside))
	assert.Equal(t, 403, w.Code, "an override in Authorize does not lift the group's requirement")
	assertMsg(t, w, "Missing required scope: api")
	assert.Equal(t, 3, ran)
}

func TestForbiddenHandler(t *testing.T) {
	m := newManager(t, handleKind(ginjwt.ErrForbidden, func(c *gin.Context, err *ginjwt.Error) {
		c.JSON(404, gin.H{"msg": "Not found", "who": err.Token.Claims.Identity})
	}))
	r := newRouter()
	r.GET("/admin", m.JWTRequired(ginjwt.RequireAll("roles", "admin")), echoToken)
	w := get(r, "/admin", bearer(ginjwttest.Access(t, m, "bob")))
	assert.Equal(t, 404, w.Code)
	assert.JSONEq(t, `{"msg":"Not found","who":"bob"}`, w.Body.String())
}

func TestBadRequirementPanicsAtSetup(t *testing.T) {
	m := newManager(t)
	assert.PanicsWithError(t, `ginjwt: guard options: RequireClaim("x"): json: unsupported type: func()`, func() {
		m.JWTRequired(ginjwt.RequireClaim("x", func() {}))
	})
	assert.Panics(t, func() { m.Authorize(ginjwt.Require("r", nil)) })
	// Requirements that would let every token through.
	assert.PanicsWithError(t, "ginjwt: guard options: Override: no claims", func() {
		m.JWTRequired(ginjwt.RequireAll("roles", "admin"), ginjwt.Override(map[string]any{}))
	})
	assert.PanicsWithError(t, "ginjwt: guard options: Override: no claims", func() {
		m.Authorize(ginjwt.RequireAll("roles", "admin"), ginjwt.Override(nil))
	})
	assert.PanicsWithError(t, "ginjwt: guard options: Optional cannot be combined with requirements: requests without a token would skip them", func() {
		m.JWTRequired(ginjwt.Optional(), ginjwt.RequireAll("roles", "admin"))
	})
	assert.PanicsWithError(t, `ginjwt: guard options: RequireAll("roles"): no values`, func() {
		m.JWTRequired(ginjwt.RequireAll("roles"))
	})
}

func TestTokenVerifier(t *testing.T) {
	m := newManager(t, ginjwt.WithTokenVerifier(func(c *gin.Context, tok *ginjwt.Token) bool {
		v, _ := tok.Claims.Get("verified")
		return v == true
	}))
	ok := ginjwttest.Access(t, m, "a", ginjwt.AdditionalClaims(map[string]any{"verified": true}))
	bad := ginjwttest.Fresh(t, m, "a")
	refresh := ginjwttest.Refresh(t, m, "a")
	g := newGuarded(m)
	for _, path := range []string{"/protected", "/fresh", "/optional"} {
		w := get(g.r, path, bearer(bad))
		assert.Equal(t, 400, w.Code, path)
		assertMsg(t, w, "User claims verification failed")
	}
	g.mu.Lock()
	assert.Zero(t, g.runs, "no handler ran for a token that failed verification")
	g.mu.Unlock()
	assert.Equal(t, 200, get(g.r, "/protected", bearer(ok)).Code)
	assert.Equal(t, 200, get(g.r, "/optional").Code, "no token, nothing to verify")
	w := get(g.r, "/protected", bearer(refresh))
	assert.Equal(t, 422, w.Code, "the type check comes first")
	assertMsg(t, w, "Only non-refresh tokens are allowed")

	custom := newManager(t,
		ginjwt.WithTokenVerifier(func(*gin.Context, *ginjwt.Token) bool { return false }),
		handleKind(ginjwt.ErrClaimsVerification, func(c *gin.Context, err *ginjwt.Error) {
			c.JSON(418, gin.H{"msg": "nope"})
		}))
	cg := newGuarded(custom)
	w = get(cg.r, "/protected", bearer(ginjwttest.Access(t, custom, "a")))
	assert.Equal(t, 418, w.Code)
	assert.JSONEq(t, `{"msg":"nope"}`, w.Body.String())
	assert.Zero(t, cg.runs, "the custom response still refuses")
}

// RequireClaimParam on a route without the parameter is the programmer's
// error: every request would look unauthorized. It is a loud 500 instead,
// with the cause in c.Errors and one log line per route.
func TestRequireClaimParamOnARouteWithoutTheParam(t *testing.T) {
	var logged bytes.Buffer
	m := newManager(t, ginjwt.WithAuditLog(slog.New(slog.NewTextHandler(&logged, nil))))
	var runs atomic.Int32
	var recorded []error
	r := newRouter()
	r.Use(func(c *gin.Context) {
		c.Next()
		for _, e := range c.Errors {
			recorded = append(recorded, e.Err)
		}
	})
	h := func(c *gin.Context) { runs.Add(1) }
	r.GET("/users/:name", m.JWTRequired(ginjwt.RequireClaimParam("sub", "username")), h) // typo: :name
	users := r.Group("/accounts/:username", m.JWTRequired())
	users.GET("", m.Authorize(ginjwt.RequireClaimParam("sub", "username")), h)
	r.GET("/accounts", m.Authorize(ginjwt.RequireClaimParam("sub", "username")), h)

	alice := ginjwttest.Access(t, m, "alice")
	for range 3 {
		w := get(r, "/users/alice", bearer(alice))
		assert.Equal(t, 500, w.Code)
		assertMsg(t, w, "Internal Server Error")
	}
	assert.Zero(t, runs.Load())
	require.NotEmpty(t, recorded)
	assert.ErrorIs(t, recorded[0], ginjwt.ErrRouteParamMissing)
	assert.ErrorContains(t, errors.Join(recorded[0].(interface{ Unwrap() []error }).Unwrap()...),
		`RequireClaimParam needs :username, and route "/users/:name" has none`)
	assert.Equal(t, 1, strings.Count(logged.String(), "route set up wrongly"), "logged once per route: %s", logged.String())
	assert.Contains(t, logged.String(), "route=/users/:name")

	assert.Equal(t, 200, get(r, "/accounts/alice", bearer(alice)).Code, "the group's parameter is the route's")
	assert.Equal(t, 403, get(r, "/accounts/bob", bearer(alice)).Code)

	// Without an audit log the line goes to Gin's error writer.
	var ginErrors bytes.Buffer
	old := gin.DefaultErrorWriter
	gin.DefaultErrorWriter = &ginErrors
	defer func() { gin.DefaultErrorWriter = old }()
	plain := newManager(t)
	r2 := newRouter()
	r2.GET("/u/:id", plain.JWTRequired(ginjwt.RequireClaimParam("sub", "user")), h)
	assert.Equal(t, 500, get(r2, "/u/7", bearer(ginjwttest.Access(t, plain, "7"))).Code)
	assert.Contains(t, ginErrors.String(), `[ginjwt] route /u/:id set up wrongly: ginjwt: route has no such parameter: RequireClaimParam needs :user`)
}

// Authorize takes requirements only: a guard option there would do
// nothing, so it does not compile.
func TestAuthorizeTakesRequirementsOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the compiler")
	}
	root, err := filepath.Abs(".")
	require.NoError(t, err)
	dir := t.TempDir()
	write := func(name, content string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	write("go.mod", "module example.com/check\n\ngo 1.25.0\n\nrequire github.com/ginjwt/ginjwt v0.1.0\n\nreplace github.com/ginjwt/ginjwt => "+root+"\n")
	write("main.go", `package main

import "github.com/ginjwt/ginjwt"

func main() {
	var m *ginjwt.Manager
	_ = m.Authorize(ginjwt.RequireClaim("role", "admin"), ginjwt.Override(map[string]any{"admin": true}))
	_ = m.Authorize(ginjwt.Optional())
}
`)
	cmd := exec.Command("go", "build", "-o", os.DevNull, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "m.Authorize(ginjwt.Optional()) compiled")
	assert.Contains(t, string(out), "main.go:8:", "only the Optional line fails: %s", out)
	assert.Contains(t, string(out), "ginjwt.Requirement", string(out))
}
