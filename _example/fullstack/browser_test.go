package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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

// click clicks a button and waits for the page's output line to start
// with want (or for 30 seconds), and returns it.
func click(t *testing.T, ctx context.Context, button, want string) string {
	t.Helper()
	eval[chromedp.Void](t, ctx, `document.getElementById("out").textContent = ""`)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID(button), chromedp.NodeVisible)))
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
	for id, v := range map[string]string{"email": email, "password": password, "name": name} {
		js, err := json.Marshal(v)
		require.NoError(t, err)
		eval[chromedp.Void](t, ctx, `document.getElementById("`+id+`").value = `+string(js))
	}
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
// page, log out.
func TestBrowserSameOrigin(t *testing.T) {
	srv, _ := startApp(t)
	ctx := browse(t)
	open(t, ctx, srv.URL+"/")
	fill(t, ctx, "ann@example.com", "correct horse", "Ann")
	assert.Equal(t, "201 signed up as ann@example.com", click(t, ctx, "signup", "201"))
	assert.Equal(t, "401 Missing Authorization Header", click(t, ctx, "private", "401"), "not logged in yet")
	assert.Equal(t, "200 logged in", click(t, ctx, "login", "200"))
	stored := eval[string](t, ctx, `sessionStorage.getItem("access_token") || ""`)
	assert.Equal(t, 2, strings.Count(stored, "."), "the token is kept in sessionStorage")
	assert.Equal(t, "200 Hello Ann <ann@example.com>", click(t, ctx, "private", "200"))
	assert.Equal(t, "logged out", click(t, ctx, "logout", "logged out"))
	assert.Equal(t, 0, eval[int](t, ctx, `sessionStorage.length`), "logout clears the tokens")
	assert.Equal(t, "401 Missing Authorization Header", click(t, ctx, "private", "401"))
}

// The front end on another origin: allowed by CORS it works; from an
// origin the API does not list, the browser blocks the call.
func TestBrowserCrossOrigin(t *testing.T) {
	// The front-end servers serve the same page; the API is another port.
	page, err := static.ReadFile("static/index.html")
	require.NoError(t, err)
	serve := func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(page) }
	front := httptest.NewServer(http.HandlerFunc(serve))
	defer front.Close()
	stranger := httptest.NewServer(http.HandlerFunc(serve))
	defer stranger.Close()

	r, db, err := newApp(Config{Secret: testSecret, Origins: []string{front.URL}})
	require.NoError(t, err)
	defer db.Close()
	api := httptest.NewServer(r)
	defer api.Close()

	ctx := browse(t)
	open(t, ctx, front.URL+"/?api="+api.URL)
	fill(t, ctx, "bob@example.com", "correct horse", "Bob")
	assert.Equal(t, "201 signed up as bob@example.com", click(t, ctx, "signup", "201"))
	assert.Equal(t, "200 logged in", click(t, ctx, "login", "200"))
	assert.Equal(t, "200 Hello Bob <bob@example.com>", click(t, ctx, "private", "200"), "cross-origin call with Authorization")

	open(t, ctx, stranger.URL+"/?api="+api.URL)
	fill(t, ctx, "bob@example.com", "correct horse", "")
	out := click(t, ctx, "login", "error")
	assert.True(t, strings.HasPrefix(out, "error: TypeError"), "the browser blocked the call: %q", out)
}
