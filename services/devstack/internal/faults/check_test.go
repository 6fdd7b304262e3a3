package faults

import (
	"strconv"
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
	o, err := w.Expect(r)
	if err != nil {
		t.Fatalf("expect: %v", err)
	}
	exp := Expected{Oracle: o, Acked: map[string]bool{}, Poison: w.Poison,
		EventsTopic: "events", RulesVersion: r.Version()}
	obs := Observed{Leads: map[string]*rules.State{}, EventIDs: map[string]int{},
		EventAt: map[string]Pos{}}
	for i, ev := range w.Events() {
		exp.Acked[ev.ID] = true
		obs.EventIDs[ev.ID]++
		if _, ok := obs.EventAt[ev.ID]; !ok {
			obs.EventAt[ev.ID] = Pos{Offset: int64(i)}
		}
	}
	for id, out := range o.Leads {
		obs.Leads[id] = stateOf(out)
	}
	for i, id := range o.TransitionIDs() {
		tr := o.Transitions[id]
		obs.Transitions = append(obs.Transitions, Published{Pos: Pos{Offset: int64(i)},
			Transition: &leadstreamv1.Transition{Id: id, LeadId: tr.LeadID,
				From: leadstreamv1.Stage(tr.From), To: leadstreamv1.Stage(tr.To),
				Epoch: tr.Epoch, EventId: tr.EventID, OccurredAtUnixMs: tr.OccurredAtMs,
				RulesVersion: r.Version()}})
		obs.Deliveries = append(obs.Deliveries, Delivery{Key: id, LeadID: tr.LeadID,
			From: tr.From.String(), To: tr.To.String(), EventID: tr.EventID, Status: 200})
	}
	for i, p := range w.Poison {
		obs.DeadLetters = append(obs.DeadLetters, DeadLetter{Key: p.Key, Value: p.Value,
			Headers: map[string]string{"error": "refused: " + p.Hint, "source_topic": "events",
				"source_partition": "1", "source_offset": strconv.Itoa(i)}})
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

// aCause returns the index of a published transition whose cause the
// oracle knows exactly, and another event of its lead.
func aCause(t *testing.T, exp *Expected, obs *Observed) (int, string) {
	t.Helper()
	for i, tr := range obs.Transitions {
		cause, ok := exp.Oracle.Cause[tr.GetId()]
		if !ok {
			continue
		}
		for _, ev := range exp.Oracle.Causes[tr.GetId()] {
			if ev != cause {
				return i, ev
			}
		}
	}
	t.Fatal("no transition with an exact cause and a lead of several events")
	return 0, ""
}

// reload makes the observation a run that reloaded version v when half
// of the transitions were published.
func reload(exp *Expected, obs *Observed, v string) {
	half := int64(len(obs.Transitions) / 2)
	exp.Reloads = []Reload{{Version: v, Before: map[int32]int64{0: half},
		After: map[int32]int64{0: 1 << 40}}}
	for _, tr := range obs.Transitions[half:] {
		tr.RulesVersion = v
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name                  string
		mutate                func(*testing.T, *Expected, *Observed)
		lost, wrong           int
		dupPub, dupDel, dupDL int
		other                 int
		problem               string
	}{
		{name: "perfect", mutate: func(*testing.T, *Expected, *Observed) {}},
		{name: "event missing from topic", lost: 1, problem: "not on the events topic",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				delete(obs.EventIDs, sortedKeys(exp.Acked)[3])
			}},
		{name: "count too low", lost: 1, problem: "want",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				st := obs.Leads[aLead(t, *exp)]
				for sig := range st.Counts {
					st.Counts[sig]--
					break
				}
			}},
		{name: "count too high", wrong: 1, problem: "want",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.Leads[aLead(t, *exp)].Counts["blog_view"] += 1
			}},
		{name: "lead missing", lost: 1, problem: "no state",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				delete(obs.Leads, aLead(t, *exp))
			}},
		{name: "wrong stage", wrong: 1, problem: "stage",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.Leads[aLead(t, *exp)].Stage = rules.MQL
			}},
		{name: "wrong trait", wrong: 1, problem: "trait",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.Leads[aLead(t, *exp)].Traits["email_domain"] = "x"
			}},
		{name: "transition lost", lost: 2, problem: "not published",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.Transitions = obs.Transitions[1:]
				obs.Deliveries = obs.Deliveries[1:]
			}},
		{name: "unexpected transition", wrong: 1, problem: "not expected",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.Transitions = append(obs.Transitions, Published{Pos: Pos{Offset: 1 << 20},
					Transition: &leadstreamv1.Transition{Id: "x", RulesVersion: exp.RulesVersion}})
			}},
		{name: "transition under the wrong id", wrong: 1, problem: "want lead",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.Transitions[0].Epoch += 5
			}},
		{name: "transition from the wrong stage", wrong: 1, problem: "want lead",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.Transitions[0].From = leadstreamv1.Stage_STAGE_EXCLUDED
			}},
		{name: "transition caused by another lead's event", wrong: 1,
			problem: "none of its lead's",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.Transitions[0].EventId = "other"
			}},
		{name: "transition at another time than its event", wrong: 1, problem: "occurred at",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.Transitions[0].OccurredAtUnixMs++
			}},
		{name: "transition recorded under another event of its lead", other: 1,
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				i, ev := aCause(t, exp, obs)
				tr := obs.Transitions[i]
				tr.EventId, tr.OccurredAtUnixMs = ev, exp.Oracle.EventTimes[ev]
				obs.Transitions = append(obs.Transitions, tr) // counted once
			}, dupPub: 1},
		{name: "delivery for another lead", wrong: 1, problem: "delivery",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.Deliveries[0].LeadID = "someone"
			}},
		{name: "delivery to the wrong stage", wrong: 1, problem: "delivery",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.Deliveries[0].To = "visitor"
			}},
		{name: "delivery from the wrong stage", wrong: 1, problem: "delivery",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.Deliveries[0].From = "excluded"
			}},
		{name: "delivery caused by another lead's event", wrong: 1, problem: "delivered as",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.Deliveries[0].EventID = "other"
			}},
		{name: "repeats", dupPub: 2, dupDel: 1,
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.Transitions = append(obs.Transitions, obs.Transitions[0], obs.Transitions[1])
				obs.Deliveries = append(obs.Deliveries, obs.Deliveries[2])
			}},
		{name: "unknown rules version", wrong: 1, problem: "carries rules version",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.Transitions[3].RulesVersion = "faults-v9"
			}},
		{name: "reload took effect",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				reload(exp, obs, "faults-v2")
			}},
		{name: "reload never took effect", wrong: 1, problem: "no transition carries",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				reload(exp, obs, "faults-v2")
				for _, tr := range obs.Transitions {
					tr.RulesVersion = exp.RulesVersion
				}
			}},
		{name: "published before the reload under its version", wrong: 1,
			problem: "before the reload",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				reload(exp, obs, "faults-v2")
				obs.Transitions[0].RulesVersion = "faults-v2"
			}},
		{name: "decided after the reload under the old version", wrong: 1,
			problem: "after the reload",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				tr := obs.Transitions[0]
				at := obs.EventAt[tr.GetEventId()]
				exp.Reloads = []Reload{{Version: "faults-v2", Before: map[int32]int64{},
					After: map[int32]int64{0: at.Offset}}}
				for _, p := range obs.Transitions {
					p.RulesVersion = "faults-v2"
				}
				tr.RulesVersion = exp.RulesVersion
			}},
		{name: "pending left", wrong: 1, problem: "pending",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) { obs.Pending = 2 }},
		{name: "poison not dead-lettered", lost: 1, problem: "not dead-lettered",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.DeadLetters = obs.DeadLetters[1:]
			}},
		{name: "poison dead-lettered twice", dupDL: 1,
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.DeadLetters = append(obs.DeadLetters, obs.DeadLetters[0])
			}},
		{name: "foreign dead letter", wrong: 1, problem: "no poison",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.DeadLetters = append(obs.DeadLetters, DeadLetter{Value: []byte("hello")})
			}},
		{name: "dead letter under another key", wrong: 1, problem: "key",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.DeadLetters[1].Key = []byte("other")
			}},
		{name: "dead letter without its reason", wrong: 1, problem: "error header",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.DeadLetters[0].Headers["error"] = "something"
			}},
		{name: "dead letter without its source", wrong: 1, problem: "source_topic",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				delete(obs.DeadLetters[0].Headers, "source_topic")
			}},
		{name: "dead letter without its offset", wrong: 1, problem: "source_offset",
			mutate: func(t *testing.T, exp *Expected, obs *Observed) {
				obs.DeadLetters[0].Headers["source_offset"] = ""
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp, obs := perfect(t)
			tt.mutate(t, &exp, &obs)
			rep := &Report{Scenario: "unit"}
			Check(rep, exp, obs)
			if rep.Lost != tt.lost || rep.Wrong != tt.wrong || rep.DupPublished != tt.dupPub ||
				rep.DupDelivered != tt.dupDel || rep.DupDeadLetters != tt.dupDL ||
				rep.OtherCauses != tt.other {
				t.Fatalf("%s\nwant lost=%d wrong=%d dup_published=%d dup_delivered=%d "+
					"dup_deadletter=%d other_cause=%d; problems:\n%s", rep, tt.lost, tt.wrong,
					tt.dupPub, tt.dupDel, tt.dupDL, tt.other, strings.Join(rep.Problems, "\n"))
			}
			if tt.problem != "" && !strings.Contains(strings.Join(rep.Problems, "\n"), tt.problem) {
				t.Fatalf("problems %q lack %q", rep.Problems, tt.problem)
			}
		})
	}
}

func TestReportLine(t *testing.T) {
	rep := &Report{Scenario: "scale", Seed: 4, Events: 10, Faults: 2, Lost: 1, DupPublished: 3,
		DupDelivered: 2, DupDeadLetters: 1}
	want := "scenario=scale seed=4 events=10 faults=2 exits=0 lost=1 wrong=0 " +
		"dup_published=3 dup_delivered=2 dup_deadletter=1 other_cause=0 recover=0s"
	if rep.String() != want {
		t.Fatalf("got  %s\nwant %s", rep, want)
	}
	if rep.OK() {
		t.Fatal("a report with a loss is OK")
	}
}

func TestReportExits(t *testing.T) {
	rep := &Report{Scenario: "scale"}
	if !rep.OK() {
		t.Fatal("an empty report is not OK")
	}
	rep.exited(2, "scorer (scorer-3.log) exited 2 times")
	if rep.OK() || rep.Exits != 2 || !strings.Contains(rep.String(), " exits=2 ") {
		t.Fatalf("after two exits: OK %v, %s", rep.OK(), rep)
	}
}
