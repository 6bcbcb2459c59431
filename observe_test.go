package ginjwt_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu       sync.Mutex
	outcomes []ginjwt.Outcome
	ops      []ginjwt.StoreOp
	events   []ginjwt.Event
	starts   int
}

func (r *recorder) observer() ginjwt.Observer {
	return ginjwt.Observer{
		GuardStart: func(ctx context.Context, _ *gin.Context, _ ginjwt.Guard) context.Context {
			r.mu.Lock()
			r.starts++
			r.mu.Unlock()
			return context.WithValue(ctx, recorderKey{}, "guard span")
		},
		GuardDone: func(_ *gin.Context, out ginjwt.Outcome) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.outcomes = append(r.outcomes, out)
		},
		StoreStart: func(ctx context.Context, op ginjwt.StoreOp) context.Context { return ctx },
		StoreDone: func(ctx context.Context, op ginjwt.StoreOp, _ error, _ time.Duration) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.ops = append(r.ops, op)
		},
		Event: func(_ context.Context, e ginjwt.Event) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.events = append(r.events, e)
		},
	}
}

type recorderKey struct{}

func (r *recorder) last() ginjwt.Outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.outcomes[len(r.outcomes)-1]
}

func (r *recorder) reasons() []ginjwt.Reason {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ginjwt.Reason
	for _, o := range r.outcomes {
		out = append(out, o.Reason)
	}
	return out
}

