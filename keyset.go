package ginjwt

import (
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"slices"
)

// namedKey is a verification key with an ID, from WithKeyID.
type namedKey struct {
	kid    string
	key    any // a public key (any accepted form) or, with secret, []byte
	secret bool
}

// VerificationKey only verifies tokens whose "kid" is its ID, such as a
// previous signing key. Set one of PublicKey (as WithPublicKey takes) and
// Secret (HS*); it serves the allowed algorithms of its kind only.
type VerificationKey struct {
	ID        string
	PublicKey any
	Secret    []byte
}

// WithKeyID names the Manager's key kid, written as new tokens' "kid";
// previous keys still verify their own tokens, for a rotation
// (docs/keys-and-jwks.md).
func WithKeyID(kid string, previous ...VerificationKey) Option {
	return option(func(c *config) error {
		if kid == "" {
			return errors.New("WithKeyID: empty key ID")
		}
		var errs []error
		keys := make([]namedKey, 0, len(previous))
		for i, vk := range previous {
			switch {
			case vk.ID == "":
				errs = append(errs, fmt.Errorf("WithKeyID: previous key %d has no ID", i))
			case (vk.PublicKey == nil) == (len(vk.Secret) == 0):
				errs = append(errs, fmt.Errorf("WithKeyID: previous key %q needs exactly one of PublicKey and Secret", vk.ID))
			case vk.PublicKey != nil:
				keys = append(keys, namedKey{kid: vk.ID, key: vk.PublicKey})
			default:
				keys = append(keys, namedKey{kid: vk.ID, key: slices.Clone(vk.Secret), secret: true})
			}
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		c.signingKid, c.namedKeys = kid, keys
		return nil
	})
}

// keysFromElsewhere reports whether verification keys come from somewhere
// else than the default key options.
func (m *Manager) keysFromElsewhere() bool {
	return len(m.cfg.namedKeys) > 0 || m.cfg.jwks != nil || m.cfg.decodeKeyLoader != nil
}

// setupNamedKeys builds the verifiers of the keys with an ID; the default
// key joins them under WithKeyID's name.
func (m *Manager) setupNamedKeys() []error {
	var errs []error
	add := func(kid string, vs []*verifier) {
		if m.byKid == nil {
			m.byKid = map[string][]*verifier{}
		}
		if _, dup := m.byKid[kid]; dup {
			errs = append(errs, fmt.Errorf("key ID %q given twice", kid))
			return
		}
		m.byKid[kid] = vs
	}
	if kid := m.cfg.signingKid; kid != "" {
		add(kid, m.verifiers)
	}
	for _, nk := range m.cfg.namedKeys {
		var vs []*verifier
		var problems []error
		for _, name := range m.allowed {
			alg := lookupAlgorithm(name)
			var err error
			var key any
			if nk.secret {
				if alg.family != familyHMAC {
					continue
				}
				err, key = m.checkSecret(alg, nk.key.([]byte)), nk.key
			} else {
				if alg.family == familyHMAC {
					continue
				}
				var pub crypto.PublicKey
				if pub, err = parsePublicKey(nk.key); err == nil {
					err, key = checkPublicKey(alg, pub), pub
				}
			}
			if err != nil {
				problems = append(problems, err)
				continue
			}
			vs = append(vs, newVerifier(alg, key))
		}
		if len(vs) == 0 {
			errs = append(errs, fmt.Errorf("key %q fits no allowed algorithm (%v): %w", nk.kid, m.allowed, errors.Join(problems...)))
			continue
		}
		add(nk.kid, vs)
	}
	return errs
}

// checkCoverage reports allowed algorithms that no key can verify.
func (m *Manager) checkCoverage() []error {
	if m.cfg.jwks != nil || m.cfg.decodeKeyLoader != nil {
		return nil
	}
	var errs []error
	for _, name := range m.allowed {
		if m.cfg.secretSet && len(m.cfg.secret) == 0 && lookupAlgorithm(name).family == familyHMAC {
			continue // WithSecretKey reported its empty secret
		}
		_, e := pick(m.verifiers, name)
		for _, vs := range m.byKid {
			if e == nil {
				break
			}
			_, e = pick(vs, name)
		}
		if e != nil {
			errs = append(errs, fmt.Errorf("%s: no key of its kind (WithSecretKey, WithPublicKey, WithPrivateKey, WithKeyID's previous keys)", name))
		}
	}
	return errs
}

func keysUnavailable(err error) *Error {
	e := newError(ErrKeysUnavailable, http.StatusServiceUnavailable, msgKeysUnavailable)
	e.cause = err
	return e
}

// WithEncodeKeyLoader chooses the signing key per token, from the identity
// (flask's encode_key_loader): its "kid" (may be empty) and a key for the
// Manager's algorithm, a secret or a private key.
func WithEncodeKeyLoader[U any](load func(identity U) (kid string, key any, err error)) Option {
	return option(func(c *config) error {
		if load == nil {
			return errors.New("WithEncodeKeyLoader: nil function")
		}
		c.encodeKeyLoader = func(identity any) (string, any, error) {
			u, ok := identity.(U)
			if !ok {
				return "", nil, loaderTypeError[U]("encode key loader", identity)
			}
			return load(u)
		}
		return nil
	})
}

// WithDecodeKeyLoader chooses the verification key per token, a secret or
// a public key (flask's decode_key_loader). It sees the token before its
// signature is checked: use it to pick a key, never trust it. Return
// ErrUnknownKey for no such key (422); other errors fail closed (503).
func WithDecodeKeyLoader(load func(tok *Token) (key any, err error)) Option {
	return option(func(c *config) error {
		if load == nil {
			return errors.New("WithDecodeKeyLoader: nil function")
		}
		c.decodeKeyLoader = load
		return nil
	})
}

// signingKey returns the key and "kid" that sign a token for identity.
func (m *Manager) signingKey(identity any) (kid string, key any, err error) {
	if m.cfg.encodeKeyLoader == nil {
		if m.signKey == nil {
			return "", nil, ErrNoSigningKey
		}
		return m.cfg.signingKid, m.signKey, nil
	}
	kid, key, err = m.cfg.encodeKeyLoader(identity)
	if err != nil {
		return "", nil, err
	}
	if m.signAlg.family == familyHMAC {
		secret, ok := key.([]byte)
		if !ok {
			return "", nil, fmt.Errorf("ginjwt: encode key loader: %s needs a []byte secret, got %T", m.signAlg.name, key)
		}
		if err := m.checkSecret(m.signAlg, secret); err != nil {
			return "", nil, fmt.Errorf("ginjwt: encode key loader: %w", err)
		}
		return kid, secret, nil
	}
	signer, err := parsePrivateKey(key)
	if err == nil {
		err = checkPublicKey(m.signAlg, signer.Public())
	}
	if err != nil {
		return "", nil, fmt.Errorf("ginjwt: encode key loader: %w", err)
	}
	return kid, signer, nil
}

// setupKeys checks the algorithms against the keys and builds the verifiers.
func (m *Manager) setupKeys() []error {
	cfg := &m.cfg
	var errs []error
	m.signAlg = lookupAlgorithm(cfg.algorithm)
	if m.signAlg == nil {
		return []error{fmt.Errorf("unknown algorithm %q", cfg.algorithm)}
	}
	algs := slices.Clone(cfg.decodeAlgorithms)
	if !slices.Contains(algs, cfg.algorithm) {
		algs = append(algs, cfg.algorithm)
	}

	var signer crypto.Signer
	if cfg.privateKey != nil {
		s, err := parsePrivateKey(cfg.privateKey)
		if err != nil {
			errs = append(errs, err)
		}
		signer = s
	}
	var public crypto.PublicKey
	switch {
	case cfg.publicKey != nil:
		p, err := parsePublicKey(cfg.publicKey)
		if err != nil {
			errs = append(errs, err)
		}
		public = p
	case signer != nil:
		public = signer.Public()
	}

	for _, name := range algs {
		alg := lookupAlgorithm(name)
		if alg == nil {
			errs = append(errs, fmt.Errorf("unknown decode algorithm %q", name))
			continue
		}
		if slices.Contains(m.allowed, alg.name) {
			continue
		}
		m.allowed = append(m.allowed, alg.name)
		if alg.family == familyHMAC {
			if err := m.checkSecret(alg, cfg.secret); err != nil {
				// An empty WithSecretKey has reported itself already.
				if len(cfg.secret) > 0 || (!cfg.secretSet && !m.keysFromElsewhere()) {
					errs = append(errs, err)
				}
				continue
			}
			m.verifiers = append(m.verifiers, newVerifier(alg, cfg.secret))
			continue
		}
		if public == nil {
			if cfg.publicKey == nil && cfg.privateKey == nil && !m.keysFromElsewhere() {
				errs = append(errs, fmt.Errorf("%s needs WithPublicKey or WithPrivateKey", name))
			}
			continue
		}
		if err := checkPublicKey(alg, public); err != nil {
			if !m.keysFromElsewhere() {
				errs = append(errs, err)
			}
			continue
		}
		m.verifiers = append(m.verifiers, newVerifier(alg, public))
	}
	errs = append(errs, m.setupNamedKeys()...)
	if len(errs) == 0 {
		errs = m.checkCoverage()
	}

	switch {
	case m.signAlg.family == familyHMAC:
		if len(cfg.secret) > 0 {
			m.signKey = cfg.secret
			m.signMAC, _ = pick(m.verifiers, m.signAlg.name)
		}
	case signer != nil:
		if err := checkPublicKey(m.signAlg, signer.Public()); err != nil {
			errs = append(errs, fmt.Errorf("private key: %w", err))
		}
		m.signKey = signer
	}
	return errs
}

func (m *Manager) checkSecret(alg *algorithm, secret []byte) error {
	switch {
	case len(secret) == 0:
		return fmt.Errorf("%s needs WithSecretKey", alg.name)
	case len(secret) < alg.size && !m.cfg.allowShortSecret:
		return fmt.Errorf("%s needs a secret of at least %d bytes, got %d (WithInsecureShortSecret accepts it)",
			alg.name, alg.size, len(secret))
	}
	return nil
}
