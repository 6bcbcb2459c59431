// Package jsonindex reads a JSON text in one validating pass into an index
// of value spans, so the token's header and claims are parsed once and every
// later reader (claim lookups, requirements, renewals) reads the index
// instead of scanning the text again.
//
// Parse accepts what encoding/json accepts when it unmarshals into an
// interface (the same grammar, the same nesting limit, numbers that fit a
// float64; a text whose root is an object is what it accepts into a
// map[string]any), except strings that hold invalid UTF-8 or a lone
// surrogate escape ("\ud800"): encoding/json reads those as U+FFFD, so
// texts Python tells apart would read as one. ParseTop, for request
// bodies, accepts them as encoding/json does. Lookups follow encoding/json:
// the last of duplicate keys wins, and strings read as it reads them.
// Err says why a text was refused. FuzzIndex holds it to all that.
//
// Decoding claims with encoding/json into a map costs more than the HMAC
// itself; this is why the index exists.
package jsonindex

import (
	"encoding/json"
	"errors"
	"iter"
	"math/bits"
	"strconv"
	"unicode/utf8"

	"github.com/ginjwt/ginjwt/internal/swar"
)

// Why Parse refused a text, as Err reports it.
var (
	// ErrSyntax: not one JSON value (or nested deeper than MaxDepth).
	ErrSyntax = errors.New("jsonindex: not a JSON text")
	// ErrNumberRange: a number beyond the range of a float64, such as 1e400.
	ErrNumberRange = errors.New("jsonindex: number out of range")
	// ErrUnicode: a string holds invalid UTF-8 or a lone surrogate escape.
	ErrUnicode = errors.New("jsonindex: invalid UTF-8 or lone surrogate in a string")
)

// failure is why a parse failed, kept in an Index as a byte.
type failure uint8

const (
	failNone failure = iota
	failSyntax
	failNumberRange
	failUnicode
)

// MaxDepth is encoding/json's nesting limit.
const MaxDepth = 10000

// inlineNodes is how many nodes an Index holds without allocating: enough
// for the payload of a flask cookie token under refresh-token rotation
// with a few custom claims (TestIndexAllocations), small enough to keep a
// token's state in one small allocation.
const inlineNodes = 32

// maxText is the longest text Parse takes: spans are 31-bit offsets.
const maxText = 1<<31 - 1

// node is one slot of the index, a flat tape of the values in document
// order. A scalar (string, number, true, false, null) takes one slot: a is
// where its text starts, b where it ends, with the high bit set for a
// string with no escapes and valid UTF-8. A container takes two: a is
// where it starts and b the index of the slot after its whole subtree
// (its next sibling); the second slot's a is where it ends. Its children
// follow, an object's keys and values alternately. The first byte of the
// text tells which is which.
type node struct {
	a, b uint32
}

const plainBit = 1 << 31

// Index is a validated JSON text and the spans of all its values. The zero
// Index holds nothing: Root reports no value. It holds no pointer into
// itself, so it can be copied.
type Index struct {
	text   string
	n      uint32
	fail   failure
	inline [inlineNodes]node
	big    []node // every node, once there are more than inlineNodes
}

// nodes returns the index's nodes, for transient use.
func (x *Index) nodes() []node {
	if x.big != nil {
		return x.big
	}
	return x.inline[:x.n]
}

// Text returns the text given to Parse, valid or not.
func (x *Index) Text() string { return x.text }

// Parse validates text and indexes it, replacing what x held. It reports
// whether text is exactly one JSON value (surrounding white space allowed)
// that encoding/json would accept, with valid Unicode in every string;
// when it is not, x holds the text and no value, and Err says why.
func (x *Index) Parse(text string) bool {
	return x.parse(text, MaxDepth+1, true)
}

// ParseTop is Parse for a text of which only the root and its members are
// read, such as a request body: it validates all of it but indexes only
// those, so a large body costs no memory. Elements and Members see nothing
// inside the root's members. Its strings may hold invalid UTF-8 and lone
// surrogates, as encoding/json's (and a Flask body's lone surrogates) may.
func (x *Index) ParseTop(text string) bool {
	return x.parse(text, 2, false)
}

// Err returns why the last Parse or ParseTop refused its text: ErrSyntax,
// ErrNumberRange or ErrUnicode; nil when it accepted it (or for the zero
// Index).
func (x *Index) Err() error {
	switch x.fail {
	case failNone:
		return nil
	case failNumberRange:
		return ErrNumberRange
	case failUnicode:
		return ErrUnicode
	}
	return ErrSyntax
}

