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

// JWKS verifies tokens with the public keys of a JWK Set at a URL (an OIDC
// jwks_uri, another service's JWKSHandler), fetched on first use, again
// when stale or on an unknown "kid", and trusted while the issuer is down
// for at most JWKSConfig.MaxStale. It uses the Manager's clock.
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

// JWKSConfig configures a JWKS; zero fields take their default, and New
// reports bad values.
type JWKSConfig struct {
	Client *http.Client // nil: a 5-second timeout
	// Refresh is how long a set is used before it is fetched again (0: 5
	// minutes); MinInterval the least time between fetches (0: 30 s).
	Refresh, MinInterval time.Duration
	// MaxStale bounds trust in the last fetched set while fetches fail:
	// past it, 503 "Verification keys out of date". At least Refresh and
	// MinInterval; 0: DefaultJWKSMaxStale.
	MaxStale time.Duration
}

// DefaultJWKSMaxStale is JWKSConfig.MaxStale's default.
const DefaultJWKSMaxStale = time.Hour

// NewJWKS returns a key source for the JWK Set at an http or https URL,
// for WithJWKS; New reports problems with it.
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

// WithJWKS verifies tokens with the keys of a JWKS, for the Manager's
// algorithms. It requires ClaimsConfig's DecodeIssuers and DecodeAudience:
// the tokens come from another service.
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
