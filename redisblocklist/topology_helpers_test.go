package redisblocklist_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Helpers of the topology tests (Sentinel, Cluster): a service as flask's
// blocklist_redis.py has it, on a real gin.Engine.

const (
	topoSecret     = "topology-test-secret-0123456789abcdef"
	revokedBody    = `{"msg":"Token has been revoked"}`
	unavailableMsg = `{"msg":"Token revocation status is unavailable"}`
	// topoMargin is what a guard's answer may take beyond the blocklist
	// timeout on a loaded 2-core machine under the race detector.
	topoMargin = 300 * time.Millisecond
)

// topoApp is a service with a guarded route, ginjwt's logout (which
// revokes the token it carries), and a rotating /refresh; the errors
// recorded on requests go to log.
func topoApp(m *ginjwt.Manager, log *errorLog) *gin.Engine {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.Use(log.middleware)
	r.GET("/protected", m.JWTRequired(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"hello": "world"})
	})
	r.DELETE("/logout", m.JWTRequired(ginjwt.VerifyType(false)), m.LogoutHandler())
	r.POST("/refresh", m.RefreshRequired(), func(c *gin.Context) {
		access, refresh, err := m.RotateRefreshToken(c)
		if err != nil {
			m.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": access, "refresh_token": refresh})
	})
	return r
}

// logoutRefused checks that a logout was refused cleanly (503, flask's
// JSON body) because the store could not confirm it, and that the error
// recorded wraps want.
func logoutRefused(t *testing.T, w *httptest.ResponseRecorder, want error, r *errorLog) {
	t.Helper()
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
	assert.JSONEq(t, unavailableMsg, w.Body.String())
	if err := r.last(); assert.Error(t, err, "the handler got the store's error") && want != nil {
		assert.ErrorIs(t, err, want)
	}
}

// errorLog keeps the errors handlers recorded on their contexts.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorLog) middleware(c *gin.Context) {
	c.Next()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range c.Errors {
		l.errs = append(l.errs, e.Err)
	}
}

func (l *errorLog) last() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) == 0 {
		return nil
	}
	return l.errs[len(l.errs)-1]
}

// lastCause is the last error recorded with its causes spelled out, for
// failure messages (a *ginjwt.Error prints its message only).
func (l *errorLog) lastCause() string {
	err := l.last()
	var parts []string
	for err != nil {
		parts = append(parts, err.Error())
		if m, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range m.Unwrap() {
				parts = append(parts, e.Error())
			}
			break
		}
		err = errors.Unwrap(err)
	}
	return strings.Join(parts, " / ")
}

func topoManager(t *testing.T, store ginjwt.Blocklist, opts ...ginjwt.Option) *ginjwt.Manager {
	m, err := ginjwt.New(append([]ginjwt.Option{ginjwt.WithSecretKey([]byte(topoSecret)), ginjwt.WithBlocklist(store)}, opts...)...)
	require.NoError(t, err)
	return m
}

func do(r http.Handler, method, path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

// outcomes counts the answers a guarded route gave, by status, and keeps
// the first unexpected one.
type outcomes struct {
	mu         sync.Mutex
	byStatus   map[int]int
	unexpected string
	slowest    time.Duration
}

func (o *outcomes) add(w *httptest.ResponseRecorder, took time.Duration, allowed ...int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.byStatus == nil {
		o.byStatus = map[int]int{}
	}
	o.byStatus[w.Code]++
	o.slowest = max(o.slowest, took)
	ok := false
	for _, s := range allowed {
		ok = ok || s == w.Code
	}
	// A refusal must be flask's clean JSON, whatever its status.
	switch w.Code {
	case http.StatusUnauthorized:
		ok = ok && w.Body.String() == revokedBody
	case http.StatusServiceUnavailable:
		ok = ok && w.Body.String() == unavailableMsg
	}
	if !ok && o.unexpected == "" {
		o.unexpected = w.Result().Status + " " + w.Body.String()
	}
}

func (o *outcomes) snapshot() (map[int]int, string, time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := map[int]int{}
	for k, v := range o.byStatus {
		m[k] = v
	}
	return m, o.unexpected, o.slowest
}

// hammer sends GET /protected with token from workers goroutines until
// stop is closed, recording each answer in o; allowed are the statuses
// that may be seen. It returns once they have all stopped.
func hammer(r http.Handler, token string, workers int, o *outcomes, stop <-chan struct{}, allowed ...int) (wait func()) {
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				w := do(r, "GET", "/protected", token)
				o.add(w, time.Since(start), allowed...)
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	return wg.Wait
}

// eventually waits (at most timeout) until the guarded route answers token
// with status and body, and returns how long that took.
func eventually(t *testing.T, r http.Handler, token string, status int, body string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var last *httptest.ResponseRecorder
	for time.Since(start) < timeout {
		last = do(r, "GET", "/protected", token)
		if last.Code == status && (body == "" || last.Body.String() == body) {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("after %v still %d %s, want %d %s", timeout, last.Code, last.Body, status, body)
	return 0
}
