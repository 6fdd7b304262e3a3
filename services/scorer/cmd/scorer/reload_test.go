package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/leadstream/leadstream/pkg/workload"
	"github.com/leadstream/leadstream/services/scorer/internal/harness"
	"github.com/leadstream/leadstream/services/scorer/internal/scoring"
)

// decided is what a test expects of a lead's transition.
type decided struct {
	to, version, eventID string
}

// TestSIGHUPReloadsRules runs the scorer on testdata/rules.yaml, swaps in
// rules-v2.yaml and sends SIGHUP, then a broken file and SIGHUP again,
// scoring events after each step. Every transition must carry the version
// of the rules that decided it: test-1 before the reload, test-2 after
// it and still after the broken file was refused. Each lead after the
// reload qualifies only under test-2 (one blog view), so a transition
// there also shows which rules decided it.
func TestSIGHUPReloadsRules(t *testing.T) {
	e := harness.New(t, harness.Options{Seed: 51})
	e.RulesPath = filepath.Join(t.TempDir(), "rules.yaml")
	copyFile(t, "../../testdata/rules.yaml", e.RulesPath)
	group := e.Prefix + "group"
	p := runScorer(t, e, group)
	ev := eventMaker(e.Prefix)
	want := map[string]decided{}

	// test-1: two blog views and a download make an MQL; one blog view
	// does not.
	a, b := e.Prefix+"lead-a", e.Prefix+"lead-b"
	produceEvents(t, e, ev(a, "page_view", "/blog/1"), ev(a, "page_view", "/blog/2"),
		ev(a, "download", "/whitepaper"), ev(b, "page_view", "/blog/1"))
	want[a] = decided{"STAGE_MQL", "test-1", a + "-3"}
	checkDecided(t, e, group, want)

	copyFile(t, "../../testdata/rules-v2.yaml", e.RulesPath)
	reload(t, p, "ok", 1)
	c := e.Prefix + "lead-c"
	produceEvents(t, e, ev(b, "page_view", "/blog/2"), ev(c, "page_view", "/blog/1"))
	want[b] = decided{"STAGE_MQL", "test-2", b + "-2"}
	want[c] = decided{"STAGE_MQL", "test-2", c + "-1"}
	checkDecided(t, e, group, want)

	copyFile(t, "../../testdata/rules-bad.yaml", e.RulesPath)
	reload(t, p, "refused", 1)
	if !strings.Contains(p.output(), "rules reload refused") {
		t.Fatalf("the refused reload is not logged:\n%s", p.output())
	}
	d := e.Prefix + "lead-d"
	produceEvents(t, e, ev(d, "page_view", "/blog/1"))
	want[d] = decided{"STAGE_MQL", "test-2", d + "-1"}
	checkDecided(t, e, group, want)
	if n := p.metric(`leadstream_scorer_rules_reloads_total{result="ok"}`); n != 1 {
		t.Fatalf("%g reloads adopted, want 1", n)
	}
}

// eventMaker returns a function that makes the next event of a lead,
// with the id <lead>-<n> for its n-th event, at the current time.
func eventMaker(prefix string) func(lead, typ, path string) workload.Event {
	n := map[string]int{}
	return func(lead, typ, path string) workload.Event {
		n[lead]++
		return workload.Event{ID: lead + "-" + strconv.Itoa(n[lead]), Type: typ, LeadID: lead,
			Timestamp: time.Now().UTC().Format(time.RFC3339),
			URL:       "https://" + prefix + "example.com" + path}
	}
}

// produceEvents writes evs to the events topic as the tracker would.
func produceEvents(t *testing.T, e *harness.Env, evs ...workload.Event) {
	t.Helper()
	recs := make([]*kgo.Record, 0, len(evs))
	for _, ev := range evs {
		pb, err := ev.Proto()
		if err != nil {
			t.Fatalf("event %s: %v", ev.ID, err)
		}
		v, err := proto.Marshal(pb)
		if err != nil {
			t.Fatalf("marshal event %s: %v", ev.ID, err)
		}
		recs = append(recs, &kgo.Record{Key: []byte(ev.Key()), Value: v})
	}
	e.Produce(t, recs)
}

// reload sends SIGHUP and waits until the process has counted n reloads
// with result.
func reload(t *testing.T, p *proc, result string, n float64) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatalf("send SIGHUP: %v", err)
	}
	name := `leadstream_scorer_rules_reloads_total{result="` + result + `"}`
	waitFor(t, "a reload with result "+result, 20*time.Second, func() bool {
		return p.metric(name) == n
	})
}

// checkDecided waits until group has committed every event, then requires
// the transitions topic to hold exactly one transition per lead of want,
// as want says.
func checkDecided(t *testing.T, e *harness.Env, group string, want map[string]decided) {
	t.Helper()
	e.WaitCommitted(t, group, 40*time.Second)
	got := map[string]decided{}
	for _, rec := range harness.ReadToEnd(t, e.Kafka, e.Topics.TransitionsTopic) {
		tr, err := scoring.Unmarshal(rec.Value)
		if err != nil {
			t.Fatalf("transition record: %v", err)
		}
		if _, dup := got[tr.GetLeadId()]; dup {
			t.Fatalf("lead %s has a second transition: %v", tr.GetLeadId(), tr)
		}
		got[tr.GetLeadId()] = decided{tr.GetTo().String(), tr.GetRulesVersion(),
			tr.GetEventId()}
	}
	if len(got) != len(want) {
		t.Fatalf("transitions %v, want %v", got, want)
	}
	for lead, w := range want {
		if got[lead] != w {
			t.Fatalf("lead %s: transition %+v, want %+v", lead, got[lead], w)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatalf("read %s: %v", from, err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatalf("write %s: %v", to, err)
	}
}
