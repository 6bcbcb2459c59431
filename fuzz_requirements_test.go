package ginjwt_test

import (
	"bytes"
	"encoding/json"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/ginjwt/ginjwt"
	"github.com/stretchr/testify/require"
)

// The requirements read the parsed payload without decoding it. These
// reference rules decode the claim with encoding/json (numbers as
// json.Number) and say what RequireClaim, RequireAll and RequireClaimParam
// mean on the decoded value.

// decodeNumbers decodes JSON text keeping numbers as json.Number.
func decodeNumbers(t *testing.T, text string) any {
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	return v
}

// refSameNumber compares two JSON numbers exactly; exponents the fuzzer
// makes huge are compared by math/big only when it can afford them.
func refSameNumber(a, b json.Number) (same, decided bool) {
	for _, s := range []string{string(a), string(b)} {
		if i := strings.IndexAny(s, "eE"); i >= 0 && len(strings.TrimLeft(s[i+1:], "+-")) > 3 {
			return false, false
		}
	}
	ra, okA := new(big.Rat).SetString(string(a))
	rb, okB := new(big.Rat).SetString(string(b))
	return okA && okB && ra.Cmp(rb) == 0, okA && okB
}

// refContains is RequireClaim's rule: objects by subset, recursively; lists
// by every wanted element being present; other values by equality.
func refContains(got, want any) (match, decided bool) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false, true
		}
		all := true
		for k, wv := range w {
			gv, present := g[k]
			if !present {
				all = false
				continue
			}
			m, d := refContains(gv, wv)
			if !d {
				return false, false
			}
			all = all && m
		}
		return all, true
	case []any:
		g, ok := got.([]any)
		if !ok {
			return false, true
		}
		for _, wv := range w {
			found := false
			for _, gv := range g {
				m, d := refContains(gv, wv)
				if !d {
					return false, false
				}
				if m {
					found = true
					break
				}
			}
			if !found {
				return false, true
			}
		}
		return true, true
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			return false, true
		}
		return refSameNumber(g, w)
	}
	return reflect.DeepEqual(got, want), true
}

// refHolds is RequireAll's rule for one value.
func refHolds(got any, value string) bool {
	switch g := got.(type) {
	case string:
		for _, f := range strings.Fields(g) {
			if f == value {
				return true
			}
		}
	case []any:
		for _, e := range g {
			if e == value {
				return true
			}
		}
	case map[string]any:
		return g[value] == true
	}
	return false
}

// FuzzRequirementMatching holds the requirements' reading of the parsed
// payload to the reference rules over encoding/json.
//
//	go test -run '^$' -fuzz '^FuzzRequirementMatching$' -fuzztime 10m .
func FuzzRequirementMatching(f *testing.F) {
	for _, seed := range [][4]string{
		{`{"roles":["admin","user"]}`, `["admin"]`, "admin", "admin"},
		{`{"roles":"read write","roles":{"admin":true,"admin":false}}`, `{"admin":false}`, "admin", "x"},
		{`{"org":{"id":7,"plan":"pro","id":7.0}}`, `{"id":7}`, "pro", "7"},
		{`{"roles":["\u0061dmin",1,null]}`, `[1,null,"admin"]`, "admin", "1"},
		{`{"roles":12345678901234567}`, `12345678901234568`, "12345678901234567", "12345678901234567"},
		{`{"roles":"\u00e9 x","roles":true}`, `true`, "é", "true"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	f.Fuzz(func(t *testing.T, payload, wantJSON, value, param string) {
		var probe map[string]any
		if json.Unmarshal([]byte(payload), &probe) != nil || probe == nil || !json.Valid([]byte(wantJSON)) || !validUnicode(payload) {
			return // not a payload a token could carry
		}
		// RequireClaim takes a Go value; it arrives as encoding/json gives it.
		var want any
		if json.Unmarshal([]byte(wantJSON), &want) != nil {
			return
		}
		matched, held, equal, ok := ginjwt.ClaimMatch(payload, "roles", want, value, param)
		require.True(t, ok)

		all := decodeNumbers(t, payload).(map[string]any)
		got, present := all["roles"]
		wantExact := decodeNumbers(t, mustMarshal(t, want))
		if m, decided := refContains(got, wantExact); decided {
			require.Equal(t, present && m, matched, "RequireClaim(roles, %s) on %s", wantJSON, payload)
		}
		require.Equal(t, present && refHolds(got, value), held, "RequireAll(roles, %q) on %s", value, payload)

		refEqual := false
		switch g := got.(type) {
		case string:
			refEqual = g == param
		case json.Number:
			var p json.Number
			if ginjwt.IsPlainDecimal(param) && json.Unmarshal([]byte(param), &p) == nil {
				same, decided := refSameNumber(g, p)
				if !decided {
					return
				}
				refEqual = same
			}
		}
		require.Equal(t, present && refEqual, equal, "RequireClaimParam(roles) = %q on %s", param, payload)
	})
}

func mustMarshal(t *testing.T, v any) string {
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}
