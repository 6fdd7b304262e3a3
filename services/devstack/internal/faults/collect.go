package faults

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/pkg/workload"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// readTopic returns every record of topic up to the end offsets it has
// when called.
func readTopic(ctx context.Context, brokers []string, topic string) ([]*kgo.Record, error) {
	adm, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, fmt.Errorf("read topic %s: %w", topic, err)
	}
	ends, err := kadm.NewClient(adm).ListEndOffsets(ctx, topic)
	adm.Close()
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})

	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, fmt.Errorf("read topic %s: %w", topic, err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("read topic %s: %d partitions unread: %w", topic, len(left), err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			out = append(out, r)
			if end, ok := left[r.Partition]; ok && r.Offset+1 >= end {
				delete(left, r.Partition)
			}
		})
	}
	return out, nil
}

// eventIDs counts the records per event id on the events topic, and
// finds where each id is first. Records that do not decode are skipped:
// they are the poison records.
func eventIDs(recs []*kgo.Record) (map[string]int, map[string]Pos) {
	count, at := map[string]int{}, map[string]Pos{}
	for _, r := range recs {
		var ev leadstreamv1.Event
		if proto.Unmarshal(r.Value, &ev) != nil || ev.GetId() == "" {
			continue
		}
		count[ev.GetId()]++
		if p, ok := at[ev.GetId()]; !ok || r.Offset < p.Offset {
			at[ev.GetId()] = Pos{Partition: r.Partition, Offset: r.Offset}
		}
	}
	return count, at
}

// transitions decodes the transitions topic.
func transitions(recs []*kgo.Record) ([]Published, error) {
	out := make([]Published, 0, len(recs))
	for _, r := range recs {
		tr := &leadstreamv1.Transition{}
		if err := proto.Unmarshal(r.Value, tr); err != nil {
			return nil, fmt.Errorf("decode transition at %d/%d: %w", r.Partition, r.Offset, err)
		}
		out = append(out, Published{Transition: tr,
			Pos: Pos{Partition: r.Partition, Offset: r.Offset}})
	}
	return out, nil
}

func deadLetters(recs []*kgo.Record) []DeadLetter {
	out := make([]DeadLetter, len(recs))
	for i, r := range recs {
		h := make(map[string]string, len(r.Headers))
		for _, kv := range r.Headers {
			h[kv.Key] = string(kv.Value)
		}
		out[i] = DeadLetter{Key: r.Key, Value: r.Value, Headers: h}
	}
	return out
}

// endOffsets returns the end offset of every partition of topic.
func endOffsets(ctx context.Context, adm *kadm.Client, topic string) (map[int32]int64, error) {
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out, nil
}

// readLeads reads the stored state of every lead the oracle knows, and
// counts their pending transitions.
func readLeads(ctx context.Context, rdb redis.UniversalClient, prefix string,
	o *workload.Oracle) (map[string]*rules.State, int, error) {
	store, err := leadstore.New(rdb, prefix)
	if err != nil {
		return nil, 0, fmt.Errorf("read leads: %w", err)
	}
	out, pending := map[string]*rules.State{}, 0
	for id := range o.Leads {
		e := leadstore.Lead(id)
		if anon, ok := strings.CutPrefix(id, rules.AnonPrefix); ok {
			e = leadstore.Anon(anon)
		}
		st, p, err := store.Read(ctx, e)
		if err != nil {
			return nil, 0, fmt.Errorf("read leads: %w", err)
		}
		out[id], pending = st, pending+len(p)
	}
	return out, pending, nil
}

// groupLag returns how many records of topic the group has not committed.
// A partition without a commit counts from its start.
func groupLag(ctx context.Context, adm *kadm.Client, group, topic string) (int64, error) {
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("list start offsets of %s: %w", topic, err)
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err == nil {
		err = committed.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("fetch offsets of group %s: %w", group, err)
	}
	var lag int64
	ends.Each(func(end kadm.ListedOffset) {
		at := starts[topic][end.Partition].Offset
		if c, ok := committed.Lookup(topic, end.Partition); ok && c.At >= 0 {
			at = c.At
		}
		lag += max(end.Offset-at, 0)
	})
	return lag, nil
}

// describeGroup returns the group's state, members and their partitions,
// for the report of a run that did not settle.
func describeGroup(ctx context.Context, adm *kadm.Client, group string) string {
	groups, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return fmt.Sprintf("describe group %s: %v", group, err)
	}
	g, ok := groups[group]
	if !ok {
		return "group " + group + " not found"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "group %s state %s", group, g.State)
	for _, m := range g.Members {
		assigned, _ := m.Assigned.AsConsumer()
		var parts []int32
		if assigned != nil {
			for _, t := range assigned.Topics {
				parts = append(parts, t.Partitions...)
			}
		}
		fmt.Fprintf(&b, "; member %s partitions %v", m.MemberID, parts)
	}
	return b.String()
}
