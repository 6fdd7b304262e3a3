package demo

import (
	"context"
	"fmt"
	"sort"
	"time"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
)

// pollEvery is how often Settle asks the broker for the group's offsets.
const pollEvery = 100 * time.Millisecond

// Settle waits until the scorers have finished the traffic and returns
// the end offsets of the transitions topic as of then: every transition
// the traffic caused lies below them. The scorers commit an event's offset
// only after Kafka acknowledged the transitions it caused, so once the
// group has committed past every event of ids, nothing more can come of
// them but copies.
func Settle(ctx context.Context, cfg Config, ids []string) (map[int32]int64, error) {
	last, err := locate(ctx, cfg.Brokers, cfg.EventsTopic, ids)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	if err != nil {
		return nil, fmt.Errorf("connect to broker: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if err := waitCommitted(ctx, adm, cfg.Group, cfg.EventsTopic, last); err != nil {
		return nil, err
	}
	return endOffsets(ctx, adm, cfg.Topic)
}

// locate reads topic from its start until it has found every event of
// ids, and returns the offset of the last of them in each partition. The
// tracker answers a pixel before the broker has the event, so only the
// log says when all of them are in.
func locate(ctx context.Context, brokers []string, topic string,
	ids []string) (map[int32]int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, fmt.Errorf("connect to broker: %w", err)
	}
	defer cl.Close()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	last := map[int32]int64{}
	for len(want) > 0 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			var ev leadstreamv1.Event
			if proto.Unmarshal(r.Value, &ev) == nil && want[ev.GetId()] {
				delete(want, ev.GetId())
				last[r.Partition] = max(last[r.Partition], r.Offset)
			}
		})
	}
	if len(want) > 0 {
		return nil, fmt.Errorf("find the sent events in %s: %d not there: %v",
			topic, len(want), sortedSet(want))
	}
	return last, nil
}

// waitCommitted polls until group has committed past last in every
// partition of topic.
func waitCommitted(ctx context.Context, adm *kadm.Client, group, topic string,
	last map[int32]int64) error {
	behind := len(last)
	for {
		offsets, err := adm.FetchOffsets(ctx, group)
		if err == nil {
			behind = 0
			for p, off := range last {
				if o, ok := offsets.Lookup(topic, p); !ok || o.Err != nil || o.At <= off {
					behind++
				}
			}
			if behind == 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for group %s to commit the sent events: "+
				"%d partitions of %s behind: %w", group, behind, topic, ctx.Err())
		case <-time.After(pollEvery):
		}
	}
}

func endOffsets(ctx context.Context, adm *kadm.Client, topic string) (map[int32]int64, error) {
	listed, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	end := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { end[o.Partition] = o.Offset })
	return end, nil
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
