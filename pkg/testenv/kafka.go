package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Kafka is a Kafka cluster for one test.
type Kafka struct {
	// Brokers are the seed addresses.
	Brokers []string
	// Cluster is the in-process broker, or nil for an external cluster.
	Cluster *kfake.Cluster
}

// StartKafka returns the external cluster named by
// LEADSTREAM_TEST_KAFKA_BROKERS, or starts an in-process kfake cluster of
// three brokers, closed when the test ends. Extra kfake options (for
// example kfake.DataDir) apply only to the in-process cluster.
func StartKafka(tb testing.TB, opts ...kfake.Opt) *Kafka {
	tb.Helper()
	if brokers := envList(EnvKafkaBrokers); len(brokers) > 0 {
		return &Kafka{Brokers: brokers}
	}
	opts = append([]kfake.Opt{kfake.NumBrokers(3), kfake.DefaultNumPartitions(4)}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		tb.Fatalf("start kfake cluster: %v", err)
	}
	tb.Cleanup(c.Close)
	return &Kafka{Brokers: c.ListenAddrs(), Cluster: c}
}

// InProcess returns the in-process broker of a test that must stop or
// steer it (cut every connection, close it), and skips the test when the
// cluster is external: nothing here may shut down someone else's Kafka.
func (k *Kafka) InProcess(tb testing.TB) *kfake.Cluster {
	tb.Helper()
	if k.Cluster == nil {
		tb.Skipf("this test stops the broker, which it does only to the in-process one; "+
			"%s names an external cluster", EnvKafkaBrokers)
	}
	return k.Cluster
}

// Client returns a franz-go client for the cluster, closed when the test
// ends.
func (k *Kafka) Client(tb testing.TB, opts ...kgo.Opt) *kgo.Client {
	tb.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(k.Brokers...)}, opts...)...)
	if err != nil {
		tb.Fatalf("new kafka client: %v", err)
	}
	tb.Cleanup(cl.Close)
	return cl
}

// CreateTopic creates topic with the given partitions, failing the test
// on any error.
func (k *Kafka) CreateTopic(tb testing.TB, topic string, partitions int32) {
	tb.Helper()
	adm := kadm.NewClient(k.Client(tb))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := adm.CreateTopic(ctx, partitions, -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		tb.Fatalf("create topic %s: %v", topic, err)
	}
}

// ReadAll consumes topic from the start until it has n records or the
// timeout passes, and returns what it read.
func (k *Kafka) ReadAll(tb testing.TB, topic string, n int, timeout time.Duration) []*kgo.Record {
	tb.Helper()
	cl := k.Client(tb, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}
