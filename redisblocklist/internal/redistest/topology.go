package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The topologies below are real processes on 127.0.0.1, each with its own
// temporary directory, killed at the test's cleanup. Every wait is bounded
// and fails the test with what it last saw.

// MasterName is the name the sentinels of StartSentinel monitor.
const MasterName = "ginjwt-master"

// Node is one redis-server or redis-sentinel process of a topology.
type Node struct {
	// Addr is its host:port on 127.0.0.1.
	Addr string
	dir  string
	argv []string // the command line, config file included
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
	// paused is set between Pause and Resume: the waits do not ask a
	// paused node, which would not answer.
	paused atomic.Bool
}

// Kill ends the node with SIGKILL, as a crash or a lost machine would: no
// shutdown save, no goodbye to its peers. It returns once the process is
// gone; killing a dead node does nothing.
func (n *Node) Kill() {
	if n.Running() {
		_ = n.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-n.done
}

// Pause stops the node with SIGSTOP: it keeps its connections open and
// answers nothing, like a hung server or a host behind a network
// blackhole. Kill still ends it.
func (n *Node) Pause() {
	n.paused.Store(true)
	_ = n.cmd.Process.Signal(syscall.SIGSTOP)
}

// Resume continues a paused node.
func (n *Node) Resume() {
	_ = n.cmd.Process.Signal(syscall.SIGCONT)
	n.paused.Store(false)
}

// answering reports whether the node is running and not paused.
func (n *Node) answering() bool { return n.Running() && !n.paused.Load() }

// Running reports whether the process is still alive.
func (n *Node) Running() bool {
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// Client returns a plain client of this one node, closed at t's cleanup.
func (n *Node) Client(t testing.TB) *redis.Client {
	opts := fastOptions(n.Addr)
	opts.ReadTimeout, opts.WriteTimeout = time.Second, time.Second
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Sentinel is a master, one replica and three sentinels (quorum 2) that
// fail the master over about two seconds after it stops answering.
type Sentinel struct {
	// Master is the node that was master at start; Replica replicates it.
	Master, Replica *Node
	// Sentinels are the three redis-sentinel processes.
	Sentinels []*Node
}

// StartSentinel starts a Sentinel topology for t, returning once the
// replica is in sync and every sentinel knows the replica and the two
// other sentinels, so that a failover can happen. It skips t when the
// binaries are missing (fails under GINJWT_REQUIRE_REDIS).
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	server := need(t, "redis-server")
	sentinelArgs := []string{server, "--sentinel"}
	if bin, err := exec.LookPath("redis-sentinel"); err == nil {
		sentinelArgs = []string{bin}
	}
	ports := freePorts(t, 5)
	s := &Sentinel{}
	s.Master = startNode(t, []string{server}, ports[0], dataNode)
	s.Replica = startNode(t, []string{server}, ports[1], dataNode+fmt.Sprintf("replicaof 127.0.0.1 %d\n", ports[0]))
	waitFor(t, 15*time.Second, "the replica to sync with the master", func(ctx context.Context) (bool, string) {
		info := infoFields(ctx, s.Replica, "replication")
		return info["master_link_status"] == "up", info["master_link_status"]
	})
	for _, p := range ports[2:] {
		// Low timeouts make the failover take seconds, not the default
		// minutes; a sentinel rewrites its config file, so it gets its own.
		conf := fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2\n"+
			"sentinel down-after-milliseconds %[1]s 1000\n"+
			"sentinel failover-timeout %[1]s 2000\n"+
			"sentinel parallel-syncs %[1]s 1\n", MasterName, ports[0])
		s.Sentinels = append(s.Sentinels, startNode(t, sentinelArgs, p, conf))
	}
	waitFor(t, 30*time.Second, "the sentinels to know the replica and each other", func(ctx context.Context) (bool, string) {
		var seen []string
		ready := true
		for _, n := range s.Sentinels {
			m, err := sentinelMaster(ctx, n)
			if err != nil {
				return false, err.Error()
			}
			seen = append(seen, fmt.Sprintf("%s: replicas=%s sentinels=%s", n.Addr, m["num-slaves"], m["num-other-sentinels"]))
			ready = ready && m["num-slaves"] == "1" && m["num-other-sentinels"] == "2"
		}
		return ready, strings.Join(seen, "; ")
	})
	return s
}

// Addrs returns the sentinels' addresses, for redis.FailoverOptions.
func (s *Sentinel) Addrs() []string {
	addrs := make([]string, len(s.Sentinels))
	for i, n := range s.Sentinels {
		addrs[i] = n.Addr
	}
	return addrs
}

// FailoverClient returns a Sentinel-backed client of the master with
// go-redis's default options, as an application would build it, closed at
// t's cleanup.
func (s *Sentinel) FailoverClient(t testing.TB) *redis.Client {
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: MasterName, SentinelAddrs: s.Addrs()})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// MasterAddr returns the master's address as the first sentinel that
// answers reports it.
func (s *Sentinel) MasterAddr(ctx context.Context) (string, error) {
	var err error
	for _, n := range s.Sentinels {
		var addr string
		if addr, err = sentinelMasterAddr(ctx, n); err == nil {
			return addr, nil
		}
	}
	return "", err
}

