package otelginjwt_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/otelginjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func init() { gin.SetMode(gin.TestMode) }

// secret signs every HS256 token of these tests; no attribute may carry it.
const secret = "otelginjwt-test-secret-3f9a1c7e5b"

// csrfValue is the (wrong) CSRF value a request sends back.
const csrfValue = "csrf-value-e41d8cd98f00b204"

// telemetry is an OpenTelemetry SDK whose metrics and spans stay in memory.
type telemetry struct {
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
}

func newTelemetry(t *testing.T) *telemetry {
	tel := &telemetry{reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder()}
	tel.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tel.spans))
	t.Cleanup(func() { _ = tel.tp.Shutdown(context.Background()) })
	return tel
}

func (tel *telemetry) observer(t *testing.T, opts ...otelginjwt.Option) ginjwt.Observer {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader))
	obs, err := otelginjwt.Observer(slices.Concat([]otelginjwt.Option{
		otelginjwt.WithMeterProvider(mp), otelginjwt.WithTracerProvider(tel.tp)}, opts)...)
	require.NoError(t, err)
	return obs
}

// router is a Gin engine with otelgin in front, as an operator's app has.
func (tel *telemetry) router() *gin.Engine {
	r := gin.New()
	r.Use(otelgin.Middleware("test", otelgin.WithTracerProvider(tel.tp)))
	return r
}

