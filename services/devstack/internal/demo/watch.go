package demo

import (
	"context"
	"fmt"
	"strings"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
)

// Seen is one record read from the transitions topic and where it was
// read: the transition, or Err when the record does not decode.
type Seen struct {
	Transition *leadstreamv1.Transition
	Err        error
	Partition  int32
	Offset     int64
}

// Watch consumes topic from its start and sends every record on out until
// ctx ends. A fetch error goes to errs, and the fetch is retried.
func Watch(ctx context.Context, brokers []string, topic string, out chan<- Seen,
	errs chan<- error) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return fmt.Errorf("connect to broker: %w", err)
	}
	defer cl.Close()
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachError(func(t string, p int32, err error) {
			if ctx.Err() == nil {
				send(ctx, errs, fmt.Errorf("fetch %s/%d: %w", t, p, err))
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			s := Seen{Transition: &leadstreamv1.Transition{}, Partition: r.Partition,
				Offset: r.Offset}
			if err := proto.Unmarshal(r.Value, s.Transition); err != nil {
				s.Transition, s.Err = nil, fmt.Errorf("decode transition at %s/%d@%d: %w",
					r.Topic, r.Partition, r.Offset, err)
			}
			send(ctx, out, s)
		})
	}
	return nil
}

// Format renders a transition on one line: lead, move, reasons.
func Format(tr *leadstreamv1.Transition) string {
	return fmt.Sprintf("%-12s %-8s → %-9s %s", tr.GetLeadId(), StageWord(tr.GetFrom()),
		StageWord(tr.GetTo()), strings.Join(tr.GetReasons(), "; "))
}

// send gives up when ctx ends, so a reader that has left never blocks
// the consumer.
func send[T any](ctx context.Context, ch chan<- T, v T) {
	select {
	case ch <- v:
	case <-ctx.Done():
	}
}
