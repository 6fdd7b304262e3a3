package app

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap/zaptest"
	"google.golang.org/protobuf/proto"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/testenv"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// running is a tracker serving on a loopback port for one test.
type running struct {
	url    string
	topic  string
	http   *http.Client
	cancel context.CancelFunc
	done   chan error
}

// testConfig is a valid configuration against brokers, with a topic of
// its own.
func testConfig(t *testing.T, brokers []string) Config {
	t.Helper()
	fs := config.NewFlagSetEnv("tracker", func(string) (string, bool) { return "", false })
	var cfg Config
	cfg.Register(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	cfg.Kafka.Brokers = brokers
	cfg.Kafka.EventsTopic = testenv.Prefix(t) + "events"
	cfg.WriteKeys = []string{"wk_test=shop"}
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.EventsPartitions = 4
	cfg.RateLimit = 0
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startTracker runs the tracker until the test ends or stop is called.
func startTracker(t *testing.T, cfg Config) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tr, err := New(ctx, zaptest.NewLogger(t), cfg)
	if err != nil {
		cancel()
		t.Fatalf("new tracker: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		tr.closeClient()
		t.Fatal(err)
	}
	r := &running{url: "http://" + ln.Addr().String(), topic: cfg.Kafka.EventsTopic,
		http: &http.Client{Timeout: 10 * time.Second}, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- tr.Serve(ctx, ln) }()
	t.Cleanup(func() {
		_ = r.stop(t)
		r.http.CloseIdleConnections()
	})
	return r
}

// stop cancels the run context the way SIGTERM does and returns what
// Serve returned.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
		}
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("tracker did not stop")
		return errors.New("unreachable")
	}
}

func (r *running) get(t *testing.T, path string) *http.Response {
	t.Helper()
	resp, err := r.http.Get(r.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	return resp
}

func (r *running) post(t *testing.T, body string) *http.Response {
	t.Helper()
	resp, err := r.http.Post(r.url+"/v1/events", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	resp.Body.Close()
	return resp
}

// decode turns records into events by id, checking every record's header
// and key on the way.
func decode(t *testing.T, recs []*kgo.Record) map[string]*leadstreamv1.Event {
	t.Helper()
	out := map[string]*leadstreamv1.Event{}
	for _, rec := range recs {
		var ev leadstreamv1.Event
		if err := proto.Unmarshal(rec.Value, &ev); err != nil {
			t.Fatalf("record at offset %d does not decode: %v", rec.Offset, err)
		}
		if len(rec.Headers) != 1 || rec.Headers[0].Key != "content-type" ||
			string(rec.Headers[0].Value) != "application/x-protobuf; proto=leadstream.v1.Event" {
			t.Errorf("event %s headers = %v", ev.Id, rec.Headers)
		}
		wantKey := ev.AnonymousId
		if wantKey == "" {
			wantKey = ev.LeadId
		}
		if string(rec.Key) != wantKey {
			t.Errorf("event %s key = %q, want %q", ev.Id, rec.Key, wantKey)
		}
		out[ev.Id] = &ev
	}
	return out
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
