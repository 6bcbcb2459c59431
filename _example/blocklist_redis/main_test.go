package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startRedis starts a redis-server on a free loopback port for the test, or
// skips loudly (fails when GINJWT_REQUIRE_REDIS is set).
func startRedis(t *testing.T) string {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("GINJWT_REQUIRE_REDIS") != "" {
			t.Fatal("GINJWT_REQUIRE_REDIS is set but redis-server is not installed")
		}
		t.Skip("SKIPPED: redis-server not installed (apt-get install redis-server)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	require.NoError(t, ln.Close())
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); c.Ping(context.Background()).Err() != nil; time.Sleep(20 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "redis-server did not start")
	}
	return "127.0.0.1:" + port
}

func call(t *testing.T, method, url, token, body string) (int, map[string]any) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	require.NoError(t, json.Unmarshal(data, &out), string(data))
	return resp.StatusCode, out
}

func TestRedisBlocklistFlow(t *testing.T) {
	addr := startRedis(t)
	client := redis.NewClient(&redis.Options{Addr: addr})
	defer client.Close()
	r, err := newRouter([]byte("test-secret-0123456789abcdef0123456789"), redisblocklist.New(client))
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()

	status, body := call(t, "POST", srv.URL+"/login", "", `{"username":"test","password":"x"}`)
	assert.Equal(t, 401, status)
	assert.Equal(t, map[string]any{"msg": "Bad username or password"}, body)
	status, body = call(t, "POST", srv.URL+"/login", "", `{"username":"test","password":"test"}`)
	require.Equal(t, 200, status)
	token := body["access_token"].(string)

	status, body = call(t, "GET", srv.URL+"/protected", token, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"hello": "world"}, body)
	status, body = call(t, "DELETE", srv.URL+"/logout", token, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"msg": "Access token revoked"}, body)
	status, body = call(t, "GET", srv.URL+"/protected", token, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, map[string]any{"msg": "Token has been revoked"}, body)

	keys, err := client.Keys(context.Background(), "ginjwt:revoked:*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	ttl, err := client.TTL(context.Background(), keys[0]).Result()
	require.NoError(t, err)
	assert.InDelta(t, float64(time.Hour), float64(ttl), float64(5*time.Second), "kept as long as the token lives")
}
