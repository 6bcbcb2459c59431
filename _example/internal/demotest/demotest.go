// Package demotest drives an example server over real HTTP in its tests.
package demotest

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Secret is a secret long enough for HS256, for tests.
var Secret = []byte("test-secret-0123456789abcdef0123456789")

// PublicSecret is the fallback secret the examples used when JWT_SECRET_KEY
// was unset; it was published in their source, so anyone could sign tokens
// with it.
var PublicSecret = []byte("example-only-secret-change-me-0123456789")

// SecretKey checks an example's secretKey: JWT_SECRET_KEY when it is set;
// otherwise 32 random bytes, new at every start, never the public fallback,
// and a log line saying that tokens will not survive a restart. It
// redirects the standard logger while it runs, so its test must not be
// parallel.
func SecretKey(t *testing.T, secretKey func() []byte) {
	t.Helper()
	t.Setenv("JWT_SECRET_KEY", "a-secret-from-the-environment-0123456789")
	assert.Equal(t, []byte("a-secret-from-the-environment-0123456789"), secretKey())

	require.NoError(t, os.Unsetenv("JWT_SECRET_KEY")) // t.Setenv restores it
	var logged bytes.Buffer
	defer log.SetOutput(log.Writer())
	log.SetOutput(&logged)
	first, second := secretKey(), secretKey()
	assert.Len(t, first, 32)
	assert.NotEqual(t, first, second, "a new secret at every start")
	assert.NotEqual(t, PublicSecret, first)
	assert.NotEqual(t, make([]byte, 32), first, "random bytes, not zeros")
	assert.Contains(t, logged.String(), "JWT_SECRET_KEY is not set: using a random secret, so tokens will not survive a restart")
}

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
