package blocklisttest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
)

// instanceEnv marks a process of a test binary started by RunInstances as
// an instance of the service, not a test run.
const instanceEnv = "GINJWT_BLOCKLISTTEST_INSTANCE"

// instanceSecret is the key every instance shares, as a fleet does.
const instanceSecret = "blocklisttest-instances-secret-0123456789"

// InstanceMain turns this process into one instance of a service when
// RunInstances started it: a guarded GET /protected and ginjwt's
// LogoutHandler on DELETE /logout, with the store newStore returns (which
// reads its settings, such as Redis's address, from the environment
// RunInstances passed on). It prints the address it listens on and serves
// until killed. In any other process it returns at once. Call it first in
// TestMain:
//
//	func TestMain(m *testing.M) {
//		blocklisttest.InstanceMain(func() (ginjwt.Blocklist, error) { return newStoreFromEnv() })
//		os.Exit(m.Run())
//	}
func InstanceMain(newStore func() (ginjwt.Blocklist, error)) {
	if os.Getenv(instanceEnv) == "" {
		return
	}
	err := serveInstance(newStore)
	fmt.Fprintln(os.Stderr, "instance:", err)
	os.Exit(1)
}

func serveInstance(newStore func() (ginjwt.Blocklist, error)) error {
	store, err := newStore()
	if err != nil {
		return err
	}
	m, err := ginjwt.New(ginjwt.WithSecretKey([]byte(instanceSecret)), ginjwt.WithBlocklist(store))
	if err != nil {
		return err
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/protected", m.JWTRequired(), func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"hello": "world"}) })
	r.DELETE("/logout", m.JWTRequired(ginjwt.VerifyType(false)), m.LogoutHandler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	return http.Serve(ln, r) //nolint:gosec // G114: a test server on loopback, killed by the test
}

// Instances configures RunInstances.
type Instances struct {
	// N is the number of instance processes (default 3).
	N int
	// Env is added to each instance's environment, e.g. the store's
	// address; EnvOf, if set, gives instance i more of its own.
	Env   []string
	EnvOf func(i int) []string
	// Clients is how many clients run at once (default 8).
	Clients int
	// Requests is how many requests they send in all, at least (default
	// 10,000).
	Requests int
	// Checks is how many requests each other instance gets right after a
	// logout (default 2).
	Checks int
}

// InstancesReport is what RunInstances measured.
type InstancesReport struct {
	// Requests counts every request sent, Logouts the logouts
	// acknowledged (200).
	Requests, Logouts int
	// ByStatus counts the answers to GET /protected by status.
	ByStatus map[int]int
	// Late counts the requests answered 200 with a token whose logout
	// had been acknowledged (by any instance) before they were sent;
	// MaxLate is the longest such delay.
	Late    int
	MaxLate time.Duration
	// Unexpected is the first answer that was neither 200, 401 with
	// flask's revoked body, nor a 200 to a logout.
	Unexpected string
}

// String summarises the report for a test log.
func (r InstancesReport) String() string {
	return fmt.Sprintf("%d requests, %d logouts acknowledged, statuses %v, %d late 200s (max %v after the acknowledgement)",
		r.Requests, r.Logouts, r.ByStatus, r.Late, r.MaxLate)
}

// RunInstances starts cfg.N processes of this test binary as instances of
// one service (see InstanceMain) and sends them cfg.Requests requests from
// cfg.Clients clients that move between them, as behind a load balancer.
// Each client takes a fresh token, uses it once on every instance (so an
// instance that caches answers holds "not revoked"), logs it out on one
// instance, then at once uses it cfg.Checks times on each other one. A
// store keeps read-your-writes across instances when none of those
// requests is answered 200: RunInstances reports them as Late, with every
// answer counted, for the test to assert on. The instances are killed
// when t ends.
func RunInstances(t *testing.T, cfg Instances) InstancesReport {
	t.Helper()
	cfg = cfg.withDefaults()
	bases := make([]string, cfg.N)
	for i := range bases {
		env := cfg.Env
		if cfg.EnvOf != nil {
			env = append(env[:len(env):len(env)], cfg.EnvOf(i)...)
		}
		bases[i] = StartInstance(t, env...)
	}
	m, err := ginjwt.New(ginjwt.WithSecretKey([]byte(instanceSecret)))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4 * cfg.Clients}}
	t.Cleanup(client.CloseIdleConnections)

	var (
		sent, logouts, late atomic.Int64
		maxLate             atomic.Int64
		mu                  sync.Mutex
		byStatus            = map[int]int{}
		unexpected          string
	)
	note := func(what string, code int, body []byte) {
		mu.Lock()
		defer mu.Unlock()
		if what == "GET" {
			byStatus[code]++
		}
		if unexpected == "" {
			ok := code == http.StatusOK || (what == "GET" && code == http.StatusUnauthorized &&
				strings.TrimSpace(string(body)) == revokedBody)
			if !ok {
				unexpected = fmt.Sprintf("%s: %d %s", what, code, body)
			}
		}
	}
	do := func(method, base, token string) (int, []byte, error) {
		sent.Add(1)
		req, err := http.NewRequest(method, base+map[string]string{"GET": "/protected", "DELETE": "/logout"}[method], nil)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, body, err
	}

	var wg sync.WaitGroup
	errs := make(chan error, cfg.Clients)
	for c := range cfg.Clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 21)) //nolint:gosec // G404: load, not secrets
			for sent.Load() < int64(cfg.Requests) {
				token, err := m.CreateAccessToken(fmt.Sprintf("user-%d", c))
				if err != nil {
					errs <- err
					return
				}
				for _, base := range bases {
					code, body, err := do("GET", base, token)
					if err != nil {
						errs <- err
						return
					}
					note("GET", code, body)
				}
				at := rng.IntN(len(bases))
				code, body, err := do("DELETE", bases[at], token)
				if err != nil {
					errs <- err
					return
				}
				note("DELETE", code, body)
				if code != http.StatusOK {
					continue
				}
				acked := time.Now()
				logouts.Add(1)
				for k := range (len(bases) - 1) * cfg.Checks {
					base := bases[(at+1+k%(len(bases)-1))%len(bases)]
					start := time.Now()
					code, body, err := do("GET", base, token)
					if err != nil {
						errs <- err
						return
					}
					note("GET", code, body)
					if code == http.StatusOK {
						late.Add(1)
						d := int64(start.Sub(acked))
						for m := maxLate.Load(); d > m && !maxLate.CompareAndSwap(m, d); m = maxLate.Load() {
						}
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return InstancesReport{
		Requests: int(sent.Load()), Logouts: int(logouts.Load()), ByStatus: byStatus,
		Late: int(late.Load()), MaxLate: time.Duration(maxLate.Load()), Unexpected: unexpected,
	}
}

func (cfg Instances) withDefaults() Instances {
	if cfg.N < 2 {
		cfg.N = 3
	}
	if cfg.Clients <= 0 {
		cfg.Clients = 8
	}
	if cfg.Requests <= 0 {
		cfg.Requests = 10000
	}
	if cfg.Checks <= 0 {
		cfg.Checks = 2
	}
	return cfg
}

// StartInstance starts one process of this test binary as an instance of
// the service (see InstanceMain) with env added to its environment, and
// returns its base URL (http://127.0.0.1:port). It is killed when t ends;
// its output is logged if t failed.
func StartInstance(t *testing.T, env ...string) string {
	t.Helper()
	// os.Args[0] is this test binary; -test.run=^$ runs no test should
	// InstanceMain be missing from its TestMain.
	cmd := exec.Command(os.Args[0], "-test.run=^$") //nolint:gosec // G204: this very binary
	cmd.Env = append(append(os.Environ(), instanceEnv+"=1"), env...)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("instance output:\n%s", stderr.String())
		}
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				line <- addr
			}
		}
	}()
	select {
	case addr := <-line:
		return "http://" + addr
	case <-time.After(20 * time.Second):
		t.Fatalf("the instance did not listen within 20s:\n%s", stderr.String())
		return ""
	}
}

// lockedBuffer is a process's output, written by it while a test may read
// it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