// WaitForFailover waits (at most timeout) until every live sentinel names
// a master other than old and that node says it is a master, and returns
// the new master's address.
func (s *Sentinel) WaitForFailover(t testing.TB, old string, timeout time.Duration) string {
	t.Helper()
	var addr string
	waitFor(t, timeout, "the sentinels to promote a new master", func(ctx context.Context) (bool, string) {
		var seen []string
		addr = ""
		for _, n := range s.Sentinels {
			if !n.answering() {
				continue
			}
			a, err := sentinelMasterAddr(ctx, n)
			if err != nil {
				return false, err.Error()
			}
			seen = append(seen, n.Addr+" says "+a)
			if a == old || (addr != "" && a != addr) {
				return false, strings.Join(seen, "; ")
			}
			addr = a
		}
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		defer func() { _ = c.Close() }()
		role, err := c.Do(ctx, "ROLE").Slice()
		if err != nil || len(role) == 0 || role[0] != "master" {
			return false, fmt.Sprintf("%s; ROLE of %s: %v %v", strings.Join(seen, "; "), addr, role, err)
		}
		return true, ""
	})
	return addr
}

// WaitForReplica waits (at most timeout) until n is a replica in sync with
// the master and the sentinels count it: after a killed master was
// restarted, the sentinels turn it into a replica of the one promoted.
func (s *Sentinel) WaitForReplica(t testing.TB, n *Node, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, n.Addr+" to replicate the master", func(ctx context.Context) (bool, string) {
		repl := infoFields(ctx, n, "replication")
		if repl["role"] != "slave" || repl["master_link_status"] != "up" {
			return false, fmt.Sprintf("role=%s link=%s", repl["role"], repl["master_link_status"])
		}
		if ok, why := acknowledged(ctx, net.JoinHostPort(repl["master_host"], repl["master_port"])); !ok {
			return false, why
		}
		for _, sn := range s.Sentinels {
			m, err := sentinelMaster(ctx, sn)
			if err != nil {
				return false, err.Error()
			}
			if m["num-slaves"] != "1" {
				return false, sn.Addr + " counts replicas: " + m["num-slaves"]
			}
		}
		return true, ""
	})
}

// RestartAsReplica restarts a killed data node and makes it a replica of
// the current master, as an operator or an orchestrator would (the
// sentinels alone convert a returning master only after about 10-15 s), and
// waits (at most timeout) until it is in sync.
func (s *Sentinel) RestartAsReplica(t testing.TB, n *Node, timeout time.Duration) {
	t.Helper()
	n.Restart(t)
	s.Rejoin(t, n, timeout)
}

// Rejoin makes a running data node that was master (killed and restarted,
// or paused and resumed) a replica of the current master, as an operator
// would, and waits (at most timeout) until it is in sync.
func (s *Sentinel) Rejoin(t testing.TB, n *Node, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	master, err := s.MasterAddr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(master)
	c := redis.NewClient(fastOptions(n.Addr))
	defer func() { _ = c.Close() }()
	if err := c.ReplicaOf(ctx, host, port).Err(); err != nil {
		t.Fatal(err)
	}
	s.WaitForReplica(t, n, timeout)
}

