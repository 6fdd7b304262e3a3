package demo

import (
	"context"
	"fmt"
	"strings"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
)

// Watch consumes topic from its start and sends every transition on out
// until ctx ends; a record that does not decode is reported as an error
// value and skipped.
func Watch(ctx context.Context, brokers []string, topic string, out chan<- *leadstreamv1.Transition,
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
			var tr leadstreamv1.Transition
			if err := proto.Unmarshal(r.Value, &tr); err != nil {
				send(ctx, errs, fmt.Errorf("decode transition at %s/%d@%d: %w",
					r.Topic, r.Partition, r.Offset, err))
				return
			}
			send(ctx, out, &tr)
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
