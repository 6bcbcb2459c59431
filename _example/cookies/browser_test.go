package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// browserTimeout bounds the whole browser test, start and shutdown included,
// so that it can never hang. The test takes about two seconds; the margin is
// for starting Chromium on a busy machine, which has been seen to take over
// a minute while fuzzers held both cores.
const browserTimeout = 2 * time.Minute

// findChromium returns the path of Debian's Chromium, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	return ""
}

// The page in a real headless Chromium: the JWT cookie is invisible to
// JavaScript, the page sends the CSRF value it can read, and logout clears
// the cookies.
func TestBrowser(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		if os.Getenv("GINJWT_REQUIRE_BROWSER") != "" {
			t.Fatal("chromium not installed (apt-get install chromium) and GINJWT_REQUIRE_BROWSER is set")
		}
		t.Skip("SKIPPED: chromium not installed (apt-get install chromium)")
	}
	srv := newServer(t)

	// chromedp starts Chromium with a fresh --user-data-dir under TMPDIR;
	// when the allocator is cancelled it kills every process started with
	// that directory and removes it. Under t.TempDir we can check that.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)

	ctx, cancelTimeout := context.WithTimeout(context.Background(), browserTimeout)
	defer cancelTimeout()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox, // root in a container
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// Without these Chromium calls home, and a closed network refuses it.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
	)...)
	defer func() {
		start := time.Now()
		cancelAlloc() // waits for Chromium to exit
		t.Logf("stop Chromium (%v)", time.Since(start).Round(time.Millisecond))
		assert.Empty(t, processesUsing(tmp), "Chromium processes outlived the test")
	}()
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	p := page{t: t, ctx: ctx}

	// Login CSRF: another site's page auto-submits a text/plain form whose
	// body looks like JSON. The browser sends it without a CORS preflight;
	// the login refuses it, so the browser holds no session afterwards.
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprintf(w, `<form method="POST" action="%s/login" enctype="text/plain">`+
			`<input name='{"username":"test","password":"test","x":"' value='"}'></form>`+
			`<script>document.forms[0].submit()</script>`, srv.URL)
	}))
	defer attacker.Close()
	// localhost and 127.0.0.1 are different sites.
	attackerURL := strings.Replace(attacker.URL, "127.0.0.1", "localhost", 1)
	p.do("visit the attacker's page", chromedp.Navigate(attackerURL),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`location.href === %q && document.readyState === "complete"`, srv.URL+"/login"),
			chromedp.WithPollingInterval(20*time.Millisecond)))
	assert.Contains(t, run(p, "read the answer to the forged login", chromedp.Evaluate[string](`document.body.innerText`)),
		"Did not attempt to load JSON data because the request Content-Type was not 'application/json'.")
	require.Empty(t, p.browserCookies(srv.URL), "a cross-site text/plain form logs nobody in")

	// Open the page.
	p.do("open the page", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("login")))
	assert.Equal(t, "ginjwt: JWT in cookies", run(p, "read the title", chromedp.Title()))
	assert.Equal(t, "(none)", run(p, "read the cookies shown", chromedp.Text(chromedp.ID("cookies"))))
	require.NotEmpty(t, processesUsing(tmp), "the leftover check at the end must see a running Chromium")

	// A wrong password sets no cookie.
	p.do("fill the form with a wrong password",
		chromedp.SendKeys(chromedp.ID("username"), "test"),
		chromedp.SendKeys(chromedp.ID("password"), "wrong"))
	status, body := p.press("submit a wrong password", "#login-submit")
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Bad username or password"), body)
	assert.Empty(t, p.cookieNames(), "no cookie after a failed login")

	// Log in.
	// Empty the field as a user would see it: chromedp.Clear only resets
	// the value attribute, not what was typed.
	p.do("fill the form",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("password").value = ""`),
		chromedp.SendKeys(chromedp.ID("password"), "test"))
	status, body = p.press("log in", "#login-submit")
	require.Equal(t, 200, status, "%v", body)
	assert.Equal(t, msg("login successful"), body)

	// The protected call with the CSRF header read from document.cookie.
	status, body = p.press("call /api/echo with X-CSRF-TOKEN", "#echo")
	require.Equal(t, 200, status, "%v", body)
	assert.Equal(t, map[string]any{"logged_in_as": "test", "echo": map[string]any{"hello": "from the page"}}, body)

	// The same call without the header: the cookie alone is refused.
	status, body = p.press("call /api/echo without X-CSRF-TOKEN", "#echo-no-csrf")
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Missing CSRF token"), body)

	// JavaScript sees the CSRF cookies, not the HttpOnly JWT cookies...
	names := p.cookieNames()
	assert.Contains(t, names, "csrf_access_token")
	assert.Contains(t, names, "csrf_refresh_token")
	assert.NotContains(t, names, "access_token_cookie", "HttpOnly hides the JWT from JavaScript")
	assert.NotContains(t, names, "refresh_token_cookie")
	shown := run(p, "read the cookies shown", chromedp.Text(chromedp.ID("cookies")))
	assert.Contains(t, shown, "csrf_access_token=")
	assert.NotContains(t, shown, "access_token_cookie")
	// ...although the browser holds them and sends them.
	jar := p.browserCookies(srv.URL)
	require.Contains(t, jar, "access_token_cookie")
	assert.True(t, jar["access_token_cookie"].HTTPOnly)
	assert.Equal(t, "/", jar["access_token_cookie"].Path)
	require.Contains(t, jar, "refresh_token_cookie")
	assert.True(t, jar["refresh_token_cookie"].HTTPOnly)
	assert.Equal(t, "/refresh", jar["refresh_token_cookie"].Path)
	require.Contains(t, jar, "csrf_access_token")
	assert.False(t, jar["csrf_access_token"].HTTPOnly)

	// Log out.
	status, body = p.press("log out", "#logout")
	assert.Equal(t, 200, status)
	assert.Equal(t, msg("logout successful"), body)
	assert.Empty(t, p.cookieNames(), "logout expires the CSRF cookies")
	assert.Empty(t, p.browserCookies(srv.URL), "logout expires the JWT cookies")

	// The protected call again: no cookie any more.
	status, body = p.press("call /api/echo after logout", "#echo")
	assert.Equal(t, 401, status)
	assert.Equal(t, msg(`Missing cookie "access_token_cookie"`), body)
}

// page drives the tab of ctx; every failure names its step.
type page struct {
	t   *testing.T
	ctx context.Context
}

func (p page) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	start := time.Now()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v%s", step, err, budget(p.ctx))
	}
	p.t.Logf("%s (%v)", step, time.Since(start).Round(time.Millisecond))
}

func run[T any](p page, step string, action chromedp.Action[T]) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, action)
	if err != nil {
		p.t.Fatalf("%s: %v%s", step, err, budget(p.ctx))
	}
	return v
}

// budget explains a failure that the test's deadline caused.
func budget(ctx context.Context) string {
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Sprintf(" (the browser test's %v budget ran out)", browserTimeout)
	}
	return ""
}

// press clicks a button, waits for the page to show the next answer (the
// data-n counter of #answer) and returns its status and JSON body.
func (p page) press(step string, button chromedp.CSS) (int, map[string]any) {
	p.t.Helper()
	const counter = `document.getElementById("answer").dataset.n`
	n := run(p, step, chromedp.Evaluate[string](counter))
	p.do(step, chromedp.Click(button, chromedp.NodeVisible),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`%s !== %q`, counter, n), chromedp.WithPollingInterval(20*time.Millisecond)))
	status, err := strconv.Atoi(run(p, step, chromedp.TextContent(chromedp.ID("status"))))
	require.NoError(p.t, err, step)
	answer := run(p, step, chromedp.TextContent(chromedp.ID("answer")))
	var body map[string]any
	require.NoError(p.t, json.Unmarshal([]byte(answer), &body), "%s: %s", step, answer)
	return status, body
}

// cookieNames returns the names of the cookies JavaScript can read.
func (p page) cookieNames() []string {
	p.t.Helper()
	var names []string
	for part := range strings.SplitSeq(run(p, "read document.cookie", chromedp.Evaluate[string](`document.cookie`)), "; ") {
		if name, _, _ := strings.Cut(part, "="); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// browserCookies returns the cookies the browser keeps for the server,
// HttpOnly ones included, by name.
func (p page) browserCookies(base string) map[string]*network.Cookie {
	p.t.Helper()
	cookies := run(p, "read the browser's cookies", func(ctx context.Context, tg *chromedp.Target) ([]*network.Cookie, error) {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/", base + "/refresh"}})
		return res.Cookies, err
	})
	out := map[string]*network.Cookie{}
	for _, c := range cookies {
		out[c.Name] = c
	}
	return out
}

// processesUsing returns the live processes whose command line names dir
// (Chromium passes --user-data-dir to all of its children).
func processesUsing(dir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	want := []byte(dir)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(cmdline, want) {
			pids = append(pids, pid)
		}
	}
	return pids
}
