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
	"net"
	"os"
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

func envList(name string) []string {
	var out []string
	for _, s := range strings.Split(os.Getenv(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
