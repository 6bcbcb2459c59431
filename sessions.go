package ginjwt

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// Every login is a session: the access and refresh tokens a login makes
// (CreateTokenPair, StartSession, LoginHandler), and every token a refresh,
// a rotation or an implicit refresh makes from them, carry one session ID
// ("sid", the OIDC name) and the login time ("auth_time"). A logout ends
// the session, every token of it on every instance; RevokeIdentity ends
// every session of a user; WithSessionList lists them; and no renewal
// carries a session past its end (WithSessionLifetime).

const (
	sessionClaim  = "sid"
	authTimeClaim = "auth_time"
	// legacyFamilyClaim named the session of logins under
	// WithRefreshRotation before "sid"; such tokens are still read.
	legacyFamilyClaim = "fam"
)

// sessionKey is the blocklist key of a revoked session. "fam:" is the key
// families had before sessions, so that revocations stored by earlier
// versions still hold; it keeps them apart from token IDs, which are UUIDs.
func sessionKey(id string) string { return "fam:" + id }

// SessionID returns the ID of the token's session (login): its "sid", or
// for a token without one (flask's) its "jti".
func (c *Claims) SessionID() string { return cmp.Or(c.sid, c.JTI) }

// AuthTime returns the login time ("auth_time"), or the zero time.
func (c *Claims) AuthTime() time.Time { return unixOrZero(c.authTime, c.hasAuthTime) }

// sessionStart returns when the token's login began, if the login has an
// end: "auth_time"; for a token without "sid" (flask's, each a session of
// its own) that expires, its "iat". A login begun with ExpiresIn(NeverExpires) has
// none.
func (c *Claims) sessionStart() (int64, bool) {
	switch {
	case c.hasAuthTime:
		return c.authTime, true
	case !c.hasSid && c.hasExp && c.hasIat:
		return c.iat, true
	}
	return 0, false
}

// sessionRevocationEnd is how long a revocation of tok's session must
// last: until the end of its login, past which no token of it is valid
// (and at least until tok expires); the zero time (forever) for a login
// without an end.
func (m *Manager) sessionRevocationEnd(c *Claims) time.Time {
	start, ok := c.sessionStart()
	if !ok || m.cfg.sessionLifetime <= 0 || !c.hasExp {
		return time.Time{}
	}
	return laterOf(time.Unix(start, 0).Add(m.cfg.sessionLifetime), time.Unix(c.exp, 0))
}

// laterOf returns the later of two expiries, where zero means never.
func laterOf(a, b time.Time) time.Time {
	if a.IsZero() || b.IsZero() {
		return time.Time{}
	}
	if a.After(b) {
		return a
	}
	return b
}

// WithSessionLifetime sets a login's absolute lifetime: no renewal makes a
// token that outlives it, and a renewal after it gets 401 "Token has
// expired" (ErrSessionExpired). NeverExpires: renewed forever. Default:
// the refresh-token lifetime, as in flask (none if tokens never expire).
func WithSessionLifetime(d time.Duration) Option {
	return withExpires("WithSessionLifetime", d, func(c *config) *time.Duration { return &c.sessionLifetime })
}

// WithSessionList keeps each user's live sessions in the blocklist, a
// SessionStore, for Sessions and EndSession: StartSession adds one,
// renewals update it. A login beyond max sessions ends the oldest; max <= 0
// is DefaultMaxSessions.
func WithSessionList(max int) Option {
	return option(func(c *config) error {
		c.sessionList = true
		c.maxSessions = max
		if max <= 0 {
			c.maxSessions = DefaultMaxSessions
		}
		return nil
	})
}

// DefaultMaxSessions is WithSessionList's default bound per user.
const DefaultMaxSessions = 100

// maxUserAgent bounds the user agent a session keeps, so that a client
// cannot make the list grow by what it sends.
const maxUserAgent = 256

