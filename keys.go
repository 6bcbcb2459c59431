package ginjwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"

	"github.com/golang-jwt/jwt/v5"
)

type family int

const (
	familyHMAC family = iota + 1
	familyRSA         // RS* and PS*
	familyEC
	familyEd
)

// algorithm describes one JOSE "alg" value ginjwt signs and verifies.
type algorithm struct {
	name    string
	family  family
	newHash func() hash.Hash // HMAC only
	size    int              // HMAC output size: the minimum secret length
	curve   elliptic.Curve   // ECDSA only
	method  jwt.SigningMethod
}

func lookupAlgorithm(name string) *algorithm {
	switch name {
	case "HS256":
		return &algorithm{name: name, family: familyHMAC, newHash: sha256.New, size: 32, method: jwt.SigningMethodHS256}
	case "HS384":
		return &algorithm{name: name, family: familyHMAC, newHash: sha512.New384, size: 48, method: jwt.SigningMethodHS384}
	case "HS512":
		return &algorithm{name: name, family: familyHMAC, newHash: sha512.New, size: 64, method: jwt.SigningMethodHS512}
	case "RS256":
		return &algorithm{name: name, family: familyRSA, method: jwt.SigningMethodRS256}
	case "RS384":
		return &algorithm{name: name, family: familyRSA, method: jwt.SigningMethodRS384}
	case "RS512":
		return &algorithm{name: name, family: familyRSA, method: jwt.SigningMethodRS512}
	case "PS256":
		return &algorithm{name: name, family: familyRSA, method: jwt.SigningMethodPS256}
	case "PS384":
		return &algorithm{name: name, family: familyRSA, method: jwt.SigningMethodPS384}
	case "PS512":
		return &algorithm{name: name, family: familyRSA, method: jwt.SigningMethodPS512}
	case "ES256":
		return &algorithm{name: name, family: familyEC, curve: elliptic.P256(), method: jwt.SigningMethodES256}
	case "ES384":
		return &algorithm{name: name, family: familyEC, curve: elliptic.P384(), method: jwt.SigningMethodES384}
	case "ES512":
		return &algorithm{name: name, family: familyEC, curve: elliptic.P521(), method: jwt.SigningMethodES512}
	case "EdDSA":
		return &algorithm{name: name, family: familyEd, method: jwt.SigningMethodEdDSA}
	}
	return nil
}

// minRSABits is the smallest RSA key accepted (RFC 7518 §3.3 asks for 2048).
const minRSABits = 2048

// checkPublicKey tells whether key can verify alg.
func checkPublicKey(alg *algorithm, key crypto.PublicKey) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if alg.family != familyRSA {
			break
		}
		if k.N.BitLen() < minRSABits {
			return fmt.Errorf("%s: RSA key has %d bits, at least %d required", alg.name, k.N.BitLen(), minRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
		if alg.family != familyEC {
			break
		}
		if k.Curve != alg.curve {
			return fmt.Errorf("%s needs a %s key, got %s", alg.name, alg.curve.Params().Name, k.Curve.Params().Name)
		}
		return nil
	case ed25519.PublicKey:
		if alg.family == familyEd {
			return nil
		}
	}
	return fmt.Errorf("%s cannot use a key of type %T", alg.name, key)
}

// parsePrivateKey accepts a crypto private key, or PEM (PKCS#8, PKCS#1, SEC 1).
func parsePrivateKey(key any) (crypto.Signer, error) {
	switch k := key.(type) {
	case string:
		return parsePrivatePEM([]byte(k))
	case []byte:
		return parsePrivatePEM(k)
	case ed25519.PrivateKey:
		return k, nil
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("unsupported private key type %T", key)
}

func parsePrivatePEM(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("private key: no PEM block found")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	if s, ok := key.(crypto.Signer); ok {
		return parsePrivateKey(s)
	}
	return nil, fmt.Errorf("private key: unsupported type %T", key)
}

// parsePublicKey accepts a crypto public key, or PEM (SubjectPublicKeyInfo,
// PKCS#1, or a certificate).
func parsePublicKey(key any) (crypto.PublicKey, error) {
	switch k := key.(type) {
	case string:
		return parsePublicPEM([]byte(k))
	case []byte:
		return parsePublicPEM(k)
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return k, nil
	}
	return nil, fmt.Errorf("unsupported public key type %T", key)
}

func parsePublicPEM(data []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("public key: no PEM block found")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default:
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return parsePublicKey(key)
}
