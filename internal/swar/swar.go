// Package swar holds the one helper of ginjwt's word-at-a-time scanners
// (SIMD within a register): they test eight bytes of a string at once.
package swar

// Load64 reads the first 8 bytes of b little-endian; with a fixed-length
// slice the compiler makes it one load.
func Load64(b string) uint64 {
	b = b[:8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