func (tel *telemetry) collect(t *testing.T) map[string]metricdata.Metrics {
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelginjwt.ScopeName {
			continue // otelgin's own
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// sums are a counter's values by the attributes given, joined by "/":
// sums(m, "ginjwt.guard", "ginjwt.reason")["access/ok"].
func sums(t *testing.T, m metricdata.Metrics, keys ...attribute.Key) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	if m.Data == nil {
		return out // not recorded yet
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is not an int64 sum: %T", m.Name, m.Data)
	for _, dp := range sum.DataPoints {
		out[labels(dp.Attributes, keys)] += dp.Value
	}
	return out
}

func labels(set attribute.Set, keys []attribute.Key) string {
	var parts []string
	for _, k := range keys {
		v, ok := set.Value(k)
		if !ok {
			parts = append(parts, "")
			continue
		}
		parts = append(parts, v.String())
	}
	return strings.Join(parts, "/")
}

// histogramCounts are a histogram's counts by the attributes given.
func histogramCounts(t *testing.T, m metricdata.Metrics, keys ...attribute.Key) map[string]uint64 {
	t.Helper()
	h, ok := m.Data.(metricdata.Histogram[float64])
	require.True(t, ok, "%s is not a float64 histogram: %T", m.Name, m.Data)
	out := map[string]uint64{}
	for _, dp := range h.DataPoints {
		out[labels(dp.Attributes, keys)] += dp.Count
	}
	return out
}

// clock is a fake clock for the Managers whose tokens must age.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *clock) Now() time.Time        { return time.Unix(0, c.ns.Load()) }
func (c *clock) Sleep(d time.Duration) { c.ns.Add(int64(d)) }
func (c *clock) option() ginjwt.Option { return ginjwt.WithClock(c.Now) }

// breakerStore is the memory blocklist with a breaker the test opens and
// closes: an ObservedStore.
type breakerStore struct {
	*ginjwt.MemoryBlocklist
	emit func(context.Context, ginjwt.Event)
}

func (s *breakerStore) Observe(emit func(context.Context, ginjwt.Event)) { s.emit = emit }

// downStore fails every call; hungStore answers none before the timeout.
type downStore struct{}

func (downStore) Revoke(context.Context, string, time.Time) error {
	return errors.New("connection refused")
}
func (downStore) IsRevoked(context.Context, ...string) (bool, error) {
	return false, errors.New("connection refused")
}

type hungStore struct{ downStore }

func (hungStore) IsRevoked(ctx context.Context, _ ...string) (bool, error) {
	<-ctx.Done()
	return false, ctx.Err()
}

// app is the set of Managers and routes the tests drive, all reporting to
// one observer, and what its requests sent that no attribute may hold.
type app struct {
	t     *testing.T
	r     *gin.Engine
	m     *ginjwt.Manager
	store *breakerStore
	sent  []string

	lookupFails       bool
	issuerDown        atomic.Bool
	kid, sessions     *ginjwt.Manager
	jwksClock, sClock *clock
	issuer, long      *ginjwt.Manager
	downM, hungM      *ginjwt.Manager
}

func newApp(t *testing.T, tel *telemetry, opts ...otelginjwt.Option) *app {
	a := &app{t: t, r: tel.router(), sent: []string{secret, csrfValue}}
	obs := ginjwt.WithObserver(tel.observer(t, opts...))
	key := ginjwt.WithSecretKey([]byte(secret))
	a.store = &breakerStore{MemoryBlocklist: ginjwt.NewMemoryBlocklist(nil)}
	a.m = a.manager(key, obs, ginjwt.WithBlocklist(a.store), ginjwt.WithRefreshRotation(), ginjwt.WithSessionList(0),
		ginjwt.WithTokenLocations(ginjwt.InHeaders, ginjwt.InCookies, ginjwt.InQueryString),
		ginjwt.WithQueryString("jwt", "Bearer "),
		ginjwt.WithTokenVerifier(func(_ *gin.Context, tok *ginjwt.Token) bool { return tok.Claims.Identity != "unverified" }),
		ginjwt.WithUserLookup(func(_ *gin.Context, tok *ginjwt.Token) (string, error) {
			switch {
			case a.lookupFails:
				return "", errors.New("db down")
			case tok.Claims.Identity == "ghost":
				return "", ginjwt.ErrUserNotFound
			}
			return tok.Claims.Identity, nil
		}))
	m, r := a.m, a.r
	ok := func(c *gin.Context) { c.Status(http.StatusOK) }
	r.Any("/p", m.JWTRequired(), ok)
	r.GET("/optional", m.JWTRequired(ginjwt.Optional()), ok)
	r.GET("/fresh", m.FreshRequired(), ok)
	r.GET("/user", m.JWTRequired(ginjwt.LoadUser()), ok)
	r.GET("/admin", m.JWTRequired(ginjwt.RequireClaim("role", "admin")), ok)
	r.POST("/refresh", m.RefreshHandler())
	r.POST("/logout", m.LogoutHandler())
	r.POST("/login", m.LoginHandler(func(c *gin.Context) (any, error) {
		var in struct{ Username, Password string }
		if err := c.ShouldBindJSON(&in); err != nil || in.Password != "right" {
			return nil, ginjwt.InvalidCredentials(in.Username)
		}
		return in.Username, nil
	}))
	r.GET("/end/:id", m.JWTRequired(), func(c *gin.Context) {
		if err := m.EndSession(c.Request.Context(), ginjwt.CurrentIdentity(c), c.Param("id")); err != nil {
			m.Abort(c, err)
			return
		}
		c.Status(http.StatusOK)
	})
	r.POST("/everywhere", m.JWTRequired(), func(c *gin.Context) {
		if err := m.RevokeIdentity(c.Request.Context(), ginjwt.CurrentIdentity(c)); err != nil {
			m.Abort(c, err)
			return
		}
		c.Status(http.StatusOK)
	})
	r.GET("/bug", func(c *gin.Context) { m.Abort(c, errors.New("nil map")) })

	a.downM = a.manager(key, obs, ginjwt.WithBlocklist(downStore{}))
	r.GET("/down", a.downM.JWTRequired(), ok)
	a.hungM = a.manager(key, obs, ginjwt.WithBlocklist(hungStore{}), ginjwt.WithBlocklistTimeout(20*time.Millisecond))
	r.GET("/hung", a.hungM.JWTRequired(), ok)
	keysDown := a.manager(obs, ginjwt.WithAlgorithm("ES256"),
		ginjwt.WithDecodeKeyLoader(func(*ginjwt.Token) (any, error) { return nil, errors.New("vault sealed") }))
	r.GET("/keys", keysDown.JWTRequired(), ok)
	cookieLogin := a.manager(key, obs, ginjwt.WithTokenLocations(ginjwt.InCookies))
	r.POST("/cookie-login", cookieLogin.LoginHandler(func(*gin.Context) (any, error) { return "a", nil }))
	a.kid = a.manager(key, obs, ginjwt.WithKeyID("k1"))
	r.GET("/kid", a.kid.JWTRequired(), ok)

	// Sessions that outlive WithSessionLifetime, on a clock of their own.
	a.sClock = newClock()
	a.sessions = a.manager(key, obs, a.sClock.option(), ginjwt.WithRefreshExpires(3*time.Hour), ginjwt.WithSessionLifetime(time.Hour))
	a.long = a.manager(key, a.sClock.option(), ginjwt.WithRefreshExpires(3*time.Hour))
	r.POST("/session-refresh", a.sessions.RefreshHandler())

	// A service taking ES256 tokens from an issuer's JWKS, 127.0.0.1 only.
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	a.jwksClock = newClock()
	a.issuer = a.manager(ginjwt.WithAlgorithm("ES256"), ginjwt.WithPrivateKey(ecKey), ginjwt.WithKeyID("k1"),
		ginjwt.WithAccessExpires(24*time.Hour), a.jwksClock.option(),
		ginjwt.WithClaims(ginjwt.ClaimsConfig{EncodeIssuer: "https://issuer.example", EncodeAudience: []string{"api"}}))
	ir := gin.New()
	ir.GET("/jwks.json", func(c *gin.Context) {
		if a.issuerDown.Load() {
			c.AbortWithStatus(http.StatusBadGateway)
			return
		}
		a.issuer.JWKSHandler()(c)
	})
	srv := httptest.NewServer(ir)
	t.Cleanup(srv.Close)
	jwks := a.manager(obs, ginjwt.WithAlgorithm("ES256"), a.jwksClock.option(),
		ginjwt.WithJWKS(ginjwt.NewJWKS(srv.URL+"/jwks.json", ginjwt.JWKSConfig{})),
		ginjwt.WithVerifiedTokenCacheBytes(64<<10),
		ginjwt.WithClaims(ginjwt.ClaimsConfig{DecodeIssuers: []string{"https://issuer.example"}, DecodeAudience: []string{"api"}}))
	r.GET("/jwks", jwks.JWTRequired(), ok)
	return a
}

func (a *app) manager(opts ...ginjwt.Option) *ginjwt.Manager {
	m, err := ginjwt.New(opts...)
	require.NoError(a.t, err)
	return m
}

// token keeps a token the test sends, so that the secrecy check looks for it.
func (a *app) token(tok string, err error) string {
	require.NoError(a.t, err)
	a.sent = append(a.sent, tok)
	return tok
}

func (a *app) access(identity string, opts ...ginjwt.TokenOption) string {
	return a.token(a.m.CreateAccessToken(identity, opts...))
}

type header = [2]string

func (a *app) do(method, target, body string, headers ...header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		req.Header.Set(h[0], h[1])
	}
	w := httptest.NewRecorder()
	a.r.ServeHTTP(w, req)
	return w
}

func (a *app) get(target string, headers ...header) *httptest.ResponseRecorder {
	return a.do(http.MethodGet, target, "", headers...)
}

func bearer(tok string) header { return header{"Authorization", "Bearer " + tok} }

// signRaw signs header.payload with the test secret, whatever they say.
func (a *app) signRaw(head, payload string) string {
	enc := base64.RawURLEncoding
	s := enc.EncodeToString([]byte(head)) + "." + enc.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(s))
	return a.token(s+"."+enc.EncodeToString(mac.Sum(nil)), nil)
}

