package ginjwt

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
)

// Option configures a Manager; pass options to New. Each one names the
// flask-jwt-extended setting it mirrors and its default.
type Option interface{ apply(c *config) error }

// option is an Option of a function.
type option func(*config) error

func (f option) apply(c *config) error { return f(c) }

// WithSecretKey sets the HMAC secret (JWT_SECRET_KEY). Required for the HS*
// algorithms, and at least as long as the hash (32 bytes for HS256, 48 for
// HS384, 64 for HS512) unless WithInsecureShortSecret is given. New
// refuses a second WithSecretKey: the last one would win without a word.
// Older secrets that still verify tokens go in WithKeyID.
func WithSecretKey(secret []byte) Option {
	return option(func(c *config) error {
		if c.secretSet {
			return errors.New("WithSecretKey given twice: give one secret (a previous one that still verifies tokens goes in WithKeyID)")
		}
		c.secretSet = true
		if len(secret) == 0 {
			// Usually os.Getenv of a variable that is not set.
			return errors.New("WithSecretKey: empty secret (is the environment variable you read it from, such as JWT_SECRET_KEY, set?)")
		}
		c.secret = append([]byte(nil), secret...)
		return nil
	})
}

// WithInsecureShortSecret accepts an HMAC secret shorter than the hash, as
// flask-jwt-extended does. Short secrets can be brute-forced offline from
// one token; use it only to verify tokens from an existing Flask service
// until its secret is rotated.
func WithInsecureShortSecret() Option {
	return option(func(c *config) error {
		c.allowShortSecret = true
		return nil
	})
}

// WithAlgorithm sets the signing algorithm (JWT_ALGORITHM). Default: HS256.
// Supported: HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 ES256
// ES384 ES512 EdDSA.
func WithAlgorithm(alg string) Option {
	return option(func(c *config) error {
		c.algorithm = alg
		return nil
	})
}

// WithDecodeAlgorithms sets the algorithms accepted in incoming tokens
// (JWT_DECODE_ALGORITHMS). The signing algorithm is always accepted too.
// Default: the signing algorithm alone. Each needs a key of its kind: the
// secret for HS*, the public (or private) key for the others, so a token
// can never be checked with a key meant for another algorithm.
func WithDecodeAlgorithms(algs ...string) Option {
	return option(func(c *config) error {
		c.decodeAlgorithms = append([]string(nil), algs...)
		return nil
	})
}

// WithPrivateKey sets the signing key for RS*, PS*, ES* and EdDSA
// (JWT_PRIVATE_KEY): PEM (PKCS#8, PKCS#1 or SEC 1) as a string or []byte,
// or an *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey. Its
// public half verifies tokens unless WithPublicKey is given.
func WithPrivateKey(key any) Option {
	return option(func(c *config) error {
		c.privateKey = key
		return nil
	})
}

// WithPublicKey sets the verification key for RS*, PS*, ES* and EdDSA
// (JWT_PUBLIC_KEY): PEM (SubjectPublicKeyInfo, PKCS#1 or a certificate) as a
// string or []byte, or an *rsa.PublicKey, *ecdsa.PublicKey or
// ed25519.PublicKey. A Manager with a public key only verifies tokens.
func WithPublicKey(key any) Option {
	return option(func(c *config) error {
		c.publicKey = key
		return nil
	})
}

// NeverExpires is the lifetime that, given to WithAccessExpires or
// WithRefreshExpires, makes tokens that never expire (JWT_ACCESS_TOKEN_EXPIRES /
// JWT_REFRESH_TOKEN_EXPIRES = False). They stay valid until the key changes
// or they are revoked. It is a value no duration arithmetic produces by
// accident. For one token, ExpiresIn(NeverExpires).
const NeverExpires time.Duration = math.MinInt64

// WithAccessExpires sets the lifetime of access tokens
// (JWT_ACCESS_TOKEN_EXPIRES), or NeverExpires. Default: 15 minutes.
func WithAccessExpires(d time.Duration) Option {
	return withExpires("WithAccessExpires", d, func(c *config) *time.Duration { return &c.accessExpires })
}

// WithRefreshExpires sets the lifetime of refresh tokens
// (JWT_REFRESH_TOKEN_EXPIRES), or NeverExpires. Default: 30 days.
func WithRefreshExpires(d time.Duration) Option {
	return withExpires("WithRefreshExpires", d, func(c *config) *time.Duration { return &c.refreshExpires })
}

