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
	"github.com/leadstream/leadstream/services/scorer/internal/harness"
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

// hook is a test's crash hook: it may stop a worker, or slow it down, at
// each crash point of every batch's finish.
type hook func(at crashPoint, b *batch) bool

// slowly returns a hook that holds every batch for d before it is
// published, one batch at a time across the workers that share it.
func slowly(d time.Duration) hook {
	var mu sync.Mutex
	return func(at crashPoint, _ *batch) bool {
		if at == crashBeforePublish {
			mu.Lock()
			defer mu.Unlock()
			time.Sleep(d)
		}
		return false
	}
}

// start runs a worker of group until the test ends or stop is called.
func (e *env) start(t testing.TB, group string, crash hook) *running {
	t.Helper()
	return e.startOn(t, group, e.rdb.Client(t), crash)
}

// startOn is start with the worker's Redis client given, e.g. one that
// goes through a proxy.
func (e *env) startOn(t testing.TB, group string, rdb redis.UniversalClient,
	crash hook) *running {
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
// the same set of transition ids, each lead's first in stage order, every
// poison record dead-lettered with its reason and origin, and every
// lead's counters and stage as the oracle says (nothing counted twice,
// nothing lost, nothing left pending).
func (e *env) check(t *testing.T) {
	t.Helper()
	want := e.oracle.TransitionIDs()
	recs := harness.ReadToEnd(t, e.kafka, e.cfg.TransitionsTopic)
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
	both := harness.CheckStageOrder(t, recs)
	if want := harness.ThroughMQLToSQL(e.oracle); both != want || want == 0 {
		t.Fatalf("%d leads went through mql and sql on the topic, oracle %d", both, want)
	}
	dead := harness.ReadToEnd(t, e.kafka, e.cfg.DeadLetterTopic)
	events := harness.ReadToEnd(t, e.kafka, e.cfg.EventsTopic)
	harness.CheckDeadLetters(t, events, dead, e.wl.Poison)
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
	for i, c := range deployments {
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

// deployments are the Redis deployments the oracle tests run on.
var deployments = []struct {
	name  string
	redis func(testing.TB) *testenv.Redis
}{
	{"single redis", testenv.StartRedis},
	{"redis cluster", testenv.StartRedisCluster},
}

// TestCrashLosesNothing stops a worker as a crash would at each step of a
// batch's finish between Redis and Kafka, in a batch that holds
// transitions, checks what the crash left in Kafka and in Redis, and
// lets a fresh worker finish: every transition that was pending at the
// crash must be published, none lost and none with another id.
func TestCrashLosesNothing(t *testing.T) {
	points := []struct {
		name string
		at   crashPoint
	}{
		{"before publish", crashBeforePublish},
		{"after kafka acked before pending cleared", crashBeforeAck},
		{"after pending cleared before commit", crashBeforeCommit},
	}
	for i, d := range deployments {
		t.Run(d.name, func(t *testing.T) {
			// One deployment for every crash point: each test has its own
			// key prefix, and starting a cluster takes seconds.
			rdb := d.redis(t)
			for j, p := range points {
				t.Run(p.name, func(t *testing.T) {
					crashAndRecover(t, newEnvOn(t, 12+int64(100*i+j), rdb), p.at)
				})
			}
		})
	}
}

// crashAndRecover runs one crash of TestCrashLosesNothing, at point at,
// and the recovery after it.
func crashAndRecover(t *testing.T, e *env, at crashPoint) {
	group := e.prefix + "group"
	e.produce(t)
	var withTransitions atomic.Int32
	var window map[string]bool // the crashed batch's transition ids
	crashed := e.start(t, group, func(p crashPoint, b *batch) bool {
		// The third batch with transitions: the window holds some, and
		// batches before it have gone all the way through.
		if p != at || len(b.leads) == 0 || withTransitions.Add(1) < 3 {
			return false
		}
		window = b.ids()
		return true
	})
	var err error
	select {
	case err = <-crashed.done:
		crashed.done <- err
	case <-time.After(30 * time.Second):
		t.Fatal("the worker never reached its third batch with transitions")
	}
	if !errors.Is(err, errCrash) {
		t.Fatalf("worker returned %v, want the simulated crash", err)
	}

	published := e.published(t)
	pending := e.pending(t)
	checkWindow(t, at, window, published, pending)
	if e.committedAll(t, group) {
		t.Fatal("every event was committed at the crash; the crashed batch must not be")
	}
	oracle := e.oracle.Transitions
	for id := range pending {
		if _, ok := oracle[id]; !ok {
			t.Fatalf("transition %s pending at the crash is not the oracle's", id)
		}
	}

	e.start(t, group, nil)
	e.waitCommitted(t, group, 40*time.Second)
	e.check(t)
	after := e.published(t)
	for id := range pending {
		if after[id] == 0 {
			t.Fatalf("transition %s, pending at the crash, was never published", id)
		}
	}
	if at == crashBeforeAck {
		// Still pending, so the redelivered events publish them again.
		for id := range window {
			if after[id] < 2 {
				t.Fatalf("transition %s published %d times, want it again after the crash",
					id, after[id])
			}
		}
	}
	t.Logf("crashed with %d transitions in the batch, %d pending in redis, "+
		"%d records published before the crash", len(window), len(pending), total(published))
}

// checkWindow checks what a crash at point at left of the crashed batch's
// transitions: whether Kafka has them and whether Redis still has them
// pending.
func checkWindow(t *testing.T, at crashPoint, window map[string]bool,
	published map[string]int, pending map[string]bool) {
	t.Helper()
	if len(window) == 0 {
		t.Fatal("the crashed batch held no transitions")
	}
	wantPublished, wantPending := at != crashBeforePublish, at != crashBeforeCommit
	for id := range window {
		if (published[id] > 0) != wantPublished || pending[id] != wantPending {
			t.Fatalf("transition %s of the crashed batch: published %d times, pending %v; "+
				"want published %v, pending %v", id, published[id], pending[id],
				wantPublished, wantPending)
		}
	}
}

// published counts the records of each transition id on the topic now.
func (e *env) published(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, rec := range harness.ReadToEnd(t, e.kafka, e.cfg.TransitionsTopic) {
		tr, err := scoring.Unmarshal(rec.Value)
		if err != nil {
			t.Fatalf("transition record: %v", err)
		}
		out[tr.GetId()]++
	}
	return out
}

// pending returns the ids of every transition pending in Redis for any
// lead or visitor of the workload.
func (e *env) pending(t *testing.T) map[string]bool {
	t.Helper()
	store, err := leadstore.New(e.rdb.Client(t), e.prefix+"ls")
	if err != nil {
		t.Fatalf("new store: %v", err)
	}
	out := map[string]bool{}
	for id := range e.oracle.Leads {
		_, ps, err := store.Read(context.Background(), harness.Entity(id))
		if err != nil {
			t.Fatalf("read %s: %v", id, err)
		}
		for _, p := range ps {
			out[p.ID] = true
		}
	}
	return out
}

// committedAll reports whether group has committed every event now.
func (e *env) committedAll(t *testing.T, group string) bool {
	t.Helper()
	adm := kadm.NewClient(e.kafka.Client(t))
	ends, err := adm.ListEndOffsets(context.Background(), e.cfg.EventsTopic)
	if err != nil {
		t.Fatalf("list end offsets: %v", err)
	}
	committed, err := adm.FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	return allCommitted(ends, committed)
}

func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// TestRebalanceLosesNothing adds a worker mid-stream, proves that
// partitions moved to it while events were still coming (the first worker
// gave some back, the second scored some), then stops the first one.
func TestRebalanceLosesNothing(t *testing.T) {
	for i, d := range deployments {
		t.Run(d.name, func(t *testing.T) {
			// 240 leads, about 2,000 events: the first worker, whose
			// batches each take 40ms to finish while it scores up to
			// maxInflight of them ahead, must still have work left when
			// the second has joined, even on a loaded machine.
			rebalance(t, newEnvSized(t, 13+int64(100*i), d.redis(t), 240))
		})
	}
}

func rebalance(t *testing.T, e *env) {
	group := e.prefix + "group"
	slow := slowly(40 * time.Millisecond)
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
	if lag := first.lag(t); len(lag) != 0 {
		t.Fatalf("the stopped worker still reports lag of partitions %v", lag)
	}
	// The first worker commits what it owned before it leaves, so every
	// offset can be committed before the group hands its partitions on.
	waitFor(t, "the second worker to own all 8 partitions", func() bool {
		return second.owned() == 8
	})
	e.waitCommitted(t, group, 40*time.Second)
	e.check(t)
	waitFor(t, "the second worker's lag to reach zero", func() bool {
		return allZero(second.lag(t))
	})
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
