package worker

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
)

// TestLagPerPartition reads the consumer lag gauge while the worker's
// first batch is held before it is published: the partitions polled so
// far report the events behind what was polled, labelled by partition
// number only, and together they account for no more than the
// maxInflight batches a worker holds at once. Once every event is committed, each of
// the 8 partitions reports 0.
func TestLagPerPartition(t *testing.T) {
	e := newEnv(t, 15)
	group := e.prefix + "group"
	e.produce(t)
	ends := e.endOffsets(t)

	held, release := make(chan struct{}), make(chan struct{})
	var hold, unhold sync.Once
	t.Cleanup(func() { unhold.Do(func() { close(release) }) })
	w := e.start(t, group, func(at crashPoint, _ *batch) bool {
		if at == crashBeforePublish {
			hold.Do(func() { close(held); <-release })
		}
		return false
	})
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the worker never finished scoring a batch")
	}
	lag := w.lag(t)
	var polled int64
	for p, v := range lag {
		end, ok := ends[p]
		if !ok || v < 0 || int64(v) >= end {
			t.Fatalf("partition %q: lag %g; the partition ends at offset %d (known: %v)", p, v,
				end, ok)
		}
		polled += end - int64(v)
	}
	if polled < 1 || polled > int64(maxInflight*e.maxPoll) {
		t.Fatalf("lag %v says %d events were polled; a worker holds at most %d batches "+
			"of %d", lag, polled, maxInflight, e.maxPoll)
	}
	unhold.Do(func() { close(release) })

	e.waitCommitted(t, group, 40*time.Second)
	waitFor(t, "every partition's lag to reach zero", func() bool {
		l := w.lag(t)
		return len(l) == len(ends) && allZero(l)
	})
	t.Logf("with the first batch held: lag %v", lag)
}

// lag returns the worker's consumer lag by partition label.
func (r *running) lag(t testing.TB) map[string]float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 64)
	r.m.lag.Collect(ch)
	close(ch)
	out := map[string]float64{}
	for pm := range ch {
		var m dto.Metric
		if err := pm.Write(&m); err != nil {
			t.Fatalf("read lag: %v", err)
		}
		labels := m.GetLabel()
		if len(labels) != 1 || labels[0].GetName() != "partition" {
			t.Fatalf("lag labels %v, want partition only", labels)
		}
		if _, err := strconv.Atoi(labels[0].GetValue()); err != nil {
			t.Fatalf("lag partition label %q is no partition number", labels[0].GetValue())
		}
		out[labels[0].GetValue()] = m.GetGauge().GetValue()
	}
	return out
}

func allZero(m map[string]float64) bool {
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

// endOffsets returns the end offset of each non-empty partition of the
// events topic, by partition number as the lag gauge labels it.
func (e *env) endOffsets(t testing.TB) map[string]int64 {
	t.Helper()
	adm := kadm.NewClient(e.kafka.Client(t))
	ends, err := adm.ListEndOffsets(context.Background(), e.cfg.EventsTopic)
	if err != nil {
		t.Fatalf("list end offsets: %v", err)
	}
	out := map[string]int64{}
	ends.Each(func(l kadm.ListedOffset) {
		if l.Offset > 0 {
			out[strconv.Itoa(int(l.Partition))] = l.Offset
		}
	})
	if len(out) != 8 {
		t.Fatalf("events on %d partitions, want all 8: %v", len(out), out)
	}
	return out
}
