package scoring_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"sort"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/pkg/testenv"
	"github.com/leadstream/leadstream/pkg/workload"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/leadstream/leadstream/services/scorer/internal/scoring"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

func loadRules(t *testing.T, path string) *rules.Rules {
	t.Helper()
	r, err := rules.Load(path)
	if err != nil {
		t.Fatalf("load rules: %v", err)
	}
	return r
}

func workloadEvents(t *testing.T, seed int64) []*leadstreamv1.Event {
	t.Helper()
	cfg := workload.DefaultConfig(seed)
	cfg.Leads, cfg.Visitors, cfg.Prefix = 40, 6, testenv.Prefix(t)
	wl, err := workload.Generate(cfg)
	if err != nil {
		t.Fatalf("generate workload: %v", err)
	}
	var out []*leadstreamv1.Event
	for _, e := range wl.Events() {
		pb, err := e.Proto()
		if err != nil {
			t.Fatalf("event: %v", err)
		}
		out = append(out, pb)
	}
	return out
}

// TestProcessMatchesSimulator processes a workload in order through the
// lead store, on a single node and on a cluster, and demands exactly the
// simulator's transitions (ids, causes, reasons) and final states, with
// rules that use windows, decay, traits and exclusion.
func TestProcessMatchesSimulator(t *testing.T) {
	deps := map[string]*testenv.Redis{"single": testenv.StartRedis(t),
		"cluster": testenv.StartRedisCluster(t)}
	rulesFiles := []string{"../../testdata/rules.yaml", "../../../../deploy/rules/faults.yaml"}
	for name, dep := range deps {
		for i, file := range rulesFiles {
			t.Run(name+"/"+file, func(t *testing.T) {
				r := loadRules(t, file)
				store, err := leadstore.New(dep.Client(t), testenv.Prefix(t)+"ls")
				if err != nil {
					t.Fatalf("new store: %v", err)
				}
				compare(t, r, store, workloadEvents(t, int64(7+i)), 1)
			})
		}
	}
}

// TestProcessRunMatchesSimulator is TestProcessMatchesSimulator with
// consecutive events of one device or lead processed as runs: every
// transition must still be decided by the event that causes it, with
// its reasons and epoch, as if the events came one by one.
func TestProcessRunMatchesSimulator(t *testing.T) {
	deps := map[string]*testenv.Redis{"single": testenv.StartRedis(t),
		"cluster": testenv.StartRedisCluster(t)}
	for name, dep := range deps {
		t.Run(name, func(t *testing.T) {
			r := loadRules(t, "../../testdata/rules.yaml")
			store, err := leadstore.New(dep.Client(t), testenv.Prefix(t)+"ls")
			if err != nil {
				t.Fatalf("new store: %v", err)
			}
			compare(t, r, store, byDevice(workloadEvents(t, 9)), leadstore.MaxRun)
		})
	}
}