// requests returns a request (or a few) reaching each reason code.
func (a *app) requests() map[ginjwt.Reason]func() {
	alice := a.access("alice")
	return map[ginjwt.Reason]func(){
		ginjwt.ReasonOK:                func() { a.get("/p", bearer(alice)) },
		ginjwt.ReasonAnonymous:         func() { a.get("/optional") },
		ginjwt.ReasonNoToken:           func() { a.get("/p") },
		ginjwt.ReasonInvalidHeader:     func() { a.get("/p", header{"Authorization", "Bearer a b"}) },
		ginjwt.ReasonInvalidQueryParam: func() { a.get("/p?jwt=nope") },
		ginjwt.ReasonCSRFMissing: func() {
			a.do(http.MethodPost, "/p", "", header{"Cookie", "access_token_cookie=" + alice})
		},
		ginjwt.ReasonCSRFMismatch: func() {
			a.do(http.MethodPost, "/p", "", header{"Cookie", "access_token_cookie=" + alice}, header{"X-CSRF-TOKEN", csrfValue})
		},
		ginjwt.ReasonMalformed:          func() { a.get("/p", bearer("not-a-jwt")) },
		ginjwt.ReasonAlgorithm:          func() { a.get("/p", bearer(a.signRaw(`{"alg":"none"}`, `{"sub":"a"}`))) },
		ginjwt.ReasonSignature:          func() { a.get("/p", bearer(a.token(alice[:len(alice)-4]+"AAAA", nil))) },
		ginjwt.ReasonUnknownKey:         func() { a.get("/kid", bearer(a.signRaw(`{"alg":"HS256","kid":"nope"}`, `{"sub":"a"}`))) },
		ginjwt.ReasonExpired:            func() { a.get("/p", bearer(a.access("alice", ginjwt.ExpiresIn(-time.Minute)))) },
		ginjwt.ReasonNotYetValid:        func() { a.get("/p", bearer(a.signRaw(`{"alg":"HS256"}`, `{"sub":"a","jti":"j","nbf":99999999999}`))) },
		ginjwt.ReasonInvalidClaims:      func() { a.get("/p", bearer(a.signRaw(`{"alg":"HS256"}`, `{"jti":"j"}`))) },
		ginjwt.ReasonWrongType:          func() { a.get("/p", bearer(a.token(a.m.CreateRefreshToken("alice")))) },
		ginjwt.ReasonNotFresh:           func() { a.get("/fresh", bearer(alice)) },
		ginjwt.ReasonClaimsVerification: func() { a.get("/p", bearer(a.access("unverified"))) },
		ginjwt.ReasonUserNotFound:       func() { a.get("/user", bearer(a.access("ghost"))) },
		ginjwt.ReasonUserLookupFailed: func() {
			a.lookupFails = true
			a.get("/user", bearer(alice))
			a.lookupFails = false
		},
		ginjwt.ReasonForbidden:        func() { a.get("/admin", bearer(alice)) },
		ginjwt.ReasonStoreUnavailable: func() { a.get("/down", bearer(a.token(a.downM.CreateAccessToken("a")))) },
		ginjwt.ReasonKeysUnavailable:  func() { a.get("/keys", bearer(a.signRaw(`{"alg":"ES256"}`, `{"sub":"a"}`))) },
		ginjwt.ReasonKeysOutOfDate: func() {
			tok := a.token(a.issuer.CreateAccessToken("alice"))
			require.Equal(a.t, http.StatusOK, a.get("/jwks", bearer(tok)).Code)
			require.Equal(a.t, http.StatusOK, a.get("/jwks", bearer(tok)).Code) // from the cache
			a.issuerDown.Store(true)
			a.jwksClock.Sleep(61 * time.Minute) // past JWKSConfig.MaxStale
			a.get("/jwks", bearer(tok))
			a.issuerDown.Store(false)
		},
		ginjwt.ReasonSessionExpired: func() {
			_, refresh, err := a.long.CreateTokenPair("alice")
			a.token(refresh, err)
			a.sClock.Sleep(2 * time.Hour)
			a.do(http.MethodPost, "/session-refresh", "", bearer(refresh))
		},
		ginjwt.ReasonBadCredentials:  func() { a.do(http.MethodPost, "/login", `{"username":"mallory","password":"wrong"}`) },
		ginjwt.ReasonNotJSON:         func() { a.do(http.MethodPost, "/cookie-login", "", header{"Content-Type", "text/plain"}) },
		ginjwt.ReasonSessionNotFound: func() { a.get("/end/nope", bearer(alice)) },
		ginjwt.ReasonInternal:        func() { a.get("/bug") },
		ginjwt.ReasonRevoked: func() {
			tok := a.access("alice")
			require.NoError(a.t, a.m.Revoke(context.Background(), tok))
			a.get("/p", bearer(tok))
		},
		ginjwt.ReasonRefreshReused: func() {
			_, refresh, err := a.m.CreateTokenPair("alice")
			a.token(refresh, err)
			a.do(http.MethodPost, "/refresh", "", bearer(refresh))
			a.do(http.MethodPost, "/refresh", "", bearer(refresh))
		},
	}
}