// Node returns the data node (master or replica) at addr, nil if none.
func (s *Sentinel) Node(addr string) *Node {
	for _, n := range []*Node{s.Master, s.Replica} {
		if n.Addr == addr {
			return n
		}
	}
	return nil
}

// Cluster is a Redis Cluster of three masters, each with one replica,
// whose nodes consider a peer failed after one second.
type Cluster struct {
	// Nodes are the six nodes, in the order given to redis-cli --cluster create.
	Nodes []*Node
}

// NodeTimeout is the cluster-node-timeout of StartCluster's nodes: a
// master silent that long is failed over to its replica.
const NodeTimeout = 1000 * time.Millisecond

// StartCluster starts a 6-node Redis Cluster for t, returning once every
// node sees all 16384 slots served and every replica is in sync. It skips
// t when redis-server or redis-cli is missing (fails under
// GINJWT_REQUIRE_REDIS).
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	server := need(t, "redis-server")
	cli := need(t, "redis-cli")
	// Each node needs a client port and a cluster bus port; the bus port
	// is set explicitly (Redis 7) rather than left at port+10000, which
	// may be taken or out of range.
	ports := freePorts(t, 12)
	c := &Cluster{}
	args := []string{"--cluster", "create"}
	for i := range 6 {
		conf := dataNode + fmt.Sprintf("cluster-enabled yes\ncluster-config-file nodes.conf\ncluster-port %d\n"+
			"cluster-node-timeout %d\n", ports[6+i], NodeTimeout.Milliseconds())
		n := startNode(t, []string{server}, ports[i], conf)
		c.Nodes = append(c.Nodes, n)
		args = append(args, n.Addr)
	}
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// cli is redis-cli from PATH; the arguments are our own addresses.
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil { //nolint:gosec // G204, see above
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	c.WaitHealthy(t, 30*time.Second)
	return c
}

// WaitHealthy waits (at most timeout) until every running node sees the
// cluster ok with all six nodes, and every replica is in sync: after
// StartCluster, or after a killed node was restarted (it comes back as a
// replica of the node promoted in its place).
func (c *Cluster) WaitHealthy(t testing.TB, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, "every node to see the cluster ok and in sync", func(ctx context.Context) (bool, string) {
		masters := 0
		for _, n := range c.Nodes {
			if !n.answering() {
				continue
			}
			state := clusterInfo(ctx, n)
			if state["cluster_state"] != "ok" || state["cluster_known_nodes"] != "6" {
				return false, fmt.Sprintf("%s: state=%s known=%s", n.Addr, state["cluster_state"], state["cluster_known_nodes"])
			}
			repl := infoFields(ctx, n, "replication")
			if repl["role"] == "slave" && repl["master_link_status"] != "up" {
				return false, n.Addr + ": replica link " + repl["master_link_status"]
			}
			if repl["role"] == "master" {
				masters++
				// The master must count its replica online, or WAIT
				// would not count it yet.
				if repl["connected_slaves"] != "1" || !strings.Contains(repl["slave0"], "state=online") {
					return false, fmt.Sprintf("%s: replicas=%s %s", n.Addr, repl["connected_slaves"], repl["slave0"])
				}
				if ok, why := acknowledged(ctx, n.Addr); !ok {
					return false, why
				}
			}
		}
		// A restarted master believes it still is one until the others
		// tell it otherwise.
		return masters == 3, fmt.Sprintf("%d nodes say they are masters", masters)
	})
}

// Addrs returns the nodes' addresses, for redis.ClusterOptions.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr
	}
	return addrs
}

// Client returns a cluster client with go-redis's default options, as an
// application would build it, closed at t's cleanup.
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// MasterOf returns the node serving key's slot as master, as a live node
// reports it.
func (c *Cluster) MasterOf(t testing.TB, key string) *Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n := c.live()
	if n == nil {
		t.Fatal("no cluster node is running")
	}
	cl := redis.NewClient(fastOptions(n.Addr))
	defer func() { _ = cl.Close() }()
	slot, err := cl.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	addr, err := slotMaster(ctx, n.Addr, slot)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range c.Nodes {
		if n.Addr == addr {
			return n
		}
	}
	t.Fatalf("slot %d of %q is served by %s, not one of ours", slot, key, addr)
	return nil
}

