package ginjwt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// A requirement is one authorization check on a verified token. It returns
// "" when satisfied, or the reason sent to the client.
type requirement func(c *gin.Context, st *requestState) string

// RequireClaim lets a token through only if claim name has value (compared
// as JSON values: 7 equals 7.0). An object value is a subset to match
// recursively — every key it names must match, however deep — and a list
// value must all be present in the claim's list. On failure the guard
// answers 403.
//
//	m.JWTRequired(ginjwt.RequireClaim("org", map[string]any{"id": 7, "plan": "pro"}))
func RequireClaim(name string, value any) Requirement {
	want, err := normalize(value)
	return func(g *guard) {
		if err != nil {
			g.configErr = append(g.configErr, fmt.Errorf("RequireClaim(%q): %w", name, err))
			return
		}
		reason := fmt.Sprintf("Claim '%s' does not have the required value", name)
		g.needClaim(name)
		g.requirements = append(g.requirements, func(_ *gin.Context, st *requestState) string {
			if claimMatches(st, name, want) {
				return ""
			}
			return reason
		})
	}
}

// RequireClaimParam lets a token through only if claim name equals the
// route parameter param, as Flask-PyJWT's require_token(sub="username")
// does for a route /users/:username. A string claim must equal the
// parameter exactly. A number claim must equal it exactly, written the
// usual way: 42 matches "42" but not "042", "+42", "42.0" or "4.2e1", and
// two 64-bit IDs that differ in the last digit never match. On failure the
// guard answers 403. On a route without the parameter (a typo, or the
// guard on a group whose routes lack it) every request would be refused as
// if unauthorized: the guard answers 500 instead, with ErrRouteParamMissing
// in c.Errors, and logs the route once (on WithAuditLog's logger, else
// Gin's error writer).
func RequireClaimParam(name, param string) Requirement {
	reason := fmt.Sprintf("Claim '%s' does not match the route parameter '%s'", name, param)
	return func(g *guard) {
		g.needClaim(name)
		g.params = append(g.params, param)
		if g.reported == nil {
			g.reported = new(sync.Map)
		}
		g.requirements = append(g.requirements, func(c *gin.Context, st *requestState) string {
			value := c.Param(param)
			raw, ok := st.claim(name)
			if ok && value != "" && rawEqualsParam(raw, value) {
				return ""
			}
			return reason
		})
	}
}

// RequireAll lets a token through only if claim name holds every one of
// values. The claim may be a list of strings (["read", "write"]), a
// space-delimited string ("read write", OAuth's scope) or an object of
// booleans ({"admin": true}). Use it for roles and scopes:
//
//	admin := m.JWTRequired(ginjwt.RequireAll("roles", "admin"))
//
// On failure the guard answers 403 naming what is missing.
func RequireAll(name string, values ...string) Requirement {
	return func(g *guard) {
		if len(values) == 0 {
			// Requiring nothing would let every token through.
			g.configErr = append(g.configErr, fmt.Errorf("RequireAll(%q): no values", name))
			return
		}
		g.needClaim(name)
		g.requirements = append(g.requirements, func(_ *gin.Context, st *requestState) string {
			raw, _ := st.claim(name)
			var missing []string
			for _, v := range values {
				if !holds(raw, v) {
					missing = append(missing, v)
				}
			}
			if len(missing) == 0 {
				return ""
			}
			return fmt.Sprintf("Missing required %s: %s", name, strings.Join(missing, ", "))
		})
	}
}

// Require lets a token through only if check returns true: the escape
// hatch for rules the other requirements cannot say. reason is sent to the
// client with the 403.
func Require(reason string, check func(c *gin.Context, tok *Token) bool) Requirement {
	return func(g *guard) {
		if check == nil {
			g.configErr = append(g.configErr, fmt.Errorf("Require(%q): nil check", reason))
			return
		}
		g.requirements = append(g.requirements, func(c *gin.Context, st *requestState) string {
			if check(c, &st.tok) {
				return ""
			}
			return reason
		})
	}
}

// Override lets a token through whatever the other requirements of the
// same guard say when it has every claim in claims (matched as
// RequireClaim does), as Flask-PyJWT's override={"admin": True}. Several
// Override options grant access when any one of them matches. Type and
// freshness checks still apply.
func Override(claims map[string]any) Requirement {
	want, err := normalize(claims)
	return func(g *guard) {
		wantMap, _ := want.(map[string]any)
		switch {
		case err != nil:
			g.configErr = append(g.configErr, fmt.Errorf("Override: %w", err))
			return
		case len(wantMap) == 0:
			// An empty override would match every token.
			g.configErr = append(g.configErr, errors.New("Override: no claims"))
			return
		}
		for name := range wantMap {
			g.needClaim(name)
		}
		g.overrides = append(g.overrides, func(_ *gin.Context, st *requestState) string {
			for name, v := range wantMap {
				if !claimMatches(st, name, v) {
					return "no override"
				}
			}
			return ""
		})
	}
}

// authorize runs the guard's requirements: all of them must pass, unless an
// override matches. Every requirement is checked; none short-cuts to a
// grant.
func (g *guard) authorize(c *gin.Context, st *requestState) *Error {
	if len(g.requirements) == 0 {
		return nil
	}
	for _, p := range g.params {
		if _, declared := c.Params.Get(p); !declared {
			return g.paramMissing(c, st.m, p)
		}
	}
	for _, o := range g.overrides {
		if o(c, st) == "" {
			return nil
		}
	}
	for _, r := range g.requirements {
		if reason := r(c, st); reason != "" {
			e := newError(ErrForbidden, http.StatusForbidden, reason)
			e.Token = &st.tok
			return e
		}
	}
	return nil
}

