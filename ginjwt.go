// Package ginjwt brings flask-jwt-extended's route guards to Gin.
//
// A Manager (flask's JWTManager) creates tokens and hands out guards:
//
//	m, err := ginjwt.New(ginjwt.WithSecretKey(secret))
//	r.POST("/login", func(c *gin.Context) {
//		token, _ := m.CreateAccessToken("alice")
//		c.JSON(200, gin.H{"access_token": token})
//	})
//	r.GET("/protected", m.JWTRequired(), func(c *gin.Context) {
//		c.JSON(200, gin.H{"logged_in_as": ginjwt.CurrentIdentity(c)})
//	})
//
// JWTRequired, RefreshRequired and FreshRequired are flask's
// @jwt_required(), @jwt_required(refresh=True) and @jwt_required(fresh=True);
// CurrentIdentity, CurrentClaims and CurrentHeader are get_jwt_identity,
// get_jwt and get_jwt_header.
//
// Tokens keep flask-jwt-extended's claim layout, so with the same secret a
// Flask service's tokens are accepted here and the other way round, and
// refusals get flask's status codes and {"msg": ...} bodies
// (docs/errors.md). A logout ends the whole login (LogoutHandler,
// RevokeIdentity, WithSessionList).
//
// Options are With... for the Manager, a Config struct for a group of
// settings, and plain names for one route or call (GuardOption,
// Requirement, TokenOption, CookieOption). New reports every
// misconfiguration at once; the Manager it returns is immutable, safe for
// concurrent use, and shares nothing with other Managers. The docs
// directory is the long form.
package ginjwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/textproto"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Manager creates and verifies tokens and makes the guards: the
// counterpart of flask-jwt-extended's JWTManager. Create it with New.
type Manager struct {
	cfg config

	signAlg *algorithm
	signKey any       // []byte secret or crypto.Signer; nil when verify-only
	signMAC *verifier // the default secret's pooled HMAC, for HS* signing
	// allowed is the algorithm allow-list, fixed here.
	allowed []string
	// verifiers holds the default key's verifier of each allowed algorithm
	// it fits; byKid the verifiers of keys with an ID.
	verifiers []*verifier
	byKid     map[string][]*verifier

	messageKeyJSON []byte
	headerKey      string // canonical form of the header name
	// Messages of the header location, which depend on the configuration.
	msgMissingHeader, msgMissingType, msgBadHeader string

	errorHandler ErrorHandler
	observers    []Observer
	// isRevoked asks the blocklist about a token, chosen at New for the
	// store; nil without a blocklist.
	isRevoked func(ctx context.Context, claims *Claims) (bool, error)
	// The blocklist as the stores of rotation and of the session list,
	// when those are on.
	rotations RotationStore
	sessions  SessionStore

	scratch    sync.Pool // *[]byte buffers for decoding
	lastHeader atomic.Pointer[cachedHeader]
	// verified remembers public-key signature checks; nil when off or
	// when only HMAC tokens are verified.
	verified *verifiedCache
}

// New returns a Manager configured by opts. Every misconfiguration is
// reported here, all at once, wrapped in ErrConfig; a Manager that New
// returned does not fail later because of its configuration.
func New(opts ...Option) (*Manager, error) {
	cfg := defaultConfig()
	var errs []error
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.apply(&cfg); err != nil {
			errs = append(errs, err)
		}
	}
	m := &Manager{cfg: cfg, errorHandler: cfg.errorHandler, observers: cfg.observers}
	errs = append(errs, m.setupKeys()...)
	errs = append(errs, checkNames(&cfg)...)
	if cfg.jwks != nil && (len(cfg.decodeIssuers) == 0 || len(cfg.decodeAudience) == 0) {
		errs = append(errs, errors.New("WithJWKS needs ClaimsConfig.DecodeIssuers and DecodeAudience (WithClaims): tokens from another service must be meant for this one"))
	}
	if cfg.sessionLifetime < 0 {
		// A login ends with its refresh token, unless tokens that never
		// expire are asked for (flask's JWT_*_TOKEN_EXPIRES = False).
		cfg.sessionLifetime = 0
		if cfg.accessExpires > 0 {
			cfg.sessionLifetime = cfg.refreshExpires
		}
	}
	m.cfg.sessionLifetime = cfg.sessionLifetime
	if cfg.rotation {
		m.rotations, _ = cfg.blocklist.(RotationStore)
		if m.rotations == nil {
			errs = append(errs, fmt.Errorf("WithRefreshRotation needs WithBlocklist with a store that implements ginjwt.RotationStore (%T does not)", cfg.blocklist))
		}
	}
	if !cfg.legacyUntil.IsZero() {
		if cfg.blocklist == nil {
			errs = append(errs, errors.New("WithLegacyTokensUntil needs WithBlocklist: without one, tokens without jti are accepted anyway"))
		}
		if !cfg.legacyUntil.After(cfg.now()) {
			errs = append(errs, fmt.Errorf("WithLegacyTokensUntil(%s): the time is past, so the window is closed: leave the option out", cfg.legacyUntil.Format(time.RFC3339)))
		}
	}
	if cfg.sessionList {
		m.sessions, _ = cfg.blocklist.(SessionStore)
		if m.sessions == nil {
			errs = append(errs, fmt.Errorf("WithSessionList needs WithBlocklist with a store that implements ginjwt.SessionStore (%T does not)", cfg.blocklist))
		}
	}
	// Cookie settings without the Cookies location would be read by no
	// guard of the Manager's defaults: most likely WithTokenLocations was
	// forgotten.
	if !slices.Contains(cfg.locations, InCookies) {
		if cfg.cookiesSet {
			errs = append(errs, errors.New("WithCookies needs Cookies among WithTokenLocations (a route that alone reads cookies still needs it there: narrow the others with Locations)"))
		}
		if cfg.refreshWindow > 0 {
			errs = append(errs, errors.New("WithImplicitRefresh renews access cookies: it needs Cookies among WithTokenLocations"))
		}
	}

	key, err := json.Marshal(cfg.messageKey)
	if err != nil {
		errs = append(errs, err)
	}
	m.messageKeyJSON = key
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
	}

	if cfg.blocklist != nil {
		m.isRevoked = m.revocationLookup(cfg.blocklist)
		if s, ok := cfg.blocklist.(ObservedStore); ok && len(m.observers) > 0 {
			s.Observe(m.emit)
		}
	}
	// A decode key loader's key is parsed anew for every token, so no
	// cached verification could ever match it.
	if cfg.tokenCacheBytes > 0 && cfg.decodeKeyLoader == nil && m.verifiesPublicKeys() {
		m.verified = newVerifiedCache(cfg.tokenCacheBytes)
	}
	name, typ := cfg.headerName, cfg.headerType
	m.headerKey = textproto.CanonicalMIMEHeaderKey(name)
	m.msgMissingHeader = "Missing " + name + " Header"
	m.msgMissingType = fmt.Sprintf("Missing '%s' type in '%s' header. Expected '%s: %s <JWT>'", typ, name, name, typ)
	if typ == "" {
		m.msgBadHeader = fmt.Sprintf("Bad %s header. Expected '%s: <JWT>'", name, name)
	} else {
		m.msgBadHeader = fmt.Sprintf("Bad %s header. Expected '%s: %s <JWT>'", name, name, typ)
	}
	return m, nil
}