// WaitForPromotion waits (at most timeout) until no slot is served by the
// dead node any more and every live node reports the cluster ok, and
// returns how long that took.
func (c *Cluster) WaitForPromotion(t testing.TB, dead *Node, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	waitFor(t, timeout, "the cluster to promote a replica of "+dead.Addr, func(ctx context.Context) (bool, string) {
		for _, n := range c.Nodes {
			if !n.answering() {
				continue
			}
			if state := clusterInfo(ctx, n)["cluster_state"]; state != "ok" {
				return false, n.Addr + ": cluster_state " + state
			}
			shards, err := shardsOf(ctx, n.Addr)
			if err != nil {
				return false, err.Error()
			}
			for _, sh := range shards {
				if len(sh.Slots) > 0 && shardMaster(sh) == dead.Addr {
					return false, fmt.Sprintf("%s: slots %v still on %s", n.Addr, sh.Slots, dead.Addr)
				}
			}
		}
		return true, ""
	})
	return time.Since(start)
}

func (c *Cluster) live() *Node {
	for _, n := range c.Nodes {
		if n.answering() {
			return n
		}
	}
	return nil
}

// need returns the path of bin, or skips t (fails it under
// GINJWT_REQUIRE_REDIS) when it is not installed.
func need(t testing.TB, bin string) string {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		if os.Getenv("GINJWT_REQUIRE_REDIS") != "" {
			t.Fatalf("GINJWT_REQUIRE_REDIS is set but %s is not installed", bin)
		}
		t.Skipf("SKIPPED: %s not installed (apt-get install redis-server redis-tools redis-sentinel); the tests that need it are NOT run", bin)
	}
	return path
}

// freePorts returns n distinct loopback ports that were free a moment ago:
// all are held open together, so none is handed out twice.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = ln.Close() }()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// dataNode is the config of a redis-server node (not a sentinel): no
// persistence, the tests' data lives as long as the process; a replica is
// sent its first copy at once (the default waits 5 s for more replicas).
const dataNode = "save \"\"\nappendonly no\nrepl-diskless-sync-delay 0\n"

// startNode starts argv with a config file made of the common settings
// and extra (which sets what kind of node it is), in a directory of its own, and waits until it answers PING.
// Its output goes to redis.log there, shown when the test fails.
func startNode(t testing.TB, argv []string, port int, extra string) *Node {
	t.Helper()
	dir := t.TempDir()
	conf := fmt.Sprintf("port %d\nbind 127.0.0.1\nprotected-mode no\ndaemonize no\ndir %s\nlogfile %s\n",
		port, dir, filepath.Join(dir, "redis.log")) + extra
	path := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	n := &Node{Addr: "127.0.0.1:" + strconv.Itoa(port), dir: dir, argv: append(argv, path)}
	t.Cleanup(func() {
		n.Kill()
		if t.Failed() {
			t.Logf("log of %s:\n%s", n.Addr, tail(filepath.Join(dir, "redis.log"), 15))
		}
	})
	n.launch(t)
	return n
}

// Restart starts a killed node again with its config and directory (a
// cluster node keeps its nodes.conf; a Sentinel master comes back to be
// turned into a replica by the sentinels), and waits until it answers
// PING. Not to be called while other goroutines use the node.
func (n *Node) Restart(t testing.TB) {
	t.Helper()
	n.Kill()
	n.launch(t)
}

func (n *Node) launch(t testing.TB) {
	t.Helper()
	n.paused.Store(false)
	n.done = make(chan struct{})
	// argv is a binary found on PATH and our config file.
	n.cmd = exec.Command(n.argv[0], n.argv[1:]...) //nolint:gosec // G204, see above
	if err := n.cmd.Start(); err != nil {
		close(n.done)
		t.Fatal(err)
	}
	cmd, done := n.cmd, n.done
	go func() { _ = cmd.Wait(); close(done) }()
	cl := redis.NewClient(fastOptions(n.Addr))
	defer func() { _ = cl.Close() }()
	waitFor(t, 10*time.Second, n.Addr+" to answer PING", func(ctx context.Context) (bool, string) {
		if !n.Running() {
			return false, "exited: " + tail(filepath.Join(n.dir, "redis.log"), 5)
		}
		err := cl.Ping(ctx).Err()
		return err == nil, fmt.Sprint(err)
	})
}

