package rueidisblocklist_test

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

// server is a real redis-server on a free loopback port, without
// persistence, killed at the test's cleanup.
type server struct {
	addr string
	port string
	dir  string
	cmd  *exec.Cmd
}

// startRedis starts a redis-server for t. It skips t when redis-server is
// not installed, or fails it when GINJWT_REQUIRE_REDIS is set (as CI does),
// so that the store is never reported tested without having been.
func startRedis(t testing.TB) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	_ = ln.Close()
	s := &server{addr: "127.0.0.1:" + port, port: port, dir: t.TempDir()}
	t.Cleanup(s.stop)
	s.launch(t)
	return s
}

func (s *server) launch(t testing.TB) {
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
	s.cmd = exec.Command(bin, "--port", s.port, "--bind", "127.0.0.1", "--dir", s.dir, //nolint:gosec // G204, see above
		"--save", "", "--appendonly", "no", "--daemonize", "no")
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", s.addr, 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not listen within 10s")
		}
	}
}

// stop kills the server (SIGKILL, as a crash would); a paused one too.
func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// pause stops the server with SIGSTOP: it keeps its connections and port
// but answers nothing, as a hung Redis. resume, or t's cleanup, ends it.
func (s *server) pause(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.resume)
}

func (s *server) resume() {
	if s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
	}
}

// client returns a rueidis client of the server with ClientOption's
// settings and the given name (CLIENT SETNAME), closed at t's cleanup.
func (s *server) client(t testing.TB, name string) rueidis.Client {
	t.Helper()
	opt := rueidisblocklist.ClientOption(s.addr)
	opt.ClientName = name
	c, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// raw returns a plain client (no cache) for looking at the server from
// outside the stores: INFO, CLIENT LIST, CLIENT KILL, PTTL.
func (s *server) raw(t testing.TB) rueidis.Client {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{s.addr}, DisableCache: true, ClientName: "raw"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// commandCalls returns how many times the server ran cmd (INFO
// commandstats), to tell answers from memory from round trips.
func commandCalls(t testing.TB, raw rueidis.Client, cmd string) int {
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

// killClients closes, on the server's side, every connection of the
// clients named name and returns how many it closed.
func killClients(t testing.TB, raw rueidis.Client, name string) int {
	t.Helper()
	ctx := context.Background()
	list, err := raw.Do(ctx, raw.B().ClientList().Build()).ToString()
	if err != nil {
		t.Fatal(err)
	}
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
