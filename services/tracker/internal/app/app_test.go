package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"google.golang.org/protobuf/proto"

	"github.com/leadstream/leadstream/pkg/testenv"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

func TestBatchIsInKafkaWhenAccepted(t *testing.T) {
	kafka := testenv.StartKafka(t)
	tr := startTracker(t, testConfig(t, kafka.Brokers))
	ts := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	body := fmt.Sprintf(`{"write_key":"wk_test","events":[
		{"id":"e1","type":"page_view","anonymous_id":"a-17","timestamp":%q,
		 "url":"https://example.com/pricing","properties":{"utm_source":"newsletter"}},
		{"id":"e2","type":"email_open","lead_id":"crm-42"},
		{"id":"e3","type":"identify","anonymous_id":"a-17","lead_id":"crm-42",
		 "traits":{"email":" Ann@Buyer.Example","title":"CTO"}}]}`, ts.Format(time.RFC3339Nano))

	if resp := tr.post(t, body); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST answered %d", resp.StatusCode)
	}
	// No waiting: 202 promises that Kafka already has every event.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(kafka.Client(t)).ListEndOffsets(ctx, tr.topic)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != 3 {
		t.Fatalf("right after 202 the topic holds %d records, want 3", total)
	}

	got := decode(t, kafka.ReadAll(t, tr.topic, 3, 10*time.Second))
	want := map[string]*leadstreamv1.Event{
		"e1": {Id: "e1", Type: "page_view", AnonymousId: "a-17", OccurredAtUnixMs: ts.UnixMilli(),
			ClientTimestampUnixMs: ts.UnixMilli(), Url: "https://example.com/pricing",
			Properties: map[string]string{"utm_source": "newsletter"}},
		"e2": {Id: "e2", Type: "email_open", LeadId: "crm-42"},
		"e3": {Id: "e3", Type: "identify", AnonymousId: "a-17", LeadId: "crm-42",
			Traits: map[string]string{"email": "ann@buyer.example", "email_domain": "buyer.example",
				"title": "CTO"}},
	}
	for id, w := range want {
		ev := got[id]
		if ev == nil {
			t.Fatalf("event %s missing from Kafka", id)
		}
		if ev.ReceivedAtUnixMs == 0 || ev.Source != leadstreamv1.Source_SOURCE_BATCH ||
			ev.Site != "shop" {
			t.Errorf("event %s stamped wrong: %v", id, ev)
		}
		if w.OccurredAtUnixMs == 0 {
			w.OccurredAtUnixMs = ev.ReceivedAtUnixMs
		}
		w.ReceivedAtUnixMs, w.Source, w.Site = ev.ReceivedAtUnixMs, ev.Source, ev.Site
		if !proto.Equal(ev, w) {
			t.Errorf("event %s =\n%v\nwant\n%v", id, ev, w)
		}
	}
}

func TestPixelReachesKafka(t *testing.T) {
	kafka := testenv.StartKafka(t)
	tr := startTracker(t, testConfig(t, kafka.Brokers))
	q := url.Values{"k": {"wk_test"}, "e": {"download"}, "aid": {"a-9"}, "url": {"https://x.io/a"},
		"p.file": {"guide.pdf"}, "ts": {fmt.Sprint(time.Now().UnixMilli())}}

	if resp := tr.get(t, "/p.gif?"+q.Encode()); resp.StatusCode != http.StatusOK {
		t.Fatalf("pixel answered %d", resp.StatusCode)
	}
	recs := kafka.ReadAll(t, tr.topic, 1, 10*time.Second)
	if len(recs) != 1 {
		t.Fatalf("read %d records, want 1", len(recs))
	}
	for _, ev := range decode(t, recs) {
		if ev.Type != "download" || ev.AnonymousId != "a-9" ||
			ev.Properties["file"] != "guide.pdf" ||
			ev.Source != leadstreamv1.Source_SOURCE_PIXEL || len(ev.Id) != 36 {
			t.Errorf("event = %v", ev)
		}
	}
}

