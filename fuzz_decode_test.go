package ginjwt_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ginjwt/ginjwt"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ginjwt reads tokens with its own JSON index (internal/jsonindex, fuzzed
// there against encoding/json) for speed. These fuzz targets hold whole
// tokens to the slow, obvious reference: golang-jwt's parser with
// encoding/json maps, plus flask-jwt-extended's claim rules written over
// the decoded map. Both must accept and reject the same tokens and, when
// they accept, read the same claims.
//
// scripts/test.sh runs each target for a few seconds (FUZZTIME); longer runs:
//
//	go test -run '^$' -fuzz FuzzDecodeDifferential -fuzztime 10m

var fuzzNow = time.Unix(1795566329, 0)

func fuzzManager(t testing.TB) *ginjwt.Manager {
	return newManager(t, ginjwt.WithClock(func() time.Time { return fuzzNow }), ginjwt.WithMaxTokenSize(1<<20))
}

// reference decodes raw the slow way; it returns the claims map or an error.
func reference(raw string) (map[string]any, error) {
	// golang-jwt's decoder skips CR and LF, so a signature with a newline
	// in it still verifies; ginjwt refuses such tokens.
	if strings.ContainsAny(raw, "\r\n") {
		return nil, errors.New("newline in the token")
	}
	tok, err := jwt.Parse(raw, func(*jwt.Token) (any, error) { return []byte(testSecret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return fuzzNow }))
	if err != nil {
		return nil, err
	}
	// golang-jwt unmarshals with encoding/json, which also accepts the
	// literal null as an empty map and ignores nothing else.
	claims := tok.Claims.(jwt.MapClaims)
	if kid, ok := tok.Header["kid"]; ok {
		if _, isStr := kid.(string); !isStr {
			return nil, errors.New("kid not a string")
		}
	}
	if _, ok := tok.Header["crit"]; ok {
		return nil, errors.New("crit")
	}
	if tok.Header["b64"] == false {
		return nil, errors.New("b64 false: the payload would be signed unencoded")
	}
	// encoding/json reads invalid UTF-8 and lone surrogates as U+FFFD,
	// where Python keeps what flask tells apart: refused.
	for _, seg := range strings.SplitN(raw, ".", 3)[:2] {
		text, err := base64.RawURLEncoding.DecodeString(seg)
		if err != nil || !validUnicode(string(text)) {
			return nil, errors.New("not valid Unicode")
		}
	}
	for _, name := range []string{"exp", "nbf", "iat"} {
		if v, ok := claims[name]; ok {
			f := v.(float64) // golang-jwt already refused other types
			// Beyond int64 seconds golang-jwt's result depends on the CPU;
			// ginjwt refuses such dates.
			if f <= -(1<<63) || f >= 1<<63 {
				return nil, errors.New(name + " out of range")
			}
		}
	}
	if exp, ok := claims["exp"]; ok && exp.(float64) == 0 {
		return nil, errors.New("exp 0 is expired") // golang-jwt calls it absent
	}
	sub, ok := claims["sub"]
	if !ok {
		return nil, errors.New("missing sub")
	}
	if s, isStr := sub.(string); !isStr || s == "" {
		return nil, errors.New("sub not a non-empty string")
	}
	for _, name := range []string{"jti", "type", "csrf"} {
		if v, ok := claims[name]; ok {
			if _, isStr := v.(string); !isStr {
				return nil, errors.New(name + " not a string")
			}
		}
	}
	switch f := claims["fresh"].(type) {
	case nil:
		if _, present := claims["fresh"]; present {
			return nil, errors.New("fresh null")
		}
	case bool:
	case float64:
		if f <= -9e12 || f >= 9e12 { // its microseconds must fit an int64
			return nil, errors.New("fresh out of range")
		}
	default:
		return nil, errors.New("fresh of another type")
	}
	return claims, nil
}

// validUnicode reports whether every string of text, a JSON text that
// encoding/json accepts, is valid UTF-8 without a lone surrogate escape.
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