// documentedReasons reads the reason codes of docs/observability.md's table,
// as the core's TestEveryReasonIsReachedAndDocumented does.
func documentedReasons(t *testing.T) []ginjwt.Reason {
	page := docsPage(t)
	section := page[strings.Index(page, "## Reasons"):strings.Index(page, "## Events")]
	var out []ginjwt.Reason
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|").FindAllStringSubmatch(section, -1) {
		out = append(out, ginjwt.Reason(m[1]))
	}
	require.Greater(t, len(out), 25, "the reasons table of docs/observability.md")
	return out
}

func docsPage(t *testing.T) string {
	page, err := os.ReadFile("../docs/observability.md")
	require.NoError(t, err)
	return string(page)
}

// Every reason of the docs' table is reached by a request, and shows in
// ginjwt.guard.outcomes under its ginjwt.reason with the right outcome.
func TestEveryReasonIsCounted(t *testing.T) {
	tel := newTelemetry(t)
	a := newApp(t, tel)
	send := a.requests()
	for _, reason := range documentedReasons(t) {
		do, ok := send[reason]
		if !assert.True(t, ok, "no request makes %s", reason) {
			continue
		}
		before := sums(t, tel.collect(t)[otelginjwt.MetricGuardOutcomes], otelginjwt.AttrReason)
		do()
		after := sums(t, tel.collect(t)[otelginjwt.MetricGuardOutcomes], otelginjwt.AttrReason)
		assert.Greater(t, after[string(reason)], before[string(reason)], "ginjwt.reason=%s", reason)
	}

	metrics := tel.collect(t)
	byOutcome := sums(t, metrics[otelginjwt.MetricGuardOutcomes], otelginjwt.AttrGuard, otelginjwt.AttrReason, otelginjwt.AttrOutcome)
	for key := range byOutcome {
		parts := strings.Split(key, "/")
		want := "refused"
		if parts[1] == "ok" || parts[1] == "anonymous" {
			want = "allowed"
		}
		assert.Equal(t, want, parts[2], key)
		assert.NotEmpty(t, parts[0], key)
	}
	assert.Positive(t, byOutcome["access/ok/allowed"])
	assert.Positive(t, byOutcome["login/bad_credentials/refused"])
	assert.Positive(t, byOutcome["refresh/refresh_reused/refused"])
	assert.Positive(t, byOutcome["abort/internal/refused"])

	// Only the guards' work is timed; the handlers report after theirs.
	durations := histogramCounts(t, metrics[otelginjwt.MetricGuardDuration], otelginjwt.AttrGuard, otelginjwt.AttrOutcome)
	assert.Positive(t, durations["access/allowed"])
	assert.Positive(t, durations["access/refused"])
	assert.Positive(t, durations["fresh/refused"])
	for key := range durations {
		guard := strings.Split(key, "/")[0]
		assert.Contains(t, []string{"access", "refresh", "fresh"}, guard, "%s timed", key)
	}

	// The store calls, their failures by error.type.
	calls := histogramCounts(t, metrics[otelginjwt.MetricStoreDuration], otelginjwt.AttrStoreOperation, otelginjwt.AttrErrorType)
	for _, op := range []string{"is_revoked/", "revoke/", "rotate/", "current/", "is_revoked/_OTHER"} {
		assert.Positive(t, calls[op], op)
	}
	errs := sums(t, metrics[otelginjwt.MetricStoreErrors], otelginjwt.AttrStoreOperation, otelginjwt.AttrErrorType)
	assert.Equal(t, map[string]int64{"is_revoked/_OTHER": 1}, errs)

	// The refresh token replayed ended its session, and is counted as such.
	ended := sums(t, metrics[otelginjwt.MetricSessionsEnded], otelginjwt.AttrReason)
	assert.Equal(t, int64(1), ended["refresh_reused"])
	assert.Equal(t, int64(1), ended["logout"], "Revoke")
	assert.Equal(t, map[string]int64{"": 1}, sums(t, metrics[otelginjwt.MetricReplays]))
	assert.Equal(t, map[string]int64{"": 1}, sums(t, metrics[otelginjwt.MetricRotations]))
	cache := sums(t, metrics[otelginjwt.MetricCacheLookups], otelginjwt.AttrCacheResult)
	assert.Equal(t, int64(1), cache["miss"], "the JWKS token, checked once")
	assert.Equal(t, int64(1), cache["hit"], "and found in the cache the second time")
}

