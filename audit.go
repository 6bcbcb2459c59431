package ginjwt

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// WithAuditLog records every refused request on logger: a refusal is a
// security event (a forged, replayed, expired or missing token, a denied
// route). Each record is "ginjwt: request refused" with the attributes
// kind (the sentinel's text, e.g. "token has expired"), status, reason
// (the response's message),
// method, route (Gin's route pattern, not the path, so IDs in URLs stay
// out), client (gin's ClientIP), when the token was genuine (expired, of
// the wrong type, revoked...) its kid and jti, and the cause when a store
// or key source failed. The token, cookies and headers are never logged.
//
// Levels let you filter: Info for a request without a token (every
// anonymous visit), Error for a 5xx (a store or key source is down, a
// route is set up wrongly), Warn for everything else.
func WithAuditLog(logger *slog.Logger) Option {
	return option(func(c *config) error {
		if logger == nil {
			return errors.New("WithAuditLog: nil logger")
		}
		c.audit = logger
		return nil
	})
}

const auditMessage = "ginjwt: request refused"

// audit records a refusal on the audit log, if there is one.
func (m *Manager) audit(c *gin.Context, e *Error) {
	logger := m.cfg.audit
	if logger == nil {
		return
	}
	level := slog.LevelWarn
	switch {
	case e.Status >= http.StatusInternalServerError:
		level = slog.LevelError
	case errors.Is(e, ErrNoToken):
		level = slog.LevelInfo
	}
	ctx := context.Background()
	if c.Request != nil {
		ctx = c.Request.Context()
	}
	if !logger.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs,
		slog.String("kind", strings.TrimPrefix(e.kind.Error(), "ginjwt: ")),
		slog.Int("status", e.Status),
		slog.String("reason", e.Message),
	)
	if c.Request != nil {
		attrs = append(attrs, slog.String("method", c.Request.Method))
	}
	attrs = append(attrs, slog.String("route", c.FullPath()), slog.String("client", c.ClientIP()))
	if tok := e.Token; tok != nil {
		attrs = append(attrs, slog.String("kid", tok.Header.Kid), slog.String("jti", tok.Claims.JTI))
	}
	if e.cause != nil {
		attrs = append(attrs, slog.String("cause", e.cause.Error()))
	}
	logger.LogAttrs(ctx, level, auditMessage, attrs...)
}
