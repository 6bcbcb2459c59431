package ginjwt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt/internal/jsonindex"
)

// A requirement is one authorization check on a verified token. It returns
// "" when satisfied, or the reason sent to the client.
type requirement func(c *gin.Context, st *requestState) string

// RequireClaim lets a token through only if claim name has value, compared
// as JSON (7 equals 7.0): an object as a subset, however deep, a list as
// elements the claim's list must all hold.
func RequireClaim(name string, value any) Requirement {
	want, err := normalize(value)
	return requirementFunc(func(g *guard) {
		if err != nil {
			g.configErr = append(g.configErr, fmt.Errorf("RequireClaim(%q): %w", name, err))
			return
		}
		reason := fmt.Sprintf("Claim '%s' does not have the required value", name)
		g.requirements = append(g.requirements, func(_ *gin.Context, st *requestState) string {
			if claimMatches(st, name, want) {
				return ""
			}
			return reason
		})
	})
}

// RequireClaimParam lets a token through only if claim name equals route
// parameter param exactly (Flask-PyJWT's require_token(sub="username")): a
// number as usually written, 42 but not "042" or "42.0". On a route without
// param the guard answers 500 (ErrRouteParamMissing), logging it once.
func RequireClaimParam(name, param string) Requirement {
	reason := fmt.Sprintf("Claim '%s' does not match the route parameter '%s'", name, param)
	return requirementFunc(func(g *guard) {
		g.params = append(g.params, param)
		if g.reported == nil {
			g.reported = new(sync.Map)
		}
		g.requirements = append(g.requirements, func(c *gin.Context, st *requestState) string {
			value := c.Param(param)
			claim, ok := st.claim(name)
			if ok && value != "" && equalsParam(claim, value) {
				return ""
			}
			return reason
		})
	})
}

// RequireAll lets a token through only if claim name, a list of strings,
// a space-delimited string (OAuth's scope) or an object of booleans, holds
// every one of values: roles and scopes. The 403 names what is missing.
func RequireAll(name string, values ...string) Requirement {
	return requirementFunc(func(g *guard) {
		if len(values) == 0 {
			// Requiring nothing would let every token through.
			g.configErr = append(g.configErr, fmt.Errorf("RequireAll(%q): no values", name))
			return
		}
		g.requirements = append(g.requirements, func(_ *gin.Context, st *requestState) string {
			claim, _ := st.claim(name)
			var missing []string
			for _, v := range values {
				if !holds(&st.tok.Claims.doc, claim, v) {
					missing = append(missing, v)
				}
			}
			if len(missing) == 0 {
				return ""
			}
			return fmt.Sprintf("Missing required %s: %s", name, strings.Join(missing, ", "))
		})
	})
}

// Require lets a token through only if check returns true; reason is the
// 403's message.
func Require(reason string, check func(c *gin.Context, tok *Token) bool) Requirement {
	return requirementFunc(func(g *guard) {
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
	})
}

// Override lets a token through whatever the guard's other requirements
// say when it has every claim in claims (as RequireClaim matches), as
// Flask-PyJWT's override={"admin": True}; any one of several suffices. Type
// and freshness are still checked.
func Override(claims map[string]any) Requirement {
	want, err := normalize(claims)
	return requirementFunc(func(g *guard) {
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
		g.overrides = append(g.overrides, func(_ *gin.Context, st *requestState) string {
			for name, v := range wantMap {
				if !claimMatches(st, name, v) {
					return "no override"
				}
			}
			return ""
		})
	})
}

// authorize runs the guard's requirements: all of them must pass, unless an
// override matches. Every requirement is checked; none short-cuts to a
// grant.
func (g *guard) authorize(c *gin.Context, st *requestState) *Error {
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
	e := newError(ErrRouteParamMissing, http.StatusInternalServerError, msgInternal)
	e.cause = cause
	return e
}

// Authorize returns a middleware that checks requirements against the token
// an earlier guard verified (a group's, say), without verifying it again.
// Without one it answers 401 "Missing Authorization Header".
func (m *Manager) Authorize(reqs ...Requirement) gin.HandlerFunc {
	var g guard
	for _, r := range reqs {
		if r != nil {
			r.applyGuard(&g)
		}
	}
	if err := g.check(); err != nil {
		panic(err)
	}
	return func(c *gin.Context) {
		st, ok := currentState(c)
		if !ok {
			m.abortAs(c, GuardAuthorize, newError(ErrNoToken, http.StatusUnauthorized, m.msgMissingHeader))
			return
		}
		if err := g.authorize(c, st); err != nil {
			m.abortAs(c, GuardAuthorize, err)
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
// normalized), reading the parsed payload: nothing is decoded but the
// strings compared.
func claimMatches(st *requestState, name string, want any) bool {
	v, ok := st.claim(name)
	return ok && matches(&st.tok.Claims.doc, v, want)
}

// matches reports whether v, a value of doc, holds want: objects by subset,
// recursively; lists by every wanted element being present; other values
// by equality (numbers exactly, as JSON values: 7 equals 7.0).
func matches(doc *jsonindex.Index, v jsonindex.Value, want any) bool {
	switch w := want.(type) {
	case string:
		s, isStr := v.String()
		return isStr && s == w
	case bool:
		return v.Raw() == strconv.FormatBool(w)
	case json.Number:
		return v.Kind() == jsonindex.Number && jsonindex.SameNumber(v.Raw(), string(w))
	case nil:
		return v.Kind() == jsonindex.Null
	case map[string]any:
		if v.Kind() != jsonindex.Object {
			return false
		}
		// Check every key: a match on one must not hide a mismatch on another.
		all := true
		for k, wv := range w {
			gv, present := doc.Member(v, k)
			if !present || !matches(doc, gv, wv) {
				all = false
			}
		}
		return all
	case []any:
		if v.Kind() != jsonindex.Array {
			return false
		}
		for _, wv := range w {
			found := false
			for gv := range doc.Elements(v) {
				if matches(doc, gv, wv) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	return false // normalize gives no other type
}

// equalsParam compares a claim with a route parameter: a string exactly,
// a number as written the usual way.
func equalsParam(v jsonindex.Value, param string) bool {
	if s, isStr := v.String(); isStr {
		return s == param
	}
	return v.Kind() == jsonindex.Number && jsonindex.IsPlainDecimal(param) && jsonindex.SameNumber(v.Raw(), param)
}

// holds reports whether a roles/scopes claim v, a value of doc, includes
// value: a space-delimited string, a list of strings, or an object of
// booleans.
func holds(doc *jsonindex.Index, v jsonindex.Value, value string) bool {
	switch v.Kind() {
	case jsonindex.String:
		s, _ := v.String()
		for _, field := range strings.Fields(s) {
			if field == value {
				return true
			}
		}
	case jsonindex.Array:
		for e := range doc.Elements(v) {
			if s, isStr := e.String(); isStr && s == value {
				return true
			}
		}
	case jsonindex.Object:
		found := false
		for key, e := range doc.Members(v) {
			if key == value {
				found = e.Raw() == "true" // the last duplicate wins
			}
		}
		return found
	}
	return false
}