// A store that hangs is cut off by the blocklist timeout: error.type is
// timeout, and the guard's span and the store call's span say so.
func TestStoreTimeout(t *testing.T) {
	tel := newTelemetry(t)
	a := newApp(t, tel)
	w := a.get("/hung", bearer(a.token(a.hungM.CreateAccessToken("a"))))
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	errs := sums(t, tel.collect(t)[otelginjwt.MetricStoreErrors], otelginjwt.AttrStoreOperation, otelginjwt.AttrErrorType)
	assert.Equal(t, map[string]int64{"is_revoked/timeout": 1}, errs)

	store := spanNamed(t, tel.spans.Ended(), "ginjwt.store is_revoked")
	assert.Equal(t, codes.Error, store.Status().Code)
	assert.Equal(t, "timeout", attr(store, otelginjwt.AttrErrorType))
	assert.GreaterOrEqual(t, store.EndTime().Sub(store.StartTime()), 20*time.Millisecond)
	guard := spanNamed(t, tel.spans.Ended(), "ginjwt access")
	assert.Equal(t, codes.Error, guard.Status().Code)
	assert.Equal(t, "store_unavailable", guard.Status().Description)
	assert.Equal(t, guard.SpanContext().SpanID(), store.Parent().SpanID(), "the store call is the guard's child")
}

// The events beside outcomes: sessions, rotations, the identity revoked,
// the cache's evictions and the store's breaker.
func TestEvents(t *testing.T) {
	tel := newTelemetry(t)
	a := newApp(t, tel)
	w := a.do(http.MethodPost, "/login", `{"username":"alice","password":"right"}`)
	require.Equal(t, http.StatusOK, w.Code)
	w = a.do(http.MethodPost, "/login", `{"username":"alice","password":"right"}`)
	require.Equal(t, http.StatusOK, w.Code)
	refresh := a.token(bodyField(t, w, "refresh_token"), nil)
	w = a.do(http.MethodPost, "/refresh", "", bearer(refresh))
	require.Equal(t, http.StatusOK, w.Code)
	access := a.token(bodyField(t, w, "access_token"), nil)
	list, err := a.m.Sessions(context.Background(), "alice")
	require.NoError(t, err)
	require.Len(t, list, 2)
	tok, err := a.m.DecodeToken(access)
	require.NoError(t, err)
	other := list[0].ID
	if other == tok.Claims.SessionID() {
		other = list[1].ID
	}
	require.Equal(t, http.StatusOK, a.get("/end/"+other, bearer(access)).Code)
	require.Equal(t, http.StatusOK, a.do(http.MethodPost, "/logout", "", bearer(access)).Code)
	require.Equal(t, http.StatusOK, a.do(http.MethodPost, "/login", `{"username":"bob","password":"right"}`).Code)
	require.Equal(t, http.StatusOK, a.do(http.MethodPost, "/everywhere", "", bearer(a.access("bob"))).Code)

	a.store.emit(context.Background(), ginjwt.Event{Kind: ginjwt.EventBreakerOpened})
	metrics := tel.collect(t)
	assert.Equal(t, []int64{1}, gauge(t, metrics[otelginjwt.MetricBreakerOpen]))
	a.store.emit(context.Background(), ginjwt.Event{Kind: ginjwt.EventBreakerClosed})

	// A flood of tokens seen once through a 64 KiB cache: some are evicted.
	for i := range 300 {
		tok := a.token(a.issuer.CreateAccessToken(fmt.Sprintf("user%d", i)))
		require.Equal(t, http.StatusOK, a.get("/jwks", bearer(tok)).Code)
	}

	metrics = tel.collect(t)
	assert.Equal(t, map[string]int64{"": 3}, sums(t, metrics[otelginjwt.MetricSessionsStarted]))
	assert.Equal(t, map[string]int64{"": 1}, sums(t, metrics[otelginjwt.MetricSessionsRenewed]))
	assert.Equal(t, map[string]int64{"": 1}, sums(t, metrics[otelginjwt.MetricRotations]))
	assert.Equal(t, map[string]int64{"end_session": 1, "logout": 1, "identity_revoked": 1},
		sums(t, metrics[otelginjwt.MetricSessionsEnded], otelginjwt.AttrReason))
	assert.Equal(t, map[string]int64{"": 1}, sums(t, metrics[otelginjwt.MetricIdentitiesRevoked]))
	assert.NotContains(t, metrics, otelginjwt.MetricReplays, "no replay")
	assert.Equal(t, []int64{0}, gauge(t, metrics[otelginjwt.MetricBreakerOpen]))
	assert.Equal(t, map[string]int64{"open": 1, "closed": 1},
		sums(t, metrics[otelginjwt.MetricBreakerTransitions], otelginjwt.AttrBreakerState))
	cache := sums(t, metrics[otelginjwt.MetricCacheLookups], otelginjwt.AttrCacheResult)
	assert.Equal(t, int64(300), cache["miss"])
	evicted := sums(t, metrics[otelginjwt.MetricCacheEvictions])[""]
	assert.Greater(t, evicted, int64(100), "64 KiB holds about 130 ES256 tokens")
	assert.Less(t, evicted, int64(300))

	// The session events are span events of the request's spans.
	var events []string
	for _, s := range tel.spans.Ended() {
		for _, e := range s.Events() {
			if strings.HasPrefix(e.Name, "ginjwt.") {
				events = append(events, e.Name+":"+attrOf(e.Attributes, otelginjwt.AttrReason))
			}
		}
	}
	for _, e := range []string{"ginjwt.session_started:", "ginjwt.rotated:", "ginjwt.session_renewed:",
		"ginjwt.session_ended:end_session", "ginjwt.session_ended:logout", "ginjwt.identity_revoked:", "ginjwt.session_ended:identity_revoked"} {
		assert.Contains(t, events, e)
	}
}

