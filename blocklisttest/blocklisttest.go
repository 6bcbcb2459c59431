// Package blocklisttest is the conformance suite every ginjwt.Blocklist
// passes: the in-memory store, the Redis and SQL stores, and yours. Run
// checks the store's methods; RunGuarded the store behind real guards.
//
//	func TestMyStore(t *testing.T) {
//		blocklisttest.Run(t, blocklisttest.Harness{
//			New:   func(t *testing.T) ginjwt.Blocklist { return newMyStore(t) },
//			Now:   time.Now,
//			Sleep: time.Sleep,
//		})
//	}
package blocklisttest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
)

// revokedBody is flask's answer to a revoked token.
const revokedBody = `{"msg":"Token has been revoked"}`

// Harness describes the store under test.
type Harness struct {
	// New returns an empty store; each subtest gets its own.
	New func(t *testing.T) ginjwt.Blocklist
	// Now is the clock the store expires entries by.
	Now func() time.Time
	// Sleep lets d pass on that clock: a fake clock advances, a real one
	// sleeps. The suite lets at most a few seconds pass in all.
	Sleep func(d time.Duration)
}

// Run runs the conformance suite against h.
func Run(t *testing.T, h Harness) {
	ctx := context.Background()
	const ttl = 500 * time.Millisecond

	t.Run("revoked keys are revoked, others not", func(t *testing.T) {
		s := h.New(t)
		must(t, s.Revoke(ctx, "jti-1", h.Now().Add(time.Hour)))
		expect(t, s, "jti-1", true)
		expect(t, s, "jti-2", false)
		revoked, err := s.IsRevoked(ctx, "jti-2", "jti-1")
		must(t, err)
		if !revoked {
			t.Error("IsRevoked(jti-2, jti-1) = false, want true: any revoked key counts")
		}
		revoked, err = s.IsRevoked(ctx, "jti-2", "jti-3")
		must(t, err)
		if revoked {
			t.Error("IsRevoked(jti-2, jti-3) = true, want false")
		}
	})

	t.Run("entries expire with the token", func(t *testing.T) {
		s := h.New(t)
		must(t, s.Revoke(ctx, "short", h.Now().Add(ttl)))
		must(t, s.Revoke(ctx, "long", h.Now().Add(time.Hour)))
		must(t, s.Revoke(ctx, "forever", time.Time{}))
		expect(t, s, "short", true)
		h.Sleep(2 * ttl)
		expect(t, s, "short", false)
		expect(t, s, "long", true)
		expect(t, s, "forever", true)
	})

	t.Run("an already expired token is not kept", func(t *testing.T) {
		s := h.New(t)
		must(t, s.Revoke(ctx, "past", h.Now().Add(-time.Minute)))
		expect(t, s, "past", false)
	})

	t.Run("revoking again keeps the longer lifetime", func(t *testing.T) {
		s := h.New(t)
		must(t, s.Revoke(ctx, "longer", h.Now().Add(time.Hour)))
		must(t, s.Revoke(ctx, "longer", h.Now().Add(ttl)))
		must(t, s.Revoke(ctx, "forever", time.Time{}))
		must(t, s.Revoke(ctx, "forever", h.Now().Add(ttl)))
		must(t, s.Revoke(ctx, "extended", h.Now().Add(ttl)))
		must(t, s.Revoke(ctx, "extended", h.Now().Add(time.Hour)))
		h.Sleep(2 * ttl)
		expect(t, s, "longer", true)
		expect(t, s, "forever", true)
		expect(t, s, "extended", true)
	})

	t.Run("rotate moves a family on, once per token", func(t *testing.T) {
		s := h.New(t)
		current(t, s, "fam-1", "")
		rotate(t, s, "fam-1", "r1", "r2", h.Now().Add(time.Hour), true)
		current(t, s, "fam-1", "r2")
		rotate(t, s, "fam-1", "r1", "r3", h.Now().Add(time.Hour), false)
		current(t, s, "fam-1", "r2")
		rotate(t, s, "fam-1", "r2", "r3", h.Now().Add(time.Hour), true)
		current(t, s, "fam-1", "r3")
		current(t, s, "fam-2", "")
		revoked, err := s.IsRevoked(ctx, "r1", "r2", "r3", "fam-1")
		must(t, err)
		if revoked {
			t.Error("a rotation revoked keys: family records and revocations must not share keys")
		}
	})

	t.Run("a family record expires with its token", func(t *testing.T) {
		s := h.New(t)
		rotate(t, s, "fam", "r1", "r2", h.Now().Add(ttl), true)
		current(t, s, "fam", "r2")
		h.Sleep(2 * ttl)
		current(t, s, "fam", "")
		rotate(t, s, "forever", "r1", "r2", time.Time{}, true)
		current(t, s, "forever", "r2")
	})

	t.Run("one winner among concurrent rotations", func(t *testing.T) {
		s := h.New(t)
		for round := range 3 {
			family := fmt.Sprintf("race-%d", round)
			var wins atomic.Int32
			var wg sync.WaitGroup
			for i := range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					won, err := s.Rotate(ctx, family, "r0", fmt.Sprintf("next-%d", i), h.Now().Add(time.Hour))
					if err != nil {
						t.Error(err)
					}
					if won {
						wins.Add(1)
					}
				}()
			}
			wg.Wait()
			if n := wins.Load(); n != 1 {
				t.Errorf("%s: %d of 50 concurrent Rotate calls won, want exactly 1", family, n)
			}
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func expect(t *testing.T, s ginjwt.Blocklist, key string, want bool) {
	t.Helper()
	got, err := s.IsRevoked(context.Background(), key)
	must(t, err)
	if got != want {
		t.Errorf("IsRevoked(%q) = %v, want %v", key, got, want)
	}
}

func rotate(t *testing.T, s ginjwt.Blocklist, family, prev, next string, until time.Time, want bool) {
	t.Helper()
	got, err := s.Rotate(context.Background(), family, prev, next, until)
	must(t, err)
	if got != want {
		t.Errorf("Rotate(%q, %q → %q) = %v, want %v", family, prev, next, got, want)
	}
}

func current(t *testing.T, s ginjwt.Blocklist, family, want string) {
	t.Helper()
	got, err := s.Current(context.Background(), family)
	must(t, err)
	if got != want {
		t.Errorf("Current(%q) = %q, want %q", family, got, want)
	}
}

// RunGuarded runs the store behind real ginjwt guards on a gin.Engine, as
// an application uses it: a revoked token gets 401 {"msg": "Token has been
// revoked"} and never reaches the handler; of 50 concurrent refreshes with
// one refresh token exactly one gets a new pair (WithRefreshRotation), and
// the replays revoke the whole login. newStore returns an empty store
// whose clock is the real one.
func RunGuarded(t *testing.T, newStore func(t *testing.T) ginjwt.Blocklist) {
	const secret = "blocklisttest-secret-0123456789abcdef"
	guarded := func(t *testing.T) (*ginjwt.Manager, http.Handler, *atomic.Int32) {
		m, err := ginjwt.New(ginjwt.WithSecretKey([]byte(secret)), ginjwt.WithBlocklist(newStore(t)),
			ginjwt.WithRefreshRotation(), ginjwt.WithBlocklistTimeout(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var ran atomic.Int32
		r := gin.New()
		r.GET("/protected", m.JWTRequired(), func(c *gin.Context) { ran.Add(1); c.Status(http.StatusOK) })
		r.POST("/refresh", m.RefreshHandler())
		return m, r, &ran
	}

	t.Run("a revoked token is refused by the guard", func(t *testing.T) {
		m, r, ran := guarded(t)
		access, _, err := m.CreateTokenPair("alice")
		must(t, err)
		status(t, r, "GET", "/protected", access, http.StatusOK, "")
		must(t, m.Revoke(context.Background(), access))
		status(t, r, "GET", "/protected", access, http.StatusUnauthorized, revokedBody)
		if n := ran.Load(); n != 1 {
			t.Errorf("the handler ran %d times, want 1 (before the logout only)", n)
		}
	})

	t.Run("one winner among 50 concurrent refreshes, the login revoked", func(t *testing.T) {
		m, r, _ := guarded(t)
		access, refresh, err := m.CreateTokenPair("alice")
		must(t, err)
		var won, refused atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				switch w := send(r, "POST", "/refresh", refresh); w.Code {
				case http.StatusOK:
					won.Add(1)
				case http.StatusUnauthorized:
					refused.Add(1)
				default:
					t.Errorf("refresh answered %d %s", w.Code, w.Body)
				}
			}()
		}
		close(start)
		wg.Wait()
		if won.Load() != 1 || refused.Load() != 49 {
			t.Errorf("50 concurrent refreshes: %d new pairs and %d refusals, want 1 and 49", won.Load(), refused.Load())
		}
		status(t, r, "GET", "/protected", access, http.StatusUnauthorized, revokedBody)
	})

	t.Run("a rotated refresh token replayed revokes the login", func(t *testing.T) {
		m, r, _ := guarded(t)
		_, refresh, err := m.CreateTokenPair("alice")
		must(t, err)
		w := send(r, "POST", "/refresh", refresh)
		if w.Code != http.StatusOK {
			t.Fatalf("first refresh: %d %s", w.Code, w.Body)
		}
		var pair map[string]string
		must(t, json.Unmarshal(w.Body.Bytes(), &pair))
		status(t, r, "GET", "/protected", pair["access_token"], http.StatusOK, "")
		status(t, r, "POST", "/refresh", refresh, http.StatusUnauthorized, revokedBody)
		status(t, r, "POST", "/refresh", pair["refresh_token"], http.StatusUnauthorized, revokedBody)
		status(t, r, "GET", "/protected", pair["access_token"], http.StatusUnauthorized, revokedBody)
	})
}

func send(r http.Handler, method, path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

// status sends a request and checks the answer's status and, unless
// empty, its JSON body.
func status(t *testing.T, r http.Handler, method, path, token string, code int, body string) {
	t.Helper()
	w := send(r, method, path, token)
	if w.Code != code {
		t.Errorf("%s %s: %d %s, want %d", method, path, w.Code, w.Body, code)
		return
	}
	if body != "" && strings.TrimSpace(w.Body.String()) != body {
		t.Errorf("%s %s: body %s, want %s", method, path, w.Body, body)
	}
}
