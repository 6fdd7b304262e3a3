// Package harness holds what the notifier's integration tests share: a
// broker and a Redis with the test's own topics, a webhook receiver that
// checks signatures, a sinks file, and the producer of transitions.
package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/leadstream/leadstream/pkg/subscribe"
	"github.com/leadstream/leadstream/pkg/testenv"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// Env is one test's servers and names.
type Env struct {
	Kafka *testenv.Kafka
	Redis *testenv.Redis
	// Prefix is unique to the test; topics, group and keys start with it.
	Prefix      string
	Transitions string
	Parked      string
	Group       string
	KeyPrefix   string
}

// New starts a broker, with the given kfake options, and a Redis, and
// creates the test's topics.
func New(t *testing.T, opts ...kfake.Opt) *Env {
	t.Helper()
	p := testenv.Prefix(t)
	e := &Env{Kafka: testenv.StartKafka(t, opts...), Redis: testenv.StartRedis(t), Prefix: p,
		Transitions: p + "transitions", Parked: p + "parked", Group: p + "notifier",
		KeyPrefix: p + "ls"}
	e.Kafka.CreateTopic(t, e.Transitions, 4)
	e.Kafka.CreateTopic(t, e.Parked, 1)
	return e
}

// Args are the notifier flags that point it at the test's servers, with
// its operational endpoints on httpAddr.
func (e *Env) Args(sinksPath, httpAddr string) []string {
	return []string{
		"--sinks", sinksPath, "--http-addr", httpAddr, "--group", e.Group,
		"--kafka-brokers", strings.Join(e.Kafka.Brokers, ","), "--redis-addrs", e.Redis.Addrs[0],
		"--redis-key-prefix", e.KeyPrefix, "--transitions-topic", e.Transitions,
		"--parked-topic", e.Parked, "--log-level", "warn",
		"--retry-base", "50ms", "--retry-max", "200ms",
	}
}

// Produce publishes n SQL transitions for distinct leads, tagged with
// batch so that several batches in one test do not collide, and returns
// their ids.
func (e *Env) Produce(t *testing.T, batch string, n int) []string {
	t.Helper()
	cl := e.Kafka.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ids []string
	for i := range n {
		rec, id := e.Record(batch, i)
		if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			t.Fatalf("produce transition: %v", err)
		}
		ids = append(ids, id)
	}
	return ids
}

// Record returns the i-th SQL transition of batch, for a lead of its
// own, as a record of the transitions topic, and the transition's id.
func (e *Env) Record(batch string, i int) (*kgo.Record, string) {
	lead := fmt.Sprintf("%s%s-lead-%02d", e.Prefix, batch, i)
	tr := &leadstreamv1.Transition{Id: lead + "-sql-1", LeadId: lead,
		From: leadstreamv1.Stage_STAGE_MQL, To: leadstreamv1.Stage_STAGE_SQL,
		OccurredAtUnixMs: time.Now().UnixMilli(), Reasons: []string{"demo_request = 1 >= 1"}}
	b, err := proto.Marshal(tr)
	if err != nil {
		panic(fmt.Sprintf("marshal a transition: %v", err)) // cannot fail for this message
	}
	return &kgo.Record{Topic: e.Transitions, Key: []byte(lead), Value: b}, tr.Id
}

// WriteSinks writes a sinks file into the test's temporary directory.
func WriteSinks(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sinks.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatalf("write sinks file: %v", err)
	}
	return path
}

// Request is one request a Receiver answered.
type Request struct {
	// Key is the Idempotency-Key header, the transition id.
	Key string
	// LeadID is read from the body.
	LeadID string
	// Signed is nil when the signature verified under the secret.
	Signed error
	// Accepted is true when the answer was 2xx and the client was still
	// waiting for it.
	Accepted bool
	// At is when the request arrived.
	At time.Time
	// Latency is from the transition's occurred_at to the arrival.
	Latency time.Duration
}

// Receiver is a webhook endpoint that verifies every signature and
// answers after an optional delay.
type Receiver struct {
	URL    string
	secret []byte
	delay  time.Duration

	mu   sync.Mutex
	reqs []Request
}

// NewReceiver starts a receiver, closed when the test ends. Each answer
// waits delay first; a client that gives up meanwhile is not counted as
// a delivery.
func NewReceiver(t *testing.T, secret string, delay time.Duration) *Receiver {
	t.Helper()
	rc := &Receiver{secret: []byte(secret), delay: delay}
	srv := httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(srv.Close)
	rc.URL = srv.URL
	return rc
}

func (rc *Receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{Key: r.Header.Get("Idempotency-Key"), At: time.Now(),
		Signed: subscribe.Verify(r.Header.Get("Leadstream-Signature"), body, rc.secret,
			5*time.Minute, time.Now())}
	var p subscribe.Payload
	if err := json.Unmarshal(body, &p); err == nil {
		req.LeadID = p.LeadID
		if at, err := time.Parse(time.RFC3339Nano, p.OccurredAt); err == nil {
			req.Latency = req.At.Sub(at)
		}
	}
	select {
	case <-time.After(rc.delay):
		req.Accepted = true
	case <-r.Context().Done():
	}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, req)
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// Requests returns a copy of what the receiver has seen so far.
func (rc *Receiver) Requests() []Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Request(nil), rc.reqs...)
}

// Accepted counts the accepted deliveries per transition id.
func (rc *Receiver) Accepted() map[string]int {
	out := map[string]int{}
	for _, r := range rc.Requests() {
		if r.Accepted {
			out[r.Key]++
		}
	}
	return out
}

// WaitFor polls cond every 20ms and fails the test after timeout.
func WaitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Get fetches url and returns the status and body; status 0 means the
// server did not answer.
func Get(url string) (int, string) {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
