package ginjwt

import (
	"encoding/json"
	"math/bits"
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
// key (unescaped) and value. It reports false when the text is not exactly
// one valid JSON object, or when fn does.
func eachMember(s string, fn func(key string, value rawValue) bool) bool {
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
		plainStr := false
		if sc.pos < len(s) && s[sc.pos] == '"' {
			if plainStr, ok = sc.skipString(); !ok {
				return false
			}
		} else if !sc.skipValue(2) {
			return false
		}
		if !fn(key, rawValue{s[valStart:sc.pos], plainStr}) {
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
	escaped, nonASCII := false, false
	for {
		// IDs and names are long runs of plain bytes.
		if i = skipPlain(s, i); i >= len(s) {
			return false, false
		}
		switch strByteClass[s[i]] {
		case strNonASCII:
			nonASCII = true
			i++
		case strQuote:
			plain = !escaped && (!nonASCII || utf8.ValidString(s[sc.pos+1:i]))
			sc.pos = i + 1
			return plain, true
		case strControl:
			return false, false
		case strEscape:
			escaped = true
			i++
			if i >= len(s) {
				return false, false
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+4 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) || !isHex(s[i+3]) || !isHex(s[i+4]) {
					return false, false
				}
				i += 5
			default:
				return false, false
			}
		}
	}
}

// skipPlain returns the index of the first byte from i on that is a quote, a
// backslash, a control character or non-ASCII, or len(s). It tests eight
// bytes at a time: in each word the lowest flagged byte is exact, since
// only a flagged byte can borrow into the bytes above it.
func skipPlain(s string, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		x := load64(s[i : i+8])
		q, b := x^(ones*'"'), x^(ones*'\\')
		if special := ((q-ones)&^q | (b-ones)&^b | (x - ones*0x20) | x) & highs; special != 0 {
			return i + bits.TrailingZeros64(special)>>3
		}
	}
	for i < len(s) && strByteClass[s[i]] == strPlain {
		i++
	}
	return i
}

// load64 reads 8 bytes little-endian; with a fixed-length slice the
// compiler makes it one load.
func load64(b string) uint64 {
	b = b[:8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// Byte classes inside a JSON string, so the common byte costs one lookup.
const (
	strPlain = iota
	strQuote
	strEscape
	strControl
	strNonASCII
)

var strByteClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c == '"':
			t[c] = strQuote
		case c == '\\':
			t[c] = strEscape
		case c < 0x20:
			t[c] = strControl
		case c >= 0x80:
			t[c] = strNonASCII
		}
	}
	return t
}()

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

// rawValue is the raw JSON text of a member's value; plain says it is a
// string whose content needs no decoding (no escapes, valid UTF-8).
type rawValue struct {
	raw   string
	plain bool
}

// str returns the value of a JSON string, decoding it only when needed.
func (v rawValue) str() (string, bool) {
	if v.plain {
		return v.raw[1 : len(v.raw)-1], true
	}
	return stringValue(v.raw)
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
	// Timestamps are plain integers: below 2^53 they convert exactly, which
	// is what ParseFloat would return.
	if len(raw) <= 15 && raw[0] != '-' && (len(raw) == 1 || raw[0] != '0') {
		var n int64
		for i := 0; i < len(raw); i++ {
			if !isDigit(raw[i]) {
				goto slow
			}
			n = n*10 + int64(raw[i]-'0')
		}
		return float64(n), true
	}
slow:
	f, err := strconv.ParseFloat(raw, 64)
	return f, err == nil
}

// sameNumber reports whether the JSON numbers a and b (raw texts) are
// the same number, exactly: 1234567890123456789 is not
// 1234567890123456788, though both are the same float64. It compares
// digits and exponents as text, so no literal, however long its exponent,
// costs more than a pass over it.
func sameNumber(a, b string) bool {
	da, ea, negA, okA := decimalForm(a)
	db, eb, negB, okB := decimalForm(b)
	return okA && okB && da == db && ea == eb && negA == negB
}

