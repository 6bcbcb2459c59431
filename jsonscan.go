package ginjwt

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A small JSON scanner for the token header and payload.
//
// Decoding claims with encoding/json into a map costs more than the HMAC
// itself, so the request path reads the few members it needs here and skips
// the rest. It must accept exactly what encoding/json accepts when
// unmarshalling into map[string]any (same grammar, same nesting limit, numbers
// that fit a float64, last duplicate key wins); FuzzDecodeDifferential holds it
// to that.

// maxNestingDepth is encoding/json's limit.
const maxNestingDepth = 10000

type scanner struct {
	s   string
	pos int
}

func isJSONSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func (sc *scanner) skipSpace() {
	for sc.pos < len(sc.s) && isJSONSpace(sc.s[sc.pos]) {
		sc.pos++
	}
}

// eachMember walks a top-level JSON object and calls fn with each member's
// key (unescaped) and the raw text of its value. It reports false when the
// text is not exactly one valid JSON object, or when fn does.
func eachMember(s string, fn func(key, value string) bool) bool {
	sc := scanner{s: s}
	sc.skipSpace()
	if sc.pos >= len(s) || s[sc.pos] != '{' {
		return false
	}
	sc.pos++
	sc.skipSpace()
	if sc.pos < len(s) && s[sc.pos] == '}' {
		sc.pos++
		sc.skipSpace()
		return sc.pos == len(s)
	}
	for {
		sc.skipSpace()
		if sc.pos >= len(s) || s[sc.pos] != '"' {
			return false
		}
		keyStart := sc.pos
		plain, ok := sc.skipString()
		if !ok {
			return false
		}
		key := s[keyStart+1 : sc.pos-1]
		if !plain {
			if key, ok = unquote(s[keyStart:sc.pos]); !ok {
				return false
			}
		}
		sc.skipSpace()
		if sc.pos >= len(s) || s[sc.pos] != ':' {
			return false
		}
		sc.pos++
		sc.skipSpace()
		valStart := sc.pos
		if !sc.skipValue(2) {
			return false
		}
		if !fn(key, s[valStart:sc.pos]) {
			return false
		}
		sc.skipSpace()
		if sc.pos >= len(s) {
			return false
		}
		switch s[sc.pos] {
		case ',':
			sc.pos++
		case '}':
			sc.pos++
			sc.skipSpace()
			return sc.pos == len(s)
		default:
			return false
		}
	}
}

// eachElement walks a JSON array given as raw text and calls fn with the raw
// text of each element. It reports false when raw is not an array, or when
// fn does.
func eachElement(raw string, fn func(value string) bool) bool {
	sc := scanner{s: raw}
	if raw == "" || raw[0] != '[' {
		return false
	}
	sc.pos++
	sc.skipSpace()
	if sc.pos < len(raw) && raw[sc.pos] == ']' {
		return sc.pos+1 == len(raw)
	}
	for {
		sc.skipSpace()
		start := sc.pos
		if !sc.skipValue(2) || !fn(raw[start:sc.pos]) {
			return false
		}
		sc.skipSpace()
		if sc.pos >= len(raw) {
			return false
		}
		switch raw[sc.pos] {
		case ',':
			sc.pos++
		case ']':
			return sc.pos+1 == len(raw)
		default:
			return false
		}
	}
}

// skipValue moves past one JSON value; depth is the nesting level the value
// would open (the top-level object is level 1).
func (sc *scanner) skipValue(depth int) bool {
	if sc.pos >= len(sc.s) {
		return false
	}
	switch c := sc.s[sc.pos]; {
	case c == '"':
		_, ok := sc.skipString()
		return ok
	case c == '{' || c == '[':
		if depth > maxNestingDepth {
			return false
		}
		return sc.skipContainer(depth)
	case c == '-' || (c >= '0' && c <= '9'):
		return sc.skipNumber()
	case c == 't':
		return sc.skipLiteral("true")
	case c == 'f':
		return sc.skipLiteral("false")
	case c == 'n':
		return sc.skipLiteral("null")
	}
	return false
}

func (sc *scanner) skipContainer(depth int) bool {
	closing := byte(']')
	object := sc.s[sc.pos] == '{'
	if object {
		closing = '}'
	}
	sc.pos++
	sc.skipSpace()
	if sc.pos < len(sc.s) && sc.s[sc.pos] == closing {
		sc.pos++
		return true
	}
	for {
		sc.skipSpace()
		if object {
			if sc.pos >= len(sc.s) || sc.s[sc.pos] != '"' {
				return false
			}
			if _, ok := sc.skipString(); !ok {
				return false
			}
			sc.skipSpace()
			if sc.pos >= len(sc.s) || sc.s[sc.pos] != ':' {
				return false
			}
			sc.pos++
			sc.skipSpace()
		}
		if !sc.skipValue(depth + 1) {
			return false
		}
		sc.skipSpace()
		if sc.pos >= len(sc.s) {
			return false
		}
		switch sc.s[sc.pos] {
		case ',':
			sc.pos++
		case closing:
			sc.pos++
			return true
		default:
			return false
		}
	}
}

// skipString moves past a string starting at the opening quote. plain is
// true when the content can be used as is: no escapes and valid UTF-8
// (encoding/json replaces invalid bytes with U+FFFD).
func (sc *scanner) skipString() (plain, ok bool) {
	s := sc.s
	i := sc.pos + 1
	plain = true
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			if plain && !utf8.ValidString(s[sc.pos+1:i]) {
				plain = false
			}
			sc.pos = i + 1
			return plain, true
		case c < 0x20:
			return false, false
		case c == '\\':
			plain = false
			i++
			if i >= len(s) {
				return false, false
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+4 >= len(s) {
					return false, false
				}
				for _, h := range []byte(s[i+1 : i+5]) {
					if !isHex(h) {
						return false, false
					}
				}
				i += 5
			default:
				return false, false
			}
		default:
			i++
		}
	}
	return false, false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (sc *scanner) skipLiteral(lit string) bool {
	if len(sc.s)-sc.pos < len(lit) || sc.s[sc.pos:sc.pos+len(lit)] != lit {
		return false
	}
	sc.pos += len(lit)
	return true
}

// skipNumber moves past a number in JSON's grammar that also fits a float64,
// as encoding/json requires when it decodes into an interface.
func (sc *scanner) skipNumber() bool {
	s := sc.s
	start := sc.pos
	i := start
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return false
	}
	simple := true
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		simple = false
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	sc.pos = i
	// Without an exponent, only a literal of more than 308 digits can
	// overflow; check the rare cases the way encoding/json does.
	if !simple || i-start > 300 {
		if _, err := strconv.ParseFloat(s[start:i], 64); err != nil {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// unquote decodes a JSON string literal (quotes included) with escapes or
// invalid UTF-8; the rare path, so it leans on encoding/json.
func unquote(lit string) (string, bool) {
	var s string
	if err := json.Unmarshal([]byte(lit), &s); err != nil {
		return "", false
	}
	return s, true
}

// stringValue returns the content of a JSON string value given as raw text.
func stringValue(raw string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if strings.IndexByte(inner, '\\') >= 0 || !utf8.ValidString(inner) {
		return unquote(raw)
	}
	return inner, true
}

// numberValue returns a JSON number value given as raw text as encoding/json
// decodes it into an interface (a float64).
func numberValue(raw string) (float64, bool) {
	if raw == "" || (raw[0] != '-' && !isDigit(raw[0])) {
		return 0, false
	}
	f, err := strconv.ParseFloat(raw, 64)
	return f, err == nil
}
