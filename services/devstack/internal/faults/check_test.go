package faults

import (
	"strings"
	"testing"

	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/pkg/workload"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

const rulesFile = "../../../../deploy/rules/faults.yaml"

// perfect returns the expectation of a small workload and an observation
// that matches it exactly.
func perfect(t *testing.T) (Expected, Observed) {
	t.Helper()
	r, err := rules.Load(rulesFile)
	if err != nil {
		t.Fatalf("load rules: %v", err)
	}
	cfg := workload.DefaultConfig(11)
	cfg.Leads, cfg.Visitors = 40, 5
	w, err := workload.Generate(cfg)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	o, err := workload.Expect(r, w.Events())
	if err != nil {
		t.Fatalf("expect: %v", err)
	}
	exp := Expected{Oracle: o, Acked: map[string]bool{}, Poison: w.Poison}
	obs := Observed{Leads: map[string]*rules.State{}, EventIDs: map[string]int{}}
	for _, ev := range w.Events() {
		exp.Acked[ev.ID] = true
		obs.EventIDs[ev.ID]++
	}
	for id, out := range o.Leads {
		obs.Leads[id] = stateOf(out)
	}
	for _, id := range o.TransitionIDs() {
		tr := o.Transitions[id]
		obs.Transitions = append(obs.Transitions, &leadstreamv1.Transition{Id: id,
			LeadId: tr.LeadID, To: leadstreamv1.Stage(tr.To), Epoch: tr.Epoch})
		obs.Deliveries = append(obs.Deliveries, Delivery{Key: id, Status: 200})
	}
	for _, p := range w.Poison {
		obs.DeadLetters = append(obs.DeadLetters, p.Value)
	}
	return exp, obs
}

func stateOf(o workload.Outcome) *rules.State {
	st := rules.NewState()
	st.Stage, st.Epoch = o.Stage, o.Epoch
	for k, v := range o.Counts {
		st.Counts[k] = v
	}
	for k, v := range o.Scores {
		st.Scores[k] = rules.ScoreState{Value: v}
	}
	for k, v := range o.Traits {
		st.Traits[k] = v
	}
	return st
}

// aLead returns a lead that reached sql, for mutations.
func aLead(t *testing.T, exp Expected) string {
	t.Helper()
	for _, id := range sortedKeys(exp.Oracle.Leads) {
		if exp.Oracle.Leads[id].Stage == rules.SQL {
			return id
		}
	}
	t.Fatal("no sql lead in the workload")
	return ""
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name                   string
		mutate                 func(*testing.T, Expected, *Observed)
		lost, wrong, duplicate int
		problem                string
	}{
		{name: "perfect", mutate: func(*testing.T, Expected, *Observed) {}},
		{name: "event missing from topic", lost: 1, problem: "not on the events topic",
			mutate: func(t *testing.T, exp Expected, obs *Observed) {
				delete(obs.EventIDs, sortedKeys(exp.Acked)[3])
			}},
		{name: "count too low", lost: 1, problem: "want",
			mutate: func(t *testing.T, exp Expected, obs *Observed) {
				st := obs.Leads[aLead(t, exp)]
				for sig := range st.Counts {
					st.Counts[sig]--
					break
				}
			}},
		{name: "count too high", wrong: 1, problem: "want",
			mutate: func(t *testing.T, exp Expected, obs *Observed) {
				obs.Leads[aLead(t, exp)].Counts["blog_view"] += 1
			}},
		{name: "lead missing", lost: 1, problem: "no state",
			mutate: func(t *testing.T, exp Expected, obs *Observed) {
				delete(obs.Leads, aLead(t, exp))
			}},
		{name: "wrong stage", wrong: 1, problem: "stage",
			mutate: func(t *testing.T, exp Expected, obs *Observed) {
				obs.Leads[aLead(t, exp)].Stage = rules.MQL
			}},
		{name: "wrong trait", wrong: 1, problem: "trait",
			mutate: func(t *testing.T, exp Expected, obs *Observed) {
				obs.Leads[aLead(t, exp)].Traits["email_domain"] = "x"
			}},
		{name: "transition lost", lost: 2, problem: "not published",
			mutate: func(t *testing.T, exp Expected, obs *Observed) {
				obs.Transitions = obs.Transitions[1:]
				obs.Deliveries = obs.Deliveries[1:]
			}},
		{name: "unexpected transition", wrong: 1, problem: "not expected",
			mutate: func(t *testing.T, exp Expected, obs *Observed) {
				obs.Transitions = append(obs.Transitions, &leadstreamv1.Transition{Id: "x"})
			}},
		{name: "transition under the wrong id", wrong: 1, problem: "want lead",
			mutate: func(t *testing.T, exp Expected, obs *Observed) {
				obs.Transitions[0].Epoch += 5
			}},
		{name: "repeats", duplicate: 3,
			mutate: func(t *testing.T, exp Expected, obs *Observed) {
				obs.Transitions = append(obs.Transitions, obs.Transitions[0], obs.Transitions[1])
				obs.Deliveries = append(obs.Deliveries, obs.Deliveries[2])
			}},
		{name: "pending left", wrong: 1, problem: "pending",
			mutate: func(t *testing.T, exp Expected, obs *Observed) { obs.Pending = 2 }},
		{name: "poison not dead-lettered", lost: 1, problem: "not dead-lettered",
			mutate: func(t *testing.T, exp Expected, obs *Observed) {
				obs.DeadLetters = obs.DeadLetters[1:]
			}},
		{name: "poison dead-lettered twice", duplicate: 1,
			mutate: func(t *testing.T, exp Expected, obs *Observed) {
				obs.DeadLetters = append(obs.DeadLetters, obs.DeadLetters[0])
			}},
		{name: "foreign dead letter", wrong: 1, problem: "no poison",
			mutate: func(t *testing.T, exp Expected, obs *Observed) {
				obs.DeadLetters = append(obs.DeadLetters, []byte("hello"))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp, obs := perfect(t)
			tt.mutate(t, exp, &obs)
			rep := &Report{Scenario: "unit"}
			Check(rep, exp, obs)
			if rep.Lost != tt.lost || rep.Wrong != tt.wrong || rep.Duplicates != tt.duplicate {
				t.Fatalf("%s\nwant lost=%d wrong=%d duplicates=%d; problems:\n%s", rep,
					tt.lost, tt.wrong, tt.duplicate, strings.Join(rep.Problems, "\n"))
			}
			if tt.problem != "" && !strings.Contains(strings.Join(rep.Problems, "\n"), tt.problem) {
				t.Fatalf("problems %q lack %q", rep.Problems, tt.problem)
			}
		})
	}
}

func TestReportLine(t *testing.T) {
	rep := &Report{Scenario: "scale", Seed: 4, Events: 10, Faults: 2, Lost: 1, Duplicates: 3}
	want := "scenario=scale seed=4 events=10 faults=2 lost=1 wrong=0 duplicates=3 recover=0s"
	if rep.String() != want {
		t.Fatalf("got  %s\nwant %s", rep, want)
	}
	if rep.OK() {
		t.Fatal("a report with a loss is OK")
	}
}
