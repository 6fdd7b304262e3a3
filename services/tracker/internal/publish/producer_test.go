package publish

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/leadstream/leadstream/pkg/testenv"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newProducer(t *testing.T, buffer int) (*Producer, *testenv.Kafka, string) {
	t.Helper()
	kafka := testenv.StartKafka(t)
	topic := testenv.Prefix(t) + "events"
	kafka.CreateTopic(t, topic, 2)
	cl := kafka.Client(t, ClientOptions(time.Millisecond, kgo.Lz4Compression())...)
	p := New(cl, Options{Topic: topic, BufferSize: buffer, Timeout: 5 * time.Second})
	return p, kafka, topic
}

func TestRecordKey(t *testing.T) {
	cases := []struct {
		name string
		ev   *leadstreamv1.Event
		key  string
	}{
		{"anonymous id wins", &leadstreamv1.Event{Id: "1", AnonymousId: "a", LeadId: "l"}, "a"},
		{"lead id otherwise", &leadstreamv1.Event{Id: "2", LeadId: "l"}, "l"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := Record("topic", tc.ev)
			if err != nil || string(rec.Key) != tc.key ||
				string(rec.Headers[0].Value) != ContentType {
				t.Errorf("record = %+v, err %v; want key %q", rec, err, tc.key)
			}
		})
	}
	if _, err := Record("topic", &leadstreamv1.Event{Id: "\xff"}); err == nil {
		t.Error("Record encoded invalid UTF-8")
	}
}

func TestProduceAndEnqueue(t *testing.T) {
	p, kafka, topic := newProducer(t, 100)
	batch := []*leadstreamv1.Event{{Id: "b1", LeadId: "l"}, {Id: "b2", AnonymousId: "a"}}
	if err := p.Produce(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		ev := &leadstreamv1.Event{Id: fmt.Sprint("p", i), AnonymousId: "a"}
		if err := p.Enqueue(ev); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if p.Pending() != 0 {
		t.Errorf("Pending() = %d after Close", p.Pending())
	}
	late := &leadstreamv1.Event{Id: "late", AnonymousId: "a"}
	if err := p.Enqueue(late); !errors.Is(err, ErrClosed) {
		t.Errorf("Enqueue after Close: %v, want ErrClosed", err)
	}
	if got := len(kafka.ReadAll(t, topic, 12, 10*time.Second)); got != 12 {
		t.Errorf("read %d records, want 12", got)
	}
}

func TestBufferRefusesWhenFull(t *testing.T) {
	p, kafka, _ := newProducer(t, 3)
	kafka.InProcess(t).Close()
	var full int
	for i := range 6 {
		err := p.Enqueue(&leadstreamv1.Event{Id: fmt.Sprint(i), AnonymousId: "a"})
		if errors.Is(err, ErrBufferFull) {
			full++
		}
	}
	if full != 3 || p.Pending() != 3 {
		t.Errorf("%d refused, %d pending; want 3 and 3", full, p.Pending())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := p.Close(ctx); err == nil {
		t.Error("Close reported success with Kafka gone")
	}
}

func TestPingerCaches(t *testing.T) {
	kafka := testenv.StartKafka(t)
	broker := kafka.InProcess(t)
	cl := kafka.Client(t, kgo.RequestRetries(0))
	pinger := NewPinger(cl, time.Hour, time.Second)
	if err := pinger.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	broker.Close()
	if err := pinger.Check(context.Background()); err != nil {
		t.Errorf("cached answer not used: %v", err)
	}
	fresh := NewPinger(cl, 0, time.Second)
	if err := fresh.Check(context.Background()); err == nil {
		t.Error("ping succeeded with Kafka gone")
	}
}

// TestProduceReusesBatches sends batches of different sizes in turn, so
// that pooled buffers are reused, and checks every record read back
// carries its own event and key.
func TestProduceReusesBatches(t *testing.T) {
	p, kafka, topic := newProducer(t, 10)
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	want := map[string]string{}
	for round, size := range []int{5, 1, 3} {
		batch := make([]*leadstreamv1.Event, size)
		for i := range batch {
			id := fmt.Sprintf("r%d-e%d", round, i)
			batch[i] = &leadstreamv1.Event{Id: id, Type: "page_view", LeadId: "lead-" + id,
				Url: strings.Repeat("u", (round+1)*i)}
			want[id] = "lead-" + id
		}
		if err := p.Produce(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	for _, rec := range kafka.ReadAll(t, topic, len(want), 10*time.Second) {
		var ev leadstreamv1.Event
		if err := proto.Unmarshal(rec.Value, &ev); err != nil {
			t.Fatalf("decode record: %v", err)
		}
		if string(rec.Key) != want[ev.Id] || ev.LeadId != want[ev.Id] {
			t.Errorf("record key %q holds %v", rec.Key, &ev)
		}
		delete(want, ev.Id)
	}
	if len(want) > 0 {
		t.Errorf("events never read: %v", want)
	}
}