func withExpires(name string, d time.Duration, field func(*config) *time.Duration) Option {
	return option(func(c *config) error {
		switch {
		case d == NeverExpires:
			*field(c) = 0 // no "exp"
		case d <= 0:
			return fmt.Errorf("%s(%v): must be positive; use ginjwt.NeverExpires for tokens that never expire", name, d)
		default:
			*field(c) = d
		}
		return nil
	})
}

// WithHeader sets the request header that carries the token
// (JWT_HEADER_NAME, default "Authorization") and the scheme word before the
// token (JWT_HEADER_TYPE, default "Bearer"), matched case-sensitively; an
// empty typ means the header holds the bare token.
func WithHeader(name, typ string) Option {
	return option(func(c *config) error {
		if name == "" {
			return errors.New("WithHeader: empty header name")
		}
		c.headerName, c.headerType = name, typ
		return nil
	})
}

// WithErrorMessageKey sets the JSON key of default error bodies
// (JWT_ERROR_MESSAGE_KEY). Default: "msg".
func WithErrorMessageKey(key string) Option {
	return option(func(c *config) error {
		c.messageKey = key
		return nil
	})
}

// ClaimsConfig says which registered claims new tokens carry and which
// incoming tokens must carry. Its zero value is flask-jwt-extended's
// default: identity in "sub", which must be a string; "nbf" written; no
// "iss" or "aud" written or checked; no leeway.
type ClaimsConfig struct {
	// IdentityClaim is the claim that holds the identity
	// (JWT_IDENTITY_CLAIM). "": "sub".
	IdentityClaim string
	// EncodeIssuer is the "iss" claim of new tokens (JWT_ENCODE_ISSUER).
	// "": none.
	EncodeIssuer string
	// EncodeAudience is the "aud" claim of new tokens
	// (JWT_ENCODE_AUDIENCE): a string for one value, a list for several.
	// Empty: none.
	EncodeAudience []string
	// DecodeIssuers, when not empty, makes incoming tokens carry an "iss"
	// equal to one of them (JWT_DECODE_ISSUER; compared exactly, never as
	// a substring). Empty: "iss" is not checked.
	DecodeIssuers []string
	// DecodeAudience, when not empty, makes incoming tokens carry an "aud"
	// that includes one of its values (JWT_DECODE_AUDIENCE). Empty: "aud"
	// is not checked.
	DecodeAudience []string
	// Leeway allows clock skew when checking "exp", "nbf" and "iat"
	// (JWT_DECODE_LEEWAY). Must not be negative.
	Leeway time.Duration
	// AllowNonStringSub accepts a "sub" of any JSON type
	// (JWT_VERIFY_SUB = False). false: "sub" must be a string, as flask's
	// default True.
	AllowNonStringSub bool
	// OmitNBF leaves "nbf" out of new tokens (JWT_ENCODE_NBF = False).
	// false: new tokens get an "nbf" equal to "iat", as flask's default.
	OmitNBF bool
}

// WithClaims sets the registered claims new tokens carry and incoming
// tokens must carry (JWT_IDENTITY_CLAIM, JWT_ENCODE_ISSUER,
// JWT_ENCODE_AUDIENCE, JWT_DECODE_ISSUER, JWT_DECODE_AUDIENCE,
// JWT_DECODE_LEEWAY, JWT_VERIFY_SUB, JWT_ENCODE_NBF; see ClaimsConfig),
// all in one ClaimsConfig: fields left at their zero value get the
// default. New refuses a second WithClaims, which would otherwise reset
// the first one's checks (an audience, an issuer) without a word.
func WithClaims(cc ClaimsConfig) Option {
	return option(func(c *config) error {
		if c.claimsSet {
			return errors.New("WithClaims given twice: put every claim setting in one ClaimsConfig")
		}
		c.claimsSet = true
		if cc.Leeway < 0 {
			return fmt.Errorf("WithClaims: Leeway %v must not be negative", cc.Leeway)
		}
		c.identityClaim = cmp.Or(cc.IdentityClaim, "sub")
		c.encodeIssuer = cc.EncodeIssuer
		c.encodeAudience = slices.Clone(cc.EncodeAudience)
		c.decodeIssuers = slices.Clone(cc.DecodeIssuers)
		c.decodeAudience = slices.Clone(cc.DecodeAudience)
		c.leeway = cc.Leeway
		c.verifySub = !cc.AllowNonStringSub
		c.encodeNBF = !cc.OmitNBF
		return nil
	})
}

// WithMaxTokenSize sets the length above which a token is rejected before
// it is parsed. Default: 8 KiB.
func WithMaxTokenSize(n int) Option {
	return option(func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("WithMaxTokenSize(%d): must be positive", n)
		}
		c.maxTokenSize = n
		return nil
	})
}

