package worker

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/pkg/testenv"
	"github.com/leadstream/leadstream/pkg/workload"
	"github.com/leadstream/leadstream/services/scorer/internal/scoring"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

// env is one test's Kafka, Redis, topics, rules and workload.
type env struct {
	kafka  *testenv.Kafka
	rdb    *testenv.Redis
	cfg    config.Kafka
	prefix string
	rules  *rules.Rules
	wl     *workload.Workload
	oracle *workload.Oracle
	// maxPoll bounds the workers' batches.
	maxPoll int
}

func newEnv(t testing.TB, seed int64) *env {
	t.Helper()
	return newEnvOn(t, seed, testenv.StartRedis(t))
}

// newEnvOn is newEnv on a given Redis deployment, e.g. a cluster.
func newEnvOn(t testing.TB, seed int64, rdb *testenv.Redis) *env {
	t.Helper()
	return newEnvSized(t, seed, rdb, 0)
}

// newEnvSized is newEnvOn with a workload of leads leads; 0 keeps 60.
func newEnvSized(t testing.TB, seed int64, rdb *testenv.Redis, leads int) *env {
	t.Helper()
	e := &env{kafka: testenv.StartKafka(t), rdb: rdb, prefix: testenv.Prefix(t), maxPoll: 25}
	e.cfg = config.Kafka{Brokers: e.kafka.Brokers, EventsTopic: e.prefix + "events",
		TransitionsTopic: e.prefix + "transitions", DeadLetterTopic: e.prefix + "dlq"}
	e.kafka.CreateTopic(t, e.cfg.EventsTopic, 8)
	e.kafka.CreateTopic(t, e.cfg.TransitionsTopic, 4)
	e.kafka.CreateTopic(t, e.cfg.DeadLetterTopic, 1)

	r, err := rules.Load("../../../../deploy/rules/faults.yaml")
	if err != nil {
		t.Fatalf("load rules: %v", err)
	}
	wc := workload.DefaultConfig(seed)
	wc.Leads, wc.Visitors, wc.Poison, wc.Prefix = 60, 8, 4, e.prefix
	if leads > 0 {
		wc.Leads, wc.Visitors = leads, leads/10
	}
	e.rules = r
	if e.wl, err = workload.Generate(wc); err != nil {
		t.Fatalf("generate: %v", err)
	}
	if e.oracle, err = workload.Expect(r, e.wl.Events()); err != nil {
		t.Fatalf("oracle: %v", err)
	}
	return e
}

// produce writes the workload's events, keyed as the tracker keys them,
// and its poison records to the events topic.
func (e *env) produce(t testing.TB) {
	t.Helper()
	cl := e.kafka.Client(t, kgo.DefaultProduceTopic(e.cfg.EventsTopic))
	var recs []*kgo.Record
	for _, ev := range e.wl.Events() {
		pb, err := ev.Proto()
		if err != nil {
			t.Fatalf("event: %v", err)
		}
		b, err := scoringMarshal(pb)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		recs = append(recs, &kgo.Record{Key: []byte(ev.Key()), Value: b})
	}
	for i, p := range e.wl.Poison {
		recs = append(recs[:i*40], append([]*kgo.Record{{Key: p.Key, Value: p.Value}},
			recs[i*40:]...)...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce events: %v", err)
	}
}

// running is a worker started by a test.
type running struct {
	cancel context.CancelFunc
	done   chan error
	m      *Metrics
	store  *leadstore.Store
}

// start runs a worker of group until the test ends or stop is called.
func (e *env) start(t testing.TB, group string, crash func() bool) *running {
	t.Helper()
	return e.startOn(t, group, e.rdb.Client(t), crash)
}

// startOn is start with the worker's Redis client given, e.g. one that
// goes through a proxy.
func (e *env) startOn(t testing.TB, group string, rdb redis.UniversalClient,
	crash func() bool) *running {
	t.Helper()
	store, err := leadstore.New(rdb, e.prefix+"ls")
	if err != nil {
		t.Fatalf("new store: %v", err)
	}
	m := NewMetrics(prometheus.NewRegistry())
	w, err := New(Config{Kafka: e.cfg, Group: group, MaxPoll: e.maxPoll,
		DrainTimeout: 10 * time.Second,
		// Quick heartbeats let a worker hear of a rebalance within a
		// batch or two, not after the default 3s.
		ClientOpts: []kgo.Opt{kgo.FetchMaxWait(200 * time.Millisecond),
			kgo.HeartbeatInterval(100 * time.Millisecond)}},
		func() *rules.Rules { return e.rules }, store,
		zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)), m)
	if err != nil {
		t.Fatalf("new worker: %v", err)
	}
	w.crash = crash
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1), m: m, store: store}
	go func() { r.done <- w.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the worker and waits for it; a crashed worker has already
// returned.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
		}
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not stop within 30s")
		return nil
	}
}

