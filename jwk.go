package ginjwt

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
)

// JSON Web Keys (RFC 7517): encoding this Manager's public keys
// (JWKSHandler) and decoding a fetched JWK Set (JWKS).

// JWKSHandler serves the public keys that verify this Manager's tokens, as
// a JWK Set (e.g. at /.well-known/jwks.json), never a secret. Answers are
// cached five minutes: keep a retired key published that long.
func (m *Manager) JWKSHandler() gin.HandlerFunc {
	body, err := json.Marshal(map[string]any{"keys": m.publicJWKs()})
	return func(c *gin.Context) {
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.Header("Cache-Control", "public, max-age=300")
		c.Data(http.StatusOK, "application/jwk-set+json", body)
	}
}

// publicJWKs lists the asymmetric verification keys as JWKs.
func (m *Manager) publicJWKs() []map[string]string {
	var out []map[string]string
	seen := map[string]bool{}
	addAll := func(kid string, vs []*verifier) {
		for _, v := range vs {
			if v.alg.family == familyHMAC {
				continue
			}
			jwk := publicJWK(v.key)
			if jwk == nil {
				continue
			}
			if kid == "" {
				kid = thumbprint(jwk)
			}
			if seen[kid+"/"+v.alg.name] {
				continue
			}
			seen[kid+"/"+v.alg.name] = true
			jwk["kid"], jwk["alg"], jwk["use"] = kid, v.alg.name, "sig"
			out = append(out, jwk)
		}
	}
	if m.cfg.signingKid == "" {
		addAll("", m.verifiers)
	}
	for _, kid := range slices.Sorted(mapKeys(m.byKid)) {
		addAll(kid, m.byKid[kid])
	}
	return out
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

var b64 = base64.RawURLEncoding

// publicJWK encodes a public key's members (RFC 7518 §6).
func publicJWK(key any) map[string]string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "n": b64.EncodeToString(k.N.Bytes()),
			"e": b64.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		raw, err := k.Bytes() // 0x04 || X || Y
		if err != nil {
			return nil
		}
		n := (len(raw) - 1) / 2
		return map[string]string{"kty": "EC", "crv": k.Curve.Params().Name,
			"x": b64.EncodeToString(raw[1 : 1+n]), "y": b64.EncodeToString(raw[1+n:])}
	case ed25519.PublicKey:
		return map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString(k)}
	}
	return nil
}

// thumbprint is the RFC 7638 JWK thumbprint: SHA-256 of the required
// members in lexical order.
func thumbprint(jwk map[string]string) string {
	var members []string
	switch jwk["kty"] {
	case "RSA":
		members = []string{"e", "kty", "n"}
	case "EC":
		members = []string{"crv", "kty", "x", "y"}
	default:
		members = []string{"crv", "kty", "x"}
	}
	buf := []byte{'{'}
	for i, name := range members {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, mustJSON(name)...)
		buf = append(buf, ':')
		buf = append(buf, mustJSON(jwk[name])...)
	}
	buf = append(buf, '}')
	sum := sha256.Sum256(buf)
	return b64.EncodeToString(sum[:])
}

type jwk struct {
	Kty, Kid, Alg, Use, Crv, N, E, X, Y string
}

// parseJWKSet reads the signature keys of a JWK Set. Keys it cannot use
// are skipped; a set with none is an error.
func parseJWKSet(data []byte) (*jwkSet, error) {
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	set := &jwkSet{byKid: map[string][]*verifier{}}
	for _, k := range doc.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		pub, err := k.publicKey()
		if err != nil {
			continue
		}
		for _, name := range []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"} {
			if k.Alg != "" && k.Alg != name {
				continue
			}
			alg := lookupAlgorithm(name)
			if checkPublicKey(alg, pub) == nil {
				set.byKid[k.Kid] = append(set.byKid[k.Kid], newVerifier(alg, pub))
			}
		}
	}
	if len(set.byKid) == 0 {
		return nil, errors.New("no usable signature key in the set")
	}
	return set, nil
}

func (k jwk) publicKey() (any, error) {
	dec := func(s string) ([]byte, error) { return b64.DecodeString(s) }
	switch k.Kty {
	case "RSA":
		n, err1 := dec(k.N)
		e, err2 := dec(k.E)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		exp := new(big.Int).SetBytes(e)
		if !exp.IsInt64() || exp.Int64() < 3 || exp.Int64() > 1<<31-1 {
			return nil, errors.New("bad RSA exponent")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())}, nil
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, fmt.Errorf("curve %q", k.Crv)
		}
		x, err1 := dec(k.X)
		y, err2 := dec(k.Y)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		size := (curve.Params().BitSize + 7) / 8
		if len(x) != size || len(y) != size {
			return nil, errors.New("bad EC coordinates")
		}
		// ParseUncompressedPublicKey checks that the point is on the curve.
		return ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
	case "OKP":
		x, err := dec(k.X)
		if err != nil || k.Crv != "Ed25519" || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("bad Ed25519 key")
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, fmt.Errorf("key type %q", k.Kty)
}
