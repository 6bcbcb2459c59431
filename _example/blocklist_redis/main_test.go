package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var httpClient = &http.Client{Timeout: 10 * time.Second}

// call sends a JSON request and returns the status and the decoded body.
func call(t *testing.T, method, url, token, body string) (int, map[string]any) {
	status, out, err := try(method, url, token, body)
	require.NoError(t, err)
	return status, out
}

// try is call for goroutines, which must not stop the test.
func try(method, url, token, body string) (int, map[string]any, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%d %q: %w", resp.StatusCode, data, err)
	}
	return resp.StatusCode, out, nil
}

var (
	revoked   = map[string]any{"msg": "Token has been revoked"}
	loggedOut = map[string]any{"msg": "Access token successfully revoked"}
)

func login(t *testing.T, base string) (access, refresh string) {
	status, body := call(t, "POST", base+"/login", "", `{"username":"test","password":"test"}`)
	require.Equal(t, 200, status, body)
	return body["access_token"].(string), body["refresh_token"].(string)
}

func TestRedisBlocklistFlow(t *testing.T) {
	client := redisClient(t, startRedis(t))
	store, err := redisblocklist.New(client)
	require.NoError(t, err)
	r, err := newRouter([]byte("test-secret-0123456789abcdef0123456789"), store)
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()

	status, body := call(t, "POST", srv.URL+"/login", "", `{"username":"test","password":"x"}`)
	assert.Equal(t, 401, status)
	assert.Equal(t, map[string]any{"msg": "Bad username or password"}, body)
	access, refresh := login(t, srv.URL)

	status, body = call(t, "GET", srv.URL+"/protected", access, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"hello": "world"}, body)
	status, _ = call(t, "GET", srv.URL+"/protected", refresh, "")
	assert.Equal(t, 422, status, "a refresh token is no access token")

	status, body = call(t, "DELETE", srv.URL+"/logout", access, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, loggedOut, body)
	status, body = call(t, "GET", srv.URL+"/protected", access, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, revoked, body)
	status, body = call(t, "POST", srv.URL+"/refresh", refresh, "")
	assert.Equal(t, 401, status, "logout ended the login: its refresh token too")
	assert.Equal(t, revoked, body)

	// A logout revokes the login (its session, "sid"), not just the token:
	// kept as long as a token of the login could live, the refresh
	// token's 30 days.
	ttl, err := client.TTL(context.Background(), "ginjwt:revoked:fam:"+sid(t, access)).Result()
	require.NoError(t, err)
	assert.InDelta(t, float64(30*24*time.Hour), float64(ttl), float64(5*time.Second), "kept as long as the login's tokens live")
}

func TestRotationInProcess(t *testing.T) {
	store, err := redisblocklist.New(redisClient(t, startRedis(t)))
	require.NoError(t, err)
	r, err := newRouter([]byte("test-secret-0123456789abcdef0123456789"), store)
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()
	_, refresh := login(t, srv.URL)
	status, body := call(t, "POST", srv.URL+"/refresh", refresh, "")
	require.Equal(t, 200, status, body)
	access2 := body["access_token"].(string)
	status, _ = call(t, "GET", srv.URL+"/protected", access2, "")
	assert.Equal(t, 200, status, "the new access token works")
	status, body = call(t, "POST", srv.URL+"/refresh", refresh, "")
	assert.Equal(t, 401, status, "a used refresh token is refused")
	assert.Equal(t, revoked, body)
	status, body = call(t, "GET", srv.URL+"/protected", access2, "")
	assert.Equal(t, 401, status, "its reuse revoked the login")
	assert.Equal(t, revoked, body)
}

// sid returns the session claim of a token, read without verification.
func sid(t *testing.T, token string) string {
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	var claims struct{ SID string }
	data, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &claims))
	require.NotEmpty(t, claims.SID)
	return claims.SID
}

// instance is one process of the example, started by startInstance.
type instance struct {
	base string // http://127.0.0.1:port
	log  *bytes.Buffer
	mu   *sync.Mutex
}

func (in instance) logText() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.log.String()
}

// lockedWriter lets the process write its log while the test reads it.
type lockedWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// The example's binary, built once for the tests that start processes.
var (
	buildOnce sync.Once
	binDir    string
	binErr    error
)

// buildApp builds this example into a binary, as a deployment would.
func buildApp(t *testing.T) string {
	buildOnce.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			binErr = fmt.Errorf("the go command builds the example: %w", err)
			return
		}
		if binDir, binErr = os.MkdirTemp("", "blocklist_redis"); binErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if out, err := exec.CommandContext(ctx, goBin, "build", "-o", filepath.Join(binDir, "app"), ".").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	require.NoError(t, binErr)
	return filepath.Join(binDir, "app")
}

// startInstance starts the binary with env on a free loopback port and
// waits until it answers; it is killed at t's cleanup.
func startInstance(t *testing.T, bin string, env ...string) instance {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	in := instance{base: "http://" + addr, log: &bytes.Buffer{}, mu: &sync.Mutex{}}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), append(env, "ADDR="+addr, "GIN_MODE=release")...)
	cmd.Stdout = lockedWriter{in.mu, in.log}
	cmd.Stderr = cmd.Stdout
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("log of %s:\n%s", addr, in.logText())
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if status, _, err := try("GET", in.base+"/protected", "", ""); err == nil && status == 401 {
			return in
		}
		select {
		case <-done:
			t.Fatalf("instance on %s exited:\n%s", addr, in.logText())
		default:
		}
		require.False(t, time.Now().After(deadline), "instance on %s did not answer within 10s:\n%s", addr, in.logText())
	}
}

