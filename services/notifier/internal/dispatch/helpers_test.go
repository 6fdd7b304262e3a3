package dispatch_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/leadstream/leadstream/pkg/subscribe"
	"github.com/leadstream/leadstream/pkg/testenv"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/leadstream/leadstream/services/notifier/internal/dispatch"
	"github.com/leadstream/leadstream/services/notifier/internal/retryq"
	"github.com/leadstream/leadstream/services/notifier/internal/sink"
	"github.com/leadstream/leadstream/services/notifier/internal/sinkfile"
)

const secret = "test-secret"

// env is the servers and names one test uses.
type env struct {
	kafka  *testenv.Kafka
	redis  *testenv.Redis
	prefix string
	topic  string
	parked string
	// reg holds the metrics of the dispatcher started last.
	reg *prometheus.Registry
}

func newEnv(t testing.TB) *env {
	t.Helper()
	p := testenv.Prefix(t)
	e := &env{kafka: testenv.StartKafka(t), redis: testenv.StartRedis(t), prefix: p,
		topic: p + "transitions", parked: p + "parked"}
	e.kafka.CreateTopic(t, e.topic, 2)
	e.kafka.CreateTopic(t, e.parked, 1)
	return e
}

// request is what a receiver saw.
type request struct {
	key, delivery, signature string
	body                     []byte
	at                       time.Time
}

// receiver is an httptest server answering with a scripted status.
type receiver struct {
	mu     sync.Mutex
	reqs   []request
	ok     []request // the requests answered 2xx
	status func(n int, r *http.Request, w http.ResponseWriter) int
	srv    *httptest.Server
}

// holdingReceiver answers every delivery at once except the one with
// Idempotency-Key key, which it holds for hold first; answered tells
// when that one was answered.
func holdingReceiver(t testing.TB, key string, hold time.Duration) (rc *receiver,
	answered func() time.Time) {
	t.Helper()
	var mu sync.Mutex
	var done time.Time
	rc = newReceiver(t, func(_ int, r *http.Request, _ http.ResponseWriter) int {
		if r.Header.Get("Idempotency-Key") == key {
			time.Sleep(hold)
			mu.Lock()
			done = time.Now()
			mu.Unlock()
		}
		return http.StatusOK
	})
	return rc, func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return done
	}
}

func newReceiver(
	t testing.TB, status func(n int, r *http.Request, w http.ResponseWriter) int,
) *receiver {
	t.Helper()
	rc := &receiver{status: status}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := request{key: r.Header.Get("Idempotency-Key"),
		delivery:  r.Header.Get("Leadstream-Delivery"),
		signature: r.Header.Get("Leadstream-Signature"), body: body, at: time.Now()}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, req)
	n := len(rc.reqs)
	rc.mu.Unlock()
	code := rc.status(n, r, w)
	if code/100 == 2 {
		rc.mu.Lock()
		rc.ok = append(rc.ok, req)
		rc.mu.Unlock()
	}
	w.WriteHeader(code)
}

func (rc *receiver) snapshot() (all, ok []request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.reqs...), append([]request(nil), rc.ok...)
}

func always(code int) func(int, *http.Request, http.ResponseWriter) int {
	return func(int, *http.Request, http.ResponseWriter) int { return code }
}

func webhookRoute(name string, rc *receiver, maxAttempts int) dispatch.Route {
	return dispatch.Route{
		Sink: sinkfile.Sink{Name: name, Type: sinkfile.TypeWebhook, URL: rc.srv.URL,
			Stages: []leadstreamv1.Stage{
				leadstreamv1.Stage_STAGE_MQL, leadstreamv1.Stage_STAGE_SQL,
			},
			Timeout: 2 * time.Second, MaxAttempts: maxAttempts},
		Sender: &sink.Webhook{URL: rc.srv.URL, Secret: []byte(secret),
			Client: sink.NewHTTPClient(true), Now: time.Now},
	}
}

// start runs a dispatcher in group until the returned stop is called or
// the test ends.
func (e *env) start(t testing.TB, group string, routes ...dispatch.Route) (stop func()) {
	t.Helper()
	return e.startWith(t, group, nil, routes...)
}

