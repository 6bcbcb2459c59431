package ginjwt

// The signature step of a request: which key checks a token, and the
// check itself. Keys are parsed and grouped at New (keyset.go, keys.go);
// here they are only looked up.

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"hash"
	"slices"
	"sync"
)

// verifierFor picks the key that checks a token, by its "kid" when keys
// have IDs, from the allowed algorithms only: the algorithm is checked
// before any key is touched.
func (m *Manager) verifierFor(tok *Token) (*verifier, *Error) {
	alg := tok.Header.Alg
	if !slices.Contains(m.allowed, alg) {
		return nil, invalid(ErrAlgorithmNotAllowed, msgAlgNotAllowed)
	}
	switch {
	case m.cfg.decodeKeyLoader != nil:
		return m.loadedVerifier(tok)
	case m.cfg.jwks != nil:
		return m.cfg.jwks.verifier(tok.Header.Kid, alg, m.cfg.now())
	case m.byKid != nil && tok.Header.Kid != "":
		vs, ok := m.byKid[tok.Header.Kid]
		if !ok {
			return nil, invalid(ErrUnknownKey, msgUnknownKey)
		}
		return pick(vs, alg)
	}
	return pick(m.verifiers, alg)
}

const msgUnknownKey = "Unknown key ID"

func pick(vs []*verifier, alg string) (*verifier, *Error) {
	for _, v := range vs {
		if v.alg.name == alg {
			return v, nil
		}
	}
	return nil, invalid(ErrAlgorithmNotAllowed, msgAlgNotAllowed)
}

// loadedVerifier asks the decode key loader for the token's key.
func (m *Manager) loadedVerifier(tok *Token) (*verifier, *Error) {
	// The loader sees the claims: they must be a JSON object already.
	if !isObject(&tok.Claims.doc) {
		return nil, invalid(ErrTokenMalformed, jsonMessage(msgPayloadPrefix, &tok.Claims.doc))
	}
	key, err := m.cfg.decodeKeyLoader(tok)
	if err != nil {
		if errors.Is(err, ErrUnknownKey) {
			e := invalid(ErrUnknownKey, msgUnknownKey)
			e.cause = err
			return nil, e
		}
		return nil, keysUnavailable(err)
	}
	alg := lookupAlgorithm(tok.Header.Alg)
	if alg.family == familyHMAC {
		secret, ok := key.([]byte)
		if !ok {
			// A public key is never an HMAC secret, whatever the token says.
			e := invalid(ErrAlgorithmNotAllowed, msgAlgNotAllowed)
			e.cause = fmt.Errorf("decode key loader returned %T for %s", key, alg.name)
			return nil, e
		}
		if err := m.checkSecret(alg, secret); err != nil {
			return nil, keysUnavailable(fmt.Errorf("decode key loader: %w", err))
		}
		return newVerifier(alg, secret), nil
	}
	pub, err := parsePublicKey(key)
	if err == nil {
		err = checkPublicKey(alg, pub)
	}
	if err != nil {
		// The key does not fit the token's algorithm: a token cannot choose
		// how its key is used.
		e := invalid(ErrAlgorithmNotAllowed, msgAlgNotAllowed)
		e.cause = err
		return nil, e
	}
	return newVerifier(alg, pub), nil
}

// verifier checks signatures of one allowed algorithm with its key.
type verifier struct {
	alg *algorithm
	key any // []byte for HMAC, a public key otherwise
	// macs reuses HMAC states: hmac.New allocates several objects per call.
	macs *sync.Pool
}

func newVerifier(alg *algorithm, key any) *verifier {
	v := &verifier{alg: alg, key: key}
	if alg.family == familyHMAC {
		secret := key.([]byte)
		v.macs = &sync.Pool{New: func() any { return hmac.New(alg.newHash, secret) }}
	}
	return v
}

// verify reports whether sig signs input (given as bytes and as a string,
// to copy neither). scratch is spare room for the computed MAC, so the HMAC
// path does not allocate.
func (v *verifier) verify(input []byte, inputStr string, sig, scratch []byte) bool {
	if v.alg.family != familyHMAC {
		return v.alg.method.Verify(inputStr, sig, v.key) == nil
	}
	return hmac.Equal(v.mac(input, scratch[:0]), sig)
}

// mac appends the HMAC of input to dst.
func (v *verifier) mac(input, dst []byte) []byte {
	h := v.macs.Get().(hash.Hash)
	h.Reset()
	h.Write(input)
	dst = h.Sum(dst)
	v.macs.Put(h)
	return dst
}

// checkSignature verifies raw's signature with v, or finds it verified
// by v before.
func (m *Manager) checkSignature(v *verifier, raw string, signed, sig, scratch []byte) bool {
	cache := m.verified
	if v.alg.family == familyHMAC {
		cache = nil // the check is cheaper than the lookup
	}
	if cache != nil && cache.verified(raw, v) {
		m.emit(context.Background(), Event{Kind: EventCacheHit})
		return true
	}
	if !v.verify(signed, raw[:len(signed)], sig, scratch) {
		return false
	}
	if cache != nil {
		m.emit(context.Background(), Event{Kind: EventCacheMiss})
		if n := cache.add(raw, v); n > 0 {
			m.emit(context.Background(), Event{Kind: EventCacheEviction, Evicted: n})
		}
	}
	return true
}