// waitCommitted waits until group has committed every event.
func (e *env) waitCommitted(t testing.TB, group string, timeout time.Duration) {
	t.Helper()
	adm := kadm.NewClient(e.kafka.Client(t))
	deadline := time.Now().Add(timeout)
	ctx := context.Background()
	for time.Now().Before(deadline) {
		ends, err := adm.ListEndOffsets(ctx, e.cfg.EventsTopic)
		committed, cerr := adm.FetchOffsets(ctx, group)
		if err == nil && cerr == nil && allCommitted(ends, committed) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("group %s did not commit every event within %s", group, timeout)
}

func allCommitted(ends kadm.ListedOffsets, committed kadm.OffsetResponses) bool {
	ok := true
	ends.Each(func(l kadm.ListedOffset) {
		c, found := committed.Lookup(l.Topic, l.Partition)
		if l.Offset > 0 && (!found || c.At < l.Offset) {
			ok = false
		}
	})
	return ok
}

// check compares what the pipeline published and stored with the oracle:
// the same set of transition ids, every poison record dead-lettered, and
// every lead's counters and stage as the oracle says (nothing counted
// twice, nothing lost).
func (e *env) check(t *testing.T) {
	t.Helper()
	want := e.oracle.TransitionIDs()
	recs := e.kafka.ReadAll(t, e.cfg.TransitionsTopic, len(want), 20*time.Second)
	got := map[string]bool{}
	for _, rec := range recs {
		tr, err := scoring.Unmarshal(rec.Value)
		if err != nil {
			t.Fatalf("transition record: %v", err)
		}
		if string(rec.Key) != tr.GetLeadId() || tr.GetRulesVersion() != e.rules.Version() {
			t.Fatalf("transition %s: key %q, version %q", tr.GetId(), rec.Key,
				tr.GetRulesVersion())
		}
		got[tr.GetId()] = true
	}
	if len(want) == 0 || !sameIDs(got, want) {
		t.Fatalf("published %d distinct transitions, oracle %d; missing %v", len(got),
			len(want), missing(got, want))
	}
	dead := e.kafka.ReadAll(t, e.cfg.DeadLetterTopic, len(e.wl.Poison), 10*time.Second)
	if len(dead) < len(e.wl.Poison) {
		t.Fatalf("dead letters = %d, want %d", len(dead), len(e.wl.Poison))
	}
	e.checkLeads(t)
	t.Logf("%d events, %d transitions (%d records), %d dead letters agree with the oracle",
		e.wl.Count(), len(want), len(recs), len(dead))
}

func (e *env) checkLeads(t *testing.T) {
	t.Helper()
	store, err := leadstore.New(e.rdb.Client(t), e.prefix+"ls")
	if err != nil {
		t.Fatalf("new store: %v", err)
	}
	for id, want := range e.oracle.Leads {
		ent := leadstore.Lead(id)
		if anon, ok := cutPrefix(id, rules.AnonPrefix); ok {
			ent = leadstore.Anon(anon)
		}
		st, pending, err := store.Read(context.Background(), ent)
		if err != nil {
			t.Fatalf("read %s: %v", id, err)
		}
		if st.Stage != want.Stage || len(pending) != 0 || !sameCounts(st.Counts, want.Counts) {
			t.Fatalf("lead %s: stage %s counts %v pending %d; want %s %v", id, st.Stage,
				st.Counts, len(pending), want.Stage, want.Counts)
		}
	}
}

func TestTwoWorkersMatchOracle(t *testing.T) {
	cases := []struct {
		name  string
		redis func(testing.TB) *testenv.Redis
	}{
		{"single redis", testenv.StartRedis},
		{"redis cluster", testenv.StartRedisCluster},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnvOn(t, 11+int64(i)*100, c.redis(t))
			group := e.prefix + "group"
			first := e.start(t, group, nil)
			second := e.start(t, group, nil)
			// Both own partitions before the first event, so both work.
			waitFor(t, "both workers to own partitions", func() bool {
				return first.owned() > 0 && second.owned() > 0
			})
			e.produce(t)
			e.waitCommitted(t, group, 40*time.Second)
			e.check(t)
			if first.applied() == 0 || second.applied() == 0 {
				t.Fatalf("events applied: first %g, second %g; want both to work",
					first.applied(), second.applied())
			}
		})
	}
}

