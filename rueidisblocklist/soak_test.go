package rueidisblocklist_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/rueidisblocklist"
	"github.com/ginjwt/ginjwt/rueidisblocklist/internal/rueidistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A soak (GINJWT_SOAK=1, 2 x 10 s): 8 clients send requests with 1000
// tokens to instance B while instance A revokes one token every 10 ms and
// B's connections are closed by the server every 200 ms. No request that
// starts after a revocation was acknowledged may be answered 200 for that
// token. Run twice: clients pausing 100 µs between requests (a loaded
// server whose CPU is not saturated), and clients spinning, which
// saturates both cores (the goroutines that read invalidations and pings
// then wait their turn: checks go to Redis more often, and must still
// never be late). The counts are logged.
func TestSoakRevocationsAcrossReconnects(t *testing.T) {
	if os.Getenv("GINJWT_SOAK") == "" {
		t.Skip("a 20 s soak: set GINJWT_SOAK=1")
	}
	t.Run("paced", func(t *testing.T) { soak(t, 100*time.Microsecond) })
	t.Run("saturated", func(t *testing.T) { soak(t, 0) })
}

func soak(t *testing.T, pause time.Duration) {
	const (
		duration = 10 * time.Second
		clients  = 8
		tokens   = 1000
	)
	srv := rueidistest.Start(t)
	raw := srv.Raw(t)
	mA, err := ginjwt.New(ginjwt.WithSecretKey([]byte(secret)),
		ginjwt.WithBlocklist(mustNew(t, srv.Client(t, "instance-a", nil))))
	require.NoError(t, err)
	mB, err := ginjwt.New(ginjwt.WithSecretKey([]byte(secret)),
		ginjwt.WithBlocklist(mustNew(t, srv.Client(t, "instance-b", nil), rueidisblocklist.WithCacheTTL(time.Hour))),
		ginjwt.WithBlocklistTimeout(300*time.Millisecond))
	require.NoError(t, err)
	var ran atomic.Int32
	routerB := app(mB, &ran)
	toks := make([]string, tokens)
	for i := range toks {
		toks[i], err = mA.CreateAccessToken(fmt.Sprintf("user-%d", i))
		require.NoError(t, err)
	}
	var acked [tokens]atomic.Int64 // unix nanoseconds of the revocation's acknowledgement, 0: not revoked

	end := time.Now().Add(duration)
	var wg sync.WaitGroup
	var codes sync.Map
	var violations, maxLate atomic.Int64
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 1))
			for time.Now().Before(end) {
				i := rng.IntN(tokens)
				start := time.Now().UnixNano()
				code := send(routerB, "GET", "/protected", toks[i]).Code
				if pause > 0 {
					time.Sleep(pause)
				}
				n, _ := codes.LoadOrStore(code, new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
				if at := acked[i].Load(); code == 200 && at != 0 && start > at {
					late := start - at
					for {
						m := maxLate.Load()
						if late <= m || maxLate.CompareAndSwap(m, late) {
							break
						}
					}
					violations.Add(1)
				}
			}
		}()
	}
	wg.Add(2)
	revoked := 0
	go func() { // A revokes
		defer wg.Done()
		for i := 0; i < tokens && time.Now().Before(end); i++ {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			if err := mA.Revoke(ctx, toks[i]); err == nil {
				acked[i].Store(time.Now().UnixNano())
				revoked++
			}
			cancel()
			time.Sleep(duration / tokens)
		}
	}()
	kills := 0
	go func() { // the server closes B's connections
		defer wg.Done()
		for time.Now().Before(end) {
			time.Sleep(200 * time.Millisecond)
			kills += rueidistest.KillClients(t, raw, "instance-b")
		}
	}()
	wg.Wait()
	counts := map[int]int64{}
	codes.Range(func(k, v any) bool { counts[k.(int)] = v.(*atomic.Int64).Load(); return true })
	t.Logf("soak %v, %v between requests: %v responses by status, %d tokens revoked, %d connections of B closed, %d 200s after a revocation's acknowledgement (latest by %v)",
		duration, pause, counts, revoked, kills, violations.Load(), time.Duration(maxLate.Load()))
	assert.Zero(t, violations.Load(), "requests answered 200 after their token's revocation was acknowledged")
	assert.Positive(t, counts[401])
	assert.Positive(t, counts[200])
}
