// Package redistest starts a real redis-server for a test: on a free
// loopback port, in a temporary directory, stopped when the test ends.
// Tests that need it skip with a message when redis-server is not
// installed, or fail when the GINJWT_REQUIRE_REDIS environment variable is
// set (as CI does), so they never pass without having run.
package redistest

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a running redis-server.
type Server struct {
	// Addr is its host:port on 127.0.0.1.
	Addr string
	// Dir is its working directory, where an AOF or RDB file goes.
	Dir string
	// BusPort is its cluster bus port, which CLUSTER MEET names when
	// cluster mode is on.
	BusPort string
	cfg     ServerConfig
	port    string
	cmd     *exec.Cmd
}

// ServerConfig describes a server for StartWith. The zero value is the
// server of Start: no persistence, a master.
type ServerConfig struct {
	// AppendOnly turns the append-only file on with appendfsync always,
	// so that every write acknowledged to a client is on disk: what a
	// blocklist must survive a restart with.
	AppendOnly bool
	// ReplicaOf, a host:port, makes the server a replica of that master.
	ReplicaOf string
	// Args are more redis-server arguments, e.g. "--cluster-enabled", "yes".
	Args []string
}

// Start starts a redis-server without persistence for t and stops it at
// t's cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, ServerConfig{})
}

// StartWith starts a redis-server configured by cfg for t and stops it at
// t's cleanup.
func StartWith(t testing.TB, cfg ServerConfig) *Server {
	t.Helper()
	// The cluster bus port is reserved too, rather than left at
	// port+10000, which may be taken or out of range (when cfg.Args
	// enable cluster mode; otherwise Redis ignores it).
	ports := freePorts(t, 2)
	port := strconv.Itoa(ports[0])
	s := &Server{Addr: "127.0.0.1:" + port, Dir: t.TempDir(), cfg: cfg, port: port, BusPort: strconv.Itoa(ports[1])}
	t.Cleanup(s.Stop)
	s.launch(t)
	return s
}

// Bin returns the path of redis-server, or skips t (fails it under
// GINJWT_REQUIRE_REDIS) when it is not installed.
func Bin(t testing.TB) string {
	t.Helper()
	return need(t, "redis-server")
}

// launch starts the process and waits until it answers PING.
func (s *Server) launch(t testing.TB) {
	t.Helper()
	bin := Bin(t)
	args := []string{"--port", s.port, "--cluster-port", s.BusPort, "--bind", "127.0.0.1", "--dir", s.Dir, "--save", "", "--daemonize", "no",
		"--repl-diskless-sync-delay", "0"} // a replica syncs at once, not after 5 s
	if s.cfg.AppendOnly {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	if s.cfg.ReplicaOf != "" {
		host, port, err := net.SplitHostPort(s.cfg.ReplicaOf)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--replicaof", host, port)
	}
	args = append(args, s.cfg.Args...)
	// bin is redis-server from PATH, the port one we just had, the
	// directory a temporary one and Args the test's: nothing comes from outside.
	s.cmd = exec.Command(bin, args...) //nolint:gosec // G204, see above
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer func() { _ = client.Close() }()
	for deadline := time.Now().Add(10 * time.Second); client.Ping(context.Background()).Err() != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not answer within 10s")
		}
	}
}

// Stop kills the server (SIGKILL, as a crash would), e.g. to test what
// happens when Redis goes down. A paused server is killed too.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// Restart kills the server and starts it again on the same port and
// directory: what it kept on disk is all it has.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	s.launch(t)
}

// Pause stops the server with SIGSTOP: it keeps its port and accepts
// connections but answers nothing, as a stuck Redis or a network
// blackhole looks to a client. Resume, or t's cleanup, continues it.
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

// Client returns a client of the server that fails fast once it is down,
// closed at t's cleanup.
func (s *Server) Client(t testing.TB) *redis.Client {
	c := redis.NewClient(fastOptions(s.Addr))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// DefaultClient returns a client with go-redis's default options (5 s
// read timeout, retries, no ContextTimeoutEnabled), as most applications
// build it; closed at t's cleanup.
func (s *Server) DefaultClient(t testing.TB) *redis.Client {
	return DefaultClientOf(t, s.Addr)
}

// DefaultClientOf is DefaultClient for the server at addr.
func DefaultClientOf(t testing.TB, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Blackhole listens on a free loopback port, accepts connections and never
// answers: a Redis behind a network partition. It returns its address and
// closes at t's cleanup.
func Blackhole(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
			close(done)
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed at cleanup
			}
			conns = append(conns, c) // held open, never read nor answered
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); <-done })
	return ln.Addr().String()
}

// fastOptions is a client of the tests' own probes: no retries, a short
// dial, so that a stopped server answers at once.
func fastOptions(addr string) *redis.Options {
	return &redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond}
}