// waitFor polls cond every 50 ms until it holds, failing t after timeout
// with what cond last reported.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func(ctx context.Context) (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		ok, last := cond(ctx)
		cancel()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; last: %s", timeout, what, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// acknowledged reports whether a write on the master at addr is
// acknowledged by a replica within 100 ms (WAIT). A replica counts itself
// in sync and the master counts it online before it acknowledges: after a
// diskless sync, Redis 7 streams writes to a replica only once it has
// sent its first ACK, up to a second later.
func acknowledged(ctx context.Context, addr string) (bool, string) {
	c := redis.NewClient(fastOptions(addr))
	defer func() { _ = c.Close() }()
	// In a cluster, find a key of this master's slots: others are MOVED.
	for i := range 100 {
		key := fmt.Sprintf("redistest:ack-probe:%d", i)
		err := c.Set(ctx, key, "1", 10*time.Second).Err()
		if err != nil && strings.HasPrefix(err.Error(), "MOVED") {
			continue
		}
		if err != nil {
			return false, addr + ": " + err.Error()
		}
		n, err := c.Wait(ctx, 1, 100*time.Millisecond).Result()
		if err != nil || n < 1 {
			return false, fmt.Sprintf("%s: WAIT 1 100: %d %v", addr, n, err)
		}
		return true, ""
	}
	return false, addr + ": no key of its slots found"
}

func sentinelClient(n *Node) *redis.SentinelClient {
	return redis.NewSentinelClient(fastOptions(n.Addr))
}

// sentinelMaster returns what sentinel n knows of the master: SENTINEL MASTER.
func sentinelMaster(ctx context.Context, n *Node) (map[string]string, error) {
	c := sentinelClient(n)
	defer func() { _ = c.Close() }()
	return c.Master(ctx, MasterName).Result()
}

// sentinelMasterAddr returns the master's address as sentinel n names it.
func sentinelMasterAddr(ctx context.Context, n *Node) (string, error) {
	c := sentinelClient(n)
	defer func() { _ = c.Close() }()
	addr, err := c.GetMasterAddrByName(ctx, MasterName).Result()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(addr[0], addr[1]), nil
}

// infoFields returns the fields of INFO section of n; none when n does not
// answer.
func infoFields(ctx context.Context, n *Node, section string) map[string]string {
	c := redis.NewClient(fastOptions(n.Addr))
	defer func() { _ = c.Close() }()
	text, _ := c.Info(ctx, section).Result()
	return fields(text)
}

func clusterInfo(ctx context.Context, n *Node) map[string]string {
	c := redis.NewClient(fastOptions(n.Addr))
	defer func() { _ = c.Close() }()
	text, _ := c.ClusterInfo(ctx).Result()
	return fields(text)
}

func fields(text string) map[string]string {
	m := map[string]string{}
	for line := range strings.Lines(text) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			m[k] = v
		}
	}
	return m
}

// shardsOf returns the cluster's shards as the node at addr sees them.
func shardsOf(ctx context.Context, addr string) ([]redis.ClusterShard, error) {
	c := redis.NewClient(fastOptions(addr))
	defer func() { _ = c.Close() }()
	return c.ClusterShards(ctx).Result()
}

// shardMaster returns the address of a shard's master, "" if it has none.
func shardMaster(sh redis.ClusterShard) string {
	for _, n := range sh.Nodes {
		if n.Role == "master" {
			return net.JoinHostPort(n.IP, strconv.FormatInt(n.Port, 10))
		}
	}
	return ""
}

// slotMaster returns the address of the master serving slot, as the node
// at addr sees it.
func slotMaster(ctx context.Context, addr string, slot int64) (string, error) {
	shards, err := shardsOf(ctx, addr)
	if err != nil {
		return "", err
	}
	for _, sh := range shards {
		for _, r := range sh.Slots {
			if slot >= r.Start && slot <= r.End {
				if m := shardMaster(sh); m != "" {
					return m, nil
				}
			}
		}
	}
	return "", fmt.Errorf("slot %d is not served", slot)
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	f, err := os.Open(path) //nolint:gosec // G304: a log file in our own temp dir
	if err != nil {
		return err.Error()
	}
	defer func() { _ = f.Close() }()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