func gauge(t *testing.T, m metricdata.Metrics) []int64 {
	t.Helper()
	g, ok := m.Data.(metricdata.Gauge[int64])
	require.True(t, ok, "%s is not an int64 gauge: %T", m.Name, m.Data)
	var out []int64
	for _, dp := range g.DataPoints {
		out = append(out, dp.Value)
	}
	return out
}

func bodyField(t *testing.T, w *httptest.ResponseRecorder, key string) string {
	t.Helper()
	m := regexp.MustCompile(`"` + key + `":"([^"]+)"`).FindStringSubmatch(w.Body.String())
	require.NotNil(t, m, "%s in %s", key, w.Body.String())
	return m[1]
}

func spanNamed(t *testing.T, spans []sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range spans {
		if s.Name() == name {
			return s
		}
	}
	t.Fatalf("no span %q", name)
	return nil
}

func attr(s sdktrace.ReadOnlySpan, k attribute.Key) string { return attrOf(s.Attributes(), k) }

func attrOf(kv []attribute.KeyValue, k attribute.Key) string {
	for _, a := range kv {
		if a.Key == k {
			return a.Value.String()
		}
	}
	return ""
}

// Each guard's span is a child of the request's server span (otelgin's),
// each store call a child of the guard that made it, and the spans say
// what happened, with the token's algorithm, key ID and location.
func TestSpans(t *testing.T) {
	tel := newTelemetry(t)
	a := newApp(t, tel)
	for _, do := range a.requests() {
		do()
	}
	spans := tel.spans.Ended()
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s
	}
	reasons := map[string]bool{}
	var stores int
	for _, s := range spans {
		switch {
		case strings.HasPrefix(s.Name(), "ginjwt.store "):
			stores++
			if !s.Parent().IsValid() {
				// A call outside a request (the test's Revoke): a root.
				assert.NotEqual(t, "ginjwt.store is_revoked", s.Name())
				continue
			}
			parent, ok := byID[s.Parent().SpanID()]
			require.True(t, ok, "the parent of %s was recorded", s.Name())
			if s.Name() == "ginjwt.store is_revoked" {
				assert.True(t, strings.HasPrefix(parent.Name(), "ginjwt "), "is_revoked runs under a guard, not %s", parent.Name())
			}
		case strings.HasPrefix(s.Name(), "ginjwt "):
			parent, ok := byID[s.Parent().SpanID()]
			require.True(t, ok, "the parent of %s was recorded", s.Name())
			assert.Equal(t, trace.SpanKindServer, parent.SpanKind(), "%s under the request's span", s.Name())
			assert.Equal(t, parent.SpanContext().TraceID(), s.SpanContext().TraceID())
			assert.Equal(t, "ginjwt "+attr(s, otelginjwt.AttrGuard), s.Name())
			reasons[attr(s, otelginjwt.AttrReason)] = true
			assert.NotEmpty(t, attr(s, otelginjwt.AttrOutcome))
		}
	}
	assert.Positive(t, stores)
	for _, r := range documentedReasons(t) {
		assert.True(t, reasons[string(r)], "a span with ginjwt.reason=%s", r)
	}

	ok := okSpan(t, spans, "headers")
	assert.Equal(t, "HS256", attr(ok, otelginjwt.AttrAlgorithm))
	assert.Equal(t, "allowed", attr(ok, otelginjwt.AttrOutcome))
	assert.Equal(t, codes.Unset, ok.Status().Code)
	assert.False(t, hasAttr(ok, otelginjwt.AttrKeyID), "no kid, no attribute")

	// The JWKS token has a key ID.
	var jwks sdktrace.ReadOnlySpan
	for _, s := range spans {
		if attr(s, otelginjwt.AttrAlgorithm) == "ES256" && attr(s, otelginjwt.AttrReason) == "ok" {
			jwks = s
		}
	}
	require.NotNil(t, jwks)
	assert.Equal(t, "k1", attr(jwks, otelginjwt.AttrKeyID))

	// A refusal is not an error; a 5xx is.
	for _, s := range spans {
		if !strings.HasPrefix(s.Name(), "ginjwt ") {
			continue
		}
		switch attr(s, otelginjwt.AttrReason) {
		case "store_unavailable", "keys_unavailable", "keys_out_of_date", "user_lookup_failed", "internal":
			assert.Equal(t, codes.Error, s.Status().Code, attr(s, otelginjwt.AttrReason))
		default:
			assert.Equal(t, codes.Unset, s.Status().Code, attr(s, otelginjwt.AttrReason))
		}
	}
}