// Every reason the observability page lists is reached by a request here,
// and every Reason the package declares is on the page: codes, docs and
// behaviour cannot drift apart.
func TestEveryReasonIsReachedAndDocumented(t *testing.T) {
	rec := &recorder{}
	clock := newFakeClock()
	store := ginjwt.NewMemoryBlocklist(clock.Now)
	lookupFails := false
	m := newManager(t, clock.option(), ginjwt.WithObserver(rec.observer()),
		ginjwt.WithBlocklist(store), ginjwt.WithRefreshRotation(), ginjwt.WithSessionList(0),
		ginjwt.WithTokenLocations(ginjwt.InHeaders, ginjwt.InCookies, ginjwt.InQueryString),
		ginjwt.WithQueryString("jwt", "Bearer "),
		ginjwt.WithRefreshExpires(time.Hour), ginjwt.WithSessionLifetime(2*time.Hour),
		ginjwt.WithTokenVerifier(func(_ *gin.Context, tok *ginjwt.Token) bool { return tok.Claims.Identity != "unverified" }),
		ginjwt.WithUserLookup(func(_ *gin.Context, tok *ginjwt.Token) (string, error) {
			switch {
			case lookupFails:
				return "", errors.New("db down")
			case tok.Claims.Identity == "ghost":
				return "", ginjwt.ErrUserNotFound
			}
			return tok.Claims.Identity, nil
		}))
	r := newRouter()
	ok := func(c *gin.Context) { c.Status(200) }
	r.Any("/p", m.JWTRequired(), ok)
	r.GET("/optional", m.JWTRequired(ginjwt.Optional()), ok)
	r.GET("/fresh", m.FreshRequired(), ok)
	r.GET("/user", m.JWTRequired(ginjwt.LoadUser()), ok)
	r.GET("/admin", m.JWTRequired(ginjwt.RequireClaim("role", "admin")), ok)
	r.POST("/refresh", m.RefreshHandler())
	r.POST("/login", m.LoginHandler(func(c *gin.Context) (any, error) {
		var in struct{ Username, Password string }
		if err := c.ShouldBindJSON(&in); err != nil || in.Password != "right" {
			return nil, ginjwt.InvalidCredentials(in.Username)
		}
		return in.Username, nil
	}))
	r.GET("/end/:id", m.JWTRequired(), func(c *gin.Context) {
		m.Abort(c, m.EndSession(c.Request.Context(), ginjwt.CurrentIdentity(c), c.Param("id")))
	})
	r.GET("/bug", func(c *gin.Context) { m.Abort(c, errors.New("nil map")) })
	downStore := newManager(t, ginjwt.WithObserver(rec.observer()), ginjwt.WithBlocklist(failingStore{errors.New("down")}))
	r.GET("/down", downStore.JWTRequired(), ok)
	jwks := newManager(t, ginjwt.WithObserver(rec.observer()), ginjwt.WithAlgorithm("ES256"),
		ginjwt.WithDecodeKeyLoader(func(*ginjwt.Token) (any, error) { return nil, errors.New("vault sealed") }))
	r.GET("/keys", jwks.JWTRequired(), ok)
	cookieLogin := newManager(t, ginjwt.WithObserver(rec.observer()), ginjwt.WithTokenLocations(ginjwt.InCookies))
	r.POST("/cookie-login", cookieLogin.LoginHandler(func(*gin.Context) (any, error) { return "a", nil }))

	access := func(id string, opts ...ginjwt.TokenOption) string {
		tok, err := m.CreateAccessToken(id, opts...)
		require.NoError(t, err)
		return tok
	}
	alice := access("alice")
	send := map[ginjwt.Reason]func(){
		ginjwt.ReasonOK:                func() { get(r, "/p", bearer(alice)) },
		ginjwt.ReasonAnonymous:         func() { get(r, "/optional") },
		ginjwt.ReasonNoToken:           func() { get(r, "/p") },
		ginjwt.ReasonInvalidHeader:     func() { get(r, "/p", header{"Authorization", "Bearer a b"}) },
		ginjwt.ReasonInvalidQueryParam: func() { get(r, "/p?jwt=nope") },
		ginjwt.ReasonCSRFMissing: func() {
			req{method: "POST", target: "/p", cookies: map[string]string{"access_token_cookie": alice}}.send(r)
		},
		ginjwt.ReasonCSRFMismatch: func() {
			req{method: "POST", target: "/p", cookies: map[string]string{"access_token_cookie": alice}, headers: map[string]string{"X-CSRF-TOKEN": "x"}}.send(r)
		},
		ginjwt.ReasonMalformed:          func() { get(r, "/p", bearer("not-a-jwt")) },
		ginjwt.ReasonAlgorithm:          func() { get(r, "/p", bearer(signRaw(`{"alg":"none"}`, `{"sub":"a"}`, testSecret))) },
		ginjwt.ReasonSignature:          func() { get(r, "/p", bearer(alice[:len(alice)-4]+"AAAA")) },
		ginjwt.ReasonExpired:            func() { get(r, "/p", bearer(access("alice", ginjwt.ExpiresIn(-time.Minute)))) },
		ginjwt.ReasonNotYetValid:        func() { get(r, "/p", bearer(signPayload(`{"sub":"a","jti":"j","nbf":99999999999}`))) },
		ginjwt.ReasonInvalidClaims:      func() { get(r, "/p", bearer(signPayload(`{"jti":"j"}`))) },
		ginjwt.ReasonWrongType:          func() { get(r, "/p", bearer(ginjwttest.Refresh(t, m, "alice"))) },
		ginjwt.ReasonNotFresh:           func() { get(r, "/fresh", bearer(alice)) },
		ginjwt.ReasonClaimsVerification: func() { get(r, "/p", bearer(access("unverified"))) },
		ginjwt.ReasonUserNotFound:       func() { get(r, "/user", bearer(access("ghost"))) },
		ginjwt.ReasonUserLookupFailed: func() {
			lookupFails = true
			get(r, "/user", bearer(alice))
			lookupFails = false
		},
		ginjwt.ReasonForbidden:        func() { get(r, "/admin", bearer(alice)) },
		ginjwt.ReasonStoreUnavailable: func() { get(r, "/down", bearer(ginjwttest.Access(t, downStore, "a"))) },
		ginjwt.ReasonKeysUnavailable:  func() { get(r, "/keys", bearer(signRaw(`{"alg":"ES256"}`, `{"sub":"a"}`, "x"))) },
		ginjwt.ReasonBadCredentials:   func() { postJSON(r, "/login", `{"username":"alice","password":"wrong"}`) },
		ginjwt.ReasonNotJSON:          func() { req{method: "POST", target: "/cookie-login", body: "a=b", contentType: "text/plain"}.send(r) },
		ginjwt.ReasonSessionNotFound:  func() { get(r, "/end/nope", bearer(alice)) },
		ginjwt.ReasonInternal:         func() { get(r, "/bug") },
		ginjwt.ReasonRevoked: func() {
			tok := access("alice")
			require.NoError(t, m.Revoke(context.Background(), tok))
			get(r, "/p", bearer(tok))
		},
		ginjwt.ReasonRefreshReused: func() {
			_, refresh, err := m.CreateTokenPair("alice")
			require.NoError(t, err)
			postJSON(r, "/refresh", "", bearer(refresh))
			postJSON(r, "/refresh", "", bearer(refresh))
		},
	}

	documented := documentedReasons(t)
	declared := declaredReasons(t)
	assert.ElementsMatch(t, declared, documented, "docs/observability.md lists every Reason of observe.go")
	for _, reason := range documented {
		if reason == "unknown_key" || reason == "keys_out_of_date" || reason == "session_expired" {
			continue // reached in TestReasonsOfKeysAndSessions
		}
		do, ok := send[ginjwt.Reason(reason)]
		if !assert.True(t, ok, "no request makes %s", reason) {
			continue
		}
		do()
		assert.Contains(t, rec.reasons(), ginjwt.Reason(reason))
	}
	assert.Equal(t, "guard span", rec.outcomes[0].Context.Value(recorderKey{}), "the outcome carries the guard's context")
}

// documentedReasons reads the reason codes of docs/observability.md's table.
func documentedReasons(t *testing.T) []string {
	page, err := os.ReadFile("docs/observability.md")
	require.NoError(t, err)
	section := string(page)[strings.Index(string(page), "## Reasons"):strings.Index(string(page), "## Events")]
	var out []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|").FindAllStringSubmatch(section, -1) {
		out = append(out, m[1])
	}
	return out
}

