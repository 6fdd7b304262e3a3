package e2e

import (
	"bytes"
	"context"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadstream/leadstream/pkg/config"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/leadstream/leadstream/services/devstack/internal/demo"
	"github.com/leadstream/leadstream/services/devstack/internal/deploycheck"
	"github.com/leadstream/leadstream/services/devstack/internal/stack"
)

func (d *devstack) demoConfig() demo.Config {
	root := deploycheck.Root
	return demo.Config{
		Events:  filepath.Join(root, "deploy/rules/example-events.jsonl"),
		Rules:   filepath.Join(root, "deploy/rules/example.yaml"),
		Tracker: d.tracker, Brokers: []string{d.kafka},
		Topic: config.DefaultTransitionsTopic, EventsTopic: config.DefaultEventsTopic,
		Group: stack.ScorerGroup, Wait: patience, Quiet: time.Second,
	}
}

// play runs the demo's player as make demo does and returns its output.
func (d *devstack) play(t *testing.T) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := demo.Play(context.Background(), d.demoConfig(), d.sender(), &out)
	return out.String(), err
}

// demoWant is what the example traffic must make of the example leads,
// written out by hand rather than taken from the simulator the player
// checks against: each lead's moves in order, and reasons each must give.
var demoWant = map[string][]struct {
	move    string
	reasons []string
}{
	"crm-0666": {{"visitor→excluded", []string{`trait competitor`}}},
	"crm-0042": {{"visitor→mql", []string{"blog_view = 2 >= 2", "content_download = 1 >= 1"}}},
	"crm-0301": {
		{"visitor→mql", []string{"content_download = 3 >= 3"}},
		{"mql→sql", []string{"distinct_days(pricing_view, 30d) = 2 >= 2",
			"content_download = 3 >= 3", "trait decision_maker"}},
	},
	"crm-0402": {
		{"visitor→mql", []string{"contact_request = 1 >= 1"}},
		{"mql→sql", []string{"contact_request = 1 >= 1"}},
	},
}

func TestDemoTrafficMakesExactlyTheExampleTransitions(t *testing.T) {
	bin := buildAll(t)
	srv := httptest.NewServer(&webhook{})
	t.Cleanup(srv.Close)
	d := startDevstack(t, bin, t.TempDir(), srv.URL)

	out, err := d.play(t)
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out)
	}
	t.Logf("demo output:\n%s", out)
	waitCaughtUp(t, d.admin(t))
	wantDemoTransitions(t, transitions(t, d))
	for _, line := range []string{"no other transitions",
		"summary: 5 leads: 1 visitors, 1 MQLs, 2 SQLs, 1 excluded"} {
		if !strings.Contains(out, line) {
			t.Errorf("demo output lacks %q:\n%s", line, out)
		}
	}

	// Two blog posts make the one-download lead an MQL, which the example
	// rules do not expect of the example traffic: the demo must say so
	// and fail, though every transition it waits for is there.
	now := time.Now()
	d.send(t, demo.Event{ID: "extra-1", Type: "page_view", LeadID: "crm-0101",
		Timestamp: now.Add(-10 * time.Minute).UTC(), URL: "https://example.com/blog/a"},
		demo.Event{ID: "extra-2", Type: "page_view", LeadID: "crm-0101",
			Timestamp: now.Add(-9 * time.Minute).UTC(), URL: "https://example.com/blog/b"})
	waitTransition(t, d, "crm-0101", leadstreamv1.Stage_STAGE_MQL)
	out, err = d.play(t)
	t.Logf("demo output with a stray transition:\n%s", out)
	if err == nil || !strings.Contains(err.Error(), "unexpected crm-0101 mql") {
		t.Errorf("demo with a stray transition returned %v, want one naming crm-0101 mql\n%s",
			err, out)
	}
	if !strings.Contains(out, "(unexpected)") {
		t.Errorf("demo output does not mark the stray transition:\n%s", out)
	}
	d.stop(t)
}

// wantDemoTransitions holds the transitions topic to demoWant: per lead,
// the same moves in the same order (copies of one id dropped), the
// reasons, and nothing for any other lead.
func wantDemoTransitions(t *testing.T, trs []*leadstreamv1.Transition) {
	t.Helper()
	got := map[string][]*leadstreamv1.Transition{}
	seen := map[string]bool{}
	for _, tr := range trs {
		if !seen[tr.GetId()] {
			seen[tr.GetId()] = true
			got[tr.GetLeadId()] = append(got[tr.GetLeadId()], tr)
		}
	}
	for lead, trs := range got {
		want := demoWant[lead]
		var moves, wantMoves []string
		for _, tr := range trs {
			moves = append(moves, move(tr))
		}
		for _, w := range want {
			wantMoves = append(wantMoves, w.move)
		}
		if !slices.Equal(moves, wantMoves) {
			t.Errorf("%s moved %v, want %v", lead, moves, wantMoves)
			continue
		}
		for i, tr := range trs {
			wantReasons(t, tr, want[i].reasons...)
		}
	}
	for lead := range demoWant {
		if got[lead] == nil {
			t.Errorf("%s has no transitions, want %d", lead, len(demoWant[lead]))
		}
	}
}

func move(tr *leadstreamv1.Transition) string {
	return demo.StageWord(tr.GetFrom()) + "→" + demo.StageWord(tr.GetTo())
}
