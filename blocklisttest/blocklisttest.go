// Package blocklisttest is the conformance suite every ginjwt.Blocklist
// passes: the in-memory store, the Redis and SQL stores, and yours. Run
// checks the store's methods; RunGuarded the store behind real guards. Each
// optional interface the store implements (ginjwt.RotationStore,
// ginjwt.IdentityRevoker, ginjwt.SessionStore) is checked too; the others
// are skipped with a message.
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
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
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

	runRotation(t, h)
	runIdentities(t, h)
	runSessions(t, h)
}

// runRotation checks RotationStore.
func runRotation(t *testing.T, h Harness) {
	const ttl = 500 * time.Millisecond
	ctx := context.Background()
	newStore := func(t *testing.T) ginjwt.RotationStore {
		s, ok := h.New(t).(ginjwt.RotationStore)
		if !ok {
			t.Skip("the store does not implement ginjwt.RotationStore (WithRefreshRotation)")
		}
		return s
	}
	t.Run("rotate moves a family on, once per token", func(t *testing.T) {
		s := newStore(t)
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
		s := newStore(t)
		rotate(t, s, "fam", "r1", "r2", h.Now().Add(ttl), true)
		current(t, s, "fam", "r2")
		h.Sleep(2 * ttl)
		current(t, s, "fam", "")
		rotate(t, s, "forever", "r1", "r2", time.Time{}, true)
		current(t, s, "forever", "r2")
	})

	t.Run("one winner among concurrent rotations", func(t *testing.T) {
		s := newStore(t)
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

// runIdentities checks IdentityRevoker.
func runIdentities(t *testing.T, h Harness) {
	const ttl = 500 * time.Millisecond
	ctx := context.Background()
	newStore := func(t *testing.T) ginjwt.IdentityRevoker {
		s, ok := h.New(t).(ginjwt.IdentityRevoker)
		if !ok {
			t.Skip("the store does not implement ginjwt.IdentityRevoker (RevokeIdentity)")
		}
		return s
	}
	revokedFor := func(t *testing.T, s ginjwt.IdentityRevoker, identity string, issued time.Time, want bool, keys ...string) {
		t.Helper()
		got, err := s.IsRevokedFor(ctx, identity, issued, keys...)
		must(t, err)
		if got != want {
			t.Errorf("IsRevokedFor(%q, %s, %q) = %v, want %v", identity, issued.Format(time.StampMilli), keys, got, want)
		}
	}

	t.Run("tokens issued before the cutoff are revoked, to the millisecond", func(t *testing.T) {
		s := newStore(t)
		cutoff := h.Now().Truncate(time.Millisecond)
		must(t, s.RevokeIdentity(ctx, "alice", cutoff, h.Now().Add(time.Hour)))
		revokedFor(t, s, "alice", cutoff.Add(-time.Millisecond), true, "jti-1")
		revokedFor(t, s, "alice", cutoff.Add(-time.Hour), true, "jti-1")
		revokedFor(t, s, "alice", cutoff, false, "jti-1")
		revokedFor(t, s, "alice", cutoff.Add(time.Millisecond), false, "jti-1")
		revokedFor(t, s, "bob", cutoff.Add(-time.Hour), false, "jti-1")
		revokedFor(t, s, "alice", time.Time{}, true) // issued at an unknown time
		expect(t, s, "alice", false)                 // an identity is no token key

		// Between two milliseconds, the cutoff is the later one.
		must(t, s.RevokeIdentity(ctx, "bob", cutoff.Add(500*time.Microsecond), h.Now().Add(time.Hour)))
		revokedFor(t, s, "bob", cutoff.Add(900*time.Microsecond), true)
		revokedFor(t, s, "bob", cutoff.Add(time.Millisecond), false)
	})

	t.Run("the keys are checked in the same call", func(t *testing.T) {
		s := newStore(t)
		must(t, s.Revoke(ctx, "jti-1", h.Now().Add(time.Hour)))
		revokedFor(t, s, "alice", h.Now(), true, "jti-2", "jti-1")
		revokedFor(t, s, "alice", h.Now(), false, "jti-2", "fam:s-1")
		revokedFor(t, s, "alice", h.Now(), false)
	})

	t.Run("revoking again keeps the later cutoff and the longer record", func(t *testing.T) {
		s := newStore(t)
		now := h.Now().Truncate(time.Millisecond)
		must(t, s.RevokeIdentity(ctx, "alice", now, now.Add(ttl)))
		must(t, s.RevokeIdentity(ctx, "alice", now.Add(-time.Minute), now.Add(time.Hour)))
		must(t, s.RevokeIdentity(ctx, "bob", now.Add(-time.Minute), time.Time{}))
		must(t, s.RevokeIdentity(ctx, "bob", now, now.Add(ttl)))
		revokedFor(t, s, "alice", now.Add(-time.Second), true)
		revokedFor(t, s, "bob", now.Add(-time.Second), true)
		h.Sleep(2 * ttl)
		revokedFor(t, s, "alice", now.Add(-time.Second), true)
		revokedFor(t, s, "bob", now.Add(-time.Second), true)
	})

	t.Run("an identity's record expires", func(t *testing.T) {
		s := newStore(t)
		now := h.Now()
		must(t, s.RevokeIdentity(ctx, "alice", now, now.Add(ttl)))
		must(t, s.RevokeIdentity(ctx, "past", now, now.Add(-time.Minute)))
		revokedFor(t, s, "alice", now.Add(-time.Second), true)
		revokedFor(t, s, "past", now.Add(-time.Second), false)
		h.Sleep(2 * ttl)
		revokedFor(t, s, "alice", now.Add(-time.Second), false)
	})

	t.Run("identities are kept apart whatever they hold", func(t *testing.T) {
		s := newStore(t)
		now := h.Now().Truncate(time.Millisecond)
		odd := []string{"a:b", "fam:x", "{tag}", "ä 😀", strings.Repeat("x", 300), "alice "}
		for _, id := range odd {
			must(t, s.RevokeIdentity(ctx, id, now, now.Add(time.Hour)))
		}
		for _, id := range odd {
			revokedFor(t, s, id, now.Add(-time.Millisecond), true)
		}
		revokedFor(t, s, "alice", now.Add(-time.Millisecond), false)
		revokedFor(t, s, "a", now.Add(-time.Millisecond), false)
		expect(t, s, "x", false)
	})
}

// runSessions checks SessionStore.
func runSessions(t *testing.T, h Harness) {
	const ttl = 500 * time.Millisecond
	ctx := context.Background()
	newStore := func(t *testing.T) ginjwt.SessionStore {
		s, ok := h.New(t).(ginjwt.SessionStore)
		if !ok {
			t.Skip("the store does not implement ginjwt.SessionStore (WithSessionList)")
		}
		return s
	}
	session := func(identity, id string, expires time.Time) ginjwt.Session {
		return ginjwt.Session{ID: id, Identity: identity, Created: h.Now().Truncate(time.Second),
			Expires: expires, UserAgent: "Mozilla/5.0 (X11) ä", ClientIP: "192.0.2.7"}
	}

	t.Run("saved sessions are listed per identity", func(t *testing.T) {
		s := newStore(t)
		a1 := session("alice", "s-1", h.Now().Add(time.Hour).Truncate(time.Second))
		a2 := session("alice", "s-2", time.Time{})
		b1 := session("bob", "s-3", h.Now().Add(time.Hour).Truncate(time.Second))
		for _, x := range []ginjwt.Session{a1, a2, b1} {
			must(t, s.SaveSession(ctx, x))
		}
		sessionsAre(t, s, "alice", a1, a2)
		sessionsAre(t, s, "bob", b1)
		sessionsAre(t, s, "carol")
		must(t, s.DeleteSession(ctx, "alice", "s-1"))
		must(t, s.DeleteSession(ctx, "alice", "s-1")) // again: no error
		must(t, s.DeleteSession(ctx, "bob", "s-2"))   // another's: nothing happens
		sessionsAre(t, s, "alice", a2)
		sessionsAre(t, s, "bob", b1)
	})

	t.Run("a touch renews a session and extends it", func(t *testing.T) {
		s := newStore(t)
		a1 := session("alice", "s-1", h.Now().Add(ttl).Truncate(time.Millisecond))
		must(t, s.SaveSession(ctx, a1))
		renewed := h.Now().Truncate(time.Second)
		later := h.Now().Add(time.Hour).Truncate(time.Second)
		must(t, s.TouchSession(ctx, "alice", "s-1", renewed, later))
		a1.Renewed, a1.Expires = renewed, later
		sessionsAre(t, s, "alice", a1)
		must(t, s.TouchSession(ctx, "alice", "s-1", renewed, h.Now().Add(time.Minute))) // never shortened
		sessionsAre(t, s, "alice", a1)
		must(t, s.TouchSession(ctx, "alice", "gone", renewed, later)) // absent stays absent
		must(t, s.TouchSession(ctx, "bob", "s-1", renewed, later))
		sessionsAre(t, s, "alice", a1)
		sessionsAre(t, s, "bob")
		h.Sleep(2 * ttl)
		sessionsAre(t, s, "alice", a1)
	})

	t.Run("expired sessions disappear", func(t *testing.T) {
		s := newStore(t)
		short := session("alice", "short", h.Now().Add(ttl).Truncate(time.Millisecond))
		long := session("alice", "long", h.Now().Add(time.Hour).Truncate(time.Second))
		must(t, s.SaveSession(ctx, short))
		must(t, s.SaveSession(ctx, long))
		must(t, s.SaveSession(ctx, session("alice", "past", h.Now().Add(-time.Minute))))
		sessionsAre(t, s, "alice", short, long)
		h.Sleep(2 * ttl)
		sessionsAre(t, s, "alice", long)
		must(t, s.TouchSession(ctx, "alice", "short", h.Now(), h.Now().Add(time.Hour)))
		sessionsAre(t, s, "alice", long)
	})

	t.Run("saving again replaces a session", func(t *testing.T) {
		s := newStore(t)
		a1 := session("alice", "s-1", h.Now().Add(time.Hour).Truncate(time.Second))
		must(t, s.SaveSession(ctx, a1))
		a1.UserAgent, a1.ClientIP = "curl/8", "2001:db8::1"
		must(t, s.SaveSession(ctx, a1))
		sessionsAre(t, s, "alice", a1)
	})

	t.Run("identities are kept apart whatever they hold", func(t *testing.T) {
		s := newStore(t)
		odd := []string{"a:b", "{tag}", "ä 😀", strings.Repeat("x", 300), "alice ", "alice"}
		for i, id := range odd {
			must(t, s.SaveSession(ctx, session(id, fmt.Sprint("s-", i), time.Time{})))
		}
		for i, id := range odd {
			sessionsAre(t, s, id, session(id, fmt.Sprint("s-", i), time.Time{}))
		}
	})
}

// sessionsAre checks the listed sessions of identity, in any order; times
// are compared to the millisecond.
func sessionsAre(t *testing.T, s ginjwt.SessionStore, identity string, want ...ginjwt.Session) {
	t.Helper()
	got, err := s.Sessions(context.Background(), identity)
	must(t, err)
	key := func(x ginjwt.Session) string {
		ms := func(tm time.Time) int64 {
			if tm.IsZero() {
				return 0
			}
			return tm.UnixMilli()
		}
		return fmt.Sprintf("%s|%s|%d|%d|%d|%s|%s", x.Identity, x.ID, ms(x.Created), ms(x.Renewed), ms(x.Expires), x.UserAgent, x.ClientIP)
	}
	gotKeys, wantKeys := make([]string, len(got)), make([]string, len(want))
	for i, x := range got {
		gotKeys[i] = key(x)
	}
	for i, x := range want {
		wantKeys[i] = key(x)
	}
	slices.Sort(gotKeys)
	slices.Sort(wantKeys)
	if !slices.Equal(gotKeys, wantKeys) {
		t.Errorf("Sessions(%q) =\n\t%s\nwant\n\t%s", identity, strings.Join(gotKeys, "\n\t"), strings.Join(wantKeys, "\n\t"))
	}
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

func rotate(t *testing.T, s ginjwt.RotationStore, family, prev, next string, until time.Time, want bool) {
	t.Helper()
	got, err := s.Rotate(context.Background(), family, prev, next, until)
	must(t, err)
	if got != want {
		t.Errorf("Rotate(%q, %q → %q) = %v, want %v", family, prev, next, got, want)
	}
}

func current(t *testing.T, s ginjwt.RotationStore, family, want string) {
	t.Helper()
	got, err := s.Current(context.Background(), family)
	must(t, err)
	if got != want {
		t.Errorf("Current(%q) = %q, want %q", family, got, want)
	}
}

// RunGuarded runs the store behind real ginjwt guards on a gin.Engine, as
// an application uses it: a revoked token gets 401 {"msg": "Token has been
// revoked"} and never reaches the handler; a logout ends the whole session
// (the refresh token too); with ginjwt.RotationStore, of 50 concurrent
// refreshes with one refresh token exactly one gets a new pair and the
// replays end the session; with ginjwt.IdentityRevoker, RevokeIdentity ends
// every session of a user and a login right after it works; with
// ginjwt.SessionStore, a session ended from the list is refused. newStore
// returns an empty store whose clock is the real one.
func RunGuarded(t *testing.T, newStore func(t *testing.T) ginjwt.Blocklist) {
	const secret = "blocklisttest-secret-0123456789abcdef"
	guarded := func(t *testing.T) (*ginjwt.Manager, http.Handler, *atomic.Int32, ginjwt.Blocklist) {
		store := newStore(t)
		opts := []ginjwt.Option{ginjwt.WithSecretKey([]byte(secret)), ginjwt.WithBlocklist(store),
			ginjwt.WithBlocklistTimeout(5 * time.Second)}
		if _, ok := store.(ginjwt.RotationStore); ok {
			opts = append(opts, ginjwt.WithRefreshRotation())
		}
		if _, ok := store.(ginjwt.SessionStore); ok {
			opts = append(opts, ginjwt.WithSessionList(0))
		}
		m, err := ginjwt.New(opts...)
		if err != nil {
			t.Fatal(err)
		}
		var ran atomic.Int32
		r := gin.New()
		r.GET("/protected", m.JWTRequired(), func(c *gin.Context) { ran.Add(1); c.Status(http.StatusOK) })
		r.POST("/refresh", m.RefreshHandler())
		r.POST("/logout", m.LogoutHandler())
		r.POST("/login/:user", m.LoginHandler(func(c *gin.Context) (any, error) { return c.Param("user"), nil }))
		return m, r, &ran, store
	}
	capable := func(t *testing.T, what string, ok bool) {
		if !ok {
			t.Skipf("the store does not implement ginjwt.%s", what)
		}
	}

	t.Run("a revoked token is refused by the guard", func(t *testing.T) {
		m, r, ran, _ := guarded(t)
		access, _, err := m.CreateTokenPair("alice")
		must(t, err)
		status(t, r, "GET", "/protected", access, http.StatusOK, "")
		must(t, m.Revoke(context.Background(), access))
		status(t, r, "GET", "/protected", access, http.StatusUnauthorized, revokedBody)
		if n := ran.Load(); n != 1 {
			t.Errorf("the handler ran %d times, want 1 (before the logout only)", n)
		}
	})

	t.Run("a logout ends the session, refresh token included", func(t *testing.T) {
		m, r, _, _ := guarded(t)
		access, refresh, err := m.CreateTokenPair("alice")
		must(t, err)
		other, _, err := m.CreateTokenPair("alice")
		must(t, err)
		status(t, r, "POST", "/logout", access, http.StatusOK, `{"msg":"Access token successfully revoked"}`)
		status(t, r, "GET", "/protected", access, http.StatusUnauthorized, revokedBody)
		status(t, r, "POST", "/refresh", refresh, http.StatusUnauthorized, revokedBody)
		status(t, r, "GET", "/protected", other, http.StatusOK, "") // another login of the same user
		status(t, r, "POST", "/logout", access, http.StatusOK, `{"msg":"Access token successfully revoked"}`)
	})

	t.Run("one winner among 50 concurrent refreshes, the login revoked", func(t *testing.T) {
		m, r, _, store := guarded(t)
		_, isRotation := store.(ginjwt.RotationStore)
		capable(t, "RotationStore", isRotation)
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
		m, r, _, store := guarded(t)
		_, isRotation := store.(ginjwt.RotationStore)
		capable(t, "RotationStore", isRotation)
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

	t.Run("RevokeIdentity ends every session of a user, a login right after works", func(t *testing.T) {
		m, r, _, store := guarded(t)
		_, ok := store.(ginjwt.IdentityRevoker)
		capable(t, "IdentityRevoker", ok)
		a1, r1, err := m.CreateTokenPair("alice")
		must(t, err)
		a2, _, err := m.CreateTokenPair("alice")
		must(t, err)
		b1, _, err := m.CreateTokenPair("bob")
		must(t, err)
		must(t, m.RevokeIdentity(context.Background(), "alice"))
		// In the same second as the call: iat cannot tell them apart.
		a3, r3, err := m.CreateTokenPair("alice")
		must(t, err)
		status(t, r, "GET", "/protected", a1, http.StatusUnauthorized, revokedBody)
		status(t, r, "GET", "/protected", a2, http.StatusUnauthorized, revokedBody)
		status(t, r, "POST", "/refresh", r1, http.StatusUnauthorized, revokedBody)
		status(t, r, "GET", "/protected", b1, http.StatusOK, "")
		status(t, r, "GET", "/protected", a3, http.StatusOK, "")
		status(t, r, "POST", "/refresh", r3, http.StatusOK, "")
	})

	t.Run("a session ended from the list is refused, the others not", func(t *testing.T) {
		m, r, _, store := guarded(t)
		_, ok := store.(ginjwt.SessionStore)
		capable(t, "SessionStore", ok)
		login := func() map[string]string {
			w := send(r, "POST", "/login/alice", "")
			if w.Code != http.StatusOK {
				t.Fatalf("login: %d %s", w.Code, w.Body)
			}
			var pair map[string]string
			must(t, json.Unmarshal(w.Body.Bytes(), &pair))
			return pair
		}
		first, second := login(), login()
		ctx := context.Background()
		list, err := m.Sessions(ctx, "alice")
		must(t, err)
		if len(list) != 2 {
			t.Fatalf("Sessions(alice) = %d sessions, want 2: %+v", len(list), list)
		}
		firstTok, err := m.DecodeToken(first["access_token"])
		must(t, err)
		must(t, m.EndSession(ctx, "alice", firstTok.Claims.SessionID()))
		status(t, r, "GET", "/protected", first["access_token"], http.StatusUnauthorized, revokedBody)
		status(t, r, "POST", "/refresh", first["refresh_token"], http.StatusUnauthorized, revokedBody)
		status(t, r, "GET", "/protected", second["access_token"], http.StatusOK, "")
		if list, err = m.Sessions(ctx, "alice"); err != nil || len(list) != 1 {
			t.Errorf("after EndSession: %d sessions (%v), want 1", len(list), err)
		}
		if err := m.EndSession(ctx, "bob", list[0].ID); !errors.Is(err, ginjwt.ErrSessionNotFound) {
			t.Errorf("EndSession of another user's session = %v, want ErrSessionNotFound", err)
		}
		status(t, r, "GET", "/protected", second["access_token"], http.StatusOK, "")
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
