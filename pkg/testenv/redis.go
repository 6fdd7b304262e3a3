package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Redis deployment for one test: a single node or a cluster.
type Redis struct {
	// Addrs are the node addresses (one for a single node).
	Addrs []string
	// Cluster is true for a Redis Cluster.
	Cluster bool

	nodes []*RedisNode
}

// RedisNode is one redis-server process started by the test environment.
type RedisNode struct {
	Addr string
	Port int
	Dir  string
	cmd  *exec.Cmd
	args []string
	// exited is closed once cmd has exited.
	exited chan struct{}
}

// RedisServerPath finds redis-server, or fails the test with the fix.
func RedisServerPath(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("redis-server not found on PATH: " +
			"run `make setup` (or install the redis-server package)")
	}
	return p
}

// StartRedis returns the external node named by LEADSTREAM_TEST_REDIS_ADDR
// or starts a private redis-server on a free loopback port.
func StartRedis(tb testing.TB) *Redis {
	tb.Helper()
	if addr := os.Getenv(EnvRedisAddr); addr != "" {
		return &Redis{Addrs: []string{addr}}
	}
	n := startNode(tb, func() int { return StablePort(tb) }, false)
	return &Redis{Addrs: []string{n.Addr}, nodes: []*RedisNode{n}}
}

// StartRedisCluster returns the external cluster named by
// LEADSTREAM_TEST_REDIS_CLUSTER_ADDRS or starts six redis-server processes
// (three masters, three replicas) joined into a Redis Cluster.
func StartRedisCluster(tb testing.TB) *Redis {
	tb.Helper()
	if addrs := envList(EnvRedisClusterAddrs); len(addrs) > 0 {
		return &Redis{Addrs: addrs, Cluster: true}
	}
	r := &Redis{Cluster: true}
	for range 6 {
		n := startNode(tb, func() int { return clusterPorts(tb, r.Addrs) }, true)
		r.nodes = append(r.nodes, n)
		r.Addrs = append(r.Addrs, n.Addr)
	}
	createCluster(tb, r.Addrs)
	return r
}

// Client returns a go-redis client for the deployment, closed when the
// test ends.
func (r *Redis) Client(tb testing.TB) redis.UniversalClient {
	tb.Helper()
	c := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: r.Addrs, IsClusterMode: r.Cluster})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Nodes returns the processes the environment started (none for an
// external deployment), so fault tests can stop and restart them.
func (r *Redis) Nodes() []*RedisNode { return r.nodes }

// OwnNodes returns the processes the environment started for a test that
// must stop or restart them, and skips the test when the deployment is
// external: nothing here may shut down someone else's Redis.
func (r *Redis) OwnNodes(tb testing.TB) []*RedisNode {
	tb.Helper()
	if len(r.nodes) == 0 {
		tb.Skipf("this test stops Redis, which it does only to a server it started; "+
			"%s or %s names an external one", EnvRedisAddr, EnvRedisClusterAddrs)
	}
	return r.nodes
}

// clusterPorts picks a free port, not among taken, whose cluster bus port
// (port+10000) is free too.
func clusterPorts(tb testing.TB, taken []string) int {
	tb.Helper()
	for range 200 {
		p := FreePort(tb)
		if p+10000 <= 65535 && portFree(p+10000) &&
			!contains(taken, "127.0.0.1:"+strconv.Itoa(p)) {
			return p
		}
	}
	tb.Fatal("find a free port pair for a redis cluster node")
	return 0
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func portFree(port int) bool {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	_ = ln.Close()
	return true
}

// startNodeAttempts bounds the ports startNode tries: a port found free
// may be taken by another test before redis-server binds it.
const startNodeAttempts = 5

// startNode starts redis-server on a port from pick, trying another port
// when the process cannot have the one it was given.
func startNode(tb testing.TB, pick func() int, cluster bool) *RedisNode {
	tb.Helper()
	bin := RedisServerPath(tb)
	var err error
	for range startNodeAttempts {
		n := newNode(tb, pick(), cluster)
		if err = n.launch(bin); err == nil {
			tb.Cleanup(n.Stop)
			return n
		}
	}
	tb.Fatalf("start redis-server: %v", err)
	return nil
}

func newNode(tb testing.TB, port int, cluster bool) *RedisNode {
	dir := tb.TempDir()
	args := []string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "no",
		"--daemonize", "no", "--logfile", filepath.Join(dir, "redis.log"),
	}
	if cluster {
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000")
	}
	return &RedisNode{Addr: "127.0.0.1:" + strconv.Itoa(port), Port: port, Dir: dir, args: args}
}

// start launches the node on its own port, failing the test when it does
// not come up there.
func (n *RedisNode) start(tb testing.TB, bin string) {
	tb.Helper()
	if err := n.launch(bin); err != nil {
		tb.Fatal(err)
	}
}

// launch starts the process and waits until it answers on its port. The
// answer must come from this process: another test's server that took
// the port first would answer a plain PING too.
func (n *RedisNode) launch(bin string) error {
	n.cmd = exec.Command(bin, n.args...)
	if err := n.cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server on %s: %w", n.Addr, err)
	}
	n.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		_ = cmd.Wait()
		close(exited)
	}(n.cmd, n.exited)
	if err := waitOwn(n.Addr, n.cmd.Process.Pid, n.exited, 10*time.Second); err != nil {
		n.Stop()
		log, _ := os.ReadFile(filepath.Join(n.Dir, "redis.log"))
		return fmt.Errorf("redis-server on %s did not answer: %w\n%s", n.Addr, err, log)
	}
	return nil
}

// Stop kills the process; safe to call twice.
func (n *RedisNode) Stop() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	_ = n.cmd.Process.Kill()
	<-n.exited
	n.cmd = nil
}

// Restart stops the node and starts it again on the same port and data
// directory; with persistence off it comes back empty.
func (n *RedisNode) Restart(tb testing.TB) {
	tb.Helper()
	n.Stop()
	n.start(tb, RedisServerPath(tb))
}

// waitOwn waits until the server on addr answers with process id pid.
func waitOwn(addr string, pid int, exited <-chan struct{}, timeout time.Duration) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1,
		DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	want := "process_id:" + strconv.Itoa(pid) + "\r\n"
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		info, err := c.Info(ctx, "server").Result()
		cancel()
		switch {
		case err == nil && strings.Contains(info, want):
			return nil
		case err == nil:
			return fmt.Errorf("another process answers on %s", addr)
		}
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited: %w", err)
		default:
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func createCluster(tb testing.TB, addrs []string) {
	tb.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		tb.Fatalf("redis-cli not found on PATH: " +
			"run `make setup` (or install the redis-tools package)")
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	var out bytes.Buffer
	cmd := exec.Command(cli, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		tb.Fatalf("redis-cli --cluster create: %v\n%s", err, out.String())
	}
	if err := waitClusterOK(addrs, 20*time.Second); err != nil {
		tb.Fatalf("redis cluster not ready: %v", err)
	}
}

// waitClusterOK waits until every node reports cluster_state:ok, that is
// until every slot is served.
func waitClusterOK(addrs []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, addr := range addrs {
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		for {
			info, err := c.ClusterInfo(context.Background()).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				_ = c.Close()
				return fmt.Errorf("node %s: cluster_state not ok: %v %s", addr, err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = c.Close()
	}
	return nil
}