// Session is one login in the session list (WithSessionList). Its times
// are UTC; zero Renewed (never) and Expires (never) are left out of JSON.
type Session struct {
	ID       string    `json:"id"`               // the "sid" claim
	Identity string    `json:"identity"`         // the identity claim
	Created  time.Time `json:"created"`          // the login, "auth_time"
	Renewed  time.Time `json:"renewed,omitzero"` // the last renewal
	// Expires is when the session's last token expires and the store
	// forgets it.
	Expires time.Time `json:"expires,omitzero"`
	// UserAgent (at most 256 bytes) and ClientIP are the login request's.
	UserAgent string `json:"user_agent"`
	ClientIP  string `json:"client_ip"`
}

// ErrSessionNotFound is EndSession's error for a session ended, expired
// or another user's. 404 "Session not found" from Abort.
var ErrSessionNotFound = errors.New("ginjwt: no such session")

// ErrSessionExpired is the cause of a renewal refused past
// WithSessionLifetime; 401, as ErrTokenExpired.
var ErrSessionExpired = errors.New("ginjwt: session has expired")

func errSessionExpired() *Error {
	e := newError(ErrTokenExpired, http.StatusUnauthorized, msgExpired)
	e.cause = ErrSessionExpired
	return e
}

// StartSession logs identity in: CreateTokenPair, and with WithSessionList
// the session added to the user's list. Tokens are fresh only if opts say
// so. Errors are *Error values for Abort (503: the store is down).
func (m *Manager) StartSession(c *gin.Context, identity any, opts ...TokenOption) (access, refresh string, err error) {
	a, r, err := m.startSession(c, identity, opts)
	return a.token, r.token, err
}

// startSession is StartSession telling what it made, for LoginHandler.
func (m *Manager) startSession(c *gin.Context, identity any, opts []TokenOption) (a, r minted, err error) {
	a, r, s, err := m.createPair(identity, opts)
	if err != nil || !m.cfg.sessionList {
		return a, r, err
	}
	s.UserAgent = truncateUTF8(c.Request.UserAgent(), maxUserAgent)
	s.ClientIP = c.ClientIP()
	ctx := c.Request.Context()
	if err := m.saveSession(ctx, s); err != nil {
		return minted{}, minted{}, err
	}
	m.emit(ctx, Event{Kind: EventSessionStarted, Identity: s.Identity, SessionID: s.ID})
	return a, r, nil
}

// callStore makes one call to the store under the blocklist timeout and
// the observers; a failure is the *Error of an unavailable store (503).
func (m *Manager) callStore(ctx context.Context, op StoreOp, call func(ctx context.Context) error) error {
	err := m.storeCall(ctx, op, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, m.cfg.blocklistTimeout)
		defer cancel()
		return call(ctx)
	})
	if err != nil {
		return m.unavailable(err)
	}
	return nil
}

// saveSession adds s to its user's list and ends the oldest sessions
// beyond WithSessionList's bound.
func (m *Manager) saveSession(ctx context.Context, s Session) error {
	err := m.callStore(ctx, StoreSaveSession, func(ctx context.Context) error { return m.sessions.SaveSession(ctx, s) })
	if err != nil {
		return err
	}
	list, err := m.Sessions(ctx, s.Identity)
	if err != nil {
		return err
	}
	for _, old := range list[:max(len(list)-m.cfg.maxSessions, 0)] {
		if err := m.endListed(ctx, old, ReasonSessionLimit); err != nil {
			return err
		}
	}
	return nil
}

// createPair makes the two tokens of a new session, which it describes.
func (m *Manager) createPair(identity any, opts []TokenOption) (a, r minted, s Session, err error) {
	now := m.cfg.now()
	s = Session{ID: newUUIDv7(now), Created: now.Truncate(time.Millisecond)}
	login := tokenOption(func(o *tokenOptions) { o.session, o.start = s.ID, now.Unix() })
	// Never append to opts: it may be a handler's slice shared by
	// concurrent requests.
	if _, err = m.createToken(TypeAccess, identity, slices.Concat(opts, []TokenOption{login, a.record()})); err != nil {
		return minted{}, minted{}, Session{}, err
	}
	if _, err = m.createToken(TypeRefresh, identity, slices.Concat(opts, []TokenOption{login, tokenOption(notFresh), r.record()})); err != nil {
		return minted{}, minted{}, Session{}, err
	}
	s.Identity, s.Expires = r.identity, laterOf(a.expires, r.expires)
	return a, r, s, nil
}