// paramMissing reports a RequireClaimParam on a route without its
// parameter: a 500, and one log line per route.
func (g *guard) paramMissing(c *gin.Context, m *Manager, param string) *Error {
	route := c.FullPath()
	cause := fmt.Errorf("%w: RequireClaimParam needs :%s, and route %q has none", ErrRouteParamMissing, param, route)
	if _, logged := g.reported.LoadOrStore(route, true); !logged {
		if m.cfg.audit != nil {
			m.cfg.audit.Error("ginjwt: route set up wrongly", slog.String("route", route), slog.String("cause", cause.Error()))
		} else {
			_, _ = fmt.Fprintf(gin.DefaultErrorWriter, "[ginjwt] route %s set up wrongly: %v\n", route, cause)
		}
	}
	e := newError(ErrRouteParamMissing, http.StatusInternalServerError, "Internal Server Error")
	e.cause = cause
	return e
}

// Authorize returns a middleware that checks requirements (RequireClaim,
// RequireAll, Override, ...) against the token an earlier guard verified,
// without verifying it again: put the guard on a group and the
// requirements on the routes that need them.
//
//	api := r.Group("/api", m.JWTRequired())
//	api.DELETE("/users/:id", m.Authorize(ginjwt.RequireAll("roles", "admin")), deleteUser)
//
// Without a verified token it answers 401 "Missing Authorization Header"
// (the route lacks a guard, or an Optional guard found no token); OPTIONS
// requests never get here, the guard before it answers them. It takes
// requirements only: type, freshness and Optional belong to the guard.
func (m *Manager) Authorize(reqs ...Requirement) gin.HandlerFunc {
	var g guard
	for _, r := range reqs {
		if r != nil {
			r(&g)
		}
	}
	if err := g.check(); err != nil {
		panic(err)
	}
	return func(c *gin.Context) {
		st, ok := currentState(c)
		if !ok {
			m.fail(c, newError(ErrNoToken, http.StatusUnauthorized, m.msgMissingHeader))
			return
		}
		if err := g.authorize(c, st); err != nil {
			m.fail(c, err)
		}
	}
}

// normalize turns a Go value into what encoding/json would decode it to,
// so it compares with claims; numbers stay json.Number, exact.
func normalize(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return decodeExact(data)
}

// decodeExact decodes JSON keeping numbers as their text: as float64, two
// 64-bit IDs a few units apart would compare equal.
func decodeExact(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// claimMatches reports whether claim name matches want (already
// normalized). Strings, booleans and numbers compare on the raw claim text
// without decoding the whole value.
func claimMatches(st *requestState, name string, want any) bool {
	raw, ok := st.claim(name)
	if !ok {
		return false
	}
	switch w := want.(type) {
	case string:
		s, isStr := stringValue(raw)
		return isStr && s == w
	case bool:
		return raw == strconv.FormatBool(w)
	case json.Number:
		return sameNumber(raw, string(w))
	case nil:
		return raw == "null"
	}
	got, err := decodeExact([]byte(raw))
	if err != nil {
		return false
	}
	return contains(got, want)
}

// contains reports whether got holds want: objects by subset, recursively;
// lists by every wanted element being present; other values by equality.
func contains(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		// Check every key: a match on one must not hide a mismatch on another.
		all := true
		for k, wv := range w {
			gv, present := g[k]
			if !present || !contains(gv, wv) {
				all = false
			}
		}
		return all
	case []any:
		g, ok := got.([]any)
		if !ok {
			return false
		}
		for _, wv := range w {
			found := false
			for _, gv := range g {
				if contains(gv, wv) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	case json.Number:
		g, ok := got.(json.Number)
		return ok && sameNumber(string(g), string(w))
	}
	return reflect.DeepEqual(got, want)
}

// rawEqualsParam compares a claim's raw JSON text with a route parameter.
func rawEqualsParam(raw, param string) bool {
	if s, isStr := stringValue(raw); isStr {
		return s == param
	}
	return isPlainDecimal(param) && sameNumber(raw, param)
}

// arrayStringIs reports whether the JSON string elem decodes to value.
// Without escapes and with valid UTF-8 on both sides, the text itself is
// the value, which is the common case and needs no decoding.
func arrayStringIs(elem, value string) bool {
	inner := elem[1 : len(elem)-1]
	if strings.IndexByte(inner, '\\') < 0 && utf8.ValidString(inner) {
		return inner == value
	}
	s, ok := stringValue(elem)
	return ok && s == value
}

// holds reports whether a roles/scopes claim (raw JSON) includes value.
func holds(raw, value string) bool {
	if raw == "" {
		return false
	}
	if s, isStr := stringValue(raw); isStr {
		for _, field := range strings.Fields(s) {
			if field == value {
				return true
			}
		}
		return false
	}
	found := false
	switch raw[0] {
	case '[':
		// raw is verified JSON: walk the elements by their boundaries, and
		// compare plain strings without decoding them.
		for i := 1; i < len(raw); {
			for i < len(raw) && (isJSONSpace(raw[i]) || raw[i] == ',') {
				i++
			}
			if i >= len(raw) || raw[i] == ']' {
				break
			}
			end := valueEnd(raw, i)
			if elem := raw[i:end]; elem[0] == '"' && arrayStringIs(elem, value) {
				return true
			}
			i = end
		}
	case '{':
		eachMember(raw, func(k string, v rawValue) bool {
			if k == value {
				found = v.raw == "true"
			}
			return true
		})
	}
	return found
}
