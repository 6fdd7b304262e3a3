package dispatch

import (
	"context"
	"fmt"
	"strconv"

	"github.com/segmentio/kafka-go"

	"github.com/leadstream/leadstream/services/notifier/internal/retryq"
)

// Headers of a parked record.
const (
	HeaderSink            = "leadstream-sink"
	HeaderError           = "leadstream-error"
	HeaderAttempts        = "leadstream-attempts"
	HeaderSourceTopic     = "leadstream-source-topic"
	HeaderSourcePartition = "leadstream-source-partition"
	HeaderSourceOffset    = "leadstream-source-offset"
	contentType           = "application/x-protobuf; messageType=leadstream.v1.Transition"
)

// Parker stores a delivery that will not be attempted again.
type Parker interface {
	Park(ctx context.Context, j *retryq.Job, reason string) error
}

var _ Parker = (*KafkaParker)(nil)

// KafkaParker writes parked deliveries to a Kafka topic: the original
// key and bytes, with headers naming the sink, the last error, the
// attempts and the source record.
type KafkaParker struct {
	w         *kafka.Writer
	transport *kafka.Transport
}

// NewKafkaParker writes to topic through transport (nil for plain TCP).
// The parker owns the transport: Close closes its connections.
func NewKafkaParker(brokers []string, topic string, transport *kafka.Transport) *KafkaParker {
	if transport == nil {
		transport = &kafka.Transport{}
	}
	return &KafkaParker{transport: transport, w: &kafka.Writer{
		Addr: kafka.TCP(brokers...), Topic: topic, Transport: transport,
		RequiredAcks: kafka.RequireAll, Balancer: &kafka.Hash{},
	}}
}

// Park writes one record and waits for the brokers to acknowledge it.
func (p *KafkaParker) Park(ctx context.Context, j *retryq.Job, reason string) error {
	msg := kafka.Message{Key: j.Key, Value: j.Transition, Headers: []kafka.Header{
		{Key: "content-type", Value: []byte(contentType)},
		{Key: HeaderSink, Value: []byte(j.Sink)},
		{Key: HeaderError, Value: []byte(reason)},
		{Key: HeaderAttempts, Value: []byte(strconv.Itoa(j.Attempts))},
		{Key: HeaderSourceTopic, Value: []byte(j.Topic)},
		{Key: HeaderSourcePartition, Value: []byte(strconv.Itoa(j.Partition))},
		{Key: HeaderSourceOffset, Value: []byte(strconv.FormatInt(j.Offset, 10))},
	}}
	if err := p.w.WriteMessages(ctx, msg); err != nil {
		return fmt.Errorf("write parked record: %w", err)
	}
	return nil
}

// Close flushes and closes the writer and its connections.
func (p *KafkaParker) Close() error {
	defer p.transport.CloseIdleConnections()
	if err := p.w.Close(); err != nil {
		return fmt.Errorf("close parked writer: %w", err)
	}
	return nil
}
