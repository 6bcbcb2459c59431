package swar

import (
	"encoding/binary"
	"testing"
)

func TestLoad64(t *testing.T) {
	s := "\x01\x02\x03\x04\x05\x06\x07\x08tail"
	if got, want := Load64(s), binary.LittleEndian.Uint64([]byte(s)); got != want {
		t.Errorf("Load64 = %#x, want %#x", got, want)
	}
}