// decimalForm splits a JSON number into its significant digits (no
// leading or trailing zeros), the power of ten they are scaled by, and the
// sign; zero is ("", 0, false) however it is written.
func decimalForm(s string) (digits string, exp int, neg, ok bool) {
	if s == "" {
		return "", 0, false, false
	}
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart, frac := s[:i], ""
	if i == 0 {
		return "", 0, false, false
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		frac, i = s[i+1:j], j
		if frac == "" {
			return "", 0, false, false
		}
	}
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return "", 0, false, false
		}
		// An exponent beyond the int range fails here: no claim needs one.
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 1<<40 || e < -1<<40 {
			return "", 0, false, false
		}
		exp = e
	}
	// The digits of intPart and frac in one string, without copying when
	// there is no fraction.
	digits = intPart
	if frac != "" {
		digits = intPart + frac
		exp -= len(frac)
	}
	digits = strings.TrimLeft(digits, "0")
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	if trimmed == "" {
		return "", 0, false, true
	}
	return trimmed, exp, neg, true
}

// isPlainDecimal reports whether s is a number as people write one in a
// URL: an optional minus, an integer without leading zeros, and an
// optional fraction without trailing zeros.
func isPlainDecimal(s string) bool {
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if intPart == "" || (len(intPart) > 1 && intPart[0] == '0') || (hasFrac && (frac == "" || frac[len(frac)-1] == '0')) {
		return false
	}
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if !isDigit(part[i]) {
				return false
			}
		}
	}
	return true
}

// lookupMember returns the raw text of the last top-level member called
// name in obj, a JSON object that eachMember has already accepted. Since
// obj is known to be valid, it only finds boundaries: strings end at the
// next unescaped quote and containers at their matching bracket.
func lookupMember(obj, name string) (raw string, found bool) {
	i := strings.IndexByte(obj, '{')
	if i < 0 {
		return "", false
	}
	i++
	for {
		q := strings.IndexByte(obj[i:], '"')
		if q < 0 {
			return raw, found
		}
		keyStart := i + q
		// Keys are short and plain: a byte loop beats IndexByte's call.
		j := keyStart + 1
		for obj[j] != '"' && obj[j] != '\\' && obj[j] < utf8.RuneSelf {
			j++
		}
		key := obj[keyStart+1 : j]
		if obj[j] != '"' { // escapes or non-ASCII: decode as encoding/json does
			j = stringEnd(obj, keyStart) - 1
			key, _ = unquote(obj[keyStart : j+1])
		}
		i = j + 1
		for obj[i] != ':' {
			i++
		}
		i++
		for isJSONSpace(obj[i]) {
			i++
		}
		valStart := i
		i = valueEnd(obj, i)
		if key == name {
			raw, found = obj[valStart:i], true
		}
		// Move past the comma, or stop at the closing brace.
		for i < len(obj) && obj[i] != ',' && obj[i] != '}' {
			i++
		}
		if i >= len(obj) || obj[i] == '}' {
			return raw, found
		}
		i++
	}
}

// stringEnd returns the index just past the string that opens at s[i].
func stringEnd(s string, i int) int {
	i++
	for {
		q := strings.IndexByte(s[i:], '"')
		end := i + q
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for end-1-n >= i && s[end-1-n] == '\\' {
			n++
		}
		if n%2 == 0 {
			return end + 1
		}
		i = end + 1
	}
}

// valueEnd returns the index just past the valid JSON value at s[i].
func valueEnd(s string, i int) int {
	switch s[i] {
	case '"':
		return stringEnd(s, i)
	case '{', '[':
		depth := 0
		for {
			switch s[i] {
			case '"':
				i = stringEnd(s, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
	}
	for i < len(s) && s[i] != ',' && s[i] != '}' && s[i] != ']' && !isJSONSpace(s[i]) {
		i++
	}
	return i
}
