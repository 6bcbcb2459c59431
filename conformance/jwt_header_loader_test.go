package conformance

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
)

// headerLoaderApp is the fixture of test_jwt_header_loader.py: both routes
// answer get_jwt_header().
func headerLoaderApp(t *testing.T, opts ...ginjwt.Option) (*ginjwt.Manager, *flaskClient) {
	return twoRouteApp(t, func(c *gin.Context) (map[string]any, error) { return ginjwt.CurrentHeader(c).Map() }, opts...)
}

func headersOf(kv ...string) func(string) (map[string]any, error) {
	return func(string) (map[string]any, error) { return map[string]any{kv[0]: kv[1]}, nil }
}

func TestFlaskJWTHeaderLoader(t *testing.T) {
	const file = "test_jwt_header_loader.py::"
	fooBarHeader := ginjwt.AdditionalHeaders(map[string]any{"foo": "bar"})
	check := func(t *testing.T, w interface{ Result() *http.Response }, body map[string]any) {
		t.Helper()
		assert.Equal(t, 200, w.Result().StatusCode)
		assert.Equal(t, "bar", body["foo"])
	}

	t.Run(file+"test_jwt_headers_in_access_token", func(t *testing.T) {
		m, fc := headerLoaderApp(t, ginjwt.WithAdditionalHeadersLoader(headersOf("foo", "bar")))
		w := fc.get("/protected", withBearer(ginjwttest.Access(t, m, "username")))
		check(t, w, decodeBody(t, w))
	})

	t.Run(file+"test_non_serializable_headers", func(t *testing.T) {
		m := newManager(t, ginjwt.WithAdditionalHeadersLoader(func(string) (map[string]any, error) {
			return map[string]any{"app": make(chan int)}, nil
		}))
		_, err := m.CreateAccessToken("username")
		assert.Error(t, err)
	})

	t.Run(file+"test_jwt_headers_in_refresh_token", func(t *testing.T) {
		m, fc := headerLoaderApp(t, ginjwt.WithAdditionalHeadersLoader(headersOf("foo", "bar")))
		w := fc.get("/protected2", withBearer(ginjwttest.Refresh(t, m, "username")))
		check(t, w, decodeBody(t, w))
	})

	t.Run(file+"test_jwt_header_in_refresh_token_specified_at_creation", func(t *testing.T) {
		m, fc := headerLoaderApp(t)
		w := fc.get("/protected2", withBearer(ginjwttest.Refresh(t, m, "username", fooBarHeader)))
		check(t, w, decodeBody(t, w))
	})

	t.Run(file+"test_jwt_header_in_access_token_specified_at_creation", func(t *testing.T) {
		m, fc := headerLoaderApp(t)
		w := fc.get("/protected", withBearer(ginjwttest.Access(t, m, "username", fooBarHeader)))
		check(t, w, decodeBody(t, w))
	})

	t.Run(file+"test_jwt_header_in_access_token_specified_at_creation_override", func(t *testing.T) {
		m, fc := headerLoaderApp(t, ginjwt.WithAdditionalHeadersLoader(headersOf("ping", "pong")))
		w := fc.get("/protected", withBearer(ginjwttest.Access(t, m, "username", fooBarHeader)))
		check(t, w, decodeBody(t, w))
	})

	t.Run(file+"test_jwt_header_in_refresh_token_specified_at_creation_override", func(t *testing.T) {
		m, fc := headerLoaderApp(t, ginjwt.WithAdditionalHeadersLoader(headersOf("ping", "pong")))
		w := fc.get("/protected2", withBearer(ginjwttest.Refresh(t, m, "username", fooBarHeader)))
		check(t, w, decodeBody(t, w))
	})
}