// okSpan is the span of an HS256 access token that went through.
func okSpan(t *testing.T, spans []sdktrace.ReadOnlySpan, location string) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range spans {
		if attr(s, otelginjwt.AttrReason) == "ok" && attr(s, otelginjwt.AttrLocation) == location &&
			attr(s, otelginjwt.AttrAlgorithm) == "HS256" && attr(s, otelginjwt.AttrGuard) == "access" {
			return s
		}
	}
	t.Fatalf("no ok span from %s", location)
	return nil
}

func hasAttr(s sdktrace.ReadOnlySpan, k attribute.Key) bool {
	return slices.ContainsFunc(s.Attributes(), func(kv attribute.KeyValue) bool { return kv.Key == k })
}

// No token, CSRF value or secret is in any attribute of any span, span
// event or metric, nor the identity unless WithIdentity asks for it.
func TestNoSecretInAttributes(t *testing.T) {
	for _, withIdentity := range []bool{false, true} {
		t.Run(fmt.Sprintf("WithIdentity=%v", withIdentity), func(t *testing.T) {
			tel := newTelemetry(t)
			var opts []otelginjwt.Option
			if withIdentity {
				opts = append(opts, otelginjwt.WithIdentity())
			}
			a := newApp(t, tel, opts...)
			for _, do := range a.requests() {
				do()
			}
			require.Equal(t, http.StatusOK, a.do(http.MethodPost, "/login", `{"username":"alice","password":"right"}`).Code)

			values := attributeValues(t, tel)
			require.NotEmpty(t, values)
			var secrets []string
			for _, s := range a.sent {
				secrets = append(secrets, s)
				// Each part of a token on its own: a payload alone is
				// the token's claims, a signature alone a MAC.
				for part := range strings.SplitSeq(s, ".") {
					if len(part) >= 8 {
						secrets = append(secrets, part)
					}
				}
			}
			for _, v := range values {
				for _, s := range secrets {
					assert.NotContains(t, v, s)
					// A piece of one is a leak too (a signature's tail,
					// a payload cut short).
					if len(v) >= 10 {
						assert.NotContains(t, s, v)
					}
				}
			}
			identities := []string{"alice", "mallory", "ghost", "unverified"}
			for _, who := range identities {
				if withIdentity {
					assert.Contains(t, values, who, "recorded with WithIdentity")
				} else {
					assert.NotContains(t, values, who, "personal data, off by default")
				}
			}
			if withIdentity {
				failed := spanWith(t, tel.spans.Ended(), otelginjwt.AttrReason, "bad_credentials")
				assert.Equal(t, "mallory", attr(failed, otelginjwt.AttrUserName))
				ok := okSpan(t, tel.spans.Ended(), "headers")
				assert.Equal(t, "alice", attr(ok, otelginjwt.AttrEnduserID))
			}
		})
	}
}

func spanWith(t *testing.T, spans []sdktrace.ReadOnlySpan, k attribute.Key, v string) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range spans {
		if attr(s, k) == v {
			return s
		}
	}
	t.Fatalf("no span with %s=%s", k, v)
	return nil
}

// attributeValues are the values of every attribute this module recorded
// (span, span event, status and metric attributes), otelgin's aside.
func attributeValues(t *testing.T, tel *telemetry) []string {
	var out []string
	add := func(kv []attribute.KeyValue) {
		for _, a := range kv {
			out = append(out, a.Value.String())
		}
	}
	for _, s := range tel.spans.Ended() {
		if s.InstrumentationScope().Name != otelginjwt.ScopeName {
			continue
		}
		add(s.Attributes())
		for _, e := range s.Events() {
			add(e.Attributes)
		}
		out = append(out, s.Status().Description)
	}
	// The events this module adds to otelgin's spans.
	for _, s := range tel.spans.Ended() {
		for _, e := range s.Events() {
			if strings.HasPrefix(e.Name, "ginjwt.") {
				add(e.Attributes)
			}
		}
	}
	for _, m := range tel.collect(t) {
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			for _, dp := range d.DataPoints {
				add(dp.Attributes.ToSlice())
			}
		case metricdata.Histogram[float64]:
			for _, dp := range d.DataPoints {
				add(dp.Attributes.ToSlice())
			}
		case metricdata.Gauge[int64]:
			for _, dp := range d.DataPoints {
				add(dp.Attributes.ToSlice())
			}
		}
	}
	return out
}

