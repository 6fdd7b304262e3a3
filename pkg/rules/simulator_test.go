package rules

import (
	"bufio"
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

const simRules = `stages:
  mql: {all: ["blog_view >= 2", "download >= 1"]}
  sql: "count(download, 7d) >= 3"
exclude: "trait rival"
require_identified: true
`

// run processes events and returns every transition.
func run(sim *Simulator, events ...*leadstreamv1.Event) []LeadTransition {
	var out []LeadTransition
	for _, ev := range events {
		out = append(out, sim.Process(ev)...)
	}
	return out
}

// stages renders transitions as "lead:from>to@epoch" lines.
func stages(trs []LeadTransition) string {
	var b strings.Builder
	for _, tr := range trs {
		b.WriteString(tr.LeadID + ":" + tr.From.String() + ">" + tr.To.String() + "@" +
			itoa(int(tr.Epoch)) + " ")
	}
	return strings.TrimSpace(b.String())
}

func TestSimulatorTwoDevices(t *testing.T) {
	r := mustParse(t, withStages(simRules))
	sim := NewSimulator(r)
	t0 := ms(t, "2026-12-01T09:00:00Z")
	trs := run(sim,
		event("1", "page_view", "laptop", "", t0, "/blog/a"),
		event("2", "page_view", "phone", "", t0+1, "/blog/b"),
		event("3", "download", "phone", "", t0+2, ""),
	)
	if len(trs) != 0 {
		t.Fatalf("anonymous visitors qualified: %s", stages(trs))
	}
	trs = run(sim, identify("4", "laptop", "L", t0+3, map[string]string{"title": "CEO"}))
	if len(trs) != 0 {
		t.Fatalf("one device's history qualified: %s", stages(trs))
	}
	trs = run(sim, identify("5", "phone", "L", t0+4, nil))
	if got := stages(trs); got != "L:visitor>mql@1" {
		t.Fatalf("after the second device: %q", got)
	}
	trs = run(sim,
		event("6", "download", "laptop", "", t0+5, ""),
		event("7", "download", "phone", "", t0+6, ""),
	)
	if got := stages(trs); got != "L:mql>sql@2" {
		t.Fatalf("later device events: %q", got)
	}
	s, _ := sim.Lead("L")
	want := map[string]int64{"blog_view": 2, "download": 3}
	if !reflect.DeepEqual(s.Counts, want) || s.Traits["title"] != "CEO" || !s.Identified {
		t.Errorf("lead state %+v", s)
	}
	if got := strings.Join(sim.Leads(), ","); got != "L" {
		t.Errorf("leads %q; linked visitors should be gone", got)
	}
}

func TestSimulatorMergeOnceAndDuplicates(t *testing.T) {
	r := mustParse(t, withStages(simRules))
	t0 := ms(t, "2026-12-01T09:00:00Z")
	tests := []struct {
		name   string
		events []*leadstreamv1.Event
		counts map[string]int64
		leads  string
	}{
		{"identify twice merges once", []*leadstreamv1.Event{
			event("1", "page_view", "a", "", t0, "/blog/a"),
			identify("2", "a", "L", t0+1, nil),
			identify("3", "a", "L", t0+2, nil),
		}, map[string]int64{"blog_view": 1}, "L"},
		{"duplicate event counts once", []*leadstreamv1.Event{
			event("1", "page_view", "a", "", t0, "/blog/a"),
			event("1", "page_view", "a", "", t0, "/blog/a"),
			identify("2", "a", "L", t0+1, nil),
		}, map[string]int64{"blog_view": 1}, "L"},
		{"duplicate across the merge counts once", []*leadstreamv1.Event{
			event("1", "page_view", "a", "", t0, "/blog/a"),
			identify("2", "a", "L", t0+1, nil),
			event("1", "page_view", "a", "", t0, "/blog/a"),
			event("1", "page_view", "", "L", t0, "/blog/a"),
		}, map[string]int64{"blog_view": 1}, "L"},
		{"first link wins", []*leadstreamv1.Event{
			identify("1", "a", "L", t0, nil),
			identify("2", "a", "M", t0+1, nil),
			event("3", "page_view", "a", "", t0+2, "/blog/a"),
		}, map[string]int64{"blog_view": 1}, "L,M"},
		{"event without ids is ignored", []*leadstreamv1.Event{
			event("1", "page_view", "", "", t0, "/blog/a"),
			event("2", "page_view", "", "L", t0, "/blog/a"),
		}, map[string]int64{"blog_view": 1}, "L"},
		{"events without id all count", []*leadstreamv1.Event{
			event("", "page_view", "", "L", t0, "/blog/a"),
			event("", "page_view", "", "L", t0, "/blog/a"),
		}, map[string]int64{"blog_view": 2}, "L"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := NewSimulator(r)
			run(sim, tt.events...)
			s, ok := sim.Lead("L")
			if !ok {
				t.Fatal("no lead L")
			}
			if !reflect.DeepEqual(s.Counts, tt.counts) {
				t.Errorf("counts %v, want %v", s.Counts, tt.counts)
			}
			if got := strings.Join(sim.Leads(), ","); got != tt.leads {
				t.Errorf("leads %q, want %q", got, tt.leads)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	r := mustParse(t, withStages(simRules))
	lead, anon := NewState(), NewState()
	lead.Counts["download"] = 1
	lead.Days["download"] = map[int64]int64{10: 1, 11: 2}
	lead.Scores["eng"] = ScoreState{Value: 10, AtMs: day}
	lead.Traits["title"] = "CEO"
	anon.Counts["download"] = 2
	anon.Days["download"] = map[int64]int64{11: 1, 12: 5}
	anon.Hours["page"] = map[int64]int64{7: 1}
	anon.Scores["eng"] = ScoreState{Value: 4, AtMs: 2 * day}
	anon.Scores["flat"] = ScoreState{Value: 3, AtMs: 0}
	anon.Traits["title"] = "Intern"
	anon.Traits["email_domain"] = "x.example"
	r.Merge(lead, anon)
	want := &State{Stage: Visitor, Counts: map[string]int64{"download": 3},
		Days:   map[string]map[int64]int64{"download": {10: 1, 11: 3, 12: 5}},
		Hours:  map[string]map[int64]int64{"page": {7: 1}},
		Scores: map[string]ScoreState{"eng": {Value: 9, AtMs: 2 * day}, "flat": {Value: 3}},
		Traits: map[string]string{"title": "CEO", "email_domain": "x.example"}}
	if !reflect.DeepEqual(lead, want) {
		t.Errorf("got  %+v\nwant %+v", lead, want)
	}
}

// readEvents decodes a JSONL file of example events.
func readEvents(t *testing.T, path string) []*leadstreamv1.Event {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read events: %v", err)
	}
	var out []*leadstreamv1.Event
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		ev, err := decodeEvent(line)
		if err != nil {
			t.Fatalf("decode %s: %v", line, err)
		}
		out = append(out, ev)
	}
	return out
}

// TestExampleScenarios plays the example traffic against the example rules
// and checks the five situations marketing teams know.
func TestExampleScenarios(t *testing.T) {
	r, err := Load("../../deploy/rules/example.yaml")
	if err != nil {
		t.Fatalf("load example rules: %v", err)
	}
	sim := NewSimulator(r)
	byLead := map[string][]LeadTransition{}
	for _, tr := range run(sim, readEvents(t, "../../deploy/rules/example-events.jsonl")...) {
		byLead[tr.LeadID] = append(byLead[tr.LeadID], tr)
	}
	tests := []struct {
		name, lead, stages string
	}{
		{"competing agency reader is excluded", "crm-0666", "crm-0666:visitor>excluded@1"},
		{"one download stays a visitor", "crm-0101", ""},
		{"two blog posts and a download is an mql", "crm-0042", "crm-0042:visitor>mql@1"},
		{"decision maker revisiting pricing is an sql", "crm-0301",
			"crm-0301:visitor>mql@1 crm-0301:mql>sql@2"},
		{"contact me is an sql at once", "crm-0402",
			"crm-0402:visitor>mql@1 crm-0402:mql>sql@2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trs := byLead[tt.lead]
			if got := stages(trs); got != tt.stages {
				t.Errorf("got %q, want %q", got, tt.stages)
			}
			if len(trs) == 2 && trs[0].EventID != trs[1].EventID {
				t.Errorf("mql and sql came from different events: %s, %s", trs[0].EventID,
					trs[1].EventID)
			}
		})
	}
	if s, _ := sim.Lead("crm-0101"); s.Stage != Visitor {
		t.Errorf("crm-0101 is %s", s.Stage)
	}
}

// TestDeterminism runs the example traffic twice and expects the same
// transitions, ids and reasons.
func TestDeterminism(t *testing.T) {
	r, err := Load("../../deploy/rules/example.yaml")
	if err != nil {
		t.Fatalf("load example rules: %v", err)
	}
	events := readEvents(t, "../../deploy/rules/example-events.jsonl")
	first := run(NewSimulator(r), events...)
	for i := 0; i < 5; i++ {
		again := run(NewSimulator(r), events...)
		if !reflect.DeepEqual(first, again) {
			t.Fatalf("run %d differs:\n%v\n%v", i, first, again)
		}
	}
	ids := map[string]bool{}
	for _, tr := range first {
		if ids[tr.ID()] {
			t.Errorf("transition id %s repeats", tr.ID())
		}
		ids[tr.ID()] = true
	}
}

func TestTransitionID(t *testing.T) {
	tests := []struct {
		lead  string
		to    Stage
		epoch int64
		want  string
	}{
		{"crm-0042", MQL, 1, "b7f36447959906c1df450481d588b987"},
		{"anon:a-1", Excluded, 12, "ecd6675db7a51f041e6eaec1ab0fbb5d"},
	}
	for _, tt := range tests {
		if got := TransitionID(tt.lead, tt.to, tt.epoch); got != tt.want {
			t.Errorf("TransitionID(%q, %s, %d) = %s, want %s", tt.lead, tt.to, tt.epoch, got,
				tt.want)
		}
	}
}

func TestStageWords(t *testing.T) {
	for _, s := range []Stage{Visitor, MQL, SQL, Excluded} {
		got, err := ParseStage(s.String())
		if err != nil || got != s {
			t.Errorf("ParseStage(%q) = %v, %v", s.String(), got, err)
		}
	}
	if _, err := ParseStage("lead"); err == nil {
		t.Error("ParseStage accepted an unknown word")
	}
	if Stage(0).String() != "stage(0)" {
		t.Errorf("zero stage reads %q", Stage(0).String())
	}
}
