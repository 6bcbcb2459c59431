package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func init() { gin.SetMode(gin.TestMode) }

// running is the example serving on 127.0.0.1, its API and its metrics
// on two ports as main does, with spans kept in memory.
type running struct {
	t            *testing.T
	api, metrics *httptest.Server
	spans        *tracetest.SpanRecorder
}

func start(t *testing.T) *running {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	spans := tracetest.NewSpanRecorder()
	a, err := newApp(key, sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)))
	require.NoError(t, err)
	r := &running{t: t, api: httptest.NewServer(a.api), metrics: httptest.NewServer(a.metrics), spans: spans}
	t.Cleanup(r.api.Close)
	t.Cleanup(r.metrics.Close)
	return r
}

// call sends a request over HTTP and returns the status and JSON body.
func (r *running) call(method, path, token, body string) (int, map[string]any) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.api.URL+path, strings.NewReader(body))
	require.NoError(r.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := r.api.Client().Do(req)
	require.NoError(r.t, err)
	defer res.Body.Close()
	out := map[string]any{}
	data, err := io.ReadAll(res.Body)
	require.NoError(r.t, err)
	if len(data) > 0 {
		require.NoError(r.t, json.Unmarshal(data, &out), string(data))
	}
	return res.StatusCode, out
}

func (r *running) login(user, password string) (access, refresh string) {
	r.t.Helper()
	status, body := r.call(http.MethodPost, "/login", "", `{"username":"`+user+`","password":"`+password+`"}`)
	require.Equal(r.t, http.StatusOK, status, body)
	return body["access_token"].(string), body["refresh_token"].(string)
}

