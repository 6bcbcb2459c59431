package jsonindex

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// toAny builds from the index what encoding/json decodes v to.
func toAny(t testing.TB, x *Index, v Value) any {
	switch v.Kind() {
	case Null:
		return nil
	case Bool:
		return v.Raw() == "true"
	case Number:
		f, ok := v.Float()
		require.True(t, ok, "number %q", v.Raw())
		return f
	case String:
		s, ok := v.String()
		require.True(t, ok, "string %q", v.Raw())
		return s
	case Array:
		out := []any{}
		for e := range x.Elements(v) {
			out = append(out, toAny(t, x, e))
		}
		return out
	case Object:
		out := map[string]any{}
		for key, e := range x.Members(v) {
			out[key] = toAny(t, x, e)
		}
		// Member finds the same (last) value by name.
		for key, want := range out {
			m, found := x.Member(v, key)
			require.True(t, found)
			require.Equal(t, want, toAny(t, x, m))
		}
		return out
	}
	t.Fatalf("value without a kind: %q", v.Raw())
	return nil
}

// validUnicode reports whether every string of text, a JSON text that
// encoding/json accepts, is valid UTF-8 without a lone surrogate escape:
// the reference for what Parse refuses beyond encoding/json.
func validUnicode(text string) bool {
	if !utf8.ValidString(text) {
		return false // outside its strings such a text is ASCII
	}
	// A run of \u escapes must decode as UTF-16 without a lone surrogate.
	pairs := func(units []rune) bool {
		for i := 0; i < len(units); i++ {
			if !utf16.IsSurrogate(units[i]) {
				continue
			}
			if i+1 == len(units) || utf16.DecodeRune(units[i], units[i+1]) == unicode.ReplacementChar {
				return false
			}
			i++
		}
		return true
	}
	inString := false
	var run []rune
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case !inString:
			inString = c == '"'
		case c == '\\' && text[i+1] == 'u':
			u, err := strconv.ParseUint(text[i+2:i+6], 16, 16)
			if err != nil {
				panic(err) // encoding/json accepted the text
			}
			run = append(run, rune(u))
			i += 5
			continue
		case c == '\\':
			i++
		case c == '"':
			inString = false
		}
		if !pairs(run) {
			return false
		}
		run = run[:0]
	}
	return true
}

// checkIndex holds Parse to encoding/json on one text.
func checkIndex(t *testing.T, text string) {
	var x Index
	ok := x.Parse(text)
	var want any
	err := json.Unmarshal([]byte(text), &want)
	require.Equal(t, err == nil && validUnicode(text), ok, "Parse and encoding/json disagree on %q (%v)", text, err)
	if err == nil && !ok {
		require.ErrorIs(t, x.Err(), ErrUnicode, "%q", text)
	}
	if ok {
		require.NoError(t, x.Err())
	}
	// ParseTop accepts what encoding/json accepts, Unicode or not.
	var top Index
	require.Equal(t, err == nil, top.ParseTop(text), "ParseTop and encoding/json disagree on %q (%v)", text, err)

	// What a token's parse relies on: into a map[string]any, encoding/json
	// accepts an object (or null, which callers refuse by the root's kind).
	var m map[string]any
	mapErr := json.Unmarshal([]byte(text), &m)
	if !ok {
		_, found := x.Lookup("a")
		require.False(t, found)
		if err != nil {
			require.Error(t, mapErr, "%q", text)
		}
		return
	}
	root, _ := x.Root()
	if root.Kind() == Object || root.Kind() == Null {
		require.NoError(t, mapErr, "%q", text)
	} else {
		require.Error(t, mapErr, "%q", text)
	}
	require.Equal(t, want, toAny(t, &x, root), "%q", text)
	require.Equal(t, strings.Trim(text, " \t\r\n"), root.Raw())
	if root.Kind() != Object {
		return
	}
	for key, wantValue := range m {
		v, found := x.Lookup(key)
		require.True(t, found, "Lookup(%q) in %q", key, text)
		var got any
		require.NoError(t, json.Unmarshal([]byte(v.Raw()), &got))
		require.Equal(t, wantValue, got, "Lookup(%q) in %q", key, text)
	}
}

