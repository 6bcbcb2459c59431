package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt/_example/internal/demotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOIDCFlow(t *testing.T) {
	// The issuer's URL must be known before its router exists.
	var idp *gin.Engine
	issuer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { idp.ServeHTTP(w, r) }))
	defer issuer.Close()
	var err error
	idp, err = newIssuer(issuer.URL)
	require.NoError(t, err)
	apiRouter, err := newAPI(issuer.URL)
	require.NoError(t, err)
	api := httptest.NewServer(apiRouter)
	defer api.Close()

	_, body := demotest.Call(t, "POST", issuer.URL+"/token", "", `{"email":"ann@example.com","groups":["admin","staff"]}`)
	admin := body["access_token"].(string)
	_, body = demotest.Call(t, "POST", issuer.URL+"/token", "", `{"email":"bob@example.com","groups":["staff"]}`)
	staff := body["access_token"].(string)

	status, body := demotest.Call(t, "GET", api.URL+"/anonymous", "", "")
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"result": "anonymous ok"}, body)
	status, body = demotest.Call(t, "GET", api.URL+"/protected", admin, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"result": "protected ok", "user": "ann@example.com"}, body)
	status, _ = demotest.Call(t, "GET", api.URL+"/admin", admin, "")
	assert.Equal(t, 200, status)
	status, body = demotest.Call(t, "GET", api.URL+"/admin", staff, "")
	assert.Equal(t, 403, status)
	assert.Equal(t, demotest.Msg("Missing required groups: admin"), body)
	status, _ = demotest.Call(t, "GET", api.URL+"/protected", "", "")
	assert.Equal(t, 401, status)
}