// WithClock sets the source of the current time, for tests. Default:
// time.Now.
func WithClock(now func() time.Time) Option {
	return option(func(c *config) error {
		if now == nil {
			return errors.New("WithClock: nil function")
		}
		c.now = now
		return nil
	})
}

// WithUserIdentityLoader turns the value given to CreateAccessToken or
// CreateRefreshToken into the identity claim (flask's user_identity_loader),
// so handlers can pass their user type directly. A string identity that is
// not a U is already an identity and is used as is, so the refresh flow
// CreateAccessToken(CurrentIdentity(c)) keeps working. Default: the
// identity must be a string, an integer or a fmt.Stringer.
func WithUserIdentityLoader[U any](load func(user U) (string, error)) Option {
	return option(func(c *config) error {
		if load == nil {
			return errors.New("WithUserIdentityLoader: nil function")
		}
		c.identityLoader = func(identity any) (string, error) {
			if u, ok := identity.(U); ok {
				return load(u)
			}
			if s, ok := identity.(string); ok {
				return s, nil
			}
			return "", loaderTypeError[U]("user identity loader", identity)
		}
		return nil
	})
}

// WithAdditionalClaimsLoader adds claims to every new token
// (flask's additional_claims_loader). It receives the value given to
// CreateAccessToken / CreateRefreshToken; a value that is not a U is an
// error (use U = any to accept several types). AdditionalClaims given to
// one call win over the loader's.
func WithAdditionalClaimsLoader[U any](load func(identity U) (map[string]any, error)) Option {
	return option(func(c *config) error {
		if load == nil {
			return errors.New("WithAdditionalClaimsLoader: nil function")
		}
		c.claimsLoader = typedLoader("additional claims loader", load)
		return nil
	})
}

// WithAdditionalHeadersLoader adds JOSE header parameters to every new
// token (flask's additional_headers_loader), with the same typing rule as
// WithAdditionalClaimsLoader. "alg" cannot be set this way.
func WithAdditionalHeadersLoader[U any](load func(identity U) (map[string]any, error)) Option {
	return option(func(c *config) error {
		if load == nil {
			return errors.New("WithAdditionalHeadersLoader: nil function")
		}
		c.headersLoader = typedLoader("additional headers loader", load)
		return nil
	})
}

func typedLoader[U any](name string, load func(U) (map[string]any, error)) func(any) (map[string]any, error) {
	return func(identity any) (map[string]any, error) {
		u, ok := identity.(U)
		if !ok {
			return nil, loaderTypeError[U](name, identity)
		}
		return load(u)
	}
}

func loaderTypeError[U any](name string, got any) error {
	return &wrongLoaderType{fmt.Sprintf("%v: the %s takes %v, got %T", ErrInvalidIdentity, name, reflect.TypeFor[U](), got)}
}

// wrongLoaderType is a loader given a value of another type: an error
// (ErrInvalidIdentity) when a token is created, but on a renewal, where the
// identity is the old token's string, the loader is skipped instead.
type wrongLoaderType struct{ msg string }

func (e *wrongLoaderType) Error() string { return e.msg }
func (e *wrongLoaderType) Unwrap() error { return ErrInvalidIdentity }

// WithErrorHandler replaces the default response of guard failures
// (flask's unauthorized_loader, invalid_token_loader, expired_token_loader,
// needs_fresh_token_loader, revoked_token_loader,
// token_verification_failed_loader and user_lookup_error_loader, in one):
// h tells the kinds apart with errors.Is (ErrUnauthorized, ErrInvalidToken,
// ErrTokenExpired, ErrFreshTokenRequired, ErrRevoked,
// ErrClaimsVerification, ErrUserLookup, ErrForbidden, ...) and writes
// nothing for a kind whose default response it keeps (see ErrorHandler).
func WithErrorHandler(h ErrorHandler) Option {
	return option(func(c *config) error {
		if h == nil {
			return errors.New("WithErrorHandler: nil handler")
		}
		c.errorHandler = h
		return nil
	})
}

// WithTokenVerifier adds a check of every verified token (flask's
// token_verification_loader): when it returns false the guard answers 400
// "User claims verification failed". It runs after the type, freshness and
// revocation checks, before the route's requirements.
func WithTokenVerifier(verify func(c *gin.Context, tok *Token) bool) Option {
	return option(func(c *config) error {
		if verify == nil {
			return errors.New("WithTokenVerifier: nil function")
		}
		c.tokenVerifier = verify
		return nil
	})
}
