package ginjwt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// No identity bleed: a real HTTP server on 127.0.0.1 and 50 concurrent
// clients sending 2,500 requests that mix valid tokens of 25 users with
// expired, revoked and forged ones. Every 200 must carry exactly the
// identity of its own token, every other answer must be the right refusal,
// and no goroutine may outlive the server. CI runs it under -race.
func TestNoIdentityBleedUnderLoad(t *testing.T) {
	const clients, perClient, users = 50, 50, 25
	before := runtime.NumGoroutine()

	store := ginjwt.NewMemoryBlocklist(nil)
	m := newManager(t, ginjwt.WithBlocklist(store))
	r := gin.New()
	r.GET("/me/:user", m.JWTRequired(ginjwt.RequireClaimParam("sub", "user")), func(c *gin.Context) {
		c.JSON(200, gin.H{"identity": ginjwt.CurrentIdentity(c), "param": c.Param("user")})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()

	type kind int
	const (
		valid kind = iota
		expired
		revoked
		forged
	)
	type ticket struct {
		token, user string
		kind        kind
	}
	var tickets []ticket
	for i := range users {
		user := fmt.Sprintf("user-%02d", i)
		tickets = append(tickets, ticket{ginjwttest.Access(t, m, user), user, valid})
		tickets = append(tickets, ticket{ginjwttest.Expired(t, m, user), user, expired})
		gone := ginjwttest.Access(t, m, user)
		require.NoError(t, m.Revoke(context.Background(), gone))
		tickets = append(tickets, ticket{gone, user, revoked})
		tickets = append(tickets, ticket{signRaw(`{"alg":"HS256","typ":"JWT"}`, `{"sub":"`+user+`","jti":"x"}`, "not-the-secret-0123456789abcdef01234"), user, forged})
	}
	wantStatus := map[kind]int{valid: 200, expired: 401, revoked: 401, forged: 422}
	wantMsg := map[kind]string{expired: "Token has expired", revoked: "Token has been revoked", forged: "Signature verification failed"}

	transport := &http.Transport{MaxIdleConnsPerHost: clients}
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	var total, oks atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan string, clients*perClient)
	for cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perClient {
				tk := tickets[(cl*perClient+i*7)%len(tickets)]
				req, _ := http.NewRequest(http.MethodGet, base+"/me/"+tk.user, nil)
				req.Header.Set("Authorization", "Bearer "+tk.token)
				resp, err := client.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				total.Add(1)
				var got map[string]string
				_ = json.Unmarshal(body, &got)
				switch {
				case resp.StatusCode != wantStatus[tk.kind]:
					errs <- fmt.Sprintf("%s token of %s: %d %s", []string{"valid", "expired", "revoked", "forged"}[tk.kind], tk.user, resp.StatusCode, body)
				case tk.kind == valid && (got["identity"] != tk.user || got["param"] != tk.user):
					errs <- fmt.Sprintf("BLEED: token of %s answered %s", tk.user, body)
				case tk.kind != valid && got["msg"] != wantMsg[tk.kind]:
					errs <- fmt.Sprintf("%s: %s", tk.user, body)
				case tk.kind == valid:
					oks.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	assert.Equal(t, int64(clients*perClient), total.Load())
	assert.Greater(t, oks.Load(), int64(500))
	t.Logf("%d requests, %d authorized, from %d clients", total.Load(), oks.Load(), clients)

	// Close the client side first: the transport may hold connections it
	// dialled but never used, which the server sees as new (not idle) and
	// would let Shutdown wait up to 5 s for.
	transport.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	require.NoError(t, srv.Shutdown(ctx))
	require.ErrorIs(t, <-served, http.ErrServerClosed)
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before, "goroutines left after shutdown")
}