// parse indexes the values down to nesting level keep (the root is 1);
// strict refuses strings that are not valid Unicode.
func (x *Index) parse(text string, keep int, strict bool) bool {
	x.text, x.n, x.big, x.fail = text, 0, nil, failSyntax
	if len(text) > maxText {
		return false
	}
	p := parser{x: x, s: text, keep: keep, strict: strict, nodes: x.inline[:]}
	p.skipSpace()
	ok := p.value(1)
	p.skipSpace()
	if !ok || p.pos != len(text) {
		x.big = nil
		x.fail = max(p.fail, failSyntax)
		return false
	}
	x.n, x.fail = p.n, failNone
	if x.big != nil {
		x.big = x.big[:p.n]
	}
	return true
}

// Root returns the text's value, and false when Parse refused the text (or
// was not called).
func (x *Index) Root() (Value, bool) {
	if x.n == 0 {
		return Value{}, false
	}
	return x.value(0), true
}

// value makes the Value of node i.
func (x *Index) value(i uint32) Value {
	return x.valueAt(x.nodes(), i)
}

// valueAt makes the Value whose node is nodes[i].
func (x *Index) valueAt(nodes []node, i uint32) Value {
	nd := nodes[i]
	if c := x.text[nd.a]; c == '{' || c == '[' {
		return Value{raw: x.text[nd.a:nodes[i+1].a], i: i}
	}
	return Value{raw: x.text[nd.a : nd.b&^plainBit], i: i, plain: nd.b&plainBit != 0}
}

// key decodes the key whose node is nd. Keys are short and plain: the
// text itself is the key.
func (x *Index) key(nd node) string {
	if nd.b&plainBit != 0 {
		return x.text[nd.a+1 : nd.b&^plainBit-1]
	}
	return x.escapedKey(nd)
}

// escapedKey is key's rare path: a key with escapes or invalid UTF-8.
func (x *Index) escapedKey(nd node) string {
	s, _ := unquote(x.text[nd.a:nd.b])
	return s
}

// next returns the index of the node after value i and its subtree.
func (x *Index) next(nodes []node, i uint32) uint32 {
	if c := x.text[nodes[i].a]; c == '{' || c == '[' {
		return nodes[i].b
	}
	return i + 1
}

// Lookup returns the member called name of the root object (the last one,
// if the name repeats, as encoding/json decides), and false when there is
// none or the root is not an object.
func (x *Index) Lookup(name string) (Value, bool) {
	root, ok := x.Root()
	if !ok {
		return Value{}, false
	}
	return x.Member(root, name)
}

// Member returns the member called name of obj, an object of x (the last
// one, if the name repeats), and false when there is none or obj is not an
// object.
func (x *Index) Member(obj Value, name string) (Value, bool) {
	if obj.Kind() != Object {
		return Value{}, false
	}
	nodes := x.nodes()
	found := uint32(0)
	for k := obj.i + 2; k < nodes[obj.i].b; k = x.next(nodes, k+1) {
		if x.key(nodes[k]) == name {
			found = k + 1
		}
	}
	if found == 0 {
		return Value{}, false
	}
	return x.value(found), true
}

// Elements iterates over the elements of arr, an array of x; nothing when
// arr is not an array.
func (x *Index) Elements(arr Value) iter.Seq[Value] {
	return func(yield func(Value) bool) {
		if arr.Kind() != Array {
			return
		}
		nodes := x.nodes()
		for k := arr.i + 2; k < nodes[arr.i].b; k = x.next(nodes, k) {
			if !yield(x.valueAt(nodes, k)) {
				return
			}
		}
	}
}

// Members iterates over the members of obj, an object of x, in text order
// with duplicates (the last of them is the one encoding/json keeps); keys
// are decoded as encoding/json decodes them. Nothing when obj is not an
// object.
func (x *Index) Members(obj Value) iter.Seq2[string, Value] {
	return func(yield func(key string, value Value) bool) {
		if obj.Kind() != Object {
			return
		}
		nodes := x.nodes()
		for k := obj.i + 2; k < nodes[obj.i].b; k = x.next(nodes, k+1) {
			// key(nodes[k]), spelt out: it is too big to inline.
			nd, key := nodes[k], ""
			if nd.b&plainBit != 0 {
				key = x.text[nd.a+1 : nd.b&^plainBit-1]
			} else {
				key = x.escapedKey(nd)
			}
			if !yield(key, x.valueAt(nodes, k+1)) {
				return
			}
		}
	}
}