func TestParse(t *testing.T) {
	for _, text := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":1,"a":2}`, `{"a":"x","b":[1,"2",{"c":null}],"d":{"e":true,"f":false}}`,
		`[]`, `[1,[2,[3]],{}]`, `"str"`, `"\u00e9\n"`, "\"\xff\"", `{"\u0061":1,"a":2}`, `{"a":2,"\u0061":1}`,
		`1e400`, `-0`, `01`, `1.`, `.5`, `{"a":1,}`, `[1,]`, `{"a" 1}`, `{a:1}`, `nul`, `truex`, `{"a":1}}`,
		`"\x"`, "\"a\tb\"", `"\ud800"`, strings.Repeat("1", 309), strings.Repeat("1", 400),
		`{"a":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`,
		`{"a":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`,
		`{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":[10,11,12,13,14],"k11":{"x":"y"}}`,
		"", " ", `"`, `[`, `{`, `{"a"`, `{"a":`,
	} {
		checkIndex(t, text)
	}
}

// Parse refuses what encoding/json would read as U+FFFD, so that texts
// Python tells apart ("admin\ud800", "admin\udfff", "admin\ufffd") never
// read as one; Err tells the refusals apart.
func TestParseRefusals(t *testing.T) {
	for text, want := range map[string]error{
		`{"sub":"admin\ud800"}`:              ErrUnicode,
		`{"sub":"admin\udfff"}`:              ErrUnicode,
		`{"sub":"\udc00\ud800"}`:             ErrUnicode,
		`{"sub":"\ud800\\udc00"}`:            ErrUnicode,
		`{"sub":"\ud800x"}`:                  ErrUnicode,
		`{"\ud800":1}`:                       ErrUnicode,
		"{\"sub\":\"admin\xff\"}":            ErrUnicode,
		"{\"sub\":\"\xed\xa0\x80\"}":         ErrUnicode, // a surrogate in UTF-8
		"{\"sub\":\"\\n\xe2\x82\"}":          ErrUnicode,
		`{"sub":"a","x":1e400}`:              ErrNumberRange,
		`{"sub":"a","x":[-1e400]}`:           ErrNumberRange,
		`{"sub":"a","x":1e400`:               ErrNumberRange,
		`{"sub":"a",}`:                       ErrSyntax,
		"\xef\xbb\xbf{}":                     ErrSyntax,
		`{"sub":"admin\ufffd","x":1e-400}`:   nil,
		`{"sub":"\ud83d\ude00\uD83D\uDE00"}`: nil,
		"{\"sub\":\"\xf0\x9f\x98\x80\"}":     nil,
	} {
		var x Index
		assert.Equal(t, want == nil, x.Parse(text), "%q", text)
		assert.Equal(t, want, x.Err(), "%q", text)
		if want == ErrUnicode {
			assert.True(t, x.ParseTop(text), "ParseTop reads %q as encoding/json does", text)
			assert.NoError(t, x.Err())
		}
	}
}

func TestLookupLastDuplicate(t *testing.T) {
	var x Index
	require.True(t, x.Parse(`{"roles":["a"],"sub":"x","roles":["b","c"]}`))
	v, ok := x.Lookup("roles")
	require.True(t, ok)
	assert.Equal(t, `["b","c"]`, v.Raw())
	var got []string
	for e := range x.Elements(v) {
		s, _ := e.String()
		got = append(got, s)
	}
	assert.Equal(t, []string{"b", "c"}, got)
	_, ok = x.Lookup("missing")
	assert.False(t, ok)

	// Copies stay valid: the index holds no pointer into itself.
	y := x
	x.Parse(`{}`)
	v, ok = y.Lookup("sub")
	require.True(t, ok)
	s, _ := v.String()
	assert.Equal(t, "x", s)
}

