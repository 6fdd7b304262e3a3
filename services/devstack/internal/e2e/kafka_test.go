package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/leadstream/leadstream/pkg/config"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/leadstream/leadstream/services/devstack/internal/demo"
	"github.com/leadstream/leadstream/services/devstack/internal/stack"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
)

// patience bounds every wait for the pipeline; generous, for a loaded
// machine running the race detector.
const patience = 45 * time.Second

func (d *devstack) sender() *demo.Sender {
	return &demo.Sender{BaseURL: d.tracker, WriteKey: "wk_e2e",
		Client: &http.Client{Timeout: 10 * time.Second}}
}

func (d *devstack) send(t *testing.T, events ...demo.Event) {
	t.Helper()
	s := d.sender()
	for _, ev := range events {
		if err := s.Send(context.Background(), ev); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
}

func (d *devstack) admin(t *testing.T) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(d.kafka))
	if err != nil {
		t.Fatalf("kafka client: %v", err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// endOffsets lists where each partition of topic ends.
func endOffsets(t *testing.T, adm *kadm.Client, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	listed, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		t.Fatalf("list end offsets of %s: %v", topic, err)
	}
	end := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { end[o.Partition] = o.Offset })
	return end
}

// committed returns the scorer group's committed offsets on the events
// topic, by partition; a partition without a commit is absent.
func committed(t *testing.T, adm *kadm.Client) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	offsets, err := adm.FetchOffsets(ctx, stack.ScorerGroup)
	if err != nil {
		t.Fatalf("fetch offsets of %s: %v", stack.ScorerGroup, err)
	}
	out := map[int32]int64{}
	offsets.Each(func(o kadm.OffsetResponse) {
		if o.Topic == config.DefaultEventsTopic && o.Err == nil && o.At >= 0 {
			out[o.Partition] = o.At
		}
	})
	return out
}

// waitCaughtUp waits until the scorers have committed every event in the
// events topic, which they do only once the transitions those events
// caused are in the transitions topic, and returns the commits.
func waitCaughtUp(t *testing.T, adm *kadm.Client) map[int32]int64 {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		end, got := endOffsets(t, adm, config.DefaultEventsTopic), committed(t, adm)
		if caughtUp(end, got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("scorers did not commit every event within %s: end %v, committed %v",
				patience, end, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func caughtUp(end, got map[int32]int64) bool {
	for p, off := range end {
		if off > 0 && got[p] < off {
			return false
		}
	}
	return true
}

// transitions reads the whole transitions topic, up to where it ends now,
// in partition order.
func transitions(t *testing.T, d *devstack) []*leadstreamv1.Transition {
	t.Helper()
	end := endOffsets(t, d.admin(t), config.DefaultTransitionsTopic)
	cl := transitionsReader(t, d)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	next := map[int32]int64{}
	var out []*leadstreamv1.Transition
	for !caughtUp(end, next) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read the transitions topic to %v within %s: read to %v", end, patience, next)
		}
		fs.EachRecord(func(r *kgo.Record) {
			next[r.Partition] = r.Offset + 1
			var tr leadstreamv1.Transition
			if err := proto.Unmarshal(r.Value, &tr); err != nil {
				t.Errorf("transition at %d@%d does not decode: %v", r.Partition, r.Offset, err)
				return
			}
			out = append(out, &tr)
		})
	}
	return out
}

// waitTransition reads the transitions topic from the start until it
// finds lead's move to stage.
func waitTransition(t *testing.T, d *devstack, lead string,
	to leadstreamv1.Stage) *leadstreamv1.Transition {
	t.Helper()
	cl := transitionsReader(t, d)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for ctx.Err() == nil {
		var found *leadstreamv1.Transition
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			var tr leadstreamv1.Transition
			if proto.Unmarshal(r.Value, &tr) == nil && tr.GetLeadId() == lead && tr.GetTo() == to {
				found = &tr
			}
		})
		if found != nil {
			return found
		}
	}
	t.Fatalf("no transition of %s to %s within %s", lead, to, patience)
	return nil
}

// transitionsReader reads the transitions topic from its start.
func transitionsReader(t *testing.T, d *devstack) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(d.kafka),
		kgo.ConsumeTopics(config.DefaultTransitionsTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	return cl
}