func checkAgainstReference(t *testing.T, m *ginjwt.Manager, raw string) {
	want, refErr := reference(raw)
	tok, err := m.DecodeToken(raw)
	if refErr != nil {
		require.Error(t, err, "ginjwt accepted what the reference refused (%v): %q", refErr, raw)
		var e *ginjwt.Error
		require.ErrorAs(t, err, &e)
		require.Contains(t, []int{401, 422}, e.Status)
		return
	}
	require.NoError(t, err, "ginjwt refused what the reference accepted: %q", raw)
	require.Equal(t, want["sub"], tok.Claims.Identity)
	str := func(name, def string) string {
		if s, ok := want[name].(string); ok {
			return s
		}
		return def
	}
	require.Equal(t, str("type", "access"), tok.Claims.Type)
	require.Equal(t, str("jti", ""), tok.Claims.JTI)
	require.Equal(t, str("csrf", ""), tok.Claims.CSRF)
	require.Equal(t, str("iss", ""), tok.Claims.Issuer())
	switch f := want["fresh"].(type) {
	case bool:
		require.Equal(t, f, tok.Claims.IsFresh(fuzzNow))
		require.Equal(t, f, tok.Claims.IsFresh(time.Unix(1<<40, 0)), "for ever")
	case float64:
		got := float64(tok.Claims.FreshUntil().UnixMicro()) / 1e6
		require.Equal(t, got >= float64(fuzzNow.Unix()), tok.Claims.IsFresh(fuzzNow), "freshness at now")
		require.LessOrEqual(t, math.Abs(got-f), math.Max(1e-6, math.Abs(f)*1e-12)+1e-6, "fresh %v read as %v", f, got)
	}
	if exp, ok := want["exp"].(float64); ok {
		sec, _ := math.Modf(exp)
		require.Equal(t, int64(sec), tok.Claims.ExpiresAt().Unix())
	}
	// Every claim, known or not, reads the same through Get and Map.
	all, err := tok.Claims.Map()
	require.NoError(t, err)
	for k, v := range want {
		got, ok := tok.Claims.Get(k)
		require.True(t, ok, "claim %q", k)
		require.True(t, sameValue(v, got), "claim %q: %#v read as %#v", k, v, got)
		require.True(t, sameValue(v, all[k]), "claim %q: %#v read as %#v in Map", k, v, all[k])
	}
}

