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
