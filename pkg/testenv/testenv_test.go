package testenv_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/leadstream/leadstream/pkg/testenv"
)

func TestKafkaFranzGoRoundTrip(t *testing.T) { franzGoRoundTrip(t, testenv.StartKafka(t)) }

func franzGoRoundTrip(t *testing.T, k *testenv.Kafka) {
	t.Helper()
	topic := testenv.Prefix(t) + "events"
	k.CreateTopic(t, topic, 3)

	cl := k.Client(t, kgo.RequiredAcks(kgo.AllISRAcks()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range 30 {
		r := &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "k%d", i),
			Value: fmt.Appendf(nil, "v%d", i)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}

	got := k.ReadAll(t, topic, 30, 20*time.Second)
	if len(got) != 30 {
		t.Fatalf("read %d records, want 30", len(got))
	}
	seen := map[string]bool{}
	for _, r := range got {
		seen[string(r.Value)] = true
	}
	for i := range 30 {
		if !seen[fmt.Sprintf("v%d", i)] {
			t.Errorf("record v%d missing", i)
		}
	}
}

func TestKafkaSegmentioRoundTrip(t *testing.T) { segmentioRoundTrip(t, testenv.StartKafka(t)) }

func segmentioRoundTrip(t *testing.T, k *testenv.Kafka) {
	t.Helper()
	topic := testenv.Prefix(t) + "transitions"
	k.CreateTopic(t, topic, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A private transport, so its idle connections can be closed and the
	// leak check sees no goroutines left behind.
	tr := &kafkago.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafkago.Writer{Addr: kafkago.TCP(k.Brokers...), Topic: topic,
		RequiredAcks: kafkago.RequireAll, Balancer: &kafkago.Hash{},
		BatchTimeout: 5 * time.Millisecond, Transport: tr}
	defer w.Close()
	var msgs []kafkago.Message
	for i := range 10 {
		msgs = append(msgs, kafkago.Message{Key: fmt.Appendf(nil, "k%d", i),
			Value: fmt.Appendf(nil, "v%d", i)})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("write: %v", err)
	}

	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: k.Brokers, Topic: topic,
		GroupID: testenv.Prefix(t) + "group", StartOffset: kafkago.FirstOffset,
		MaxWait: 100 * time.Millisecond})
	defer r.Close()
	seen := map[string]bool{}
	for len(seen) < 10 {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("fetch after %d messages: %v", len(seen), err)
		}
		seen[string(m.Value)] = true
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
}

// script increments a counter and records the call in a list, both under
// one hash tag, the way the lead store's scripts touch a lead's keys.
var script = redis.NewScript(`
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[1])
return n`)

func TestRedisLuaScript(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(testing.TB) *testenv.Redis
	}{
		{"single", testenv.StartRedis},
		{"cluster", testenv.StartRedisCluster},
	} {
		t.Run(tc.name, func(t *testing.T) { luaRoundTrip(t, tc.start(t)) })
	}
}

func luaRoundTrip(t *testing.T, r *testenv.Redis) {
	t.Helper()
	c := r.Client(t)
	ctx := context.Background()
	for lead := range 20 {
		tag := fmt.Sprintf("{%slead-%d}", testenv.Prefix(t), lead)
		keys := []string{tag + ":count", tag + ":log"}
		for i := 1; i <= 3; i++ {
			if _, err := script.Run(ctx, c, keys, i).Int64(); err != nil {
				t.Fatalf("run script: %v", err)
			}
		}
		if n, _ := c.Get(ctx, keys[0]).Int64(); n != 6 {
			t.Fatalf("lead %d counter = %d, want 6", lead, n)
		}
	}
}

