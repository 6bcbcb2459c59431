package ginjwt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
)

// Refresh-token rotation with reuse detection: the option, the store it
// needs, the rotation, and the guards' check for a replayed token.

// WithRefreshRotation turns on refresh-token rotation with reuse detection
// (OAuth 2.0 Security BCP §4.14; see RotateRefreshToken). Needs
// WithBlocklist with a RotationStore, shared between instances.
func WithRefreshRotation() Option {
	return option(func(c *config) error {
		c.rotation = true
		return nil
	})
}

// RotationStore is a Blocklist that also keeps each session's current
// refresh token, for WithRefreshRotation.
type RotationStore interface {
	Blocklist
	// Rotate atomically makes next the session's current token ID until
	// until (zero: no expiry) if the current one is prev or none: of
	// concurrent calls exactly one gets true; false changes nothing.
	Rotate(ctx context.Context, session, prev, next string, until time.Time) (bool, error)
	// Current returns the session's current token ID, "" for none.
	Current(ctx context.Context, session string) (string, error)
}

// RotateRefreshToken uses up the refresh token RefreshRequired verified
// and returns a new pair of the same session, never past its end. A
// refresh token presented again, or by a losing concurrent request, is
// reuse: 401 "Token has been revoked", and its whole session ends. Errors
// are *Error values for Abort (503: the store is down).
func (m *Manager) RotateRefreshToken(c *gin.Context, opts ...TokenOption) (access, refresh string, err error) {
	a, r, err := m.rotateRefreshToken(c, opts)
	return a.token, r.token, err
}

// rotateRefreshToken is RotateRefreshToken telling what it made, for
// RefreshHandler.
func (m *Manager) rotateRefreshToken(c *gin.Context, opts []TokenOption) (a, next minted, err error) {
	if !m.cfg.rotation {
		return a, next, errors.New("ginjwt: RotateRefreshToken needs WithRefreshRotation")
	}
	tok, err := currentRefreshToken(c)
	if err != nil {
		return a, next, err
	}
	if tok.Claims.JTI == "" {
		return a, next, invalid(ErrInvalidClaims, "Missing claim: jti")
	}
	// A refresh token from before sessions has none: its own ID names the
	// session its successors continue.
	session := tok.Claims.SessionID()
	renewal := slices.Concat(opts, []TokenOption{m.renewalOf(tok)})
	if _, err = m.createToken(TypeAccess, tok.Claims.Identity, append(renewal, a.record())); err != nil {
		return minted{}, minted{}, err
	}
	if _, err = m.createToken(TypeRefresh, tok.Claims.Identity, append(renewal, tokenOption(notFresh), next.record())); err != nil {
		return minted{}, minted{}, err
	}
	if next.jti == "" {
		return minted{}, minted{}, errors.New(`ginjwt: a rotated refresh token needs a string "jti"`)
	}
	// The compare-and-set decides, not the old token's remaining life: a
	// token that expires while this request runs is still used up.
	var won bool
	err = m.storeCall(c.Request.Context(), StoreRotate, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, m.cfg.blocklistTimeout)
		defer cancel()
		var err error
		won, err = m.rotations.Rotate(ctx, session, tok.Claims.JTI, next.jti, next.expires)
		return err
	})
	if err != nil {
		return minted{}, minted{}, m.unavailable(err)
	}
	if !won {
		m.endReusedSession(c.Request.Context(), c, tok)
		e := newError(ErrRevoked, http.StatusUnauthorized, "Token has been revoked")
		e.Token, e.cause = tok, ErrRefreshTokenReused
		return minted{}, minted{}, e
	}
	m.emit(c.Request.Context(), Event{Kind: EventRotated, Identity: tok.Claims.Identity, SessionID: session})
	if err := m.touchSession(c.Request.Context(), tok, laterOf(a.expires, next.expires)); err != nil {
		return minted{}, minted{}, err
	}
	return a, next, nil
}

// checkRotated refuses a refresh token that is no longer its session's
// current one: it was rotated, so whoever presents it again replays it,
// and the whole session is ended (reuse detection). Refresh tokens are
// rare next to access tokens, so the extra lookup is only theirs.
func (m *Manager) checkRotated(ctx context.Context, c *gin.Context, tok *Token) *Error {
	if !m.cfg.rotation || tok.Claims.Type != TypeRefresh {
		return nil
	}
	reused, err := m.reused(ctx, tok)
	if err != nil {
		return m.unavailable(err)
	}
	if !reused {
		return nil
	}
	m.endReusedSession(ctx, c, tok)
	e := newError(ErrRevoked, http.StatusUnauthorized, "Token has been revoked")
	e.cause = ErrRefreshTokenReused
	return e
}

// reused reports whether refresh token tok has been rotated away.
func (m *Manager) reused(ctx context.Context, tok *Token) (reused bool, err error) {
	err = m.storeCall(ctx, StoreCurrent, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, m.cfg.blocklistTimeout)
		defer cancel()
		current, err := m.rotations.Current(ctx, tok.Claims.SessionID())
		reused = current != "" && current != tok.Claims.JTI
		return err
	})
	return reused, err
}

// detectExpiredReuse ends the session of an expired refresh token that
// had been rotated away: a replay after expiry is still a replay, and the
// thief may hold the session's current token. The request is refused
// anyway ("Token has expired"); e.Token passed the signature check.
func (m *Manager) detectExpiredReuse(ctx context.Context, c *gin.Context, e *Error) {
	tok := e.Token
	if !m.cfg.rotation || e.kind != ErrTokenExpired || tok == nil ||
		tok.Claims.Type != TypeRefresh || tok.Claims.JTI == "" {
		return
	}
	reused, err := m.reused(ctx, tok)
	if err != nil {
		_ = c.Error(fmt.Errorf("ginjwt: checking an expired refresh token for reuse: %w", err))
		return
	}
	if reused {
		m.endReusedSession(ctx, c, tok)
	}
}

// endReusedSession ends the session of a replayed refresh token. Errors
// are recorded on the context: the request is refused anyway.
func (m *Manager) endReusedSession(ctx context.Context, c *gin.Context, tok *Token) {
	if err := m.revokeSession(ctx, tok, ReasonRefreshReused); err != nil {
		_ = c.Error(fmt.Errorf("ginjwt: ending the session of a reused refresh token: %w", err))
	}
}
