// Package harness holds what the scorer's integration tests share: a
// broker and a Redis, the topics, the fault rules, a generated workload
// with its oracle, and the check of an outcome against that oracle.
package harness

import (
	"context"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/pkg/testenv"
	"github.com/leadstream/leadstream/pkg/workload"
	"github.com/leadstream/leadstream/services/scorer/internal/scoring"
)

// Options choose the environment of one test.
type Options struct {
	// Seed drives the workload.
	Seed int64
	// Leads and Visitors size the workload; zero means 60 and 8.
	Leads, Visitors int
	// Redis is the deployment to use; nil starts a single node.
	Redis *testenv.Redis
	// KafkaOpts are extra options of the in-process broker.
	KafkaOpts []kfake.Opt
}

// Env is one test's broker, Redis, topics, rules and workload.
type Env struct {
	Kafka *testenv.Kafka
	Redis *testenv.Redis
	// Topics names the test's own topics and the broker addresses.
	Topics config.Kafka
	// Prefix is unique to the test; KeyPrefix is its Redis key prefix.
	Prefix, KeyPrefix string
	// RulesPath is the rules file the workload was made for.
	RulesPath string
	Rules     *rules.Rules
	Workload  *workload.Workload
	Oracle    *workload.Oracle
}

// New starts the servers, creates the topics and computes the oracle.
func New(t *testing.T, o Options) *Env {
	t.Helper()
	if o.Redis == nil {
		o.Redis = testenv.StartRedis(t)
	}
	e := &Env{Kafka: testenv.StartKafka(t, o.KafkaOpts...), Redis: o.Redis,
		Prefix: testenv.Prefix(t), RulesPath: RepoPath("deploy/rules/faults.yaml")}
	e.KeyPrefix = e.Prefix + "ls"
	e.Topics = config.Kafka{Brokers: e.Kafka.Brokers, EventsTopic: e.Prefix + "events",
		TransitionsTopic: e.Prefix + "transitions", DeadLetterTopic: e.Prefix + "dlq"}
	e.Kafka.CreateTopic(t, e.Topics.EventsTopic, 8)
	e.Kafka.CreateTopic(t, e.Topics.TransitionsTopic, 4)
	e.Kafka.CreateTopic(t, e.Topics.DeadLetterTopic, 1)

	var err error
	if e.Rules, err = rules.Load(e.RulesPath); err != nil {
		t.Fatalf("load rules: %v", err)
	}
	wc := workload.DefaultConfig(o.Seed)
	wc.Leads, wc.Visitors, wc.Poison, wc.Prefix = 60, 8, 4, e.Prefix
	if o.Leads > 0 {
		wc.Leads, wc.Visitors = o.Leads, o.Visitors
	}
	if e.Workload, err = workload.Generate(wc); err != nil {
		t.Fatalf("generate workload: %v", err)
	}
	if e.Oracle, err = workload.Expect(e.Rules, e.Workload.Events()); err != nil {
		t.Fatalf("compute oracle: %v", err)
	}
	return e
}

// RepoPath returns the absolute path of rel in the repository.
func RepoPath(rel string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", rel)
}

// Records returns the workload as the tracker would have written it: each
// event keyed by its anonymous id (else lead id), with a poison record
// every 40 events.
func (e *Env) Records(t *testing.T) []*kgo.Record {
	t.Helper()
	var recs []*kgo.Record
	for i, ev := range e.Workload.Events() {
		if p := i / 40; i%40 == 0 && p < len(e.Workload.Poison) {
			poison := e.Workload.Poison[p]
			recs = append(recs, &kgo.Record{Key: poison.Key, Value: poison.Value})
		}
		pb, err := ev.Proto()
		if err != nil {
			t.Fatalf("event: %v", err)
		}
		b, err := proto.Marshal(pb)
		if err != nil {
			t.Fatalf("marshal event: %v", err)
		}
		recs = append(recs, &kgo.Record{Key: []byte(ev.Key()), Value: b})
	}
	return recs
}

// Produce writes recs to the events topic and waits for the broker.
func (e *Env) Produce(t *testing.T, recs []*kgo.Record) {
	t.Helper()
	cl := e.Kafka.Client(t, kgo.DefaultProduceTopic(e.Topics.EventsTopic))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce events: %v", err)
	}
}

// Committed reports whether group has committed every event.
func (e *Env) Committed(ctx context.Context, adm *kadm.Client, group string) bool {
	ends, err := adm.ListEndOffsets(ctx, e.Topics.EventsTopic)
	if err != nil {
		return false
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return false
	}
	ok := true
	ends.Each(func(l kadm.ListedOffset) {
		c, found := committed.Lookup(l.Topic, l.Partition)
		if l.Offset > 0 && (!found || c.At < l.Offset) {
			ok = false
		}
	})
	return ok
}

