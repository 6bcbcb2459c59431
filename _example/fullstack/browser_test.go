package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/ginjwt/ginjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// browserTimeout bounds each browser test, Chromium's start and stop
// included, so that it can never hang.
const browserTimeout = 2 * time.Minute

func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("GINJWT_REQUIRE_BROWSER") != "" {
		t.Fatal("chromium not installed (apt-get install chromium) and GINJWT_REQUIRE_BROWSER is set")
	}
	t.Skip("SKIPPED: chromium not installed (apt-get install chromium); the front end is NOT tested")
	return ""
}

// browse starts headless Chromium for one test.
func browse(t *testing.T) context.Context {
	path := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	t.Cleanup(cancel)
	t.Setenv("TMPDIR", t.TempDir()) // chromedp's throwaway --user-data-dir
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		// Without these Chromium calls home, and a closed network refuses it.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
	)...)
	t.Cleanup(cancelAlloc) // kills Chromium
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	return bctx
}

// browsers starts Chromium and returns a tab in a browser context of its
// own per user agent: separate cookies and storage, as two computers
// would have, each sending its User-Agent.
func browsers(t *testing.T, agents ...string) []context.Context {
	bctx := browse(t)
	require.NoError(t, chromedp.Do(bctx)) // starts Chromium: new browser contexts need it
	var tabs []context.Context
	for _, agent := range agents {
		ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		require.NoError(t, chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
			_, err := cdp.Call(ctx, tab, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: agent})
			return err
		})))
		tabs = append(tabs, ctx)
	}
	return tabs
}

// click clicks a button and waits for the page's output line to start
// with want (or for 30 seconds), and returns it.
func click(t *testing.T, ctx context.Context, button, want string) string {
	t.Helper()
	return clickOn(t, ctx, chromedp.ID(button), want)
}

// clickOn is click for the element sel finds.
func clickOn[S chromedp.Selectable](t *testing.T, ctx context.Context, sel S, want string) string {
	t.Helper()
	eval[chromedp.Void](t, ctx, `document.getElementById("out").textContent = ""`)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(sel, chromedp.NodeVisible)))
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := eval[string](t, ctx, `document.getElementById("out").textContent`)
		if strings.HasPrefix(out, want) || (out != "" && time.Now().After(deadline)) || time.Now().After(deadline.Add(time.Second)) {
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fill types the form's fields.
func fill(t *testing.T, ctx context.Context, email, password, name string) {
	t.Helper()
	fillIn(t, ctx, map[string]string{"email": email, "password": password, "name": name})
}

// fillIn types the fields named by their IDs.
func fillIn(t *testing.T, ctx context.Context, fields map[string]string) {
	t.Helper()
	for id, v := range fields {
		js, err := json.Marshal(v)
		require.NoError(t, err)
		eval[chromedp.Void](t, ctx, `document.getElementById("`+id+`").value = `+string(js))
	}
}

// listed returns the text of each session the page lists.
func listed(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return eval[[]string](t, ctx, `[...document.querySelectorAll("#session-list li")].map((li) => li.textContent)`)
}

func open(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.ID("login"))))
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	require.NoError(t, err)
	return v
}