// Three processes of the example share one Redis, as three instances
// behind a load balancer would: what one revokes, all refuse, and a
// refresh token replayed across them yields one new pair.
func TestInstancesAsProcesses(t *testing.T) {
	addr := startRedis(t)
	bin := buildApp(t)
	env := []string{"REDIS_URL=redis://" + addr + "/0", "JWT_SECRET_KEY=shared-secret-of-the-three-instances-0123"}
	apps := []instance{startInstance(t, bin, env...), startInstance(t, bin, env...), startInstance(t, bin, env...)}

	// A logout on one is refused by the two others.
	access, refresh := login(t, apps[0].base)
	for _, in := range apps {
		status, body := call(t, "GET", in.base+"/protected", access, "")
		require.Equal(t, 200, status, "every instance accepts the token before logout: %v", body)
	}
	status, body := call(t, "DELETE", apps[0].base+"/logout", access, "")
	require.Equal(t, 200, status, body)
	assert.Equal(t, loggedOut, body)
	for _, in := range apps[1:] {
		status, body := call(t, "GET", in.base+"/protected", access, "")
		assert.Equal(t, 401, status, in.base)
		assert.Equal(t, revoked, body, in.base)
		status, body = call(t, "POST", in.base+"/refresh", refresh, "")
		assert.Equal(t, 401, status, in.base)
		assert.Equal(t, revoked, body, in.base)
	}

	// 50 concurrent replays of one refresh token, round-robin over the
	// three: exactly one new pair.
	access, refresh = login(t, apps[1].base)
	type answer struct {
		status int
		body   map[string]any
		err    error
	}
	answers := make([]answer, 50)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range answers {
		wg.Go(func() {
			<-start
			s, b, err := try("POST", apps[i%3].base+"/refresh", refresh, "")
			answers[i] = answer{s, b, err}
		})
	}
	close(start)
	wg.Wait()
	var pairs []map[string]any
	winners := map[string]bool{}
	for i, a := range answers {
		require.NoError(t, a.err)
		switch a.status {
		case 200:
			pairs = append(pairs, a.body)
			winners[apps[i%3].base] = true
		case 401:
			assert.Equal(t, revoked, a.body)
		default:
			t.Errorf("replay %d on %s: %d %v", i, apps[i%3].base, a.status, a.body)
		}
	}
	require.Len(t, pairs, 1, "exactly one of 50 concurrent replays gets a new pair")
	assert.NotEmpty(t, pairs[0]["access_token"])
	assert.NotEmpty(t, pairs[0]["refresh_token"])
	t.Logf("the winner was served by %v", winners)
	// The replays revoked the login: the pair that won is refused too,
	// and so is the access token of the login, on every instance.
	for _, in := range apps {
		status, body := call(t, "GET", in.base+"/protected", pairs[0]["access_token"].(string), "")
		assert.Equal(t, 401, status, in.base)
		assert.Equal(t, revoked, body, in.base)
		status, body = call(t, "GET", in.base+"/protected", access, "")
		assert.Equal(t, 401, status, in.base)
		assert.Equal(t, revoked, body, in.base)
	}
}

// Without JWT_SECRET_KEY an instance makes a random secret of its own and
// says so: its tokens are refused by an instance with another secret, and
// no secret published in this example signs anything.
func TestRandomSecretWithoutJWTSecretKey(t *testing.T) {
	addr := startRedis(t)
	bin := buildApp(t)
	redisURL := "REDIS_URL=redis://" + addr + "/0"
	lonely := startInstance(t, bin, redisURL, "JWT_SECRET_KEY=")
	other := startInstance(t, bin, redisURL, "JWT_SECRET_KEY=")
	assert.Contains(t, lonely.logText(), "JWT_SECRET_KEY is not set: generated a random secret")
	access, _ := login(t, lonely.base)
	status, _ := call(t, "GET", lonely.base+"/protected", access, "")
	assert.Equal(t, 200, status)
	status, body := call(t, "GET", other.base+"/protected", access, "")
	assert.Equal(t, 422, status, "another start has another secret")
	assert.Equal(t, map[string]any{"msg": "Signature verification failed"}, body)
}

// A logout Redis does not confirm is not reported as done: here a store
// that needs a replica's acknowledgement, and Redis has no replica.
func TestLogoutNotConfirmedByRedis(t *testing.T) {
	store, err := redisblocklist.New(redisClient(t, startRedis(t)), redisblocklist.WithReplicaAcks(1, 50*time.Millisecond))
	require.NoError(t, err)
	r, err := newRouter([]byte("test-secret-0123456789abcdef0123456789"), store)
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()
	access, _ := login(t, srv.URL)
	status, body := call(t, "DELETE", srv.URL+"/logout", access, "")
	assert.Equal(t, 503, status)
	assert.Equal(t, map[string]any{"msg": "Token revocation status is unavailable"}, body)
}
