// Package bench compares the cost of one guarded request through a real
// gin.Engine: no guard, a naive golang-jwt middleware, appleboy/gin-jwt and
// ginjwt. Every guarded router verifies the same flask-jwt-extended style
// HS256 access token. Read the ratios to BenchmarkBareGin, not absolute times.
// It is a module of its own so that ginjwt's users never download the peers.
package bench

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	appleboy "github.com/appleboy/gin-jwt/v2"
	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/golang-jwt/jwt/v5"
)

const (
	secret   = "bench-secret-0123456789abcdef0123456789"
	wantBody = `{"logged_in_as":"alice"}`
)

func init() { gin.SetMode(gin.ReleaseMode) }

// uuid4 returns a random RFC 4122 version 4 UUID, as flask-jwt-extended
// puts in jti and csrf.
func uuid4() string {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		panic(err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// flaskToken signs, with golang-jwt and independently of ginjwt, an access
// token laid out like flask-jwt-extended's create_access_token("alice").
func flaskToken(tb testing.TB) string {
	tb.Helper()
	now := time.Now().Unix()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"fresh": false,
		"iat":   now,
		"jti":   uuid4(),
		"type":  "access",
		"sub":   "alice",
		"nbf":   now,
		"csrf":  uuid4(),
		"exp":   now + 3600,
	})
	s, err := tok.SignedString([]byte(secret))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func newRequest(token string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/protected", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

// bareRouter serves /protected with no guard.
func bareRouter(testing.TB) http.Handler {
	r := gin.New()
	r.GET("/protected", func(c *gin.Context) { c.JSON(200, gin.H{"logged_in_as": "alice"}) })
	return r
}

// naiveMiddleware is a naive but correct golang-jwt guard.
func naiveMiddleware() gin.HandlerFunc {
	key := []byte(secret)
	keyfunc := func(*jwt.Token) (any, error) { return key, nil }
	return func(c *gin.Context) {
		t, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if !ok {
			c.AbortWithStatusJSON(401, gin.H{"msg": "missing bearer token"})
			return
		}
		tok, err := jwt.Parse(t, keyfunc, jwt.WithValidMethods([]string{"HS256"}))
		if err != nil {
			c.AbortWithStatusJSON(401, gin.H{"msg": err.Error()})
			return
		}
		c.Set("claims", tok.Claims.(jwt.MapClaims))
		c.Next()
	}
}

func naiveRouter(testing.TB) http.Handler {
	r := gin.New()
	r.GET("/protected", naiveMiddleware(), func(c *gin.Context) {
		claims := c.MustGet("claims").(jwt.MapClaims)
		c.JSON(200, gin.H{"logged_in_as": claims["sub"]})
	})
	return r
}

// appleboyRouter guards /protected with appleboy/gin-jwt v2.10.3. Its
// middleware reads "Authorization: Bearer <t>" (the TokenLookup and
// TokenHeadName defaults), verifies it with golang-jwt/jwt/v4 and Key under
// HS256 (the SigningAlgorithm default), requires exp (a float64 in the
// parsed MapClaims, not in the past), then stores IdentityHandler's result
// under IdentityKey. It needs no orig_iat or claim of its own to let a
// request through (orig_iat only matters to RefreshHandler, Authenticator
// only to LoginHandler), so the flask token passes as is.
func appleboyRouter(tb testing.TB) http.Handler {
	tb.Helper()
	mw, err := appleboy.New(&appleboy.GinJWTMiddleware{
		Realm:       "bench",
		Key:         []byte(secret),
		Timeout:     time.Hour,
		MaxRefresh:  time.Hour,
		IdentityKey: "sub",
		IdentityHandler: func(c *gin.Context) any {
			return appleboy.ExtractClaims(c)["sub"]
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	r := gin.New()
	r.GET("/protected", mw.MiddlewareFunc(), func(c *gin.Context) {
		c.JSON(200, gin.H{"logged_in_as": c.MustGet("sub")})
	})
	return r
}

func newManager(tb testing.TB) *ginjwt.Manager {
	tb.Helper()
	m, err := ginjwt.New(ginjwt.WithSecretKey([]byte(secret)))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func ginjwtRouter(tb testing.TB) http.Handler {
	m := newManager(tb)
	r := gin.New()
	r.GET("/protected", m.JWTRequired(), func(c *gin.Context) {
		c.JSON(200, gin.H{"logged_in_as": ginjwt.CurrentIdentity(c)})
	})
	return r
}

var routers = []struct {
	name string
	new  func(testing.TB) http.Handler
}{
	{"BareGin", bareRouter},
	{"NaiveGolangJWT", naiveRouter},
	{"AppleboyGinJWT", appleboyRouter},
	{"GinJWT", ginjwtRouter},
}

// TestAllAccept checks that every router accepts the flask-layout token, and
// a token minted by ginjwt, and answers the same body.
func TestAllAccept(t *testing.T) {
	m := newManager(t)
	own, err := m.CreateAccessToken("alice")
	if err != nil {
		t.Fatal(err)
	}
	tokens := []struct{ name, token string }{
		{"flask_layout_token", flaskToken(t)},
		{"ginjwt_minted_token", own},
	}
	for _, tk := range tokens {
		for _, rt := range routers {
			t.Run(tk.name+"/"+rt.name, func(t *testing.T) {
				w := httptest.NewRecorder()
				rt.new(t).ServeHTTP(w, newRequest(tk.token))
				if w.Code != 200 || w.Body.String() != wantBody {
					t.Fatalf("got %d %s, want 200 %s", w.Code, w.Body, wantBody)
				}
			})
		}
	}
}

// TestAllReject checks that every guard refuses a token with a broken
// signature, so the benchmarks do not time a guard that lets anything in.
func TestAllReject(t *testing.T) {
	good := flaskToken(t)
	bad := good[:len(good)-2] + "xx"
	// ginjwt answers like flask-jwt-extended: 422 for an invalid token.
	want := map[string]int{"NaiveGolangJWT": 401, "AppleboyGinJWT": 401, "GinJWT": 422}
	for _, rt := range routers[1:] {
		t.Run(rt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			rt.new(t).ServeHTTP(w, newRequest(bad))
			if w.Code != want[rt.name] {
				t.Fatalf("got %d %s, want %d", w.Code, w.Body, want[rt.name])
			}
		})
	}
}

// bench times one GET /protected with the token through newRouter's engine,
// after checking once that it is answered 200 with wantBody.
func bench(b *testing.B, newRouter func(testing.TB) http.Handler) {
	r := newRouter(b)
	req := newRequest(flaskToken(b))
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if w.Code != 200 || w.Body.String() != wantBody {
		b.Fatalf("got %d %s, want 200 %s", w.Code, w.Body, wantBody)
	}
	b.ReportAllocs()
	b.ResetTimer()
	out := &sink{header: http.Header{}}
	for b.Loop() {
		clear(out.header)
		r.ServeHTTP(out, req)
	}
}

// sink is a ResponseWriter that keeps nothing and is reused, so the
// harness adds no allocation of its own and the numbers are Gin's and the
// guard's (httptest.NewRecorder costs several allocations per request).
type sink struct{ header http.Header }

func (s *sink) Header() http.Header         { return s.header }
func (s *sink) Write(p []byte) (int, error) { return len(p), nil }
func (s *sink) WriteHeader(int)             {}

func BenchmarkBareGin(b *testing.B)        { bench(b, bareRouter) }
func BenchmarkNaiveGolangJWT(b *testing.B) { bench(b, naiveRouter) }
func BenchmarkAppleboyGinJWT(b *testing.B) { bench(b, appleboyRouter) }
func BenchmarkGinJWT(b *testing.B)         { bench(b, ginjwtRouter) }
