package ginjwt

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// redacted replaces a token in what is logged.
const redacted = "REDACTED"

// Logger returns gin.LoggerWithConfig(conf) with the query-string token
// replaced by "REDACTED": use it with gin.New instead of gin.Default, whose
// gin.Logger writes the token to the access log.
func (m *Manager) Logger(conf gin.LoggerConfig) gin.HandlerFunc {
	format := conf.Formatter
	if format == nil {
		format = accessLogLine
	}
	conf.Formatter = func(p gin.LogFormatterParams) string {
		p.Path = m.RedactQuery(p.Path)
		return format(p)
	}
	return gin.LoggerWithConfig(conf)
}

// RedactQuery returns uri (a path and query) with the token's query
// parameter, however encoded, replaced by "REDACTED", for other loggers.
func (m *Manager) RedactQuery(uri string) string {
	path, query, ok := strings.Cut(uri, "?")
	if !ok || !strings.Contains(query, "=") {
		return uri
	}
	params := strings.Split(query, "&")
	changed := false
	for i, param := range params {
		key, _, hasValue := strings.Cut(param, "=")
		if !hasValue {
			continue
		}
		if name, err := url.QueryUnescape(key); err == nil && name == m.cfg.queryName {
			params[i] = key + "=" + redacted
			changed = true
		}
	}
	if !changed {
		return uri
	}
	return path + "?" + strings.Join(params, "&")
}

// accessLogLine is the default line of Logger: time, status, latency,
// client, method and path.
func accessLogLine(p gin.LogFormatterParams) string {
	line := fmt.Sprintf("[GIN] %s | %3d | %13v | %15s | %-7s %q\n",
		p.TimeStamp.Format("2006/01/02 - 15:04:05"), p.StatusCode, p.Latency.Truncate(time.Microsecond),
		p.ClientIP, p.Method, p.Path)
	if p.ErrorMessage != "" {
		line += p.ErrorMessage
	}
	return line
}
