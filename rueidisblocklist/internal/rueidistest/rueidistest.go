// Package rueidistest starts a real redis-server for a test of the
// rueidisblocklist store or of an application using it: on a free loopback
// port, without persistence, killed when the test ends. Tests that need it
// skip with a message when redis-server is not installed, or fail when the
// GINJWT_REQUIRE_REDIS environment variable is set (as CI does), so they
// never pass without having run.
package rueidistest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/rueidisblocklist"
	"github.com/redis/rueidis"
)

// Server is a running redis-server.
type Server struct {
	// Addr is its host:port on 127.0.0.1.
	Addr          string
	port, busPort string
	dir           string
	extra         []string // more redis-server arguments
	cmd           *exec.Cmd
}

// Start starts a redis-server without persistence for t and kills it at
// t's cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t)
}

// StartWithAOF starts a redis-server with the append-only file on and
// appendfsync always, so that every write acknowledged to a client is on
// disk: Stop and Launch then restart it with what it acknowledged.
func StartWithAOF(t testing.TB) *Server {
	t.Helper()
	return start(t, "--appendonly", "yes", "--appendfsync", "always")
}

func start(t testing.TB, extra ...string) *Server {
	t.Helper()
	// Two ports held open together, so that they differ: the client port
	// and the cluster bus port, which left at port+10000 may be taken or
	// out of range (Redis ignores it outside cluster mode).
	var ports [2]string
	var held [2]net.Listener
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		held[i] = ln
		ports[i] = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range held {
		_ = ln.Close()
	}
	s := &Server{Addr: "127.0.0.1:" + ports[0], port: ports[0], busPort: ports[1], dir: t.TempDir(), extra: extra}
	t.Cleanup(s.Stop)
	s.Launch(t)
	return s
}

// Launch starts the server process (again, after Stop: same port, same
// directory, so empty unless it has an AOF) and waits until it answers.
func (s *Server) Launch(t testing.TB) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("GINJWT_REQUIRE_REDIS") != "" {
			t.Fatal("GINJWT_REQUIRE_REDIS is set but redis-server is not installed")
		}
		t.Skip("SKIPPED: redis-server not installed (apt-get install redis-server); the rueidis store is NOT tested")
	}
	// bin is redis-server from PATH, the port one we just had and the
	// directory a temporary one: nothing comes from outside.
	args := append([]string{"--port", s.port, "--cluster-port", s.busPort, "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no"}, s.extra...)
	s.cmd = exec.Command(bin, args...) //nolint:gosec // G204, see above
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if s.answers() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not answer PING within 10s")
		}
	}
}

// answers reports whether the server answers PING with PONG (not LOADING).
func (s *Server) answers() bool {
	c, err := net.DialTimeout("tcp", s.Addr, 100*time.Millisecond)
	if err != nil {
		return false
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 7)
	n, _ := c.Read(buf)
	return string(buf[:n]) == "+PONG\r\n"
}

// Stop kills the server (SIGKILL, as a crash would); a paused one too.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// Pause stops the server with SIGSTOP: it keeps its connections and port
// but answers nothing, as a hung Redis. Resume, or t's cleanup, continues
// it.
func (s *Server) Pause(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Resume)
}

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() {
	if s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
	}
}

// Client returns a client of the server built from
// rueidisblocklist.ClientOption, named name (CLIENT SETNAME), closed at t's
// cleanup. edit, if not nil, changes the options first.
func (s *Server) Client(t testing.TB, name string, edit func(*rueidis.ClientOption)) rueidis.Client {
	t.Helper()
	opt := rueidisblocklist.ClientOption(s.Addr)
	opt.ClientName = name
	if edit != nil {
		edit(&opt)
	}
	c, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// Raw returns a client without client-side caching, for looking at the
// server from outside the stores (CommandCalls, KillClients, PTTL),
// closed at t's cleanup.
func (s *Server) Raw(t testing.TB) rueidis.Client {
	t.Helper()
	return RawOf(t, s.Addr)
}

// RawOf is Raw for the node at addr, e.g. one of StartCluster's.
func RawOf(t testing.TB, addr string) rueidis.Client {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true, ClientName: "raw", ForceSingleClient: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// CommandCalls returns how many times the server ran cmd (lower case, from
// INFO commandstats), to tell answers from memory from round trips.
func CommandCalls(t testing.TB, raw rueidis.Client, cmd string) int {
	t.Helper()
	info, err := raw.Do(context.Background(), raw.B().Info().Section("commandstats").Build()).ToString()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_"+cmd+":calls="); ok {
			n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			return n
		}
	}
	return 0
}

// KillClients closes, on the server's side, every connection of the
// clients named name and returns how many it closed.
func KillClients(t testing.TB, raw rueidis.Client, name string) int {
	t.Helper()
	ctx := context.Background()
	list, err := raw.Do(ctx, raw.B().ClientList().Build()).ToString()
	if err != nil {
		t.Fatal(err)
	}
	list = strings.TrimPrefix(list, "txt:") // a RESP3 verbatim string
	killed := 0
	for line := range strings.SplitSeq(list, "\n") {
		if !strings.Contains(line, " name="+name+" ") {
			continue
		}
		field, _, _ := strings.Cut(strings.TrimPrefix(line, "id="), " ")
		id, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		if err := raw.Do(ctx, raw.B().ClientKill().Id(id).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		killed++
	}
	return killed
}

// StartCluster starts a Redis Cluster of three masters for t, each
// holding a third of the slots, and returns their addresses once the
// cluster is ok. All are killed at t's cleanup.
func StartCluster(t testing.TB) []string {
	t.Helper()
	const nodes = 3
	servers := make([]*Server, nodes)
	addrs := make([]string, nodes)
	raws := make([]rueidis.Client, nodes)
	for i := range servers {
		servers[i] = start(t, "--cluster-enabled", "yes", "--cluster-node-timeout", "2000")
		addrs[i] = servers[i].Addr
		raws[i] = servers[i].Raw(t)
	}
	ctx := context.Background()
	const slots = 16384
	for i, raw := range raws {
		first, last := int64(i*slots/nodes), int64((i+1)*slots/nodes-1)
		if err := raw.Do(ctx, raw.B().ClusterAddslotsrange().StartSlotEndSlot().StartSlotEndSlot(first, last).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			port, _ := strconv.ParseInt(servers[i].port, 10, 64)
			bus, _ := strconv.ParseInt(servers[i].busPort, 10, 64)
			if err := raws[0].Do(ctx, raws[0].B().ClusterMeet().Ip("127.0.0.1").Port(port).ClusterBusPort(bus).Build()).Error(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ok := 0
		for _, raw := range raws {
			info, err := raw.Do(ctx, raw.B().ClusterInfo().Build()).ToString()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(nodes)) {
				ok++
			}
		}
		if ok == nodes {
			return addrs
		}
		if time.Now().After(deadline) {
			t.Fatal("the cluster was not ok within 20s")
		}
	}
}
