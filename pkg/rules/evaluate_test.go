package rules

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

var utc = time.UTC

const evalRules = `stages:
  mql:
    all: ["blog_view >= 2", "download >= 1"]
  sql:
    any:
      - "contact >= 1"
      - all: ["distinct_days(pricing_view, 30d) >= 2", "score(eng) >= 40", "trait dm"]
      - not: {any: ["trait big", "page < 50"]}
exclude:
  any: ["trait rival", {all: ["page >= 200", "blog_view == 0"]}]
`

func TestEvaluate(t *testing.T) {
	at := ms(t, "2026-12-10T12:00:00Z")
	today := localDay(at, utc)
	tests := []struct {
		name  string
		rules string
		state func(s *State)
		want  []Transition
	}{
		{"nothing yet", evalRules, func(s *State) {}, nil},
		{"mql", evalRules, func(s *State) {
			s.Counts["blog_view"], s.Counts["download"] = 2, 1
		}, []Transition{{Visitor, MQL, []string{"blog_view = 2 >= 2", "download = 1 >= 1"}}}},
		{"sql through mql with the sql reasons", evalRules, func(s *State) {
			s.Counts["contact"] = 1
		}, []Transition{
			{Visitor, MQL, []string{"contact = 1 >= 1"}},
			{MQL, SQL, []string{"contact = 1 >= 1"}}}},
		{"sql through mql with both reasons", evalRules, func(s *State) {
			s.Counts["blog_view"], s.Counts["download"], s.Counts["contact"] = 3, 1, 2
		}, []Transition{
			{Visitor, MQL, []string{"blog_view = 3 >= 2", "download = 1 >= 1"}},
			{MQL, SQL, []string{"contact = 2 >= 1"}}}},
		{"mql to sql only", evalRules, func(s *State) {
			s.Stage = MQL
			s.Days["pricing_view"] = map[int64]int64{today: 1, today - 29: 3, today - 30: 9}
			s.Scores["eng"] = ScoreState{Value: 83, AtMs: at - day}
			s.Traits["title"] = "VP Sales"
		}, []Transition{{MQL, SQL, []string{"distinct_days(pricing_view, 30d) = 2 >= 2",
			"score(eng) = 41.5 >= 40", "trait dm (title = \"VP Sales\")"}}}},
		{"any lists every branch that held", evalRules, func(s *State) {
			s.Stage = MQL
			s.Counts["contact"], s.Counts["page"] = 1, 60
		}, []Transition{{MQL, SQL, []string{"contact = 1 >= 1",
			"not (trait big (employees not set) or page = 60 < 50)"}}}},
		{"sql lead stays", evalRules, func(s *State) {
			s.Stage = SQL
			s.Counts["contact"] = 1
		}, nil},
		{"exclusion first", evalRules, func(s *State) {
			s.Counts["contact"] = 1
			s.Traits["email_domain"] = "rival.com"
		}, []Transition{{Visitor, Excluded,
			[]string{"trait rival (email_domain = \"rival.com\")"}}}},
		{"exclusion of an sql lead", evalRules, func(s *State) {
			s.Stage = SQL
			s.Counts["page"] = 250
		}, []Transition{{SQL, Excluded, []string{"page = 250 >= 200", "blog_view = 0 == 0"}}}},
		{"excluded is final", evalRules, func(s *State) {
			s.Stage = Excluded
			s.Counts["contact"] = 1
		}, nil},
		{"require_identified holds back", evalRules + "require_identified: true\n",
			func(s *State) { s.Counts["contact"] = 1 }, nil},
		{"require_identified still excludes", evalRules + "require_identified: true\n",
			func(s *State) { s.Traits["email_domain"] = "other.io" },
			[]Transition{{Visitor, Excluded,
				[]string{"trait rival (email_domain = \"other.io\")"}}}},
		{"require_identified met", evalRules + "require_identified: true\n",
			func(s *State) { s.Counts["contact"], s.Identified = 1, true },
			[]Transition{{Visitor, MQL, []string{"contact = 1 >= 1"}},
				{MQL, SQL, []string{"contact = 1 >= 1"}}}},
		{"zero stage reads as visitor", evalRules, func(s *State) {
			s.Stage = 0
			s.Counts["blog_view"], s.Counts["download"] = 2, 1
		}, []Transition{{Visitor, MQL, []string{"blog_view = 2 >= 2", "download = 1 >= 1"}}}},
		{"sql only rules", "stages: {sql: \"download >= 1\"}\n", func(s *State) {
			s.Counts["download"] = 1
		}, []Transition{{Visitor, MQL, []string{"download = 1 >= 1"}},
			{MQL, SQL, []string{"download = 1 >= 1"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, withStages(tt.rules))
			s := NewState()
			tt.state(s)
			before := snapshot(t, s)
			got := r.Evaluate(s, at)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if snapshot(t, s) != before {
				t.Error("Evaluate changed the state")
			}
		})
	}
}

// snapshot renders s for comparison.
func snapshot(t *testing.T, s *State) string {
	t.Helper()
	return fmt.Sprintf("%+v", *s)
}
