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

// WithSecretKey sets the HMAC secret (JWT_SECRET_KEY), required for HS*: at
// least as long as the hash (32 bytes for HS256) unless
// WithInsecureShortSecret. Given once; older secrets go in WithKeyID.
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
// flask does. Such a secret can be brute-forced offline from one token: use
// it only for a Flask service's tokens until its secret is rotated.
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

// WithDecodeAlgorithms sets the algorithms incoming tokens may use
// (JWT_DECODE_ALGORITHMS), each verified only with a key of its kind. The
// signing algorithm is always allowed, and alone by default.
func WithDecodeAlgorithms(algs ...string) Option {
	return option(func(c *config) error {
		c.decodeAlgorithms = append([]string(nil), algs...)
		return nil
	})
}

// WithPrivateKey sets the signing key for RS*, PS*, ES* and EdDSA
// (JWT_PRIVATE_KEY): PEM (PKCS#8, PKCS#1, SEC 1) or a crypto private key.
// Its public half verifies unless WithPublicKey is given.
func WithPrivateKey(key any) Option {
	return option(func(c *config) error {
		c.privateKey = key
		return nil
	})
}

// WithPublicKey sets the verification key for RS*, PS*, ES* and EdDSA
// (JWT_PUBLIC_KEY): PEM (SubjectPublicKeyInfo, PKCS#1, a certificate) or a
// crypto public key. Without a private key, the Manager only verifies.
func WithPublicKey(key any) Option {
	return option(func(c *config) error {
		c.publicKey = key
		return nil
	})
}

// NeverExpires is the lifetime of tokens that never expire (flask's False),
// for WithAccessExpires, WithRefreshExpires and ExpiresIn. Such tokens stay
// valid until the key changes or they are revoked.
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

// WithHeader sets the token's header (JWT_HEADER_NAME, default
// "Authorization") and the word before it (JWT_HEADER_TYPE, default
// "Bearer", case-sensitive; "": the bare token).
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

// ClaimsConfig says which registered claims new tokens carry and incoming
// ones must carry. Its zero value is flask's default: identity in "sub",
// a string; "nbf" written; no "iss" or "aud" written or checked; no leeway.
type ClaimsConfig struct {
	IdentityClaim string // JWT_IDENTITY_CLAIM; "": "sub"
	// EncodeIssuer and EncodeAudience (one value written as a string) go
	// into new tokens (JWT_ENCODE_ISSUER, JWT_ENCODE_AUDIENCE).
	EncodeIssuer   string
	EncodeAudience []string
	// DecodeIssuers and DecodeAudience, when not empty, are checked: "iss"
	// must equal one issuer, "aud" include one audience (JWT_DECODE_ISSUER,
	// JWT_DECODE_AUDIENCE).
	DecodeIssuers  []string
	DecodeAudience []string
	// Leeway is the clock skew allowed on "exp", "nbf" and "iat"
	// (JWT_DECODE_LEEWAY), not negative.
	Leeway time.Duration
	// AllowNonStringSub (JWT_VERIFY_SUB = False) accepts any JSON "sub";
	// OmitNBF (JWT_ENCODE_NBF = False) leaves "nbf" out of new tokens.
	AllowNonStringSub, OmitNBF bool
}

// WithClaims sets the registered-claim settings (see ClaimsConfig); zero
// fields keep their default. Given once, so that a second one cannot reset
// the first one's checks.
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

// WithMaxTokenSize sets the length above which a token is refused
// unparsed. Default: 8 KiB.
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

// WithUserIdentityLoader turns the identity given to the Create methods
// into the identity claim (user_identity_loader); a string that is not a U
// is used as is. Default: a string, an integer or a fmt.Stringer.
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
// (additional_claims_loader), from the identity given to the Create
// methods; one that is not a U is an error (U = any takes all).
// AdditionalClaims win over it.
func WithAdditionalClaimsLoader[U any](load func(identity U) (map[string]any, error)) Option {
	return option(func(c *config) error {
		if load == nil {
			return errors.New("WithAdditionalClaimsLoader: nil function")
		}
		c.claimsLoader = typedLoader("additional claims loader", load)
		return nil
	})
}

// WithAdditionalHeadersLoader is WithAdditionalClaimsLoader for JOSE
// header parameters (additional_headers_loader), "alg" excepted.
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

// WithErrorHandler replaces the response of every refusal: flask's
// unauthorized_loader, invalid_token_loader, expired_token_loader and the
// other error loaders in one (each sentinel names its). Default: flask's.
func WithErrorHandler(h ErrorHandler) Option {
	return option(func(c *config) error {
		if h == nil {
			return errors.New("WithErrorHandler: nil handler")
		}
		c.errorHandler = h
		return nil
	})
}

// WithTokenVerifier adds a check of every verified token
// (token_verification_loader), after revocation, before requirements; false
// gets 400 "User claims verification failed" (ErrClaimsVerification).
func WithTokenVerifier(verify func(c *gin.Context, tok *Token) bool) Option {
	return option(func(c *config) error {
		if verify == nil {
			return errors.New("WithTokenVerifier: nil function")
		}
		c.tokenVerifier = verify
		return nil
	})
}
