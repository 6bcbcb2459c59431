package ginjwt

import (
	"log/slog"
	"reflect"
	"time"

	"github.com/gin-gonic/gin"
)

// config is what the options set. New fills in the defaults first, so no
// zero value is the unsafe one.
type config struct {
	// claimsSet, cookiesSet and secretSet record a WithClaims, a
	// WithCookies and a WithSecretKey, so that a second one is refused
	// rather than silently replace the first.
	claimsSet, cookiesSet, secretSet bool

	observers        []Observer
	audit            *slog.Logger // nil: no audit log
	tokenCacheBytes  int          // budget of the verified-token cache
	secret           []byte
	allowShortSecret bool
	algorithm        string
	decodeAlgorithms []string
	privateKey       any
	publicKey        any
	signingKid       string
	namedKeys        []namedKey
	jwks             *JWKS
	encodeKeyLoader  func(identity any) (kid string, key any, err error)
	decodeKeyLoader  func(tok *Token) (any, error)

	accessExpires  time.Duration // 0: no "exp"
	refreshExpires time.Duration

	identityClaim string
	headerName    string
	headerType    string
	messageKey    string

	encodeIssuer   string
	encodeAudience []string
	decodeIssuers  []string
	decodeAudience []string
	leeway         time.Duration
	verifySub      bool
	encodeNBF      bool
	maxTokenSize   int
	now            func() time.Time

	locations      []Location
	cookies        cookieConfig
	csrfProtect    bool
	csrfMethods    []string
	csrfInCookies  bool
	csrfCheckForm  bool
	queryName      string
	queryPrefix    string
	jsonKey        string
	refreshJSONKey string
	maxBodySize    int64
	refreshWindow  time.Duration // implicit refresh of cookie tokens; 0: off

	identityLoader func(identity any) (string, error)
	claimsLoader   func(identity any) (map[string]any, error)
	headersLoader  func(identity any) (map[string]any, error)

	blocklist        Blocklist
	legacyUntil      time.Time // tokens without jti accepted before it; zero: never
	revokedCheck     func(c *gin.Context, tok *Token) (bool, error)
	blocklistTimeout time.Duration
	rotation         bool
	sessionLifetime  time.Duration // < 0: the refresh expiry
	sessionList      bool
	maxSessions      int

	tokenVerifier func(c *gin.Context, tok *Token) bool
	userLookup    func(c *gin.Context, tok *Token) (any, error)
	userType      reflect.Type

	errorHandler ErrorHandler
	responder    Responder
}

func defaultConfig() config {
	return config{
		algorithm:        "HS256",
		accessExpires:    15 * time.Minute,
		refreshExpires:   30 * 24 * time.Hour,
		identityClaim:    "sub",
		headerName:       "Authorization",
		headerType:       "Bearer",
		messageKey:       "msg",
		verifySub:        true,
		encodeNBF:        true,
		locations:        []Location{InHeaders},
		cookies:          defaultCookies(),
		csrfProtect:      true,
		csrfMethods:      []string{"POST", "PUT", "PATCH", "DELETE"},
		csrfInCookies:    true,
		queryName:        "jwt",
		jsonKey:          "access_token",
		refreshJSONKey:   "refresh_token",
		maxBodySize:      1 << 20,
		maxTokenSize:     8 << 10,
		blocklistTimeout: time.Second,
		sessionLifetime:  -1,
		tokenCacheBytes:  DefaultVerifiedTokenCacheBytes,
		now:              time.Now,
	}
}
