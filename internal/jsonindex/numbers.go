package jsonindex

import (
	"strconv"
	"strings"
)

// SameNumber reports whether the JSON numbers a and b (raw texts) are
// the same number, exactly: 1234567890123456789 is not
// 1234567890123456788, though both are the same float64. It compares
// digits and exponents as text, so no literal, however long its exponent,
// costs more than a pass over it.
func SameNumber(a, b string) bool {
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

// IsPlainDecimal reports whether s is a number as people write one in a
// URL: an optional minus, an integer without leading zeros, and an
// optional fraction without trailing zeros.
func IsPlainDecimal(s string) bool {
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
