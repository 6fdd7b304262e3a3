package subscribe_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/leadstream/leadstream/pkg/subscribe"
	"github.com/leadstream/leadstream/pkg/testenv"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

var fastRetry = subscribe.RetryPolicy{
	MaxAttempts: 3, Base: 5 * time.Millisecond, Max: 20 * time.Millisecond,
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	h := func(context.Context, *leadstreamv1.Transition) error { return nil }
	tests := []struct {
		name    string
		cfg     subscribe.Config
		handler subscribe.Handler
		want    error
	}{
		{"no handler", subscribe.Config{Brokers: []string{"b:9092"}, GroupID: "g"}, nil,
			subscribe.ErrNoHandler},
		{"no brokers", subscribe.Config{GroupID: "g"}, h, subscribe.ErrNoBrokers},
		{"no group", subscribe.Config{Brokers: []string{"b:9092"}}, h, subscribe.ErrNoGroup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := subscribe.New(tt.cfg, tt.handler); !errors.Is(err, tt.want) {
				t.Fatalf("New() error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRunDeliversAndSkipsPoison(t *testing.T) {
	k := testenv.StartKafka(t)
	p := testenv.Prefix(t)
	topic := p + "transitions"
	k.CreateTopic(t, topic, 2)

	values := encode(t, transition("a", leadstreamv1.Stage_STAGE_MQL))
	values = append(values, []byte("not a protobuf \xff\xff"))
	values = append(values, encode(t, transition("b", leadstreamv1.Stage_STAGE_SQL))...)
	produce(t, k, topic, values...)

	var got recorder
	var poisoned atomic.Int32
	sub, err := subscribe.New(subscribe.Config{
		Brokers: k.Brokers, Topic: topic, GroupID: p + "group", Retry: fastRetry,
		OnPoison: func(context.Context, kafka.Message, error) { poisoned.Add(1) },
	}, func(_ context.Context, tr *leadstreamv1.Transition) error {
		got.add(tr.GetId())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := runAsync(t, sub.Run)
	// The poison record may sit on the other partition, read after both
	// good ones, so wait for all three outcomes.
	waitFor(t, 30*time.Second, "two transitions and one poison record", func() bool {
		return len(got.snapshot()) == 2 && poisoned.Load() == 1
	})
	if err := stop(); err != nil {
		t.Fatalf("Run() = %v", err)
	}
	ids := got.snapshot()
	slices.Sort(ids)
	if want := []string{"a-STAGE_MQL", "b-STAGE_SQL"}; !slices.Equal(ids, want) {
		t.Errorf("handled %v, want %v", ids, want)
	}
	if poisoned.Load() != 1 {
		t.Errorf("poison handler called %d times, want 1", poisoned.Load())
	}
}

func TestRunRetriesFailingHandler(t *testing.T) {
	k := testenv.StartKafka(t)
	p := testenv.Prefix(t)
	topic := p + "transitions"
	k.CreateTopic(t, topic, 1)
	produce(t, k, topic, encode(t, transition("a", leadstreamv1.Stage_STAGE_MQL))...)

	var calls atomic.Int32
	done := make(chan struct{})
	sub, err := subscribe.New(subscribe.Config{
		Brokers: k.Brokers, Topic: topic, GroupID: p + "group", Retry: fastRetry,
	}, func(context.Context, *leadstreamv1.Transition) error {
		if calls.Add(1) < 3 {
			return errors.New("downstream unavailable")
		}
		close(done)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := runAsync(t, sub.Run)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("handler never succeeded")
	}
	if err := stop(); err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if calls.Load() != 3 {
		t.Errorf("handler called %d times, want 3", calls.Load())
	}
}

// TestRunCommitsOnlyAfterSuccess stops a subscriber whose handler never
// succeeds and checks that the next one in the group gets the same record.
func TestRunCommitsOnlyAfterSuccess(t *testing.T) {
	k := testenv.StartKafka(t)
	p := testenv.Prefix(t)
	topic := p + "transitions"
	k.CreateTopic(t, topic, 1)
	produce(t, k, topic, encode(t, transition("a", leadstreamv1.Stage_STAGE_SQL))...)
	cfg := subscribe.Config{
		Brokers: k.Brokers, Topic: topic, GroupID: p + "group", Retry: fastRetry,
	}

	var failures atomic.Int32
	failing, err := subscribe.New(cfg, func(context.Context, *leadstreamv1.Transition) error {
		failures.Add(1)
		return errors.New("crm down")
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := failing.Run(ctx); err == nil || ctx.Err() != nil {
		t.Fatalf("Run() = %v, want the handler error before the deadline", err)
	}
	if failures.Load() != int32(fastRetry.MaxAttempts) {
		t.Errorf("handler called %d times, want %d", failures.Load(), fastRetry.MaxAttempts)
	}

	var got recorder
	healthy, err := subscribe.New(cfg, func(_ context.Context, tr *leadstreamv1.Transition) error {
		got.add(tr.GetId())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := runAsync(t, healthy.Run)
	waitFor(t, 30*time.Second, "redelivery", func() bool { return len(got.snapshot()) == 1 })
	if err := stop(); err != nil {
		t.Fatalf("Run() = %v", err)
	}
}

func TestRunOnFailureSkips(t *testing.T) {
	k := testenv.StartKafka(t)
	p := testenv.Prefix(t)
	topic := p + "transitions"
	k.CreateTopic(t, topic, 1)
	produce(t, k, topic, encode(t,
		transition("bad", leadstreamv1.Stage_STAGE_MQL),
		transition("good", leadstreamv1.Stage_STAGE_MQL))...)

	var failed, handled recorder
	sub, err := subscribe.New(subscribe.Config{
		Brokers: k.Brokers, Topic: topic, GroupID: p + "group", Retry: fastRetry,
		OnFailure: func(_ context.Context, tr *leadstreamv1.Transition, _ error) error {
			failed.add(tr.GetId())
			return nil
		},
	}, func(_ context.Context, tr *leadstreamv1.Transition) error {
		if tr.GetLeadId() == "bad" {
			return errors.New("rejected")
		}
		handled.add(tr.GetId())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := runAsync(t, sub.Run)
	waitFor(t, 30*time.Second, "good transition", func() bool {
		return len(handled.snapshot()) == 1
	})
	if err := stop(); err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if f := failed.snapshot(); len(f) != 1 || f[0] != "bad-STAGE_MQL" {
		t.Errorf("OnFailure saw %v, want [bad-STAGE_MQL]", f)
	}
}

func TestRunDedupe(t *testing.T) {
	k := testenv.StartKafka(t)
	r := testenv.StartRedis(t)
	tests := []struct {
		name   string
		dedupe func(p string) subscribe.Dedupe
	}{
		{"memory", func(string) subscribe.Dedupe { return subscribe.NewMemoryDedupe(100) }},
		{"redis", func(p string) subscribe.Dedupe {
			return subscribe.NewRedisDedupe(r.Client(t), p+"seen", time.Minute)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testenv.Prefix(t)
			topic := p + "transitions"
			k.CreateTopic(t, topic, 1)
			dup := transition("a", leadstreamv1.Stage_STAGE_MQL)
			produce(t, k, topic,
				encode(t, dup, dup, transition("z", leadstreamv1.Stage_STAGE_MQL))...)

			var got recorder
			sub, err := subscribe.New(subscribe.Config{
				Brokers: k.Brokers, Topic: topic, GroupID: p + "group", Dedupe: tt.dedupe(p),
			}, func(_ context.Context, tr *leadstreamv1.Transition) error {
				got.add(tr.GetId())
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			stop := runAsync(t, sub.Run)
			waitFor(t, 30*time.Second, "last transition", func() bool {
				return slices.Contains(got.snapshot(), "z-STAGE_MQL")
			})
			if err := stop(); err != nil {
				t.Fatalf("Run() = %v", err)
			}
			if ids := got.snapshot(); !slices.Equal(ids, []string{"a-STAGE_MQL", "z-STAGE_MQL"}) {
				t.Errorf("handled %v, want each id once", ids)
			}
		})
	}
}
