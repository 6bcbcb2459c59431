package blocklisttest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
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
// RunInstances started it, with the store newStore returns (which reads
// its settings, such as Redis's address, from the environment
// RunInstances passed on): POST /login/:user (ginjwt's LoginHandler), a
// guarded GET /protected, and the three ways a session ends, each behind
// a guard: DELETE /logout (LogoutHandler), POST /logout-everywhere
// (Manager.RevokeIdentity of the caller, when the store is a
// ginjwt.IdentityRevoker), and GET /sessions with DELETE /sessions/:id
// (WithSessionList's Sessions and EndSession, when the store is a
// ginjwt.SessionStore). It prints the address it listens on and serves
// until killed. In any other process it returns at once. Call it first
// in TestMain:
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
	opts := []ginjwt.Option{ginjwt.WithSecretKey([]byte(instanceSecret)), ginjwt.WithBlocklist(store)}
	if _, ok := store.(ginjwt.SessionStore); ok {
		opts = append(opts, ginjwt.WithSessionList(0))
	}
	m, err := ginjwt.New(opts...)
	if err != nil {
		return err
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/login/:user", m.LoginHandler(func(c *gin.Context) (any, error) { return c.Param("user"), nil }))
	r.GET("/protected", m.JWTRequired(), func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"hello": "world"}) })
	r.DELETE("/logout", m.JWTRequired(ginjwt.VerifyType(false)), m.LogoutHandler())
	r.POST("/logout-everywhere", m.JWTRequired(), func(c *gin.Context) {
		if err := m.RevokeIdentity(c.Request.Context(), ginjwt.CurrentIdentity(c)); err != nil {
			m.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"msg": "Signed out everywhere"})
	})
	r.GET("/sessions", m.JWTRequired(), func(c *gin.Context) {
		list, err := m.Sessions(c.Request.Context(), ginjwt.CurrentIdentity(c))
		if err != nil {
			m.Abort(c, err)
			return
		}
		ids := make([]string, len(list))
		for i, s := range list {
			ids[i] = s.ID
		}
		c.JSON(http.StatusOK, gin.H{"sessions": ids})
	})
	r.DELETE("/sessions/:id", m.JWTRequired(), func(c *gin.Context) {
		if err := m.EndSession(c.Request.Context(), ginjwt.CurrentIdentity(c), c.Param("id")); err != nil {
			m.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"msg": "Signed out"})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	return http.Serve(ln, r) //nolint:gosec // G114: a test server on loopback, killed by the test
}

// Ending is a way a session ends in RunInstances, acknowledged by one
// instance and then checked on the others.
type Ending int

const (
	// Logout is ginjwt's LogoutHandler with the session's access token.
	Logout Ending = iota
	// RevokeIdentity is Manager.RevokeIdentity of the token's user ("log
	// out everywhere"); the store must be a ginjwt.IdentityRevoker.
	RevokeIdentity
	// EndSession is a sign-out from the user's session list: the session
	// is looked up in Manager.Sessions, then ended with
	// Manager.EndSession; the store must be a ginjwt.SessionStore.
	EndSession
)

// String names the ending after the call that makes it.
func (e Ending) String() string {
	switch e {
	case Logout:
		return "logout"
	case RevokeIdentity:
		return "RevokeIdentity"
	case EndSession:
		return "EndSession"
	}
	return fmt.Sprintf("Ending(%d)", int(e))
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
	// session ended (default 2).
	Checks int
	// Endings are the ways sessions end, taken in turn (default: Logout
	// only).
	Endings []Ending
}

// InstancesReport is what RunInstances measured.
type InstancesReport struct {
	// Requests counts every request sent, Logouts the sessions whose
	// ending was acknowledged (200), whatever the ending.
	Requests, Logouts int
	// ByStatus counts the answers to GET /protected by status.
	ByStatus map[int]int
	// Late counts the requests answered 200 with a token whose session's
	// ending had been acknowledged (by any instance) before they were
	// sent; MaxLate is the longest such delay.
	Late    int
	MaxLate time.Duration
	// ByEnding is the same, for each way a session ended.
	ByEnding map[Ending]EndingReport
	// Unexpected is the first answer that was none of: 200 to a login, an
	// ending or a session list holding the session, 200 to a check before
	// the ending, 200 or 401 with flask's revoked body after it.
	Unexpected string
}

// EndingReport counts the sessions that ended one way.
type EndingReport struct {
	// Acknowledged counts the endings answered 200, Checks the requests
	// sent with their tokens to the other instances afterwards.
	Acknowledged, Checks int
	// Late counts those checks answered 200, MaxLate the longest delay
	// from the acknowledgement to such a check.
	Late    int
	MaxLate time.Duration
}

// String summarises the report for a test log.
func (r InstancesReport) String() string {
	var by []string
	for _, e := range []Ending{Logout, RevokeIdentity, EndSession} {
		if x, ok := r.ByEnding[e]; ok {
			by = append(by, fmt.Sprintf("%v: %d acknowledged, %d checks after, %d late", e, x.Acknowledged, x.Checks, x.Late))
		}
	}
	return fmt.Sprintf("%d requests, %d sessions ended (%s), statuses %v, %d late 200s (max %v after the acknowledgement)",
		r.Requests, r.Logouts, strings.Join(by, "; "), r.ByStatus, r.Late, r.MaxLate)
}

