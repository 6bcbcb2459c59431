package ginjwt

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// JWKS verifies tokens with the public keys an issuer publishes as a JWK
// Set at a URL (an OIDC provider's jwks_uri, or another ginjwt service's
// JWKSHandler). It fetches the set on first use, keeps it for a while,
// fetches again when a token names an unknown "kid" (at most once per
// minimum interval, so forged kids cannot hammer the issuer), and keeps
// verifying with the keys it has while the issuer is briefly unreachable,
// for at most JWKSConfig.MaxStale since the last fetch that worked: a key the
// issuer removed stops verifying within that bound even if the issuer is
// never reached again. Symmetric ("oct") keys in the set are ignored.
// Create it with NewJWKS and give it to WithJWKS; it reads the time from
// the Manager's clock (WithClock).
type JWKS struct {
	url         string
	client      *http.Client
	ttl         time.Duration
	minInterval time.Duration
	maxStale    time.Duration
	// err holds what NewJWKS found wrong; WithJWKS reports it to New.
	err error

	keys    atomic.Pointer[jwkSet]
	mu      sync.Mutex // one fetch at a time
	lastTry time.Time
	lastErr atomic.Pointer[error]
}

type jwkSet struct {
	byKid   map[string][]*verifier
	fetched time.Time
}

// JWKSConfig configures a JWKS, given to NewJWKS. Its zero value is the
// default: fields left zero take it. A negative duration is reported by
// New (through WithJWKS), with the Manager's other configuration errors.
type JWKSConfig struct {
	// Client fetches the set. nil: a client with a 5-second timeout.
	Client *http.Client
	// Refresh is how long a fetched set is used before it is fetched
	// again. 0: 5 minutes.
	Refresh time.Duration
	// MinInterval is the shortest time between two fetches, whatever the
	// tokens say. 0: 30 seconds.
	MinInterval time.Duration
	// MaxStale bounds how long the set is trusted after the last fetch
	// that worked, while later fetches fail: past it, guards answer 503
	// "Verification keys out of date" (ErrKeysUnavailable) until a fetch
	// works again. It must be at least Refresh and MinInterval. 0:
	// DefaultJWKSMaxStale.
	MaxStale time.Duration
}

// DefaultJWKSMaxStale is JWKSConfig.MaxStale's default.
const DefaultJWKSMaxStale = time.Hour

// NewJWKS returns a key source for the JWK Set at url, an http or https
// URL. Problems with url or cfg are reported by New, which the JWKS is
// given to through WithJWKS.
func NewJWKS(rawURL string, cfg JWKSConfig) *JWKS {
	s := &JWKS{
		url:         rawURL,
		client:      cmp.Or(cfg.Client, &http.Client{Timeout: 5 * time.Second}),
		ttl:         cmp.Or(cfg.Refresh, 5*time.Minute),
		minInterval: cmp.Or(cfg.MinInterval, 30*time.Second),
		maxStale:    cmp.Or(cfg.MaxStale, DefaultJWKSMaxStale),
	}
	var errs []error
	if u, err := url.Parse(rawURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("NewJWKS(%q): not an http or https URL", rawURL))
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"Refresh", cfg.Refresh}, {"MinInterval", cfg.MinInterval}, {"MaxStale", cfg.MaxStale}} {
		if f.d < 0 {
			errs = append(errs, fmt.Errorf("JWKSConfig.%s (%v): must not be negative", f.name, f.d))
		}
	}
	if s.maxStale < max(s.ttl, s.minInterval) {
		errs = append(errs, fmt.Errorf("JWKSConfig.MaxStale (%v) is shorter than Refresh (%v) or MinInterval (%v): the set would be refused before it may be fetched again",
			s.maxStale, s.ttl, s.minInterval))
	}
	s.err = errors.Join(errs...)
	return s
}

// LastError returns the error of the last failed fetch, or nil.
func (s *JWKS) LastError() error {
	if p := s.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// WithJWKS verifies tokens with the keys of a remote JWK Set (see JWKS).
// Such tokens come from another service, so ClaimsConfig.DecodeIssuers
// and DecodeAudience (WithClaims) are required with it. The algorithms
// allowed are still the Manager's (WithAlgorithm, WithDecodeAlgorithms).
func WithJWKS(src *JWKS) Option {
	return option(func(c *config) error {
		switch {
		case src == nil || src.client == nil:
			return errors.New("WithJWKS: no JWKS (make it with NewJWKS)")
		case src.err != nil:
			return fmt.Errorf("WithJWKS: %w", src.err)
		}
		c.jwks = src
		return nil
	})
}

// verifier returns the verifier of key kid for alg, fetching the set when
// it is missing, stale, or lacks kid. now is the Manager's clock.
func (s *JWKS) verifier(kid, alg string, now time.Time) (*verifier, *Error) {
	set := s.keys.Load()
	if set == nil || now.Sub(set.fetched) >= s.ttl {
		set = s.refresh(now)
	}
	vs, ok := set.lookup(kid)
	if !ok && set.byKid != nil {
		set = s.refresh(now)
		vs, ok = set.lookup(kid)
	}
	if set.byKid == nil {
		return nil, keysUnavailable(s.LastError())
	}
	if age := now.Sub(set.fetched); age > s.maxStale {
		return nil, s.outOfDate(age)
	}
	if !ok {
		return nil, invalid(ErrUnknownKey, msgUnknownKey)
	}
	return pick(vs, alg)
}

const msgKeysOutOfDate = "Verification keys out of date"

// outOfDate is the refusal of a set older than the staleness bound; its
// cause names the age and the last fetch error, for the audit log.
func (s *JWKS) outOfDate(age time.Duration) *Error {
	e := newError(ErrKeysUnavailable, http.StatusServiceUnavailable, msgKeysOutOfDate)
	e.cause = fmt.Errorf("ginjwt: JWKS %s last fetched %v ago, beyond JWKSConfig.MaxStale (%v)", s.url, age, s.maxStale)
	if last := s.LastError(); last != nil {
		e.cause = fmt.Errorf("%w; last attempt: %w", e.cause, last)
	}
	return e
}

// lookup finds kid; a token without one fits a set of one key.
func (set *jwkSet) lookup(kid string) ([]*verifier, bool) {
	if set == nil {
		return nil, false
	}
	if kid == "" && len(set.byKid) == 1 {
		for _, vs := range set.byKid {
			return vs, true
		}
	}
	vs, ok := set.byKid[kid]
	return vs, ok
}

// refresh fetches the set unless another fetch happened within the minimum
// interval, and returns the current set (the old one when the fetch fails).
func (s *JWKS) refresh(now time.Time) *jwkSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.lastTry.IsZero() && now.Sub(s.lastTry) < s.minInterval {
		return s.current()
	}
	s.lastTry = now
	set, err := s.fetch()
	if err != nil {
		err = fmt.Errorf("ginjwt: fetching JWKS %s: %w", s.url, err)
		s.lastErr.Store(&err)
		return s.current()
	}
	s.lastErr.Store(nil)
	set.fetched = now
	s.keys.Store(set)
	return set
}

func (s *JWKS) current() *jwkSet {
	if set := s.keys.Load(); set != nil {
		return set
	}
	return &jwkSet{}
}

// maxJWKSSize bounds the fetched document.
const maxJWKSSize = 1 << 20

func (s *JWKS) fetch() (*jwkSet, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.client.Timeout+time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize))
	if err != nil {
		return nil, err
	}
	return parseJWKSet(body)
}