// sameValue compares encoding/json's reading of a claim (numbers as
// float64) with ginjwt's (int64, or json.Number beyond it, for integers):
// equal when ginjwt's number rounds to encoding/json's.
func sameValue(want, got any) bool {
	switch w := want.(type) {
	case float64:
		switch g := got.(type) {
		case float64:
			return g == w || (math.IsNaN(g) && math.IsNaN(w))
		case int64:
			return float64(g) == w
		case json.Number:
			f, err := strconv.ParseFloat(g.String(), 64)
			return err == nil && f == w
		}
		return false
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, v := range w {
			if !sameValue(v, g[k]) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameValue(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(want, got)
}

// flaskVectorTokens returns the tokens flask-jwt-extended minted for the
// conformance suite (conformance/testdata), as seeds.
func flaskVectorTokens(f *testing.F) []string {
	f.Helper()
	data, err := os.ReadFile(filepath.Join("conformance", "testdata", "flask_vectors.json"))
	require.NoError(f, err)
	var file struct {
		Vectors []struct {
			Token string `json:"token"`
		} `json:"vectors"`
	}
	require.NoError(f, json.Unmarshal(data, &file))
	require.NotEmpty(f, file.Vectors)
	tokens := make([]string, len(file.Vectors))
	for i, v := range file.Vectors {
		tokens[i] = v.Token
	}
	return tokens
}

func addPayloadSeeds(f *testing.F) {
	for _, token := range flaskVectorTokens(f) {
		parts := strings.Split(token, ".")
		h, _ := base64.RawURLEncoding.DecodeString(parts[0])
		p, _ := base64.RawURLEncoding.DecodeString(parts[1])
		f.Add(string(h), string(p))
	}
	hdr := `{"alg":"HS256","typ":"JWT"}`
	for _, p := range []string{
		`{"sub":"a"}`, `{"sub":"a","sub":"b"}`, `{"sub":1,"sub":"a"}`, `{"s\u0075b":"a"}`,
		`{"sub":"\ud83d\ude00"}`, `{"sub":"\ud800"}`, "{\"sub\":\"\xff\"}", `{"sub":"a","exp":1.5e9}`,
		`{"sub":"a","exp":-1}`, `{"sub":"a","exp":1e300}`, `{"sub":"a","exp":"1"}`, `{"sub":"a","exp":null}`,
		`{"sub":"a","exp":0}`, `{"sub":"a","nbf":-9.3e18}`, `{"sub":"a","iat":9223372036854775807}`,
		`{"sub":"a","x":1e400}`, `{"sub":"a","x":[[[[{}]]]]}`, `{"sub":"a","fresh":1795566329.5}`,
		`{"sub":"a","fresh":"true"}`, `{"sub":"a","aud":["x",1]}`, ` {"sub":"a"} `, `{"sub":"a"}x`,
		`{"sub":"a",}`, `{"sub":"a","n":01}`, `{"sub":"a","n":-0.0e-0}`, `null`, `[]`, `{"sub":"a","t":tru}`,
		`{"sub":"a","jti":null}`, `{"sub":"a","type":"refresh","fresh":false}`, "{\"sub\":\"a\tb\"}",
	} {
		f.Add(hdr, p)
	}
	for _, h := range []string{
		`{"alg":"none"}`, `{"alg":"HS256","alg":"none"}`, `{"alg":"none","alg":"HS256"}`, `{"alg":"HS256","kid":5}`,
		`{"alg":"HS256","crit":[]}`, `{"alg":"HS256"`, `{"alg":"HS\u0032\u0035\u0036"}`, `null`, `{"alg":["HS256"]}`,
		`{"alg":"HS256","b64":false}`, `{"alg":"HS256","b64":true}`, `{"alg":"HS256","kid":"\udc00"}`,
	} {
		f.Add(h, `{"sub":"a"}`)
	}
}

// FuzzDecodeDifferential signs arbitrary header and payload texts with the
// right key, so every claim rule is reached.
func FuzzDecodeDifferential(f *testing.F) {
	addPayloadSeeds(f)
	m := fuzzManager(f)
	f.Fuzz(func(t *testing.T, header, payload string) {
		checkAgainstReference(t, m, signRaw(header, payload, testSecret))
	})
}

// FuzzDecodeToken feeds arbitrary token strings: segments, base64 and
// signatures as an attacker would send them.
func FuzzDecodeToken(f *testing.F) {
	for _, token := range flaskVectorTokens(f) {
		f.Add(token)
	}
	valid := signPayload(`{"sub":"a"}`)
	for _, s := range []string{"", ".", "..", "...", "a.b.c", valid, valid + "=", valid[:len(valid)-1],
		strings.Replace(valid, ".", "\n.", 1), "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.", valid + "." + valid} {
		f.Add(s)
	}
	m := fuzzManager(f)
	f.Fuzz(func(t *testing.T, raw string) {
		checkAgainstReference(t, m, raw)
	})
}

// The seeds run as ordinary tests too; this one checks a few verdicts the
// reference rules above encode, so they cannot silently drift.
func TestReferenceVerdicts(t *testing.T) {
	m := fuzzManager(t)
	for payload, ok := range map[string]bool{
		`{"sub":"a"}`: true, `{"sub":"a","exp":0}`: false, `{"sub":"a"}x`: false, `{"sub":1,"sub":"a"}`: true,
		`{"sub":"a","x":1e400}`: false, `{"sub":"a","exp":1e300}`: false, `null`: false,
	} {
		_, err := m.DecodeToken(signPayload(payload))
		assert.Equal(t, ok, err == nil, payload)
		checkAgainstReference(t, m, signPayload(payload))
	}
}