// Kind is the JSON type of a value.
type Kind uint8

// The kinds of JSON value; Invalid is the zero Value's (an absent member).
const (
	Invalid Kind = iota
	Null
	Bool
	Number
	String
	Array
	Object
)

// Value is one value of an Index: its raw text, and its place in the index
// for Elements and Members. The zero Value is no value.
type Value struct {
	raw   string
	i     uint32
	plain bool
}

// Raw returns the value's JSON text, exactly as in the document; "" for the
// zero Value.
func (v Value) Raw() string { return v.raw }

// Exists reports whether v is a value, not the zero Value.
func (v Value) Exists() bool { return v.raw != "" }

// Kind returns the value's JSON type.
func (v Value) Kind() Kind {
	if v.raw == "" {
		return Invalid
	}
	switch v.raw[0] {
	case '"':
		return String
	case '{':
		return Object
	case '[':
		return Array
	case 'n':
		return Null
	case 't', 'f':
		return Bool
	}
	return Number
}

// String returns the value of a JSON string as encoding/json decodes it,
// and false when v is not a string. A string without escapes and with valid
// UTF-8 is returned as a substring of the text, without decoding.
func (v Value) String() (string, bool) {
	if v.plain {
		return v.raw[1 : len(v.raw)-1], true
	}
	if v.Kind() != String {
		return "", false
	}
	return unquote(v.raw)
}

// Float returns the value of a JSON number as encoding/json decodes it into
// an interface (a float64), and false when v is not a number.
func (v Value) Float() (float64, bool) {
	if v.Kind() != Number {
		return 0, false
	}
	return ParseFloat(v.raw)
}

// ParseFloat reads a JSON number's text (already validated, or checked
// here by strconv) as a float64.
func ParseFloat(raw string) (float64, bool) {
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

// unquote decodes a JSON string literal (quotes included) with escapes or
// invalid UTF-8; the rare path, so it leans on encoding/json.
func unquote(lit string) (string, bool) {
	var s string
	if err := json.Unmarshal([]byte(lit), &s); err != nil {
		return "", false
	}
	return s, true
}

// parser is one Parse in progress.
type parser struct {
	x      *Index
	s      string
	pos    int
	keep   int     // the deepest nesting level indexed
	strict bool    // strings must be valid Unicode
	fail   failure // why a value was refused, when not its syntax
	nodes  []node  // where nodes go: the inline array, then big
	n      uint32  // nodes written
}

// add appends a node and returns its index.
func (p *parser) add(nd node) uint32 {
	i := p.n
	if int(i) >= len(p.nodes) {
		// Once outgrown, the nodes live in x.big, never in a slice of
		// x.inline: x must hold no pointer into itself.
		grown := make([]node, 4*len(p.nodes))
		copy(grown, p.nodes)
		p.nodes, p.x.big = grown, grown
	}
	p.nodes[i] = nd
	p.n++
	return i
}

// scalar adds the node of a value that spans from start to p.pos.
func (p *parser) scalar(start int, plain bool) {
	end := offset(p.pos)
	if plain {
		end |= plainBit
	}
	p.add(node{a: offset(start), b: end})
}

// offset is a position in the text as a node holds it: parse refuses a text
// longer than maxText, so it fits 31 bits.
func offset(pos int) uint32 {
	return uint32(pos) //nolint:gosec // G115: pos <= maxText, checked by parse
}

func isJSONSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) && isJSONSpace(p.s[p.pos]) {
		p.pos++
	}
}

// value parses one value at p.pos; depth is the nesting level a container
// there would open (the root is level 1).
func (p *parser) value(depth int) bool {
	if p.pos >= len(p.s) {
		return false
	}
	start := p.pos
	plain, ok := false, false
	switch c := p.s[p.pos]; {
	case c == '"':
		plain, ok = p.str()
	case c == '{' || c == '[':
		if depth > MaxDepth {
			return false
		}
		if depth > p.keep {
			return p.container(depth)
		}
		i := p.add(node{a: offset(start)})
		p.add(node{})
		if !p.container(depth) {
			return false
		}
		p.nodes[i].b, p.nodes[i+1].a = p.n, offset(p.pos)
		return true
	case c == '-' || isDigit(c):
		ok = p.number()
	case c == 't':
		ok = p.literal("true")
	case c == 'f':
		ok = p.literal("false")
	case c == 'n':
		ok = p.literal("null")
	}
	if ok && depth <= p.keep {
		p.scalar(start, plain)
	}
	return ok
}