// TestCrashLosesNothing stops a worker as a crash would, after it scored
// and recorded transitions but before it published or committed them, and
// lets a fresh worker finish.
func TestCrashLosesNothing(t *testing.T) {
	e := newEnv(t, 12)
	group := e.prefix + "group"
	e.produce(t)
	var batches atomic.Int32
	crashed := e.start(t, group, func() bool { return batches.Add(1) == 4 })
	var err error
	select {
	case err = <-crashed.done:
		crashed.done <- err
	case <-time.After(30 * time.Second):
		t.Fatal("the worker never reached its fourth batch")
	}
	if !errors.Is(err, errCrash) {
		t.Fatalf("worker returned %v, want the simulated crash", err)
	}
	e.start(t, group, nil)
	e.waitCommitted(t, group, 40*time.Second)
	e.check(t)
}

// TestRebalanceLosesNothing adds a worker mid-stream, proves that
// partitions moved to it while events were still coming (the first worker
// gave some back, the second scored some), then stops the first one.
func TestRebalanceLosesNothing(t *testing.T) {
	e := newEnv(t, 13)
	group := e.prefix + "group"
	var mu sync.Mutex
	slow := func() bool {
		mu.Lock()
		defer mu.Unlock()
		time.Sleep(40 * time.Millisecond)
		return false
	}
	e.produce(t)
	first := e.start(t, group, slow)
	waitFor(t, "the first worker to score events", func() bool { return first.applied() > 0 })
	second := e.start(t, group, slow)
	waitFor(t, "the second worker to score events", func() bool { return second.applied() > 0 })
	total := float64(e.wl.Count())
	if got := first.applied() + second.applied(); got >= total {
		t.Fatalf("both workers applied %g of %g events before the first stopped; "+
			"the rebalance came too late to prove anything", got, total)
	}
	if n := first.moved("revoked"); n == 0 {
		t.Fatal("the first worker never gave partitions back")
	}
	if err := first.stop(t); err != nil {
		t.Fatalf("first worker: %v", err)
	}
	// The first worker commits what it owned before it leaves, so every
	// offset can be committed before the group hands its partitions on.
	waitFor(t, "the second worker to own all 8 partitions", func() bool {
		return second.owned() == 8
	})
	e.waitCommitted(t, group, 40*time.Second)
	e.check(t)
	t.Logf("applied: first %g, second %g; first revoked %g partitions",
		first.applied(), second.applied(), first.moved("revoked"))
}

// applied returns how many events the worker counted as new.
func (r *running) applied() float64 {
	return counterValue(r.m.events.WithLabelValues("applied"))
}

// owned returns how many partitions the worker owns now.
func (r *running) owned() float64 {
	var m dto.Metric
	if err := r.m.partitions.Write(&m); err != nil {
		return -1
	}
	return m.GetGauge().GetValue()
}

// moved returns how many partitions the worker had change hands.
func (r *running) moved(change string) float64 {
	return counterValue(r.m.moves.WithLabelValues(change))
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// waitFor polls cond for up to 30s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sameIDs(got map[string]bool, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, id := range want {
		if !got[id] {
			return false
		}
	}
	return true
}

func missing(got map[string]bool, want []string) []string {
	var out []string
	for _, id := range want {
		if !got[id] {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

func sameCounts(a, b map[string]int64) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}