// byDevice orders events by record key, keeping each key's order, as a
// partition under a backlog delivers a device's events back to back.
func byDevice(evs []*leadstreamv1.Event) []*leadstreamv1.Event {
	key := func(ev *leadstreamv1.Event) string {
		if ev.GetAnonymousId() != "" {
			return ev.GetAnonymousId()
		}
		return ev.GetLeadId()
	}
	out := append([]*leadstreamv1.Event(nil), evs...)
	sort.SliceStable(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}

// compare processes events in order, in runs of at most maxRun
// consecutive events that scoring.Runnable allows, and demands the
// simulator's transitions and final states.
func compare(t *testing.T, r *rules.Rules, store *leadstore.Store,
	events []*leadstreamv1.Event, maxRun int) {
	t.Helper()
	ctx := context.Background()
	sim := rules.NewSimulator(r)
	p := scoring.New(store)
	transitions, runs := 0, 0
	for i := 0; i < len(events); {
		n := 1
		for i+n < len(events) && n < maxRun && scoring.Runnable(events[i], events[i+n]) {
			n++
		}
		run := events[i : i+n]
		i += n
		var want []rules.LeadTransition
		for _, ev := range run {
			want = append(want, sim.Process(ev)...)
		}
		out, err := p.ProcessRun(ctx, r, run)
		if err != nil {
			t.Fatalf("process %s: %v", run[0].GetId(), err)
		}
		if n > 1 {
			runs++
		}
		ev := run[0]
		if len(out.Decided) != len(want) {
			t.Fatalf("run from event %s (%d events): decided %d transitions, simulator %d "+
				"(%+v)", ev.GetId(), n, len(out.Decided), len(want), want)
		}
		for i, w := range want {
			got := out.Decided[i]
			if got.GetId() != w.ID() || got.GetEventId() != w.EventID ||
				!reflect.DeepEqual(got.GetReasons(), w.Reasons) || got.GetEpoch() != w.Epoch {
				t.Fatalf("event %s transition %d:\n got  %v\n want %+v", ev.GetId(), i, got, w)
			}
		}
		transitions += len(want)
	}
	if transitions == 0 {
		t.Fatal("the workload caused no transition; the test proves nothing")
	}
	if maxRun > 1 && runs < 10 {
		t.Fatalf("only %d runs of more than one event; the test proves little", runs)
	}
	for _, id := range sim.Leads() {
		want, _ := sim.Lead(id)
		e := leadstore.Lead(id)
		if anon, ok := cutAnon(id); ok {
			e = leadstore.Anon(anon)
		}
		got, _, err := store.Read(ctx, e)
		if err != nil {
			t.Fatalf("read %s: %v", id, err)
		}
		if got.Stage != want.Stage || got.Epoch != want.Epoch ||
			!reflect.DeepEqual(nonZero(got.Counts), nonZero(want.Counts)) {
			t.Fatalf("lead %s: got %s/%d %v, want %s/%d %v", id, got.Stage, got.Epoch,
				got.Counts, want.Stage, want.Epoch, want.Counts)
		}
		for name, sc := range want.Scores {
			if math.Abs(got.Scores[name].Value-sc.Value) > 1e-6 {
				t.Fatalf("lead %s score %s = %v, want %v", id, name, got.Scores[name], sc)
			}
		}
	}
	t.Logf("%d events (%d runs of several), %d transitions, %d leads agree", len(events),
		runs, transitions, len(sim.Leads()))
}

func cutAnon(id string) (string, bool) {
	if len(id) > len(rules.AnonPrefix) && id[:len(rules.AnonPrefix)] == rules.AnonPrefix {
		return id[len(rules.AnonPrefix):], true
	}
	return "", false
}

func nonZero(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

func TestDecodeRefusesPoison(t *testing.T) {
	valid := &leadstreamv1.Event{Id: "e1", Type: "page_view", AnonymousId: "a1"}
	tests := []struct {
		name  string
		value func() []byte
		ok    bool
	}{
		{"valid", func() []byte { return mustMarshal(t, valid) }, true},
		{"garbage", func() []byte { return []byte{0x00, 0x01, 0xff} }, false},
		{"no id", func() []byte {
			return mustMarshal(t, edit(valid, func(e *leadstreamv1.Event) { e.Id = "" }))
		}, false},
		{"no type", func() []byte {
			return mustMarshal(t, edit(valid, func(e *leadstreamv1.Event) { e.Type = "" }))
		}, false},
		{"nobody", func() []byte {
			return mustMarshal(t, edit(valid, func(e *leadstreamv1.Event) { e.AnonymousId = "" }))
		}, false},
		{"a day ahead of its receipt", func() []byte {
			return mustMarshal(t, edit(valid, func(e *leadstreamv1.Event) {
				e.ReceivedAtUnixMs, e.OccurredAtUnixMs = 1_800_000_000_000, 1_800_086_400_000
			}))
		}, true},
		{"more than a day ahead", func() []byte {
			return mustMarshal(t, edit(valid, func(e *leadstreamv1.Event) {
				e.ReceivedAtUnixMs, e.OccurredAtUnixMs = 1_800_000_000_000, 1_800_086_400_001
			}))
		}, false},
		{"ahead, receipt unknown", func() []byte {
			return mustMarshal(t, edit(valid, func(e *leadstreamv1.Event) {
				e.OccurredAtUnixMs = 4_000_000_000_000
			}))
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scoring.Decode(tc.value())
			if (err == nil) != tc.ok {
				t.Fatalf("decode: %v, want ok=%v", err, tc.ok)
			}
			if err != nil && tc.name != "garbage" && !errors.Is(err, scoring.ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
		})
	}
}

func TestSafeTraitsDropsPersonalData(t *testing.T) {
	got := scoring.SafeTraits(map[string]string{"email": "Ann@Buyer.Example",
		"title": "CEO", "phone": "+1 555"})
	want := map[string]string{"email_domain": "buyer.example", "title": "CEO"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("safe traits = %v, want %v", got, want)
	}
}

func FuzzDecode(f *testing.F) {
	b, _ := proto.Marshal(&leadstreamv1.Event{Id: "e", Type: "t", LeadId: "l"})
	f.Add(b)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, value []byte) {
		ev, err := scoring.Decode(value)
		if err == nil && (ev.GetId() == "" || ev.GetType() == "") {
			t.Fatalf("accepted an event without id or type: %v", ev)
		}
	})
}

func mustMarshal(t *testing.T, ev *leadstreamv1.Event) []byte {
	t.Helper()
	b, err := proto.Marshal(ev)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}

func edit(ev *leadstreamv1.Event, fn func(*leadstreamv1.Event)) *leadstreamv1.Event {
	c := proto.Clone(ev).(*leadstreamv1.Event)
	fn(c)
	return c
}

// TestStopBetweenLinkAndMerge tests the window a worker leaves when it
// stops after linking a device to its lead but before merging the
// device's history: a second worker, handed the same records again,
// must count every event of the device once, whether the redelivered
// event is one the visitor counted before the link or one it never saw.
func TestStopBetweenLinkAndMerge(t *testing.T) {
	deps := map[string]*testenv.Redis{"single": testenv.StartRedis(t),
		"cluster": testenv.StartRedisCluster(t)}
	for name, dep := range deps {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			r := loadRules(t, "../../testdata/rules.yaml")
			prefix := testenv.Prefix(t) + "ls"
			first, err := leadstore.New(dep.Client(t), prefix)
			if err != nil {
				t.Fatalf("new store: %v", err)
			}
			blog := func(id string, at int64) *leadstreamv1.Event {
				return &leadstreamv1.Event{Id: id, Type: "page_view", AnonymousId: "dev",
					Url: "https://site.example/blog/x", OccurredAtUnixMs: at}
			}
			before := blog("e-before", 1_000)
			identify := &leadstreamv1.Event{Id: "e-identify", Type: "identify",
				AnonymousId: "dev", LeadId: "L", OccurredAtUnixMs: 2_000}
			after := blog("e-after", 3_000)

			// The first worker counts an event for the visitor, then stops
			// right after the identify's link.
			if _, err := scoring.New(first).Process(ctx, r, before); err != nil {
				t.Fatalf("process %s: %v", before.GetId(), err)
			}
			if _, err := first.Link(ctx, "dev", "L"); err != nil {
				t.Fatalf("link: %v", err)
			}

			// The second worker gets all three records, the first one again.
			second, err := leadstore.New(dep.Client(t), prefix)
			if err != nil {
				t.Fatalf("new store: %v", err)
			}
			p := scoring.New(second)
			for _, ev := range []*leadstreamv1.Event{before, identify, after} {
				out, err := p.Process(ctx, r, ev)
				if err != nil {
					t.Fatalf("process %s: %v", ev.GetId(), err)
				}
				if out.Entity != leadstore.Lead("L") {
					t.Fatalf("event %s counted for %s, want the lead", ev.GetId(),
						out.Entity.LeadID())
				}
			}
			got, _, err := second.Read(ctx, leadstore.Lead("L"))
			if err != nil {
				t.Fatalf("read lead: %v", err)
			}
			if n := got.Counts["blog_view"]; n != 2 {
				t.Fatalf("blog_view = %d after the redelivery, want 2 (one per event)", n)
			}
			if v := got.Scores["engagement"].Value; math.Abs(v-10) > 1e-3 {
				t.Fatalf("engagement = %v, want 10 (5 points per blog view)", v)
			}
		})
	}
}
