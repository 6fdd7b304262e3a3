package demo

import (
	"fmt"
	"strings"

	"github.com/leadstream/leadstream/pkg/rules"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// Expectation is what the rules say the traffic must produce.
type Expectation struct {
	// Transitions are "lead_id to" keys, e.g. "crm-0042 mql", in order.
	Transitions []string
	// Final is each lead's stage after all the traffic.
	Final map[string]rules.Stage
}

// Expect runs the situations through the rules simulator, the reference
// the scorers are tested against.
func Expect(r *rules.Rules, sits []Situation) Expectation {
	sim := rules.NewSimulator(r)
	var exp Expectation
	for _, s := range sits {
		for _, ev := range s.Events {
			for _, tr := range sim.Process(toProto(ev)) {
				exp.Transitions = append(exp.Transitions, transitionKey(tr.LeadID, tr.To.String()))
			}
		}
	}
	exp.Final = map[string]rules.Stage{}
	for _, id := range sim.Leads() {
		if st, ok := sim.Lead(id); ok {
			exp.Final[id] = st.Stage
		}
	}
	return exp
}

func toProto(ev Event) *leadstreamv1.Event {
	return &leadstreamv1.Event{
		Id: ev.ID, Type: ev.Type, AnonymousId: ev.AnonymousID, LeadId: ev.LeadID,
		OccurredAtUnixMs: ev.Timestamp.UnixMilli(), ClientTimestampUnixMs: ev.Timestamp.UnixMilli(),
		Url: ev.URL, Referrer: ev.Referrer, Properties: ev.Properties, Traits: ev.Traits,
	}
}

func transitionKey(leadID, to string) string { return leadID + " " + to }

// StageWord is the contract's lower-case word for a protobuf stage.
func StageWord(s leadstreamv1.Stage) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "STAGE_"))
}

// Summary counts leads by their final stage, in the contract's order.
func Summary(final map[string]rules.Stage) string {
	counts := map[rules.Stage]int{}
	for _, st := range final {
		counts[st]++
	}
	return fmt.Sprintf("%d leads: %d visitors, %d MQLs, %d SQLs, %d excluded",
		len(final), counts[rules.Visitor], counts[rules.MQL], counts[rules.SQL],
		counts[rules.Excluded])
}