func TestShutdownFlushesEveryAcceptedPixel(t *testing.T) {
	kafka := testenv.StartKafka(t)
	cfg := testConfig(t, kafka.Brokers)
	cfg.ShutdownDelay = 300 * time.Millisecond
	tr := startTracker(t, cfg)

	var (
		mu       sync.Mutex
		accepted []string
		next     atomic.Int64
		wg       sync.WaitGroup
		stopLoad = make(chan struct{})
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stopLoad:
					return
				default:
				}
				id := fmt.Sprintf("px-%d", next.Add(1))
				resp, err := tr.http.Get(tr.url + "/p.gif?k=wk_test&aid=a-" + id + "&eid=" + id)
				if err != nil {
					continue // the server has stopped accepting
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					mu.Lock()
					accepted = append(accepted, id)
					mu.Unlock()
				}
			}
		}()
	}

	time.Sleep(300 * time.Millisecond)
	tr.cancel()
	// While draining, the tracker still serves but is no longer ready.
	eventually(t, 5*time.Second, "readyz fails", func() bool {
		return tr.get(t, "/readyz").StatusCode == http.StatusServiceUnavailable
	})
	if err := tr.stop(t); err != nil {
		t.Fatalf("Serve returned %v, want a clean stop", err)
	}
	close(stopLoad)
	wg.Wait()

	if len(accepted) < 20 {
		t.Fatalf("only %d pixels accepted; the load did not run", len(accepted))
	}
	got := decode(t, kafka.ReadAll(t, tr.topic, len(accepted), 20*time.Second))
	for _, id := range accepted {
		if got[id] == nil {
			t.Errorf("pixel %s answered 200 but is not in Kafka", id)
		}
	}
	t.Logf("%d pixels accepted, %d in Kafka", len(accepted), len(got))
}

func TestKafkaOutage(t *testing.T) {
	kafka := testenv.StartKafka(t)
	broker := kafka.InProcess(t)
	cfg := testConfig(t, kafka.Brokers)
	cfg.ProduceTimeout = 500 * time.Millisecond
	cfg.ShutdownTimeout = time.Second
	tr := startTracker(t, cfg)
	if code := tr.get(t, "/readyz").StatusCode; code != http.StatusOK {
		t.Fatalf("readyz = %d with Kafka up", code)
	}

	broker.Close()
	eventually(t, 10*time.Second, "readyz fails", func() bool {
		return tr.get(t, "/readyz").StatusCode == http.StatusServiceUnavailable
	})
	resp := tr.post(t, `{"write_key":"wk_test","events":[{"type":"x","lead_id":"l"}]}`)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("batch during outage answered %d, want 503", resp.StatusCode)
	}
	// Shutting down with nothing accepted still unflushed stops cleanly;
	// the refused batch was the sender's to retry.
	if err := tr.stop(t); err != nil {
		t.Logf("stop during outage: %v", err)
	}
}

func TestPixelBufferFull(t *testing.T) {
	kafka := testenv.StartKafka(t)
	broker := kafka.InProcess(t)
	cfg := testConfig(t, kafka.Brokers)
	cfg.PixelBuffer = 5
	cfg.ShutdownTimeout = time.Second
	tr := startTracker(t, cfg)

	broker.Close()
	codes := map[int]int{}
	for i := range 20 {
		codes[tr.get(t, fmt.Sprintf("/p.gif?k=wk_test&aid=a&eid=b%d", i)).StatusCode]++
	}
	if codes[http.StatusOK] != 5 || codes[http.StatusServiceUnavailable] != 15 {
		t.Errorf("answers = %v, want 5 OK and 15 unavailable", codes)
	}
	if err := tr.stop(t); err == nil {
		t.Error("stop reported a clean flush although Kafka never took the buffered pixels")
	}
}
