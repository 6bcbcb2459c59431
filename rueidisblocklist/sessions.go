package rueidisblocklist

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/internal/redisproto"
)

// The session list is read and written in Redis only: it is read for a
// "your sessions" page and before EndSession, never by a guard (a session
// ended from the list is refused through its revocation key, which the
// cache does track), so nothing of it is cached, and its writes need not
// wait for the freshness window.

// SaveSession implements ginjwt.SessionStore: a field of the identity's
// one hash of sessions, replaced whole by a second save. Each write
// removes the expired sessions and sets the hash's TTL to the latest
// expiry, so the hash holds live sessions and goes with the last one.
func (s *Store) SaveSession(ctx context.Context, x ginjwt.Session) error {
	now := s.now()
	if !x.Expires.IsZero() && !now.Before(x.Expires) {
		return nil // already over: nothing to list
	}
	value := redisproto.EncodeSession(redisproto.Session{ID: x.ID, Created: x.Created, Renewed: x.Renewed,
		Expires: x.Expires, UserAgent: x.UserAgent, ClientIP: x.ClientIP})
	err := s.write(ctx, redisproto.SaveSession, s.keys.Sessions(x.Identity), millis(now), x.ID, value)
	if err != nil {
		return fmt.Errorf("rueidisblocklist: save session: %w", err)
	}
	return nil
}

// TouchSession implements ginjwt.SessionStore with one script on the
// identity's hash, which leaves an absent or expired session absent.
func (s *Store) TouchSession(ctx context.Context, identity, id string, renewed, expires time.Time) error {
	err := s.write(ctx, redisproto.TouchSession, s.keys.Sessions(identity), millis(s.now()), id,
		redisproto.Millis(renewed), redisproto.Millis(expires))
	if err != nil {
		return fmt.Errorf("rueidisblocklist: touch session: %w", err)
	}
	return nil
}

// Sessions implements ginjwt.SessionStore: the identity's hash, read
// whole (HGETALL) and its expired sessions left out.
func (s *Store) Sessions(ctx context.Context, identity string) ([]ginjwt.Session, error) {
	if err := s.failing(); err != nil {
		return nil, fmt.Errorf("rueidisblocklist: sessions: %w", err)
	}
	hash, err := call(s, ctx, func(ctx context.Context) (map[string]string, error) {
		return s.client.Do(ctx, s.client.B().Hgetall().Key(s.keys.Sessions(identity)).Build().Pin()).AsStrMap()
	})
	if err != nil {
		return nil, fmt.Errorf("rueidisblocklist: sessions: %w", err)
	}
	live, err := redisproto.LiveSessions(hash, s.now())
	if err != nil {
		return nil, fmt.Errorf("rueidisblocklist: sessions: %w", err)
	}
	out := make([]ginjwt.Session, len(live))
	for i, x := range live {
		out[i] = ginjwt.Session{ID: x.ID, Identity: identity, Created: x.Created, Renewed: x.Renewed,
			Expires: x.Expires, UserAgent: x.UserAgent, ClientIP: x.ClientIP}
	}
	return out, nil
}

// DeleteSession implements ginjwt.SessionStore.
func (s *Store) DeleteSession(ctx context.Context, identity, id string) error {
	if err := s.write(ctx, redisproto.DeleteSession, s.keys.Sessions(identity), millis(s.now()), id); err != nil {
		return fmt.Errorf("rueidisblocklist: delete session: %w", err)
	}
	return nil
}

// write runs a script of the session list, failing at once while the
// breaker is open.
func (s *Store) write(ctx context.Context, sc redisproto.Script, key string, args ...string) error {
	if err := s.failing(); err != nil {
		return err
	}
	_, err := call(s, ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.run(ctx, sc, key, args...).Error()
	})
	return err
}

func millis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
