package demo

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/leadstream/leadstream/pkg/rules"
)

const sample = `# First story.
{"id":"e1","type":"page_view","anonymous_id":"a1","timestamp":"2026-12-01T09:00:00Z",` +
	`"url":"https://x/blog/a"}

{"id":"e2","type":"download","anonymous_id":"a1","timestamp":"2026-12-03T09:00:00Z"}
# Second story.
{"id":"e3","type":"identify","anonymous_id":"a2","lead_id":"l2",` +
	`"timestamp":"2026-12-02T10:00:00Z","traits":{"title":"CEO"}}
`

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // titles and event counts, or the error's text
		wantErr bool
	}{
		{"two stories", sample, "First story.:2 Second story.:1 ", false},
		{"no title", `{"id":"e","type":"x","lead_id":"l","timestamp":"2026-01-01T00:00:00Z"}`,
			":1 ", false},
		{"empty titles dropped", "# a\n# b\n", "", false},
		{"unknown field", `{"id":"e","typo":"x"}`, "line 1", true},
		{"no type", `{"id":"e","lead_id":"l","timestamp":"2026-01-01T00:00:00Z"}`, "no type", true},
		{"no ids", `{"id":"e","type":"x","timestamp":"2026-01-01T00:00:00Z"}`, "neither", true},
		{"no time", `{"id":"e","type":"x","lead_id":"l"}`, "no timestamp", true},
		{"two values", `{"id":"e","type":"x","lead_id":"l","timestamp":"2026-01-01T00:00:00Z"} {}`,
			"more than one", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sits, err := Parse(strings.NewReader(tt.in))
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Parse error = %v, want one containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var got strings.Builder
			for _, s := range sits {
				got.WriteString(s.Title + ":" + string(rune('0'+len(s.Events))) + " ")
			}
			if got.String() != tt.want {
				t.Errorf("got %q, want %q", got.String(), tt.want)
			}
		})
	}
}

func TestShiftKeepsSpacingAndEndsBeforeNow(t *testing.T) {
	sits, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	now := time.Date(2030, 5, 5, 12, 0, 0, 0, time.UTC)
	got := Shift(sits, now, time.Minute)
	first := got[0].Events
	if d := first[1].Timestamp.Sub(first[0].Timestamp); d != 48*time.Hour {
		t.Errorf("spacing = %s, want 48h", d)
	}
	for _, s := range got {
		last := s.Events[len(s.Events)-1].Timestamp
		if !last.Equal(now.Add(-time.Minute)) {
			t.Errorf("%s: last event at %s, want %s", s.Title, last, now.Add(-time.Minute))
		}
	}
	if sits[0].Events[0].Timestamp.Year() != 2026 {
		t.Error("Shift changed its input")
	}
}

func TestVia(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &Sender{Now: func() time.Time { return now }}
	tests := []struct {
		name string
		ev   Event
		want string
	}{
		{"recent anonymous view", Event{Type: "page_view", AnonymousID: "a",
			Timestamp: now.Add(-time.Minute)}, "pixel"},
		{"old view", Event{Type: "page_view", AnonymousID: "a",
			Timestamp: now.Add(-time.Hour)}, "batch"},
		{"view of a lead", Event{Type: "page_view", LeadID: "l",
			Timestamp: now}, "batch"},
		{"download", Event{Type: "download", AnonymousID: "a", Timestamp: now}, "batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.Via(tt.ev); got != tt.want {
				t.Errorf("Via = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestExampleTraffic holds the example files to the five situations the
// design promises.
func TestExampleTraffic(t *testing.T) {
	f, err := os.Open("../../../../deploy/rules/example-events.jsonl")
	if err != nil {
		t.Fatalf("open example events: %v", err)
	}
	defer f.Close()
	sits, err := Parse(f)
	if err != nil {
		t.Fatalf("parse example events: %v", err)
	}
	r, err := rules.Load("../../../../deploy/rules/example.yaml")
	if err != nil {
		t.Fatalf("load example rules: %v", err)
	}
	exp := Expect(r, Shift(sits, time.Now(), time.Minute))
	want := map[string]rules.Stage{"crm-0666": rules.Excluded, "crm-0101": rules.Visitor,
		"crm-0042": rules.MQL, "crm-0301": rules.SQL, "crm-0402": rules.SQL}
	for lead, stage := range want {
		if exp.Final[lead] != stage {
			t.Errorf("%s ends as %s, want %s", lead, exp.Final[lead], stage)
		}
	}
	if len(sits) != 5 {
		t.Errorf("%d situations, want 5", len(sits))
	}
	if got := Summary(exp.Final); !strings.Contains(got, "2 SQLs, 1 excluded") {
		t.Errorf("summary = %q", got)
	}
}