// touchSession records a renewal of tok's session that made tokens
// expiring at expires.
func (m *Manager) touchSession(ctx context.Context, tok *Token, expires time.Time) error {
	if !m.cfg.sessionList || !tok.Claims.hasSid {
		return nil
	}
	err := m.callStore(ctx, StoreTouchSession, func(ctx context.Context) error {
		return m.sessions.TouchSession(ctx, tok.Claims.Identity, tok.Claims.sid, m.cfg.now(), expires)
	})
	if err == nil {
		m.emit(ctx, Event{Kind: EventSessionRenewed, Identity: tok.Claims.Identity, SessionID: tok.Claims.sid})
	}
	return err
}

// Sessions returns identity's live sessions, oldest first
// (WithSessionList); the request's own has CurrentClaims(c).SessionID().
func (m *Manager) Sessions(ctx context.Context, identity string) ([]Session, error) {
	if !m.cfg.sessionList {
		return nil, errNoSessionList
	}
	var list []Session
	err := m.callStore(ctx, StoreSessions, func(ctx context.Context) (err error) {
		list, err = m.sessions.Sessions(ctx, identity)
		return err
	})
	if err != nil {
		return nil, err
	}
	for i := range list {
		s := &list[i]
		s.Created, s.Renewed, s.Expires = s.Created.UTC(), s.Renewed.UTC(), s.Expires.UTC()
	}
	slices.SortFunc(list, func(a, b Session) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return list, nil
}

var errNoSessionList = errors.New("ginjwt: no session list (WithSessionList)")

// EndSession ends identity's session id as a logout would (WithSessionList),
// or returns ErrSessionNotFound. Pass CurrentIdentity, never an identity
// from the request, so that a user ends only their own.
func (m *Manager) EndSession(ctx context.Context, identity, id string) error {
	list, err := m.Sessions(ctx, identity)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(s Session) bool { return s.ID == id })
	if i < 0 {
		return ErrSessionNotFound
	}
	return m.endListed(ctx, list[i], ReasonEndSession)
}

// endListed revokes a listed session, then takes it off the list.
func (m *Manager) endListed(ctx context.Context, s Session, why Reason) error {
	until := time.Time{}
	if !s.Expires.IsZero() && m.cfg.sessionLifetime > 0 {
		until = laterOf(s.Created.Add(m.cfg.sessionLifetime), s.Expires)
	}
	if err := m.callStore(ctx, StoreRevoke, func(ctx context.Context) error {
		return m.cfg.blocklist.Revoke(ctx, sessionKey(s.ID), until)
	}); err != nil {
		return err
	}
	m.emit(ctx, Event{Kind: EventSessionEnded, Identity: s.Identity, SessionID: s.ID, Reason: why})
	return m.callStore(ctx, StoreDeleteSession, func(ctx context.Context) error { return m.sessions.DeleteSession(ctx, s.Identity, s.ID) })
}

// revokeSession ends the session of tok: its key on the blocklist until
// no token of it can be valid, and its entry off the list.
func (m *Manager) revokeSession(ctx context.Context, tok *Token, why Reason) error {
	id := tok.Claims.SessionID()
	if id == "" {
		return invalid(ErrInvalidClaims, "Missing claim: jti")
	}
	// A failure: the logout did not happen, Abort answers 503 as the
	// guards do when the store is down (errors.Is finds the store's error).
	if err := m.callStore(ctx, StoreRevoke, func(ctx context.Context) error {
		return m.cfg.blocklist.Revoke(ctx, sessionKey(id), m.sessionRevocationEnd(&tok.Claims))
	}); err != nil {
		return err
	}
	m.emit(ctx, Event{Kind: EventSessionEnded, Identity: tok.Claims.Identity, SessionID: id, Reason: why})
	if m.cfg.sessionList && tok.Claims.hasSid {
		return m.callStore(ctx, StoreDeleteSession, func(ctx context.Context) error {
			return m.sessions.DeleteSession(ctx, tok.Claims.Identity, tok.Claims.sid)
		})
	}
	return nil
}