func (p *parser) container(depth int) bool {
	object := p.s[p.pos] == '{'
	closing := byte(']')
	if object {
		closing = '}'
	}
	p.pos++
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == closing {
		p.pos++
		return true
	}
	for {
		p.skipSpace()
		if object {
			if p.pos >= len(p.s) || p.s[p.pos] != '"' {
				return false
			}
			start := p.pos
			plain, ok := p.str()
			if !ok {
				return false
			}
			if depth+1 <= p.keep {
				p.scalar(start, plain)
			}
			p.skipSpace()
			if p.pos >= len(p.s) || p.s[p.pos] != ':' {
				return false
			}
			p.pos++
			p.skipSpace()
		}
		if !p.value(depth + 1) {
			return false
		}
		p.skipSpace()
		if p.pos >= len(p.s) {
			return false
		}
		switch p.s[p.pos] {
		case ',':
			p.pos++
		case closing:
			p.pos++
			return true
		default:
			return false
		}
	}
}

// str moves past a string starting at the opening quote. plain is true
// when the content can be used as is: no escapes and valid UTF-8
// (encoding/json replaces invalid bytes with U+FFFD). A strict parser
// refuses invalid UTF-8 and lone surrogate escapes.
func (p *parser) str() (plain, ok bool) {
	s := p.s
	i := p.pos + 1
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
			valid := !nonASCII || utf8.ValidString(s[p.pos+1:i])
			if !valid && p.strict {
				p.fail = failUnicode
				return false, false
			}
			p.pos = i + 1
			return !escaped && valid, true
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
				u, isHex := hex4(s, i+1)
				if !isHex {
					return false, false
				}
				i += 5
				if p.strict && u >= 0xd800 && u < 0xe000 {
					// Only a high surrogate escape followed by a low one
					// is a character.
					low, isHex := hex4(s, i+2)
					if u >= 0xdc00 || i+1 >= len(s) || s[i] != '\\' || s[i+1] != 'u' || !isHex || low < 0xdc00 || low >= 0xe000 {
						p.fail = failUnicode
						return false, false
					}
					i += 6
				}
			default:
				return false, false
			}
		}
	}
}

// hex4 reads the four hex digits of a \u escape at s[i:], and false when
// they are not there.
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	a, b, c, d := hexValue[s[i]], hexValue[s[i+1]], hexValue[s[i+2]], hexValue[s[i+3]]
	if a|b|c|d < 0 {
		return 0, false
	}
	return rune(a)<<12 | rune(b)<<8 | rune(c)<<4 | rune(d), true
}

// hexValue is the value of each hex digit, -1 for other bytes.
var hexValue = func() (t [256]int8) {
	for c := range t {
		switch {
		case c >= '0' && c <= '9':
			t[c] = int8(c - '0')
		case c >= 'a' && c <= 'f':
			t[c] = int8(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			t[c] = int8(c - 'A' + 10)
		default:
			t[c] = -1
		}
	}
	return t
}()

// skipPlain returns the index of the first byte from i on that is a quote, a
// backslash, a control character or non-ASCII, or len(s). It tests eight
// bytes at a time: in each word the lowest flagged byte is exact, since
// only a flagged byte can borrow into the bytes above it.
func skipPlain(s string, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		x := swar.Load64(s[i : i+8])
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

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *parser) literal(lit string) bool {
	if len(p.s)-p.pos < len(lit) || p.s[p.pos:p.pos+len(lit)] != lit {
		return false
	}
	p.pos += len(lit)
	return true
}

// number moves past a number in JSON's grammar that also fits a float64,
// as encoding/json requires when it decodes into an interface.
func (p *parser) number() bool {
	s := p.s
	start := p.pos
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
	p.pos = i
	// Without an exponent, only a literal of more than 308 digits can
	// overflow; check the rare cases the way encoding/json does.
	if !simple || i-start > 300 {
		// The grammar holds: an error can only be the range.
		if _, err := strconv.ParseFloat(s[start:i], 64); err != nil {
			p.fail = failNumberRange
			return false
		}
	}
	return true
}
