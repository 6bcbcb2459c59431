package ginjwt

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
)

// WithAuditLog is an Observer that records refusals, replayed refresh
// tokens and RevokeIdentity on logger, at levels by severity; tokens,
// cookies and headers are never logged. docs/observability.md shows the
// records.
func WithAuditLog(logger *slog.Logger) Option {
	return option(func(c *config) error {
		if logger == nil {
			return errors.New("WithAuditLog: nil logger")
		}
		a := auditLog{logger}
		c.audit = logger
		c.observers = append(c.observers, Observer{GuardDone: a.outcome, Event: a.event})
		return nil
	})
}

const auditMessage = "ginjwt: request refused"

type auditLog struct{ logger *slog.Logger }

// outcome records a refusal.
func (a auditLog) outcome(c *gin.Context, out Outcome) {
	e := out.Err
	if e == nil {
		return
	}
	level := auditLevel(e)
	ctx := out.Context
	if ctx == nil {
		ctx = context.Background()
	}
	if !a.logger.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 14)
	attrs = append(attrs,
		slog.String("reason", string(out.Reason)),
		slog.Int("status", e.Status),
		slog.String("message", e.Message),
		slog.String("guard", string(out.Guard)),
	)
	if c.Request != nil {
		attrs = append(attrs, slog.String("method", c.Request.Method))
	}
	attrs = appendNonEmpty(attrs, "route", c.FullPath())
	attrs = appendNonEmpty(attrs, "client", c.ClientIP())
	if tok := out.Token; tok != nil {
		attrs = appendNonEmpty(attrs, "identity", tok.Claims.Identity)
		attrs = appendNonEmpty(attrs, "kid", tok.Header.Kid)
		attrs = appendNonEmpty(attrs, "jti", tok.Claims.JTI)
	}
	attrs = appendNonEmpty(attrs, "username", out.Username)
	if e.cause != nil {
		attrs = append(attrs, slog.String("cause", e.cause.Error()))
	}
	a.logger.LogAttrs(ctx, level, auditMessage, attrs...)
}

// event records the security events beside a request's outcome.
func (a auditLog) event(ctx context.Context, e Event) {
	switch {
	case e.Kind == EventSessionEnded && e.Reason == ReasonRefreshReused:
		a.logger.LogAttrs(ctx, slog.LevelError, "ginjwt: refresh token reused, its session ended",
			slog.String("reason", string(ReasonRefreshReused)), slog.String("identity", e.Identity), slog.String("session", e.SessionID))
	case e.Kind == EventIdentityRevoked:
		a.logger.LogAttrs(ctx, slog.LevelInfo, "ginjwt: identity revoked, every session ended",
			slog.String("reason", string(ReasonIdentityRevoked)), slog.String("identity", e.Identity))
	}
}

func appendNonEmpty(attrs []slog.Attr, key, value string) []slog.Attr {
	if value == "" {
		return attrs
	}
	return append(attrs, slog.String(key, value))
}

// auditLevel is a refusal's level by severity (see WithAuditLog).
func auditLevel(e *Error) slog.Level {
	if e.Status >= http.StatusInternalServerError {
		return slog.LevelError
	}
	switch e.Reason() {
	case ReasonNoToken:
		return slog.LevelDebug
	case ReasonRefreshReused:
		return slog.LevelError
	case ReasonExpired, ReasonSessionExpired, ReasonRevoked, ReasonNotFresh, ReasonWrongType,
		ReasonBadCredentials, ReasonNotJSON, ReasonSessionNotFound:
		return slog.LevelInfo
	}
	return slog.LevelWarn
}
