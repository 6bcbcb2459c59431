package jsonindex

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSameNumber(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"42", "42", true},
		{"42", "4.2e1", true},
		{"42", "420E-1", true},
		{"1.50", "15e-1", true},
		{"0", "-0.0e5", true},
		{"100", "1e2", true},
		{"1234567890123456789", "1234567890123456788", false},
		{"1234567890123456789", "1.234567890123456789e18", true},
		{"42", "-42", false},
		{"0.1", "1", false},
		// Exponents far past any float: compared as text, not computed.
		{"1e999999999", "1e999999999", true},
		{"1e999999999", "1e999999998", false},
		{"1e99999999999999999999", "1e99999999999999999999", false},
		{"", "0", false},
		{"-", "0", false},
		{"1.", "1", false},
		{"1e", "1", false},
		{`"42"`, "42", false},
		{"true", "1", false},
	} {
		assert.Equal(t, tc.same, SameNumber(tc.a, tc.b), "%s vs %s", tc.a, tc.b)
		assert.Equal(t, tc.same, SameNumber(tc.b, tc.a), "%s vs %s", tc.b, tc.a)
	}
}

// FuzzSameNumber holds the text comparison to math/big on JSON numbers of
// modest exponent, where big.Rat computes the values exactly.
func FuzzSameNumber(f *testing.F) {
	for _, seed := range [][2]string{{"42", "4.2e1"}, {"1234567890123456789", "1234567890123456788"}, {"0", "-0"}, {"1.50", "15e-1"}, {"-5e-1", "-0.5"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ra, okA := exactValue(a)
		rb, okB := exactValue(b)
		if !okA || !okB {
			return
		}
		if want, got := ra.Cmp(rb) == 0, SameNumber(a, b); got != want {
			t.Fatalf("SameNumber(%q, %q) = %v, big.Rat says %v", a, b, got, want)
		}
	})
}

// exactValue parses a JSON number whose exponent big.Rat can afford.
func exactValue(s string) (*big.Rat, bool) {
	var n json.Number
	if json.Unmarshal([]byte(s), &n) != nil || strings.ContainsAny(s, " \t\r\n") || len(s) > 64 {
		return nil, false
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 && len(strings.TrimLeft(s[i+1:], "+-")) > 3 {
		return nil, false
	}
	return new(big.Rat).SetString(s)
}