// The docs' metrics table is what the module records: every metric listed
// is produced by the tests' requests with the listed kind and unit, and
// every metric produced is listed.
func TestMetricsTableMatchesTheDocs(t *testing.T) {
	tel := newTelemetry(t)
	a := newApp(t, tel)
	for _, do := range a.requests() {
		do()
	}
	require.Equal(t, http.StatusOK, a.do(http.MethodPost, "/login", `{"username":"bob","password":"right"}`).Code)
	require.Equal(t, http.StatusOK, a.do(http.MethodPost, "/everywhere", "", bearer(a.access("bob"))).Code)
	a.store.emit(context.Background(), ginjwt.Event{Kind: ginjwt.EventBreakerOpened})
	a.jwksClock.Sleep(time.Minute) // past the JWKS' minimum interval: the issuer is back
	for i := range 300 {
		w := a.get("/jwks", bearer(a.token(a.issuer.CreateAccessToken(fmt.Sprintf("user%d", i)))))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	}
	metrics := tel.collect(t)

	page := docsPage(t)
	start := strings.Index(page, "### Metrics")
	require.Positive(t, start, "docs/observability.md has a Metrics section")
	section := page[start:]
	section = section[:strings.Index(section[4:], "\n#")+4]
	rows := regexp.MustCompile("(?m)^\\| `(ginjwt\\.[a-z_.]+)` \\| (\\w+) \\| `([^`]+)` \\|").FindAllStringSubmatch(section, -1)
	require.NotEmpty(t, rows)
	var documented []string
	for _, row := range rows {
		name, kind, unit := row[1], row[2], row[3]
		documented = append(documented, name)
		m, ok := metrics[name]
		if !assert.True(t, ok, "%s was recorded", name) {
			continue
		}
		assert.Equal(t, unit, m.Unit, name)
		switch m.Data.(type) {
		case metricdata.Sum[int64]:
			assert.Equal(t, "counter", kind, name)
		case metricdata.Histogram[float64]:
			assert.Equal(t, "histogram", kind, name)
		case metricdata.Gauge[int64]:
			assert.Equal(t, "gauge", kind, name)
		default:
			t.Errorf("%s: %T", name, m.Data)
		}
	}
	for name := range metrics {
		assert.Contains(t, documented, name, "docs/observability.md lists %s", name)
	}
}

func TestObserverOptions(t *testing.T) {
	_, err := otelginjwt.Observer(otelginjwt.WithMeterProvider(nil), otelginjwt.WithTracerProvider(nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WithMeterProvider: nil provider")
	assert.Contains(t, err.Error(), "WithTracerProvider: nil provider")

	// The globals by default: a Manager with it works and records nothing
	// anywhere (the global providers are no-ops until set).
	obs, err := otelginjwt.Observer()
	require.NoError(t, err)
	m, err := ginjwt.New(ginjwt.WithSecretKey([]byte(secret)), ginjwt.WithObserver(obs))
	require.NoError(t, err)
	r := gin.New()
	r.GET("/p", m.JWTRequired(), func(c *gin.Context) { c.Status(http.StatusOK) })
	tok, err := m.CreateAccessToken("alice")
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodGet, "/p", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	assert.Equal(t, http.StatusOK, w.Code)
}

// One observer serves concurrent requests of several Managers (go test
// -race checks the attribute sets worked out on first sight).
func TestConcurrentFirstSights(t *testing.T) {
	tel := newTelemetry(t)
	a := newApp(t, tel)
	alice := a.access("alice")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				switch (i + j) % 4 {
				case 0:
					a.get("/p", bearer(alice))
				case 1:
					a.get("/p")
				case 2:
					a.get("/fresh", bearer(alice))
				default:
					a.get("/down", bearer(alice))
				}
			}
		})
	}
	wg.Wait()
	got := sums(t, tel.collect(t)[otelginjwt.MetricGuardOutcomes], otelginjwt.AttrGuard, otelginjwt.AttrReason)
	assert.Equal(t, map[string]int64{"access/ok": 40, "access/no_token": 40, "fresh/not_fresh": 40, "access/store_unavailable": 40}, got)
}

// A request whose trace was not sampled upstream gets no ginjwt span (they
// follow their parent's decision), and is still counted; one sampled
// upstream gets its guard span in that trace.
func TestSpansFollowTheParentsSampling(t *testing.T) {
	tel := newTelemetry(t)
	m, err := ginjwt.New(ginjwt.WithSecretKey([]byte(secret)), ginjwt.WithObserver(tel.observer(t)),
		ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)))
	require.NoError(t, err)
	r := gin.New()
	r.Use(otelgin.Middleware("test", otelgin.WithTracerProvider(tel.tp), otelgin.WithPropagators(propagation.TraceContext{})))
	r.GET("/p", m.JWTRequired(), func(c *gin.Context) { c.Status(http.StatusOK) })
	tok, err := m.CreateAccessToken("alice")
	require.NoError(t, err)
	send := func(flags string) {
		req := httptest.NewRequest(http.MethodGet, "/p", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-"+flags)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		require.Equal(t, http.StatusOK, w.Code)
	}

	send("00")
	assert.Empty(t, tel.spans.Ended(), "nothing sampled")
	assert.Equal(t, map[string]int64{"ok": 1}, sums(t, tel.collect(t)[otelginjwt.MetricGuardOutcomes], otelginjwt.AttrReason))

	send("01")
	guard := spanNamed(t, tel.spans.Ended(), "ginjwt access")
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", guard.SpanContext().TraceID().String())
	store := spanNamed(t, tel.spans.Ended(), "ginjwt.store is_revoked")
	assert.Equal(t, guard.SpanContext().SpanID(), store.Parent().SpanID())
}