// startWith is start with tune, when not nil, changing the test
// settings before the dispatcher is built.
func (e *env) startWith(
	t testing.TB, group string, tune func(*dispatch.Config), routes ...dispatch.Route,
) (stop func()) {
	t.Helper()
	parker := dispatch.NewKafkaParker(e.kafka.Brokers, e.parked, nil)
	e.reg = prometheus.NewRegistry()
	cfg := dispatch.Config{
		Brokers: e.kafka.Brokers, Topic: e.topic, Group: e.prefix + group, Routes: routes,
		Queue:         retryq.New(e.redis.Client(t), e.prefix, 10*time.Second, time.Hour),
		Parker:        parker,
		Metrics:       dispatch.NewMetrics(e.reg),
		InlineTimeout: 300 * time.Millisecond, RetryBase: 20 * time.Millisecond,
		RetryMax: 100 * time.Millisecond, RetryAfterMax: 5 * time.Second,
		PollInterval: 20 * time.Millisecond, Concurrency: 4,
	}
	if tune != nil {
		tune(&cfg)
	}
	d := dispatch.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run() = %v", err)
			}
			if err := parker.Close(); err != nil {
				t.Errorf("close parker: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// produce publishes n transitions for distinct leads and returns their ids.
func (e *env) produce(t *testing.T, n int) []string {
	t.Helper()
	var trs []*leadstreamv1.Transition
	for i := range n {
		lead := fmt.Sprintf("lead-%02d", i)
		trs = append(trs, &leadstreamv1.Transition{Id: lead + "-sql-1", LeadId: lead,
			From: leadstreamv1.Stage_STAGE_MQL, To: leadstreamv1.Stage_STAGE_SQL,
			OccurredAtUnixMs: time.Now().UnixMilli(),
			Reasons:          []string{"contact_request = 1 >= 1"}})
	}
	return e.publish(t, trs...)
}

// publish writes trs in order, keyed by lead, and returns their ids.
func (e *env) publish(t *testing.T, trs ...*leadstreamv1.Transition) []string {
	t.Helper()
	cl := e.kafka.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ids []string
	for _, tr := range trs {
		b, err := proto.Marshal(tr)
		if err != nil {
			t.Fatal(err)
		}
		rec := &kgo.Record{Topic: e.topic, Key: []byte(tr.LeadId), Value: b}
		if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
		ids = append(ids, tr.Id)
	}
	return ids
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkOnceEach fails unless every id was answered 2xx exactly once and
// every request carried a valid signature.
func checkOnceEach(t *testing.T, rc *receiver, ids []string) {
	t.Helper()
	all, ok := rc.snapshot()
	count := map[string]int{}
	for _, r := range ok {
		count[r.key]++
	}
	for _, id := range ids {
		if count[id] != 1 {
			t.Errorf("transition %s delivered %d times, want 1", id, count[id])
		}
	}
	for _, r := range all {
		if err := subscribe.Verify(r.signature, r.body, []byte(secret), 0, time.Now()); err != nil {
			t.Errorf("signature of delivery %s: %v", r.delivery, err)
		}
	}
}

// metric is the value of the counter or gauge name, in the registry of
// the dispatcher started last, whose labels include labels; 0 when no
// such series exists yet. Several matching series are summed.
func (e *env) metric(t testing.TB, name string, labels ...string) float64 {
	t.Helper()
	fams, err := e.reg.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	sum := 0.0
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			found := 0
			for _, l := range m.GetLabel() {
				if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
					found++
				}
			}
			if found == len(want) {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// Series names of the dispatcher's metrics.
const (
	deliveriesTotal = "leadstream_notifier_deliveries_total"
	attemptsTotal   = "leadstream_notifier_attempts_total"
	parkedTotal     = "leadstream_notifier_parked_total"
	backlogGauge    = "leadstream_notifier_retry_backlog_deliveries"
	inFlightGauge   = "leadstream_notifier_in_flight_transitions"
)

// arrivals returns when rc accepted each transition, by idempotency key.
func (rc *receiver) arrivals() map[string]time.Time {
	at := map[string]time.Time{}
	_, ok := rc.snapshot()
	for _, r := range ok {
		at[r.key] = r.at
	}
	return at
}

// publishTwoLeads publishes lead a's MQL and SQL (a-mql-1, a-sql-1) and
// lead b's MQL (b-mql-1), in that order, and returns their ids.
func (e *env) publishTwoLeads(t *testing.T) []string {
	t.Helper()
	tr := func(lead string, from, to leadstreamv1.Stage, id string) *leadstreamv1.Transition {
		return &leadstreamv1.Transition{Id: id, LeadId: lead, From: from, To: to}
	}
	visitor, mql, sql := leadstreamv1.Stage_STAGE_VISITOR, leadstreamv1.Stage_STAGE_MQL,
		leadstreamv1.Stage_STAGE_SQL
	return e.publish(t, tr("a", visitor, mql, "a-mql-1"), tr("a", mql, sql, "a-sql-1"),
		tr("b", visitor, mql, "b-mql-1"))
}