// WaitCommitted waits until group has committed every event.
func (e *Env) WaitCommitted(t *testing.T, group string, timeout time.Duration) {
	t.Helper()
	adm := kadm.NewClient(e.Kafka.Client(t))
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if e.Committed(context.Background(), adm, group) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("group %s did not commit every event within %s", group, timeout)
}

// Report is what Check found.
type Report struct {
	// Transitions is the number of distinct transition ids published.
	Transitions int
	// Records is the number of transition records on the topic.
	Records int
	// Duplicates counts records whose id was published before.
	Duplicates int
	// DeadLetters is the number of records on the dead-letter topic.
	DeadLetters int
}

// Check compares what the scorers published and stored with the oracle:
// exactly the oracle's transition ids (none missing, none extra), each
// with the rules version and the lead id as key, each lead's first in
// stage order, every poison record dead-lettered with its reason and
// origin, and every lead's stage and counters as the oracle says with no
// transition left pending.
func (e *Env) Check(t *testing.T) Report {
	t.Helper()
	recs := e.readToEnd(t, e.Topics.TransitionsTopic)
	rep := Report{Records: len(recs)}
	got := map[string]int{}
	for _, rec := range recs {
		tr, err := scoring.Unmarshal(rec.Value)
		if err != nil {
			t.Fatalf("transition record: %v", err)
		}
		if string(rec.Key) != tr.GetLeadId() || tr.GetRulesVersion() != e.Rules.Version() {
			t.Fatalf("transition %s: key %q, version %q", tr.GetId(), rec.Key,
				tr.GetRulesVersion())
		}
		got[tr.GetId()]++
	}
	rep.Transitions = len(got)
	rep.Duplicates = rep.Records - rep.Transitions
	missing, extra := diffIDs(got, e.Oracle.TransitionIDs())
	if len(missing)+len(extra) > 0 || rep.Transitions == 0 {
		t.Fatalf("published %d distinct transitions, oracle %d; missing %v; extra %v",
			rep.Transitions, len(e.Oracle.Transitions), missing, extra)
	}
	if got, want := CheckStageOrder(t, recs), ThroughMQLToSQL(e.Oracle); got != want ||
		want == 0 {
		t.Fatalf("%d leads went through mql and sql on the topic, oracle %d", got, want)
	}
	dead := e.readToEnd(t, e.Topics.DeadLetterTopic)
	rep.DeadLetters = len(dead)
	CheckDeadLetters(t, e.readToEnd(t, e.Topics.EventsTopic), dead, e.Workload.Poison)
	e.checkLeads(t)
	return rep
}

// readToEnd reads topic up to its current end offsets.
func (e *Env) readToEnd(t *testing.T, topic string) []*kgo.Record {
	t.Helper()
	return ReadToEnd(t, e.Kafka, topic)
}

func (e *Env) checkLeads(t *testing.T) {
	t.Helper()
	store, err := leadstore.New(e.Redis.Client(t), e.KeyPrefix)
	if err != nil {
		t.Fatalf("new store: %v", err)
	}
	for id, want := range e.Oracle.Leads {
		st, pending, err := store.Read(context.Background(), Entity(id))
		if err != nil {
			t.Fatalf("read %s: %v", id, err)
		}
		if st.Stage != want.Stage || len(pending) != 0 || !sameCounts(st.Counts, want.Counts) {
			t.Fatalf("lead %s: stage %s counts %v pending %d; want %s %v", id, st.Stage,
				st.Counts, len(pending), want.Stage, want.Counts)
		}
	}
}

// Entity returns the store entity of an oracle lead id.
func Entity(id string) leadstore.Entity {
	if len(id) > len(rules.AnonPrefix) && id[:len(rules.AnonPrefix)] == rules.AnonPrefix {
		return leadstore.Anon(id[len(rules.AnonPrefix):])
	}
	return leadstore.Lead(id)
}

func diffIDs(got map[string]int, want []string) (missing, extra []string) {
	wanted := make(map[string]bool, len(want))
	for _, id := range want {
		wanted[id] = true
		if got[id] == 0 {
			missing = append(missing, id)
		}
	}
	for id := range got {
		if !wanted[id] {
			extra = append(extra, id)
		}
	}
	sort.Strings(extra)
	return missing, extra
}

// sameCounts compares counters, a missing one counting as zero.
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