// RunInstances starts cfg.N processes of this test binary as instances of
// one service (see InstanceMain) and sends them cfg.Requests requests from
// cfg.Clients clients that move between them, as behind a load balancer.
// Each client logs in on one instance (a user of its own), uses its token
// once on every instance (so an instance that caches answers holds "not
// revoked"), ends the session on one instance by the next of cfg.Endings,
// then at once uses the token cfg.Checks times on each other one. A store
// keeps read-your-writes across instances when none of those requests is
// answered 200: RunInstances reports them as Late, by ending, with every
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
	f := &fleet{
		cfg: cfg, bases: bases, m: m, byStatus: map[int]int{}, byEnding: map[Ending]*EndingReport{},
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4 * cfg.Clients}},
	}
	t.Cleanup(f.client.CloseIdleConnections)
	for _, e := range cfg.Endings {
		f.byEnding[e] = &EndingReport{}
	}

	var wg sync.WaitGroup
	errs := make(chan error, cfg.Clients)
	for c := range cfg.Clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 21)) //nolint:gosec // G404: load, not secrets
			for round := 0; f.sent.Load() < int64(cfg.Requests); round++ {
				ending := cfg.Endings[(c+round)%len(cfg.Endings)]
				if err := f.session(rng, fmt.Sprintf("user-%d", c), ending); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return f.report()
}

// fleet is the state of one RunInstances: the instances and what their
// clients counted.
type fleet struct {
	cfg    Instances
	bases  []string
	m      *ginjwt.Manager // reads the tokens the instances issue
	client *http.Client
	sent   atomic.Int64

	mu         sync.Mutex
	byStatus   map[int]int
	byEnding   map[Ending]*EndingReport
	unexpected string
}

// session is one client's turn: a login, a request to every instance,
// the session's ending on one, and the checks on the others.
func (f *fleet) session(rng *rand.Rand, user string, ending Ending) error {
	code, body, err := f.do("POST", f.bases[rng.IntN(len(f.bases))], "/login/"+user, "")
	if err != nil || code != http.StatusOK {
		return f.failed("login", code, body, err)
	}
	var pair struct {
		Access string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &pair); err != nil {
		return err
	}
	for _, base := range f.bases {
		code, body, err := f.do("GET", base, "/protected", pair.Access)
		if err != nil {
			return err
		}
		f.note("GET", code, body, code == http.StatusOK)
	}
	at := rng.IntN(len(f.bases))
	if ok, err := f.end(f.bases[at], pair.Access, ending); err != nil || !ok {
		return err
	}
	acked := time.Now()
	f.count(ending, func(r *EndingReport) { r.Acknowledged++ })
	for k := range (len(f.bases) - 1) * f.cfg.Checks {
		base := f.bases[(at+1+k%(len(f.bases)-1))%len(f.bases)]
		start := time.Now()
		code, body, err := f.do("GET", base, "/protected", pair.Access)
		if err != nil {
			return err
		}
		f.note("GET", code, body, code == http.StatusOK || isRevoked(code, body))
		late := code == http.StatusOK
		f.count(ending, func(r *EndingReport) {
			r.Checks++
			if late {
				r.Late++
				r.MaxLate = max(r.MaxLate, start.Sub(acked))
			}
		})
	}
	return nil
}

// end ends the session of access on base, and reports whether the
// instance acknowledged it.
func (f *fleet) end(base, access string, ending Ending) (bool, error) {
	var code int
	var body []byte
	var err error
	switch ending {
	case Logout:
		code, body, err = f.do("DELETE", base, "/logout", access)
	case RevokeIdentity:
		code, body, err = f.do("POST", base, "/logout-everywhere", access)
	case EndSession:
		tok, derr := f.m.DecodeToken(access)
		if derr != nil {
			return false, derr
		}
		id := tok.Claims.SessionID()
		if code, body, err = f.do("GET", base, "/sessions", access); err != nil {
			return false, err
		}
		var list struct{ Sessions []string }
		listed := code == http.StatusOK && json.Unmarshal(body, &list) == nil && slices.Contains(list.Sessions, id)
		f.note("GET /sessions", code, body, listed)
		if !listed {
			return false, nil
		}
		code, body, err = f.do("DELETE", base, "/sessions/"+id, access)
	}
	if err != nil {
		return false, err
	}
	f.note(ending.String(), code, body, code == http.StatusOK)
	return code == http.StatusOK, nil
}

func (f *fleet) do(method, base, path, token string) (int, []byte, error) {
	f.sent.Add(1)
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

func isRevoked(code int, body []byte) bool {
	return code == http.StatusUnauthorized && strings.TrimSpace(string(body)) == revokedBody
}

// note counts an answer and keeps the first one that was not expected.
func (f *fleet) note(what string, code int, body []byte, expected bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if what == "GET" {
		f.byStatus[code]++
	}
	if !expected && f.unexpected == "" {
		f.unexpected = fmt.Sprintf("%s: %d %s", what, code, body)
	}
}

func (f *fleet) failed(what string, code int, body []byte, err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%s: %d %s", what, code, body)
}

func (f *fleet) count(e Ending, fn func(*EndingReport)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.byEnding[e])
}

func (f *fleet) report() InstancesReport {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := InstancesReport{Requests: int(f.sent.Load()), ByStatus: f.byStatus, ByEnding: map[Ending]EndingReport{},
		Unexpected: f.unexpected}
	for e, x := range f.byEnding {
		r.ByEnding[e] = *x
		r.Logouts += x.Acknowledged
		r.Late += x.Late
		r.MaxLate = max(r.MaxLate, x.MaxLate)
	}
	return r
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
	if len(cfg.Endings) == 0 {
		cfg.Endings = []Ending{Logout}
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
