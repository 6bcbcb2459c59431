// Package pgtest starts a real PostgreSQL server for a test: a fresh
// cluster made by initdb in a temporary directory, listening on a free
// 127.0.0.1 port and on a Unix socket in that directory, stopped and
// removed when the test ends. Tests that need it skip with a message when
// PostgreSQL is not installed, or fail when GINJWT_REQUIRE_POSTGRES is set
// (as CI does), so they never pass without having run.
//
// PostgreSQL refuses to run as root; as root the server runs as the
// "postgres" user that Debian's package creates, and owns its directory.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Server is a PostgreSQL server started by Start.
type Server struct {
	// DSN connects to database "postgres" as superuser "postgres" over TCP.
	DSN  string
	dir  string // data directory and socket directory live in it
	bin  string // directory of initdb and postgres
	port int
	cred *syscall.Credential // nil: run as ourselves
	cmd  *exec.Cmd
	done chan struct{}
	t    testing.TB
	dbs  int // databases made by DB
}

// binDir finds PostgreSQL's programs: in PATH, else the newest of
// Debian's /usr/lib/postgresql/<version>/bin.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no initdb in PATH nor /usr/lib/postgresql/*/bin")
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start initializes and starts a server for t, stopped at t's cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := binDir()
	if err != nil {
		if os.Getenv("GINJWT_REQUIRE_POSTGRES") != "" {
			t.Fatalf("GINJWT_REQUIRE_POSTGRES is set but PostgreSQL is not installed (apt-get install postgresql): %v", err)
		}
		t.Skipf("SKIPPED: PostgreSQL not installed (apt-get install postgresql); the PostgreSQL store is NOT tested: %v", err)
	}
	s := &Server{bin: bin, t: t}
	// Not t.TempDir: its parent is private, and the server may run as
	// another user, who must reach the directory.
	base := os.TempDir()
	if fi, err := os.Stat(base); os.Geteuid() == 0 && (err != nil || fi.Mode().Perm()&0o001 == 0) {
		base = "/tmp"
	}
	s.dir, err = os.MkdirTemp(base, "ginjwt-pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(s.dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, PostgreSQL needs the user %q to run as: %v", "postgres", err)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(s.dir, int(uid), int(gid)); err != nil {
			t.Fatal(err)
		}
	}
	init := s.command("initdb", "-D", s.data(), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync")
	if out, err := init.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	s.DSN = fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable", s.port)
	t.Cleanup(s.Stop)
	s.Restart()
	return s
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

// command runs one of PostgreSQL's programs as the server's user. The
// program is one of ours from binDir, with arguments of ours.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...) //nolint:gosec // G204: see above
	cmd.Dir = s.dir
	// Should the test binary die without its cleanups (a timeout), the
	// server shuts down at once rather than outlive it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGQUIT}
	return cmd
}

// Restart starts the server again after Stop, on the same data and port;
// Start has called it once. It returns once the server accepts
// connections.
func (s *Server) Restart() {
	t := s.t
	t.Helper()
	if s.cmd != nil {
		t.Fatal("pgtest: Restart of a running server")
	}
	var log strings.Builder
	s.cmd = s.command("postgres", "-D", s.data(), "-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1",
		// A throwaway cluster: no need to survive the machine crashing, so
		// skip fsync; commits still reach the server's files, and a
		// restarted server still finds them.
		"-c", "fsync=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=32MB")
	s.cmd.Stdout, s.cmd.Stderr = &log, &log
	if err := s.cmd.Start(); err != nil {
		s.cmd = nil
		t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(s.cmd, s.done)

	db, err := sql.Open("pgx", s.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-s.done:
			s.cmd = nil
			t.Fatalf("postgres exited at start: %v\n%s", err, log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres did not accept connections within 30s: %v\n%s", err, log.String())
		}
	}
}

// Stop shuts the server down (fast shutdown: open connections are cut,
// committed data stays) and waits for it, killing it after 20 seconds.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// DB opens a connection pool to a new, empty database of the server,
// closed at t's cleanup.
func (s *Server) DB(t testing.TB) *sql.DB {
	t.Helper()
	admin, err := sql.Open("pgx", s.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close() }()
	s.dbs++
	name := "test_" + strconv.Itoa(s.dbs)
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", strings.Replace(s.DSN, "dbname=postgres", "dbname="+name, 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
