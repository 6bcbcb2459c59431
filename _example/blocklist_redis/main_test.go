package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/ginjwt/ginjwt/redisblocklist/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
	client := redistest.Start(t).Client(t)
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
