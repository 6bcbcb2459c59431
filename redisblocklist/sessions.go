package redisblocklist

import (
	"context"
	"fmt"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/internal/redisproto"
	"github.com/redis/go-redis/v9"
)

var (
	saveSessionScript   = redis.NewScript(redisproto.SaveSession.Source)
	touchSessionScript  = redis.NewScript(redisproto.TouchSession.Source)
	deleteSessionScript = redis.NewScript(redisproto.DeleteSession.Source)
)

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
	_, err := run(s, ctx, func(ctx context.Context) (int64, error) {
		return s.write(ctx, saveSessionScript, s.keys.Sessions(x.Identity), now.UnixMilli(), x.ID, value)
	})
	if err != nil {
		return fmt.Errorf("redisblocklist: save session: %w", err)
	}
	return nil
}

// TouchSession implements ginjwt.SessionStore with one script on the
// identity's hash, which leaves an absent or expired session absent.
func (s *Store) TouchSession(ctx context.Context, identity, id string, renewed, expires time.Time) error {
	now := s.now()
	_, err := run(s, ctx, func(ctx context.Context) (int64, error) {
		return s.write(ctx, touchSessionScript, s.keys.Sessions(identity), now.UnixMilli(), id,
			redisproto.Millis(renewed), redisproto.Millis(expires))
	})
	if err != nil {
		return fmt.Errorf("redisblocklist: touch session: %w", err)
	}
	return nil
}

// Sessions implements ginjwt.SessionStore: the identity's hash, read
// whole (HGETALL) and its expired sessions left out.
func (s *Store) Sessions(ctx context.Context, identity string) ([]ginjwt.Session, error) {
	list, err := run(s, ctx, func(ctx context.Context) ([]ginjwt.Session, error) {
		hash, err := s.client.HGetAll(ctx, s.keys.Sessions(identity)).Result()
		if err != nil {
			return nil, err
		}
		live, err := redisproto.LiveSessions(hash, s.now())
		if err != nil {
			return nil, err
		}
		out := make([]ginjwt.Session, len(live))
		for i, x := range live {
			out[i] = ginjwt.Session{ID: x.ID, Identity: identity, Created: x.Created, Renewed: x.Renewed,
				Expires: x.Expires, UserAgent: x.UserAgent, ClientIP: x.ClientIP}
		}
		return out, nil
	})
	if err != nil {
		return nil, fmt.Errorf("redisblocklist: sessions: %w", err)
	}
	return list, nil
}

// DeleteSession implements ginjwt.SessionStore.
func (s *Store) DeleteSession(ctx context.Context, identity, id string) error {
	now := s.now()
	_, err := run(s, ctx, func(ctx context.Context) (int64, error) {
		return s.write(ctx, deleteSessionScript, s.keys.Sessions(identity), now.UnixMilli(), id)
	})
	if err != nil {
		return fmt.Errorf("redisblocklist: delete session: %w", err)
	}
	return nil
}