// scrape reads /metrics through Prometheus' own text parser.
func (r *running) scrape() map[string]*dto.MetricFamily {
	r.t.Helper()
	res, err := r.metrics.Client().Get(r.metrics.URL + "/metrics")
	require.NoError(r.t, err)
	defer res.Body.Close()
	require.Equal(r.t, http.StatusOK, res.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(res.Body)
	require.NoError(r.t, err)
	return families
}

// value adds up a family's samples whose labels include want: a counter's
// or gauge's value, a histogram's count.
func value(families map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := families[name]
	if !ok {
		return 0
	}
	var sum float64
	for _, m := range f.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// forged returns a token whose header says what the test wants, signed by
// no one.
func forged(header string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(`{"sub":"alice"}`)) + "." + enc.EncodeToString([]byte("sig"))
}

// TestEveryOutcome drives each outcome the app can produce over HTTP and
// reads the figures back from /metrics: each reason counted as often as
// it was caused, and the sessions, rotations, replays, revocations, cache
// lookups and store calls behind them.
func TestEveryOutcome(t *testing.T) {
	r := start(t)
	type outcome struct{ guard, reason string }
	sent := map[outcome]int{}
	expect := func(guard, reason string, status int, got int, body map[string]any) {
		t.Helper()
		require.Equal(t, status, got, "%s/%s: %v", guard, reason, body)
		sent[outcome{guard, reason}]++
	}

	access, refresh := r.login("alice", "wonderland")
	sent[outcome{"login", "ok"}]++
	s, b := r.call(http.MethodPost, "/login", "", `{"username":"alice","password":"guess"}`)
	expect("login", "bad_credentials", 401, s, b)
	s, b = r.call(http.MethodGet, "/api/hello", "", "")
	expect("access", "anonymous", 200, s, b)
	assert.Equal(t, "stranger", b["hello"])
	for range 3 {
		s, b = r.call(http.MethodGet, "/api/me", access, "")
		expect("access", "ok", 200, s, b)
	}
	s, b = r.call(http.MethodGet, "/api/me", "", "")
	expect("access", "no_token", 401, s, b)
	req, err := http.NewRequest(http.MethodGet, r.api.URL+"/api/me", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer a b")
	res, err := r.api.Client().Do(req)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	expect("access", "invalid_header", 422, res.StatusCode, nil)
	s, b = r.call(http.MethodGet, "/api/me", "not-a-jwt", "")
	expect("access", "malformed", 422, s, b)
	s, b = r.call(http.MethodGet, "/api/me", access[:len(access)-6]+"AAAAAA", "")
	expect("access", "bad_signature", 422, s, b)
	s, b = r.call(http.MethodGet, "/api/me", forged(`{"alg":"none"}`), "")
	expect("access", "algorithm_not_allowed", 422, s, b)
	s, b = r.call(http.MethodGet, "/api/me", forged(`{"alg":"ES256","kid":"stolen-laptop"}`), "")
	expect("access", "unknown_key", 422, s, b)
	s, b = r.call(http.MethodGet, "/api/me", refresh, "")
	expect("access", "wrong_type", 422, s, b)
	s, b = r.call(http.MethodGet, "/api/admin", access, "")
	expect("access", "forbidden", 403, s, b)
	s, b = r.call(http.MethodPost, "/api/password", access, "")
	expect("fresh", "ok", 200, s, b)

	// A rotation, then the old refresh token replayed: its session ends.
	s, b = r.call(http.MethodPost, "/refresh", refresh, "")
	expect("refresh", "ok", 200, s, b)
	renewed := b["access_token"].(string)
	s, b = r.call(http.MethodPost, "/api/password", renewed, "")
	expect("fresh", "not_fresh", 401, s, b)
	s, b = r.call(http.MethodPost, "/refresh", refresh, "")
	expect("refresh", "refresh_reused", 401, s, b)
	s, b = r.call(http.MethodGet, "/api/me", renewed, "")
	expect("access", "revoked", 401, s, b)

	// Bob logs out; Alice logs out everywhere.
	bob, _ := r.login("bob", "builder")
	sent[outcome{"login", "ok"}]++
	s, b = r.call(http.MethodPost, "/logout", bob, "")
	expect("logout", "ok", 200, s, b)
	s, b = r.call(http.MethodGet, "/api/me", bob, "")
	expect("access", "revoked", 401, s, b)
	again, _ := r.login("alice", "wonderland")
	sent[outcome{"login", "ok"}]++
	s, b = r.call(http.MethodPost, "/api/sessions/revoke", again, "")
	expect("access", "ok", 200, s, b)

	m := r.scrape()
	for o, n := range sent {
		assert.Equal(t, float64(n), value(m, "ginjwt_guard_outcomes_total", map[string]string{"ginjwt_guard": o.guard, "ginjwt_reason": o.reason}),
			"ginjwt_guard_outcomes_total{ginjwt_guard=%q,ginjwt_reason=%q}", o.guard, o.reason)
	}
	total := 0
	for _, n := range sent {
		total += n
	}
	assert.Equal(t, float64(total), value(m, "ginjwt_guard_outcomes_total", nil), "no outcome that was not sent")
	assert.Equal(t, float64(sent[outcome{"access", "ok"}]+sent[outcome{"access", "anonymous"}]+sent[outcome{"fresh", "ok"}]+
		sent[outcome{"refresh", "ok"}]+3+1), value(m, "ginjwt_guard_outcomes_total", map[string]string{"ginjwt_outcome": "allowed"}),
		"allowed: the guards' and the three logins' and the logout")

	assert.Equal(t, 3.0, value(m, "ginjwt_sessions_started_total", nil))
	assert.Equal(t, 1.0, value(m, "ginjwt_refresh_rotations_total", nil))
	assert.Equal(t, 1.0, value(m, "ginjwt_refresh_replays_total", nil))
	assert.Equal(t, 1.0, value(m, "ginjwt_sessions_ended_total", map[string]string{"ginjwt_reason": "refresh_reused"}))
	assert.Equal(t, 1.0, value(m, "ginjwt_sessions_ended_total", map[string]string{"ginjwt_reason": "logout"}))
	assert.Equal(t, 1.0, value(m, "ginjwt_sessions_ended_total", map[string]string{"ginjwt_reason": "identity_revoked"}))
	assert.Equal(t, 1.0, value(m, "ginjwt_identities_revoked_total", nil))
	// Alice's first token: checked once, then found in the cache; each
	// other token the service minted is checked once.
	assert.GreaterOrEqual(t, value(m, "ginjwt_token_cache_lookups_total", map[string]string{"ginjwt_cache_result": "hit"}), 3.0)
	assert.Positive(t, value(m, "ginjwt_token_cache_lookups_total", map[string]string{"ginjwt_cache_result": "miss"}))
	// Every guard that verified a token asked the store.
	assert.Positive(t, value(m, "ginjwt_store_duration_seconds", map[string]string{"ginjwt_store_operation": "is_revoked"}))
	for _, op := range []string{"rotate", "current", "revoke", "revoke_identity", "save_session", "delete_session"} {
		assert.Positive(t, value(m, "ginjwt_store_duration_seconds", map[string]string{"ginjwt_store_operation": op}), op)
	}
	assert.Zero(t, value(m, "ginjwt_store_errors_total", nil))
	assert.Equal(t, float64(total-sent[outcome{"login", "ok"}]-sent[outcome{"login", "bad_credentials"}]-sent[outcome{"logout", "ok"}]),
		value(m, "ginjwt_guard_duration_seconds", nil), "every guard timed, the handlers not")
	// otelgin's own metrics are there too.
	assert.Positive(t, value(m, "http_server_request_duration_seconds", nil))

	// The guards' spans are children of otelgin's.
	spans := r.spans.Ended()
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s
	}
	guards := 0
	for _, s := range spans {
		if s.Name() == "ginjwt access" {
			guards++
			assert.Equal(t, trace.SpanKindServer, byID[s.Parent().SpanID()].SpanKind())
		}
	}
	assert.Positive(t, guards)
}
