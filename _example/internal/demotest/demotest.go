// Package demotest drives an example server over real HTTP in its tests.
package demotest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Secret is a secret long enough for HS256, for tests.
var Secret = []byte("test-secret-0123456789abcdef0123456789")

// Call sends one request (a JSON body when body is not empty, a bearer
// token when token is not empty) and decodes the JSON answer.
func Call(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return Do(t, http.DefaultClient, req)
}

// Do sends req with client and decodes the JSON answer.
func Do(t *testing.T, client *http.Client, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(data, &out), string(data))
	return resp.StatusCode, out
}

// Msg is a flask-style error body.
func Msg(text string) map[string]any { return map[string]any{"msg": text} }