// declaredReasons reads the outcome Reasons declared in observe.go (the
// reasons a session ended are an Event's, not an outcome's).
func declaredReasons(t *testing.T) []string {
	src, err := os.ReadFile("observe.go")
	require.NoError(t, err)
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^\s+Reason\w+\s+Reason = "([a-z_]+)"`).FindAllStringSubmatch(string(src), -1) {
		if !slices.Contains([]string{"logout", "end_session", "session_limit", "identity_revoked"}, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

func TestReasonsOfKeysAndSessions(t *testing.T) {
	rec := &recorder{}
	m := newManager(t, ginjwt.WithObserver(rec.observer()), ginjwt.WithKeyID("k1"))
	r := newRouter()
	r.GET("/p", m.JWTRequired(), func(c *gin.Context) { c.Status(200) })
	get(r, "/p", bearer(signRaw(`{"alg":"HS256","kid":"nope"}`, `{"sub":"a"}`, testSecret)))
	assert.Equal(t, ginjwt.ReasonUnknownKey, rec.last().Reason)

	clock := newFakeClock()
	m = newManager(t, clock.option(), ginjwt.WithObserver(rec.observer()),
		ginjwt.WithRefreshExpires(3*time.Hour), ginjwt.WithSessionLifetime(time.Hour))
	long := newManager(t, clock.option(), ginjwt.WithRefreshExpires(3*time.Hour))
	r = newRouter()
	r.POST("/refresh", m.RefreshHandler())
	_, refresh, err := long.CreateTokenPair("alice")
	require.NoError(t, err)
	clock.Sleep(2 * time.Hour)
	w := postJSON(r, "/refresh", "", bearer(refresh))
	assert.Equal(t, 401, w.Code)
	assert.Equal(t, ginjwt.ReasonSessionExpired, rec.last().Reason)
	assert.Equal(t, ginjwt.GuardRefresh, rec.last().Guard)

	// keys_out_of_date: TestJWKSStalenessIsBounded's audit record.
}

// The events of a login's life, and the store calls behind them.
func TestObserverSeesSessionsAndStoreCalls(t *testing.T) {
	rec := &recorder{}
	m := newManager(t, ginjwt.WithObserver(rec.observer()), ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)),
		ginjwt.WithRefreshRotation(), ginjwt.WithSessionList(0))
	r := sessionApp(m)
	w := postJSON(r, "/login", `{"username":"test","password":"test"}`)
	require.Equal(t, 200, w.Code)
	pair := decodeBody(t, w)
	w = postJSON(r, "/refresh", "", bearer(pair["refresh_token"].(string)))
	require.Equal(t, 200, w.Code)
	renewed := decodeBody(t, w)["access_token"].(string)
	require.Equal(t, 200, postJSON(r, "/logout", "", bearer(renewed)).Code)
	require.NoError(t, m.RevokeIdentity(context.Background(), "test"))

	var kinds []string
	for _, e := range rec.events {
		kinds = append(kinds, string(e.Kind)+":"+string(e.Reason))
		if e.Kind != ginjwt.EventIdentityRevoked {
			assert.NotEmpty(t, e.SessionID, e.Kind)
		}
		assert.Equal(t, "test", e.Identity, e.Kind)
	}
	assert.Equal(t, []string{"session_started:", "rotated:", "session_renewed:", "session_ended:logout", "identity_revoked:"}, kinds)
	for _, op := range []ginjwt.StoreOp{ginjwt.StoreSaveSession, ginjwt.StoreSessions, ginjwt.StoreIsRevoked, ginjwt.StoreCurrent,
		ginjwt.StoreRotate, ginjwt.StoreTouchSession, ginjwt.StoreRevoke, ginjwt.StoreDeleteSession, ginjwt.StoreRevokeIdentity} {
		assert.Contains(t, rec.ops, op)
	}
	guards := map[ginjwt.Guard]bool{}
	for _, o := range rec.outcomes {
		guards[o.Guard] = true
		assert.Equal(t, ginjwt.ReasonOK, o.Reason, o.Guard)
	}
	assert.Equal(t, map[ginjwt.Guard]bool{ginjwt.GuardLogin: true, ginjwt.GuardRefresh: true, ginjwt.GuardLogout: true}, guards)
	assert.Equal(t, ginjwt.InHeaders, rec.outcomes[1].Location)
	assert.Equal(t, "test", rec.outcomes[1].Token.Claims.Identity)
}

// A public-key token is checked once, then found in the cache.
func TestObserverSeesTheVerifiedTokenCache(t *testing.T) {
	rec := &recorder{}
	m, err := ginjwt.New(ginjwt.WithAlgorithm("ES256"), ginjwt.WithPrivateKey(p256Key(t)), ginjwt.WithObserver(rec.observer()))
	require.NoError(t, err)
	r := newRouter()
	r.GET("/p", m.JWTRequired(), func(c *gin.Context) { c.Status(http.StatusOK) })
	tok := ginjwttest.Access(t, m, "alice")
	get(r, "/p", bearer(tok))
	get(r, "/p", bearer(tok))
	var kinds []ginjwt.EventKind
	for _, e := range rec.events {
		kinds = append(kinds, e.Kind)
	}
	assert.Equal(t, []ginjwt.EventKind{ginjwt.EventCacheMiss, ginjwt.EventCacheHit}, kinds)
}

func p256Key(t *testing.T) *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return key
}