// TestExternalServers runs the round trips in the mode where the
// environment variables name servers the test environment did not start,
// with servers started here standing in for them.
func TestExternalServers(t *testing.T) {
	local := testenv.StartKafka(t)
	single, cluster := testenv.StartRedis(t), testenv.StartRedisCluster(t)
	t.Setenv(testenv.EnvKafkaBrokers, strings.Join(local.Brokers, ","))
	t.Setenv(testenv.EnvRedisAddr, single.Addrs[0])
	t.Setenv(testenv.EnvRedisClusterAddrs, strings.Join(cluster.Addrs, ","))

	k := testenv.StartKafka(t)
	if k.Cluster != nil || strings.Join(k.Brokers, ",") != strings.Join(local.Brokers, ",") {
		t.Fatalf("StartKafka = %v (in process: %v), want the external brokers %v",
			k.Brokers, k.Cluster != nil, local.Brokers)
	}
	t.Run("franz-go", func(t *testing.T) { franzGoRoundTrip(t, k) })
	t.Run("kafka-go", func(t *testing.T) { segmentioRoundTrip(t, k) })
	t.Run("in-process only", func(t *testing.T) {
		k.InProcess(t)
		t.Error("InProcess did not skip on an external cluster")
	})

	for _, tc := range []struct {
		name    string
		start   func(testing.TB) *testenv.Redis
		want    []string
		cluster bool
	}{
		{"redis single", testenv.StartRedis, single.Addrs, false},
		{"redis cluster", testenv.StartRedisCluster, cluster.Addrs, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.start(t)
			if len(r.Nodes()) != 0 || r.Cluster != tc.cluster ||
				strings.Join(r.Addrs, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("got %v (cluster %v, %d own nodes), want external %v",
					r.Addrs, r.Cluster, len(r.Nodes()), tc.want)
			}
			luaRoundTrip(t, r)
		})
	}
}

func TestRedisClusterSpreadsSlots(t *testing.T) {
	r := testenv.StartRedisCluster(t)
	c := r.Client(t).(*redis.ClusterClient)
	ctx := context.Background()
	var masters atomic.Int32 // ForEachMaster calls back concurrently
	err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		masters.Add(1)
		return m.Ping(ctx).Err()
	})
	if err != nil || masters.Load() != 3 {
		t.Fatalf("masters = %d, err %v; want 3 answering", masters.Load(), err)
	}
}

func TestRedisRestartComesBackEmpty(t *testing.T) {
	r := testenv.StartRedis(t)
	node := r.OwnNodes(t)[0]
	c := r.Client(t)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	node.Restart(t)
	if err := c.Get(ctx, "k").Err(); err != redis.Nil {
		t.Fatalf("after restart get = %v, want redis.Nil", err)
	}
}

func TestProxyCutAndLatency(t *testing.T) {
	r := testenv.StartRedis(t)
	p := testenv.StartProxy(t, r.Addrs[0])
	c := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: -1,
		ReadTimeout: 300 * time.Millisecond, DialTimeout: 300 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("ping through proxy: %v", err)
	}

	p.Cut()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("ping through a cut proxy succeeded")
	}
	p.Restore(t)
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("ping after restore: %v", err)
	}

	p.AddLatency(t, 600, 0)
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("ping through 600ms of latency beat a 300ms read timeout")
	}
	p.RemoveToxics()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("ping after removing latency: %v", err)
	}
}

func TestContainers(t *testing.T) {
	if testing.Short() {
		t.Skip("containers are not started in -short mode")
	}
	k := testenv.KafkaContainer(t)
	r := testenv.RedisContainer(t)
	topic := testenv.Prefix(t) + "c"
	k.CreateTopic(t, topic, 1)
	if err := r.Client(t).Ping(context.Background()).Err(); err != nil {
		t.Fatalf("ping redis container: %v", err)
	}
}

func TestStablePortOutsideEphemeralRange(t *testing.T) {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 10000 {
				low = n
			}
		}
	}
	for range 20 {
		p := testenv.StablePort(t)
		if p < 10000 || p >= low {
			t.Fatalf("StablePort = %d, want a port in [10000, %d)", p, low)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("StablePort = %d, not free: %v", p, err)
		}
		_ = ln.Close()
	}
}
