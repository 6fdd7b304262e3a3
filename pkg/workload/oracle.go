package workload

import (
	"fmt"
	"sort"

	"github.com/leadstream/leadstream/pkg/rules"
)

// Outcome is what the pipeline must hold for one lead at the end.
type Outcome struct {
	Stage  rules.Stage
	Epoch  int64
	Counts map[string]int64
	Scores map[string]float64
	Traits map[string]string
}

// Oracle is the expected end state of a workload under one set of rules.
type Oracle struct {
	// Leads holds the outcome of every lead, by lead id, and of every
	// visitor never linked to a lead, by rules.AnonPrefix + anonymous id.
	Leads map[string]Outcome
	// Transitions holds every transition the pipeline must publish, by
	// transition id.
	Transitions map[string]rules.LeadTransition
	// Causes holds, by transition id, the ids of the events that may be
	// named as its cause: every event of its lead. Only Workload.Expect
	// fills it, and Cause and EventTimes.
	Causes map[string][]string
	// Cause holds, by transition id, the one event that causes it in any
	// order, where there is one, when each event is counted and decided
	// at once as the simulator does. A pipeline that decides in a step of
	// its own may record the decision under another event of the lead
	// that it scores at the same time, or after a crash between the two
	// steps.
	Cause map[string]string
	// EventTimes holds the event time of every event, in unix ms, by id.
	EventTimes map[string]int64
}

// Expect runs events through r in memory, in the given order, and returns
// the outcome. For rules like deploy/rules/faults.yaml the result does not
// depend on the order.
func Expect(r *rules.Rules, events []Event) (*Oracle, error) {
	sim := rules.NewSimulator(r)
	o := &Oracle{Leads: map[string]Outcome{}, Transitions: map[string]rules.LeadTransition{}}
	for _, ev := range events {
		pb, err := ev.Proto()
		if err != nil {
			return nil, fmt.Errorf("expect outcome: %w", err)
		}
		for _, tr := range sim.Process(pb) {
			o.Transitions[tr.ID()] = tr
		}
	}
	for _, id := range sim.Leads() {
		s, _ := sim.Lead(id)
		o.Leads[id] = outcomeOf(s)
	}
	return o, nil
}

func outcomeOf(s *rules.State) Outcome {
	out := Outcome{Stage: s.Stage, Epoch: s.Epoch, Counts: map[string]int64{},
		Scores: map[string]float64{}, Traits: map[string]string{}}
	for k, v := range s.Counts {
		out.Counts[k] = v
	}
	for k, v := range s.Scores {
		out.Scores[k] = v.Value
	}
	for k, v := range s.Traits {
		out.Traits[k] = v
	}
	return out
}

// TransitionIDs returns the ids of every expected transition, sorted.
func (o *Oracle) TransitionIDs() []string {
	ids := make([]string, 0, len(o.Transitions))
	for id := range o.Transitions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Stages returns how many leads end in each stage.
func (o *Oracle) Stages() map[rules.Stage]int {
	out := map[rules.Stage]int{}
	for _, l := range o.Leads {
		out[l.Stage]++
	}
	return out
}
