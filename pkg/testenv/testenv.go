// Package testenv starts the real servers that integration tests run
// against: an in-process kfake Kafka cluster and private redis-server
// processes (a single node or a six-node Redis Cluster) on free loopback
// ports, each stopped by t.Cleanup. When environment variables name
// external servers, it hands those out instead, so the same suites run
// against real Kafka and Redis:
//
//	LEADSTREAM_TEST_KAFKA_BROKERS          host:port,... of a Kafka cluster
//	LEADSTREAM_TEST_REDIS_ADDR             host:port of a Redis node
//	LEADSTREAM_TEST_REDIS_CLUSTER_ADDRS    host:port,... of a Redis Cluster
//
// Tests that share an external server must use unique topics, groups and
// key prefixes; Prefix returns one.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	mrand "math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Environment variables naming external servers.
const (
	EnvKafkaBrokers      = "LEADSTREAM_TEST_KAFKA_BROKERS"
	EnvRedisAddr         = "LEADSTREAM_TEST_REDIS_ADDR"
	EnvRedisClusterAddrs = "LEADSTREAM_TEST_REDIS_CLUSTER_ADDRS"
)

// Prefix returns a short name unique to this test run, for topics,
// groups and Redis keys, e.g. "t3f9a2c1-".
func Prefix(tb testing.TB) string {
	tb.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatalf("read random prefix: %v", err)
	}
	return "t" + hex.EncodeToString(b[:]) + "-"
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// StablePort returns a free loopback port outside the kernel's range of
// ephemeral ports, for a server that must bind the same port again after
// a restart: a port from that range, once free, can be handed to any
// other socket (a client's connection, another test's listener) in the
// meantime.
func StablePort(tb testing.TB) int {
	tb.Helper()
	low := ephemeralLow()
	for range 200 {
		p := 10000 + mrand.IntN(max(1, low-10000))
		if portFree(p) {
			return p
		}
	}
	return FreePort(tb)
}

// ephemeralLow returns the lowest port the kernel hands out for port 0,
// 32768 when it cannot tell.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 10000 {
		return 32768
	}
	return n
}

func envList(name string) []string {
	var out []string
	for _, s := range strings.Split(os.Getenv(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
