package sqlblocklist

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ginjwt/ginjwt"
)

// sessionQueries are the statements of ginjwt.SessionStore.
type sessionQueries struct {
	save, touch, list, remove string
}

func (s *Store) sessionQueries() sessionQueries {
	ss := s.prefix + "sessions"
	return sessionQueries{
		save: s.sql(`INSERT INTO ` + ss + ` (identity, id, created_ms, renewed_ms, expires_at, user_agent, client_ip)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (identity, id) DO UPDATE SET created_ms = excluded.created_ms,
				renewed_ms = excluded.renewed_ms, expires_at = excluded.expires_at,
				user_agent = excluded.user_agent, client_ip = excluded.client_ip`),
		// Only a live row is touched: an ended or expired session must not
		// come back through a renewal. The expiry never shrinks.
		touch: s.sql(`UPDATE ` + ss + ` SET renewed_ms = ?,
				expires_at = CASE WHEN ? > expires_at THEN ? ELSE expires_at END
			WHERE identity = ? AND id = ? AND expires_at > ?`),
		list: s.sql(`SELECT id, created_ms, renewed_ms, expires_at, user_agent, client_ip FROM ` + ss + `
			WHERE identity = ? AND expires_at > ?`),
		remove: s.sql(`DELETE FROM ` + ss + ` WHERE identity = ? AND id = ?`),
	}
}

// SaveSession implements ginjwt.SessionStore: one row per identity and
// session ID, replaced whole by a second save, kept until the session
// expires.
func (s *Store) SaveSession(ctx context.Context, x ginjwt.Session) error {
	now := s.now()
	if !x.Expires.IsZero() && !x.Expires.After(now) {
		return nil // already over: nothing to list
	}
	_, err := s.write(ctx, s.q.session.save, x.Identity, x.ID, milli(x.Created), milli(x.Renewed),
		stamp(x.Expires), x.UserAgent, x.ClientIP)
	if err != nil {
		return fmt.Errorf("sqlblocklist: save session: %w", err)
	}
	s.maybeSweep(ctx, now)
	return nil
}

// TouchSession implements ginjwt.SessionStore with one UPDATE of a live
// row.
func (s *Store) TouchSession(ctx context.Context, identity, id string, renewed, expires time.Time) error {
	now := s.now()
	until := stamp(expires)
	if _, err := s.write(ctx, s.q.session.touch, milli(renewed), until, until, identity, id, now.UnixMicro()); err != nil {
		return fmt.Errorf("sqlblocklist: touch session: %w", err)
	}
	s.maybeSweep(ctx, now)
	return nil
}

// Sessions implements ginjwt.SessionStore: the identity's live rows,
// found through the primary key.
func (s *Store) Sessions(ctx context.Context, identity string) ([]ginjwt.Session, error) {
	rows, err := s.db.QueryContext(ctx, s.q.session.list, identity, s.now().UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("sqlblocklist: sessions: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var list []ginjwt.Session
	for rows.Next() {
		x := ginjwt.Session{Identity: identity}
		var created, renewed sql.NullInt64
		var expires int64
		if err := rows.Scan(&x.ID, &created, &renewed, &expires, &x.UserAgent, &x.ClientIP); err != nil {
			return nil, fmt.Errorf("sqlblocklist: sessions: %w", err)
		}
		x.Created, x.Renewed, x.Expires = unmilli(created), unmilli(renewed), unstamp(expires)
		list = append(list, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlblocklist: sessions: %w", err)
	}
	return list, nil
}

// DeleteSession implements ginjwt.SessionStore.
func (s *Store) DeleteSession(ctx context.Context, identity, id string) error {
	now := s.now()
	if _, err := s.write(ctx, s.q.session.remove, identity, id); err != nil {
		return fmt.Errorf("sqlblocklist: delete session: %w", err)
	}
	s.maybeSweep(ctx, now)
	return nil
}

// milli turns a session time into the stored value: milliseconds since
// 1970, NULL for the zero time (which no millisecond count can stand for).
func milli(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// unmilli is milli's inverse.
func unmilli(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return time.UnixMilli(ms.Int64)
}
