package main

import (
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/_example/internal/demotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExpiredTokenLoader(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Unix(1795566329, 0).UnixNano())
	r, err := newRouter(demotest.Secret, ginjwt.WithClock(func() time.Time { return time.Unix(0, now.Load()) }))
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()

	_, body := demotest.Call(t, "POST", srv.URL+"/login", "", "")
	token := body["access_token"].(string)
	status, body := demotest.Call(t, "GET", srv.URL+"/protected", token, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"hello": "world"}, body)

	now.Add(int64(11 * time.Second))
	status, body = demotest.Call(t, "GET", srv.URL+"/protected", token, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, map[string]any{"code": "dave", "err": "I can't let you do that"}, body)
}

// Without JWT_SECRET_KEY the server makes its own random secret.
func TestSecretKey(t *testing.T) { demotest.SecretKey(t, secretKey) }
