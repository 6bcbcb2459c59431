package redisproto

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestTTL(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name  string
		until time.Time
		want  int64
	}{
		{"no expiry: keep the key", time.Time{}, 0},
		{"past: nothing to store", now.Add(-time.Second), -1},
		{"now: nothing to store", now, -1},
		{"whole milliseconds get one more", now.Add(1500 * time.Millisecond), 1501},
		{"a fraction is rounded up", now.Add(1500*time.Millisecond + time.Microsecond), 1501},
		{"under a millisecond still stored", now.Add(time.Nanosecond), 1},
	} {
		if got := TTL(tc.until, now); got != tc.want {
			t.Errorf("%s: TTL = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// Keys of identities carry a byte no UTF-8 text has, so they are never a
// token's key (claims are valid UTF-8), and hex keeps identities apart.
func TestKeysKeepKindsApart(t *testing.T) {
	k := Keys{Prefix: DefaultPrefix}
	identities := []string{"alice", "alice ", "a:b", "fam:x", "{tag}", "ä 😀", "", strings.Repeat("x", 300), "\xff"}
	seen := map[string]string{}
	for _, id := range identities {
		for kind, key := range map[string]string{"identity": k.Identity(id), "sessions": k.Sessions(id)} {
			if other, dup := seen[key]; dup {
				t.Errorf("%s of %q is %q, as %s", kind, id, key, other)
			}
			seen[key] = kind + " of " + id
			rest, ok := strings.CutPrefix(key, DefaultPrefix)
			if !ok {
				t.Errorf("%s key %q lacks the prefix: tracking of the prefix would not cover it", kind, key)
			}
			if utf8.ValidString(rest) {
				t.Errorf("%s key %q could be a token key: its suffix is valid UTF-8", kind, key)
			}
		}
	}
	if got := k.Token("jti-1"); got != "ginjwt:revoked:jti-1" {
		t.Errorf("Token = %q: the layout of earlier versions must stay", got)
	}
	if got := k.Family("s-1"); got != "ginjwt:revoked:cur:s-1" {
		t.Errorf("Family = %q: the layout of earlier versions must stay", got)
	}
	if CheckPrefix("") == nil || CheckPrefix("app:") != nil {
		t.Error("CheckPrefix: an empty prefix is refused, others not")
	}
}

func TestCutoffRoundsUpIssuedDown(t *testing.T) {
	at := time.UnixMilli(1_700_000_000_123)
	for _, tc := range []struct {
		before time.Time
		want   string
	}{
		{at, "1700000000123"},
		{at.Add(time.Nanosecond), "1700000000124"},
		{at.Add(999 * time.Microsecond), "1700000000124"},
		{time.UnixMilli(-5).Add(-time.Microsecond), "-5"},
	} {
		if got := Cutoff(tc.before); got != tc.want {
			t.Errorf("Cutoff(%v) = %s, want %s", tc.before, got, tc.want)
		}
	}
	cutoff, err := ParseCutoff(Cutoff(at.Add(500 * time.Microsecond)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		issued time.Time
		want   bool
	}{
		{at, true},                             // the cutoff's millisecond, before its fraction
		{at.Add(900 * time.Microsecond), true}, // issued rounds down
		{at.Add(time.Millisecond), false},
		{time.Time{}, true}, // no "iat": before every cutoff
	} {
		if got := IssuedBefore(tc.issued, cutoff); got != tc.want {
			t.Errorf("IssuedBefore(%v, %d) = %v, want %v", tc.issued, cutoff, got, tc.want)
		}
	}
}

func TestSessionsRoundTrip(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	sessions := []Session{
		{ID: "s-1", Created: now, Renewed: now.Add(time.Minute), Expires: now.Add(time.Hour),
			UserAgent: "Mozilla/5.0 (X11, Linux) ä,1,2", ClientIP: "2001:db8::1"},
		{ID: "s-2", Created: now}, // never renewed, never expires
		{ID: "s-3,x", ClientIP: "1,2", UserAgent: ""},
	}
	hash := map[string]string{}
	for _, s := range sessions {
		hash[s.ID] = EncodeSession(s)
		got, err := DecodeSession(s.ID, hash[s.ID])
		if err != nil || got != s {
			t.Errorf("DecodeSession(EncodeSession(%+v)) = %+v, %v", s, got, err)
		}
	}
	hash["gone"] = EncodeSession(Session{Expires: now.Add(-time.Millisecond)})
	live, err := LiveSessions(hash, now)
	if err != nil || len(live) != len(sessions) {
		t.Errorf("LiveSessions = %d sessions, %v; want %d: the expired one left out", len(live), err, len(sessions))
	}
	for _, bad := range []string{"", "1,2", "x,,,0,", "1,,,9,ab", "1,,,-1,"} {
		if _, err := DecodeSession("s", bad); err == nil {
			t.Errorf("DecodeSession(%q) read a session", bad)
		}
	}
}
