package subscribe_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/leadstream/leadstream/pkg/testenv"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

func transition(lead string, to leadstreamv1.Stage) *leadstreamv1.Transition {
	return &leadstreamv1.Transition{
		Id: lead + "-" + to.String(), LeadId: lead, From: to - 1, To: to,
		OccurredAtUnixMs: 1796292900000, EventId: "ev-" + lead, RulesVersion: "2026-q4",
		Reasons: []string{"blog_view = 2 >= 2"}, Counters: map[string]int64{"blog_view": 2},
	}
}

func produce(t *testing.T, k *testenv.Kafka, topic string, values ...[]byte) {
	t.Helper()
	cl := k.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, v := range values {
		rec := &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: v}
		if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
}

func encode(t *testing.T, trs ...*leadstreamv1.Transition) [][]byte {
	t.Helper()
	out := make([][]byte, 0, len(trs))
	for _, tr := range trs {
		b, err := proto.Marshal(tr)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		out = append(out, b)
	}
	return out
}

// recorder collects the ids a handler saw.
type recorder struct {
	mu  sync.Mutex
	ids []string
}

func (r *recorder) add(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, id)
}

func (r *recorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runAsync runs fn in the background and stops it when the test ends.
func runAsync(t *testing.T, fn func(ctx context.Context) error) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- fn(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-errc
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}
