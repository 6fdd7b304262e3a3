package testenv

import (
	"context"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	tcredis "github.com/testcontainers/testcontainers-go/modules/redis"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Container images for the testcontainers mode.
const (
	KafkaImage = "apache/kafka:3.9.1"
	RedisImage = "redis:7"
)

// KafkaContainer starts a single-node KRaft Kafka from KafkaImage and
// returns it, or skips the test with the reason when no Docker engine
// answers.
func KafkaContainer(t *testing.T) *Kafka {
	t.Helper()
	testcontainers.SkipIfProviderIsNotHealthy(t)
	ctx := context.Background()

	// The broker must advertise the host port clients dial, so the port is
	// chosen before the container starts rather than mapped at random.
	port := strconv.Itoa(FreePort(t))
	ctr, err := testcontainers.Run(ctx, KafkaImage,
		testcontainers.WithExposedPorts("9092/tcp"),
		testcontainers.WithEnv(map[string]string{
			"KAFKA_NODE_ID":                                  "1",
			"KAFKA_PROCESS_ROLES":                            "broker,controller",
			"KAFKA_CONTROLLER_QUORUM_VOTERS":                 "1@localhost:9093",
			"KAFKA_LISTENERS":                                "PLAINTEXT://:9092,CONTROLLER://:9093",
			"KAFKA_ADVERTISED_LISTENERS":                     "PLAINTEXT://127.0.0.1:" + port,
			"KAFKA_CONTROLLER_LISTENER_NAMES":                "CONTROLLER",
			"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP":           "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
			"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":         "1",
			"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":            "1",
			"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
			"KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS":         "0",
		}),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{network.MustParsePort("9092/tcp"): {
				{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: port},
			}}
		}),
		testcontainers.WithWaitStrategyAndDeadline(2*time.Minute,
			wait.ForListeningPort("9092/tcp")),
	)
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		t.Fatalf("start kafka container: %v", err)
	}
	return &Kafka{Brokers: []string{"127.0.0.1:" + port}}
}

// RedisContainer starts Redis from RedisImage, or skips the test with the
// reason when no Docker engine answers.
func RedisContainer(t *testing.T) *Redis {
	t.Helper()
	testcontainers.SkipIfProviderIsNotHealthy(t)
	ctx := context.Background()
	ctr, err := tcredis.Run(ctx, RedisImage)
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		t.Fatalf("start redis container: %v", err)
	}
	addr, err := ctr.PortEndpoint(ctx, "6379/tcp", "")
	if err != nil {
		t.Fatalf("redis container address: %v", err)
	}
	return &Redis{Addrs: []string{addr}}
}