// The tutorial's story in a real browser: sign up, log in, the private
// page, log out (which revokes both tokens on the server).
func TestBrowserSameOrigin(t *testing.T) {
	srv, _ := startApp(t)
	ctx := browse(t)
	// The page takes its API from itself, never from the URL: a crafted
	// link cannot send the password elsewhere.
	open(t, ctx, srv.URL+"/?api=http://127.0.0.1:1")
	assert.Equal(t, srv.URL, eval[string](t, ctx, `document.getElementById("api").textContent`))
	fill(t, ctx, "ann@example.com", "correct horse", "Ann")
	assert.Equal(t, "201 signed up as ann@example.com", click(t, ctx, "signup", "201"))
	assert.Equal(t, "401 Missing Authorization Header", click(t, ctx, "private", "401"), "not logged in yet")
	assert.Equal(t, "200 logged in", click(t, ctx, "login", "200"))
	stored := eval[string](t, ctx, `sessionStorage.getItem("access_token") || ""`)
	assert.Equal(t, 2, strings.Count(stored, "."), "the token is kept in sessionStorage")
	assert.Equal(t, "200 Hello Ann <ann@example.com>", click(t, ctx, "private", "200"))
	access := eval[string](t, ctx, `sessionStorage.getItem("access_token")`)
	refresh := eval[string](t, ctx, `sessionStorage.getItem("refresh_token")`)
	assert.Equal(t, "logged out", click(t, ctx, "logout", "logged out"))
	assert.Equal(t, 0, eval[int](t, ctx, `sessionStorage.length`), "logout clears the tokens")
	assert.Equal(t, "401 Missing Authorization Header", click(t, ctx, "private", "401"))

	// Copies of the tokens taken before the logout no longer work.
	status, body, _ := call(t, "GET", srv.URL+"/private", access, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Token has been revoked"), body)
	status, body, _ = call(t, "POST", srv.URL+"/refresh", refresh, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Token has been revoked"), body)
}

// When the access token has expired, the page refreshes it with the
// refresh token and retries, and the user sees the private page.
func TestBrowserRefreshesExpiredToken(t *testing.T) {
	var ahead atomic.Int64 // how far the server's clock is ahead
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	srv, _ := startApp(t, ginjwt.WithClock(now), ginjwt.WithAccessExpires(time.Minute))
	ctx := browse(t)
	open(t, ctx, srv.URL+"/")
	fill(t, ctx, "cy@example.com", "correct horse", "Cy")
	assert.Equal(t, "201 signed up as cy@example.com", click(t, ctx, "signup", "201"))
	assert.Equal(t, "200 logged in", click(t, ctx, "login", "200"))
	first := eval[string](t, ctx, `sessionStorage.getItem("access_token")`)

	ahead.Store(int64(2 * time.Minute))
	status, body, _ := call(t, "GET", srv.URL+"/private", first, "")
	require.Equal(t, 401, status)
	require.Equal(t, msg("Token has expired"), body)

	assert.Equal(t, "200 Hello Cy <cy@example.com>", click(t, ctx, "private", "200"))
	second := eval[string](t, ctx, `sessionStorage.getItem("access_token")`)
	assert.NotEqual(t, first, second, "the page stored the new access token")
	status, _, _ = call(t, "GET", srv.URL+"/private", second, "")
	assert.Equal(t, 200, status)

	// The tab sits idle past the access token's life, then logs out: the
	// expired token still ends the session, refresh token included.
	refresh := eval[string](t, ctx, `sessionStorage.getItem("refresh_token")`)
	ahead.Add(int64(2 * time.Minute))
	assert.Equal(t, "logged out", click(t, ctx, "logout", "logged out"), "no error from the server")
	status, body, _ = call(t, "POST", srv.URL+"/refresh", refresh, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Token has been revoked"), body)
}

// The front end on another origin: allowed by CORS it works; from an
// origin the API does not list, the browser blocks the call.
func TestBrowserCrossOrigin(t *testing.T) {
	// The front-end servers serve a copy of the page whose api-base names
	// the API, on another port, as a deployment would.
	var apiURL atomic.Value
	serve := func(w http.ResponseWriter, _ *http.Request) {
		page, err := static.ReadFile("static/index.html")
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = w.Write([]byte(strings.Replace(string(page), `name="api-base" content=""`, `name="api-base" content="`+apiURL.Load().(string)+`"`, 1)))
	}
	front := httptest.NewServer(http.HandlerFunc(serve))
	defer front.Close()
	stranger := httptest.NewServer(http.HandlerFunc(serve))
	defer stranger.Close()

	r, db, err := newApp(Config{Secret: testSecret, Origins: []string{front.URL}})
	require.NoError(t, err)
	defer db.Close()
	api := httptest.NewServer(r)
	defer api.Close()
	apiURL.Store(api.URL)

	ctx := browse(t)
	open(t, ctx, front.URL+"/")
	assert.Equal(t, api.URL, eval[string](t, ctx, `document.getElementById("api").textContent`))
	fill(t, ctx, "bob@example.com", "correct horse", "Bob")
	assert.Equal(t, "201 signed up as bob@example.com", click(t, ctx, "signup", "201"))
	assert.Equal(t, "200 logged in", click(t, ctx, "login", "200"))
	assert.Equal(t, "200 Hello Bob <bob@example.com>", click(t, ctx, "private", "200"), "cross-origin call with Authorization")

	open(t, ctx, stranger.URL+"/")
	fill(t, ctx, "bob@example.com", "correct horse", "")
	out := click(t, ctx, "login", "error")
	assert.True(t, strings.HasPrefix(out, "error: TypeError"), "the browser blocked the call: %q", out)
}

// Two computers of one user, each in a browser context of its own: A
// lists both sessions, its own marked, and signs B's out; B's next
// request is refused, and B's refresh token too, so the page gets no new
// token. Then A signs out everywhere, B's new login included.
func TestBrowserSessions(t *testing.T) {
	var ahead atomic.Int64 // how far the server's clock is ahead
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	srv, _ := startApp(t, ginjwt.WithClock(now), ginjwt.WithAccessExpires(time.Minute))
	tabs := browsers(t, "Browser A", "Browser B")
	a, b := tabs[0], tabs[1]
	for _, tab := range tabs {
		open(t, tab, srv.URL+"/")
		fill(t, tab, "ann@example.com", "correct horse", "Ann")
	}
	assert.Equal(t, "201 signed up as ann@example.com", click(t, a, "signup", "201"))
	assert.Equal(t, "200 logged in", click(t, a, "login", "200"))
	assert.Equal(t, "200 logged in", click(t, b, "login", "200"))
	eval[chromedp.Void](t, a, `localStorage.setItem("device", "A")`)
	assert.Empty(t, eval[string](t, b, `localStorage.getItem("device") || ""`), "separate browser contexts: B does not see A's storage")

	assert.Equal(t, "200 2 sessions", click(t, a, "list-sessions", "200"))
	list := listed(t, a)
	require.Len(t, list, 2)
	assert.True(t, strings.HasPrefix(list[0], "Browser A (this device)from 127.0.0.1, logged in "), list[0])
	assert.True(t, strings.HasPrefix(list[1], "Browser B"), list[1])
	assert.NotContains(t, list[1], "this device")
	assert.Contains(t, list[1], "last renewed never")
	bAccess := eval[string](t, b, `sessionStorage.getItem("access_token")`)
	bRefresh := eval[string](t, b, `sessionStorage.getItem("refresh_token")`)

	assert.Equal(t, "200 Session ended", clickOn(t, a, chromedp.Search(`//li[contains(., "Browser B")]/button`), "200"))
	list = listed(t, a)
	require.Len(t, list, 1, "the list is shown again")
	assert.Contains(t, list[0], "Browser A (this device)")

	assert.Equal(t, "401 Token has been revoked", click(t, b, "private", "401"))
	// Once B's access token has expired the page tries its refresh token,
	// of the same ended session: refused, no new token.
	ahead.Add(int64(2 * time.Minute))
	assert.Equal(t, "401 Token has been revoked", click(t, b, "private", "401"), "the refresh was refused")
	assert.Equal(t, bAccess, eval[string](t, b, `sessionStorage.getItem("access_token")`), "no new access token")
	status, body, _ := call(t, "POST", srv.URL+"/refresh", bRefresh, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, msg("Token has been revoked"), body)
	assert.Equal(t, "200 Hello Ann <ann@example.com>", click(t, a, "private", "200"), "A refreshed its expired token: its session goes on")

	// B logs in again, then A signs out everywhere.
	assert.Equal(t, "200 logged in", click(t, b, "login", "200"))
	assert.Equal(t, "200 Hello Ann <ann@example.com>", click(t, b, "private", "200"))
	aAccess := eval[string](t, a, `sessionStorage.getItem("access_token")`)
	aRefresh := eval[string](t, a, `sessionStorage.getItem("refresh_token")`)
	assert.Equal(t, "200 Signed out everywhere", click(t, a, "signout-all", "200"))
	assert.Equal(t, "logged out", eval[string](t, a, `document.getElementById("status").textContent`))
	assert.Zero(t, eval[int](t, a, `sessionStorage.length`), "A forgot its tokens")
	assert.Equal(t, "401 Missing Authorization Header", click(t, a, "private", "401"))
	assert.Equal(t, "401 Token has been revoked", click(t, b, "private", "401"), "B's new login too")
	status, body, _ = call(t, "GET", srv.URL+"/private", aAccess, "")
	assert.Equal(t, 401, status, "a copy of A's access token")
	assert.Equal(t, msg("Token has been revoked"), body)
	status, body, _ = call(t, "POST", srv.URL+"/refresh", aRefresh, "")
	assert.Equal(t, 401, status, "a copy of A's refresh token")
	assert.Equal(t, msg("Token has been revoked"), body)
}

// A changes the password: B's next request is refused, A goes on with the
// new tokens the change gave it.
func TestBrowserPasswordChange(t *testing.T) {
	srv, _ := startApp(t)
	tabs := browsers(t, "Browser A", "Browser B")
	a, b := tabs[0], tabs[1]
	for _, tab := range tabs {
		open(t, tab, srv.URL+"/")
		fill(t, tab, "bea@example.com", "correct horse", "Bea")
	}
	assert.Equal(t, "201 signed up as bea@example.com", click(t, a, "signup", "201"))
	assert.Equal(t, "200 logged in", click(t, a, "login", "200"))
	assert.Equal(t, "200 logged in", click(t, b, "login", "200"))
	aAccess := eval[string](t, a, `sessionStorage.getItem("access_token")`)

	fillIn(t, a, map[string]string{"old-password": "wrong horse", "new-password": "battery staple"})
	assert.Equal(t, "401 Wrong password", click(t, a, "change-password", "401"))
	assert.Equal(t, "200 Hello Bea <bea@example.com>", click(t, b, "private", "200"), "nothing changed")

	fillIn(t, a, map[string]string{"old-password": "correct horse", "new-password": "battery staple"})
	assert.Equal(t, "200 password changed, every other device signed out", click(t, a, "change-password", "200"))
	assert.Empty(t, eval[string](t, a, `document.getElementById("old-password").value + document.getElementById("new-password").value`),
		"the form forgets the passwords")
	assert.NotEqual(t, aAccess, eval[string](t, a, `sessionStorage.getItem("access_token")`), "A keeps the new tokens")
	assert.Equal(t, "200 Hello Bea <bea@example.com>", click(t, a, "private", "200"))
	assert.Equal(t, "401 Token has been revoked", click(t, b, "private", "401"))
	assert.Equal(t, "200 1 session", click(t, a, "list-sessions", "200"))
	list := listed(t, a)
	require.Len(t, list, 1)
	assert.True(t, strings.HasPrefix(list[0], "Browser A (this device)"), list[0])

	status, body, _ := call(t, "GET", srv.URL+"/private", aAccess, "")
	assert.Equal(t, 401, status, "A's tokens from before the change are refused too")
	assert.Equal(t, msg("Token has been revoked"), body)
	assert.Equal(t, "401 Bad email or password", click(t, b, "login", "401"), "the old password")
	fill(t, b, "bea@example.com", "battery staple", "")
	assert.Equal(t, "200 logged in", click(t, b, "login", "200"))
	assert.Equal(t, "200 Hello Bea <bea@example.com>", click(t, b, "private", "200"))
}

// Any client can log in with any User-Agent, and the sessions page shows
// it: as text. An <img onerror> given as the user agent is shown, and
// runs nothing.
func TestBrowserUserAgentIsText(t *testing.T) {
	const hostile = `<img src=x onerror=window.pwned=1><b id=bold>bold</b>`
	srv, _ := startApp(t)
	signup(t, srv.URL, "cat@example.com")
	session(t, srv.URL, "cat@example.com", hostile)

	ctx := browsers(t, "Browser A")[0]
	open(t, ctx, srv.URL+"/")
	fill(t, ctx, "cat@example.com", "correct horse", "")
	assert.Equal(t, "200 logged in", click(t, ctx, "login", "200"))
	assert.Equal(t, "200 2 sessions", click(t, ctx, "list-sessions", "200"))
	list := listed(t, ctx)
	require.Len(t, list, 2)
	assert.True(t, strings.HasPrefix(list[0], hostile+"from 127.0.0.1"), "shown as text: %q", list[0])
	assert.Zero(t, eval[int](t, ctx, `document.querySelectorAll("#session-list img, #bold").length`), "no element made of it")
	// Had an <img src=x> been made, its load would fail within a moment
	// (the server has no /x) and run onerror: watch for it a while.
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		require.Equal(t, "undefined", eval[string](t, ctx, `typeof window.pwned`), "its script ran")
	}
}
