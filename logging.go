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

// Logger returns Gin's access-log middleware (gin.LoggerWithConfig) with
// the query-string token replaced by "REDACTED". A token in the URL
// (QueryString location) is otherwise written to the access log by
// gin.Logger, which gin.Default installs, and ends up wherever logs go;
// use gin.New with this middleware instead:
//
//	r := gin.New()
//	r.Use(m.Logger(gin.LoggerConfig{}), gin.Recovery())
//
// conf is used as given, its Formatter (nil: a line like gin.Logger's)
// receiving the redacted path. Proxies, browser history and Referer
// headers can still see the URL: prefer headers or cookies.
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

// RedactQuery returns uri (a path with its query, as access logs show it)
// with the value of the token's query parameter (WithQueryString's name,
// however its name is percent-encoded) replaced by "REDACTED", for
// loggers other than Gin's.
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
