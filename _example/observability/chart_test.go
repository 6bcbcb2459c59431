package main

import (
	"fmt"
	"html"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoadChart runs a load through the example (logins, requests,
// refreshes, replays, logouts and a few hostile requests) and checks the
// figures /metrics gives against what was sent. With OBSERVABILITY_CHART
// set to a file name it also draws them there as an SVG, the picture of
// docs/observability.md:
//
//	OBSERVABILITY_CHART=../../docs/observability-load.svg go test -run TestLoadChart .
func TestLoadChart(t *testing.T) {
	sessions := 300
	if testing.Short() {
		sessions = 40
	}
	r := start(t)
	rng := rand.New(rand.NewPCG(23, 5))
	sent := map[string]int{}
	call := func(reason, method, path, token string, status int) map[string]any {
		t.Helper()
		got, body := r.call(method, path, token, "")
		require.Equal(t, status, got, "%s %s: %v", method, path, body)
		sent[reason]++
		return body
	}
	requests := 0
	for i := range sessions {
		user, password := "alice", "wonderland"
		if i%2 == 1 {
			user, password = "bob", "builder"
		}
		if i%19 == 0 {
			got, _ := r.call(http.MethodPost, "/login", "", `{"username":"`+user+`","password":"hunter2"}`)
			require.Equal(t, http.StatusUnauthorized, got)
			sent["bad_credentials"]++
			continue
		}
		access, refresh := r.login(user, password)
		sent["ok"]++
		for range 10 + rng.IntN(20) {
			call("ok", http.MethodGet, "/api/me", access, http.StatusOK)
		}
		switch rng.IntN(10) {
		case 0:
			call("no_token", http.MethodGet, "/api/me", "", http.StatusUnauthorized)
		case 1:
			call("bad_signature", http.MethodGet, "/api/me", access[:len(access)-6]+"AAAAAA", http.StatusUnprocessableEntity)
		case 2:
			call("forbidden", http.MethodGet, "/api/admin", access, http.StatusForbidden)
		case 3:
			call("anonymous", http.MethodGet, "/api/hello", "", http.StatusOK)
		}
		body := call("ok", http.MethodPost, "/refresh", refresh, http.StatusOK)
		renewed := body["access_token"].(string)
		for range 5 + rng.IntN(10) {
			call("ok", http.MethodGet, "/api/me", renewed, http.StatusOK)
		}
		if rng.IntN(8) == 0 {
			call("not_fresh", http.MethodPost, "/api/password", renewed, http.StatusUnauthorized)
		}
		switch {
		case i%37 == 0: // a stolen refresh token, replayed
			call("refresh_reused", http.MethodPost, "/refresh", refresh, http.StatusUnauthorized)
			call("revoked", http.MethodGet, "/api/me", renewed, http.StatusUnauthorized)
		case i%3 == 0:
			call("ok", http.MethodPost, "/logout", renewed, http.StatusOK)
			call("revoked", http.MethodGet, "/api/me", renewed, http.StatusUnauthorized)
		}
	}
	for _, n := range sent {
		requests += n
	}

	m := r.scrape()
	byReason := map[string]float64{}
	for _, s := range m["ginjwt_guard_outcomes_total"].GetMetric() {
		byReason[label(s, "ginjwt_reason")] += s.GetCounter().GetValue()
	}
	for reason, n := range sent {
		assert.Equal(t, float64(n), byReason[reason], reason)
	}
	assert.Len(t, byReason, len(sent), "only the reasons sent: %v", byReason)
	hits := value(m, "ginjwt_token_cache_lookups_total", map[string]string{"ginjwt_cache_result": "hit"})
	misses := value(m, "ginjwt_token_cache_lookups_total", map[string]string{"ginjwt_cache_result": "miss"})
	assert.Greater(t, hits/(hits+misses), 0.8, "tokens are sent again and again")

	path := os.Getenv("OBSERVABILITY_CHART")
	if path == "" {
		return
	}
	svg := drawChart(m, byReason, requests)
	require.NoError(t, os.WriteFile(path, []byte(svg), 0o600))
	t.Logf("%d requests; chart written to %s", requests, path)
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// buckets adds up a histogram family's cumulative buckets over the series
// whose labels include want: upper bounds and counts, +Inf last.
func buckets(f *dto.MetricFamily, want map[string]string) (bounds []float64, counts []float64) {
	sum := map[float64]float64{}
	for _, m := range f.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		for _, b := range m.GetHistogram().GetBucket() {
			sum[b.GetUpperBound()] += float64(b.GetCumulativeCount())
		}
		// The text format lists the +Inf bucket; the sample count is it.
		if _, ok := sum[math.Inf(1)]; !ok {
			sum[math.Inf(1)] = 0
		}
	}
	for _, m := range f.GetMetric() {
		if hasLabels(m, want) && !slices.ContainsFunc(m.GetHistogram().GetBucket(), func(b *dto.Bucket) bool { return math.IsInf(b.GetUpperBound(), 1) }) {
			sum[math.Inf(1)] += float64(m.GetHistogram().GetSampleCount())
		}
	}
	for b := range sum {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	for _, b := range bounds {
		counts = append(counts, sum[b])
	}
	return bounds, counts
}

// quantile estimates a quantile from cumulative buckets as Prometheus'
// histogram_quantile does: linear within the bucket.
func quantile(q float64, bounds, counts []float64) float64 {
	if len(counts) == 0 || counts[len(counts)-1] == 0 {
		return math.NaN()
	}
	rank := q * counts[len(counts)-1]
	lower, below := 0.0, 0.0
	for i, c := range counts {
		if c >= rank {
			if math.IsInf(bounds[i], 1) {
				return lower
			}
			return lower + (bounds[i]-lower)*(rank-below)/(c-below)
		}
		lower, below = bounds[i], c
	}
	return lower
}

func micros(s float64) string {
	if s >= 1 {
		return fmt.Sprintf("%g s", s)
	}
	if s >= 0.001 {
		return fmt.Sprintf("%.1f ms", s*1000)
	}
	return fmt.Sprintf("%.0f µs", s*1e6)
}

// drawChart draws the outcomes by reason (log scale) on the left, the
// latency distributions of the guards and the store on the right, and the
// other figures below.
func drawChart(m map[string]*dto.MetricFamily, byReason map[string]float64, requests int) string {
	const width, height = 960, 600
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="20" y="30" font-size="17" font-weight="bold">ginjwt after a load run of _example/observability: %d requests, read from /metrics</text>`+"\n", requests)

	// Left: ginjwt_guard_outcomes_total by reason.
	type bar struct {
		reason string
		n      float64
	}
	var bars []bar
	for r, n := range byReason {
		bars = append(bars, bar{r, n})
	}
	slices.SortFunc(bars, func(a, b bar) int {
		if a.n != b.n {
			return int(b.n - a.n)
		}
		return strings.Compare(a.reason, b.reason)
	})
	fmt.Fprintf(&b, `<text x="20" y="62" font-weight="bold">ginjwt_guard_outcomes_total by ginjwt_reason (log scale)</text>`+"\n")
	const left, top, barW, rowH = 150, 80, 290, 30
	maxLog := math.Log10(bars[0].n) + 0.2
	for i, br := range bars {
		y := top + i*rowH
		w := math.Max(2, barW*math.Log10(br.n+1)/maxLog)
		color := "#d9822b" // refused
		if br.reason == "ok" || br.reason == "anonymous" {
			color = "#3f8f4f"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-8, y+16, html.EscapeString(br.reason))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="20" fill="%s"/>`+"\n", left, y+2, w, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%.0f</text>`+"\n", float64(left)+w+6, y+16, br.n)
	}
	legendY := top + len(bars)*rowH + 10
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="#3f8f4f"/><text x="%d" y="%d">allowed</text>`+"\n", left, legendY, left+18, legendY+11)
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="#d9822b"/><text x="%d" y="%d">refused</text>`+"\n", left+90, legendY, left+108, legendY+11)

	refused := 0.0
	for _, br := range bars {
		if br.reason != "ok" && br.reason != "anonymous" {
			refused += br.n
		}
	}
	fmt.Fprintf(&b, `<text x="20" y="%d">refused: %.0f of %d requests (%.1f%%)</text>`+"\n", legendY+50, refused, requests, 100*refused/float64(requests))

	// Right: the share of guard and store calls per latency bucket.
	gb, gc := buckets(m["ginjwt_guard_duration_seconds"], map[string]string{"ginjwt_guard": "access"})
	sb, sc := buckets(m["ginjwt_store_duration_seconds"], nil)
	const px, py, pw, ph = 540, 90, 390, 260
	fmt.Fprintf(&b, `<text x="%d" y="62" font-weight="bold">Share of calls per latency bucket (upper bound)</text>`+"\n", px-20)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#444"/>`+"\n", px, py+ph, px+pw, py+ph)
	n := len(gb)
	slot := float64(pw) / float64(n)
	share := func(counts []float64, i int) float64 {
		total := counts[len(counts)-1]
		if total == 0 {
			return 0
		}
		prev := 0.0
		if i > 0 {
			prev = counts[i-1]
		}
		return (counts[i] - prev) / total
	}
	for i := range n {
		x := float64(px) + float64(i)*slot
		for j, series := range []struct {
			counts []float64
			color  string
		}{{gc, "#4a6fb5"}, {sc, "#b54a8f"}} {
			if i >= len(series.counts) {
				continue
			}
			h := share(series.counts, i) * ph
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n",
				x+1+float64(j)*(slot/2-1), float64(py+ph)-h, slot/2-2, h, series.color)
		}
		name := "+Inf"
		if !math.IsInf(gb[i], 1) {
			name = micros(gb[i])
		}
		fmt.Fprintf(&b, `<text transform="translate(%.1f,%d) rotate(-60)" text-anchor="end" font-size="11">%s</text>`+"\n", x+slot/2, py+ph+12, name)
	}
	for _, frac := range []float64{0, 0.25, 0.5, 0.75, 1} {
		y := float64(py+ph) - frac*ph
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" font-size="11">%.0f%%</text>`+"\n", px-4, y+4, frac*100)
	}
	ly := py + ph + 70
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="#4a6fb5"/><text x="%d" y="%d">guard (access): p50 %s, p99 %s</text>`+"\n",
		px-20, ly, px-2, ly+11, micros(quantile(0.5, gb, gc)), micros(quantile(0.99, gb, gc)))
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="#b54a8f"/><text x="%d" y="%d">store calls (in memory): p50 %s, p99 %s</text>`+"\n",
		px-20, ly+20, px-2, ly+31, micros(quantile(0.5, sb, sc)), micros(quantile(0.99, sb, sc)))
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#555">quantiles as PromQL's histogram_quantile computes them</text>`+"\n",
		px-20, ly+50)

	// Below: the other figures.
	hits := value(m, "ginjwt_token_cache_lookups_total", map[string]string{"ginjwt_cache_result": "hit"})
	misses := value(m, "ginjwt_token_cache_lookups_total", map[string]string{"ginjwt_cache_result": "miss"})
	lines := []string{
		fmt.Sprintf("verified-token cache (ES256): %.0f hits, %.0f misses: hit ratio %.1f%%", hits, misses, 100*hits/(hits+misses)),
		fmt.Sprintf("sessions: %.0f started, %.0f renewed; ended: %.0f logout, %.0f refresh_reused",
			value(m, "ginjwt_sessions_started_total", nil), value(m, "ginjwt_sessions_renewed_total", nil),
			value(m, "ginjwt_sessions_ended_total", map[string]string{"ginjwt_reason": "logout"}),
			value(m, "ginjwt_sessions_ended_total", map[string]string{"ginjwt_reason": "refresh_reused"})),
		fmt.Sprintf("refresh tokens: %.0f rotations, %.0f replays; store errors: %.0f",
			value(m, "ginjwt_refresh_rotations_total", nil), value(m, "ginjwt_refresh_replays_total", nil),
			value(m, "ginjwt_store_errors_total", nil)),
	}
	for i, l := range lines {
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", px-20, ly+80+i*20, html.EscapeString(l))
	}
	b.WriteString("</svg>\n")
	return b.String()
}