func TestIndexAllocations(t *testing.T) {
	// A flask cookie token under rotation ("csrf", "fam") with roles and a
	// tenant: 28 nodes.
	text := `{"fresh":false,"iat":1700000000,"jti":"6a1c","type":"access","sub":"alice","nbf":1700000000,` +
		`"csrf":"9f2e","exp":1700000900,"fam":"5d0b","roles":["admin","user","billing"],"tenant":"acme"}`
	var x Index
	allocs := testing.AllocsPerRun(100, func() {
		if !x.Parse(text) {
			t.Fatal("refused")
		}
		v, _ := x.Lookup("roles")
		for e := range x.Elements(v) {
			if _, ok := e.String(); !ok {
				t.Fatal("not a string")
			}
		}
	})
	assert.Zero(t, allocs)

	// A document beyond the inline nodes still reads whole.
	big := `[` + strings.TrimSuffix(strings.Repeat(`"x",`, 3*inlineNodes), ",") + `]`
	allocs = testing.AllocsPerRun(100, func() {
		if !x.Parse(big) {
			t.Fatal("refused")
		}
	})
	assert.Equal(t, 1.0, allocs, "one slice for the nodes beyond the inline ones")
	root, _ := x.Root()
	n := 0
	for range x.Elements(root) {
		n++
	}
	assert.Equal(t, 3*inlineNodes, n)
}

func TestParseTop(t *testing.T) {
	var x Index
	body := `{"token":"abc","data":[` + strings.TrimSuffix(strings.Repeat(`[1,2],`, 10*inlineNodes), ",") + `],"token":"def"}`
	allocs := testing.AllocsPerRun(10, func() {
		if !x.ParseTop(body) {
			t.Fatal("refused")
		}
	})
	assert.Zero(t, allocs, "only the root and its members are indexed")
	v, ok := x.Lookup("token")
	require.True(t, ok)
	s, _ := v.String()
	assert.Equal(t, "def", s)
	v, ok = x.Lookup("data")
	require.True(t, ok)
	assert.Equal(t, Array, v.Kind())
	assert.False(t, x.ParseTop(`{"a":[1,]}`), "the insides are still validated")
}

func TestFloat(t *testing.T) {
	for raw, want := range map[string]float64{"0": 0, "42": 42, "1700000000": 1700000000, "-1": -1, "1.5": 1.5, "1e3": 1000, "123456789012345678": 123456789012345678} {
		got, ok := ParseFloat(raw)
		assert.True(t, ok, raw)
		assert.Equal(t, want, got, raw)
	}
	_, ok := ParseFloat(`"1"`)
	assert.False(t, ok)
	_, ok = Value{raw: "true"}.Float()
	assert.False(t, ok)
}

// FuzzIndex holds Parse to encoding/json: the same texts accepted, and the
// index reads (top-level lookups, nested iteration, strings, numbers) what
// json.Unmarshal gives.
//
//	go test -run '^$' -fuzz '^FuzzIndex$' -fuzztime 10m ./internal/jsonindex
func FuzzIndex(f *testing.F) {
	for _, seed := range []string{
		`{"sub":"alice","exp":1700000000,"roles":["a","b"],"org":{"id":7,"plan":"pro"}}`,
		`{"a":1,"a":[1,{"b":"\u00e9"}]}`, "{\"k\":\"\xff\"}", `[1e308,-0.0,"\ud83d\ude00"]`, `{"a":1e999}`,
		`{"fresh":true,"scope":"read write","perms":{"x":true,"x":false}}`,
		`{"sub":"admin\ud800"}`, `{"sub":"admin\udfff"}`, `["\uD83D\uDE00","\ud83d\u0041"]`, `{"\udc00\ud800":1}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		checkIndex(t, text)
		// ParseTop finds the same members.
		var full, top Index
		if !full.Parse(text) {
			return
		}
		require.True(t, top.ParseTop(text))
		root, _ := full.Root()
		for name := range full.Members(root) {
			want, _ := full.Member(root, name)
			got, found := top.Lookup(name)
			require.True(t, found)
			require.Equal(t, want.Raw(), got.Raw())
		}
	})
}