// RevokeIdentity ends every session of identity ("log out everywhere"):
// tokens issued before the call are refused on every instance, to the
// millisecond (to the second for tokens without ginjwt's ID, flask's), and
// a login after it works. The blocklist must be an IdentityRevoker. Errors
// are *Error values for Abort (503: the store is down, nothing revoked).
func (m *Manager) RevokeIdentity(ctx context.Context, identity string) error {
	store, ok := m.cfg.blocklist.(IdentityRevoker)
	if !ok {
		return fmt.Errorf("ginjwt: RevokeIdentity: the blocklist %T does not implement IdentityRevoker: %w", m.cfg.blocklist, errors.ErrUnsupported)
	}
	if identity == "" {
		return fmt.Errorf("%w: empty identity", ErrInvalidIdentity)
	}
	now := m.cfg.now()
	// Tokens of the call's millisecond were issued before it returns: the
	// cutoff is the next millisecond, which the call waits out below, so
	// a token issued after it returns is not refused.
	before := time.UnixMilli(now.UnixMilli() + 1)
	until := time.Time{}
	if longest := m.longestLifetime(); longest > 0 {
		until = now.Add(longest)
		// Legacy tokens (WithLegacyTokensUntil) may outlive this
		// Manager's lifetimes, and live at most until the window ends.
		if m.cfg.legacyUntil.After(until) {
			until = m.cfg.legacyUntil
		}
	}
	if err := m.callStore(ctx, StoreRevokeIdentity, func(ctx context.Context) error {
		return store.RevokeIdentity(ctx, identity, before, until)
	}); err != nil {
		return err
	}
	m.emit(ctx, Event{Kind: EventIdentityRevoked, Identity: identity})
	if m.cfg.sessionList {
		list, err := m.Sessions(ctx, identity)
		if err != nil {
			return err
		}
		for _, s := range list {
			m.emit(ctx, Event{Kind: EventSessionEnded, Identity: identity, SessionID: s.ID, Reason: ReasonIdentityRevoked})
			if err := m.callStore(ctx, StoreDeleteSession, func(ctx context.Context) error {
				return m.sessions.DeleteSession(ctx, identity, s.ID)
			}); err != nil {
				return err
			}
		}
	}
	for i := 0; i < 50 && m.cfg.now().Before(before); i++ {
		time.Sleep(100 * time.Microsecond) // a fake clock that stands still ends this too
	}
	return nil
}

// longestLifetime bounds the life of every token issued now; 0: none.
func (m *Manager) longestLifetime() time.Duration {
	if m.cfg.sessionLifetime > 0 {
		return m.cfg.sessionLifetime // no token of a login outlives it
	}
	if m.cfg.accessExpires <= 0 || m.cfg.refreshExpires <= 0 {
		return 0
	}
	return max(m.cfg.accessExpires, m.cfg.refreshExpires)
}

// issuedAt returns when the token was issued, to the millisecond when its
// ID is a ginjwt UUIDv7 of the same second as "iat", else to the second;
// the zero time when it has no "iat" (refused by any RevokeIdentity). The
// ID cannot stretch "iat": only its milliseconds are read. A legacy token
// (no "jti", no "sid"; WithLegacyTokensUntil) without "iat" is
// appleboy/gin-jwt's, whose "orig_iat" is its issue time.
func (c *Claims) issuedAt() time.Time {
	if !c.hasIat {
		if c.SessionID() == "" {
			v, _ := c.lookup("orig_iat")
			if sec, ok, e := numericDate(v, ""); e == nil && ok {
				return time.Unix(sec, 0)
			}
		}
		return time.Time{}
	}
	if ms, ok := uuidV7Millis(c.JTI); ok && ms/1000 == c.iat {
		return time.UnixMilli(ms)
	}
	return time.Unix(c.iat, 0)
}

// truncateUTF8 cuts s to at most n bytes, on a rune boundary.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
