package stack

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/topics"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Partition counts of the topics devstack creates. Events get the most
// because their partitions bound how many scorers can share the work.
const (
	EventsPartitions      = 8
	TransitionsPartitions = 4
	DeadLetterPartitions  = 1
)

// startBroker starts a one-node kfake cluster on addr that keeps its log
// under dataDir/kafka, and creates the topics.
func startBroker(ctx context.Context, addr, dataDir string) (*kfake.Cluster, error) {
	_, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("split kafka address: %w", err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("parse kafka port %q: %w", portStr, err)
	}
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1), kfake.Ports(port),
		kfake.DataDir(filepath.Join(dataDir, "kafka")),
	)
	if err != nil {
		return nil, fmt.Errorf("start broker on %s: %w", addr, err)
	}
	if err := createTopics(ctx, c.ListenAddrs()); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func createTopics(ctx context.Context, brokers []string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return fmt.Errorf("connect to broker: %w", err)
	}
	defer cl.Close()
	err = topics.Ensure(ctx, cl,
		topics.Spec{Name: config.DefaultEventsTopic, Partitions: EventsPartitions},
		topics.Spec{Name: config.DefaultTransitionsTopic, Partitions: TransitionsPartitions},
		topics.Spec{Name: config.DefaultDeadLetterTopic, Partitions: DeadLetterPartitions},
	)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	return nil
}
