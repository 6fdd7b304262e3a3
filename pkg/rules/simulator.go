package rules

import (
	"sort"
	"strings"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// AnonPrefix starts the lead id under which an unidentified visitor's
// transitions are reported: "anon:" + anonymous id.
const AnonPrefix = "anon:"

// LeadTransition is a Transition of one lead, caused by one event.
type LeadTransition struct {
	// LeadID is the lead's id, or AnonPrefix + anonymous id for a visitor
	// not yet identified.
	LeadID string
	// EventID is the id of the event that caused the transition.
	EventID string
	// OccurredAtMs is the event time of that event, in unix ms.
	OccurredAtMs int64
	// Epoch numbers the lead's stage changes, starting at 1.
	Epoch int64
	Transition
}

// ID returns the transition's deterministic id; see TransitionID.
func (t LeadTransition) ID() string { return TransitionID(t.LeadID, t.To, t.Epoch) }

// Simulator runs events through the rules in memory, with the identity
// semantics of the lead store. It is the reference the lead store is
// tested against, and what operators use to try rules on sample events.
// It is not safe for concurrent use.
//
// Identity works as follows. An event counts for its lead_id when it has
// one, else for the lead its anonymous_id is linked to, else for the
// anonymous visitor itself. An event carrying both ids links the
// anonymous id to the lead if it is not linked yet, and merges the
// visitor's history into the lead, once. The first link of an anonymous
// id wins: a later event pairing it with another lead counts for that
// other lead but does not move the link, so the device's anonymous events
// keep counting for the first lead. An event id counts once per lead,
// including the ids of merged visitors; an empty id is never deduplicated.
// A merged visitor's stage is not carried over: the lead's own stage and
// the merged counters decide the lead's transitions, reported under its
// lead id.
type Simulator struct {
	rules *Rules
	leads map[string]*simLead // by lead id
	anons map[string]*simLead // unlinked visitors, by anonymous id
	links map[string]string   // anonymous id to lead id
}

type simLead struct {
	state *State
	seen  map[string]bool
}

// NewSimulator returns a simulator with no leads.
func NewSimulator(r *Rules) *Simulator {
	return &Simulator{rules: r, leads: map[string]*simLead{}, anons: map[string]*simLead{},
		links: map[string]string{}}
}

// Process counts ev and returns the transitions it caused, in order, after
// applying them to the lead. An event with neither id, or one already
// counted for its lead, causes nothing.
func (sim *Simulator) Process(ev *leadstreamv1.Event) []LeadTransition {
	id, lead := sim.resolve(ev)
	if lead == nil {
		return nil
	}
	if ev.GetId() != "" {
		if lead.seen[ev.GetId()] {
			return nil
		}
		lead.seen[ev.GetId()] = true
	}

	r, s, at := sim.rules, lead.state, ev.GetOccurredAtUnixMs()
	r.Apply(s, ev)
	r.Prune(s, at)
	var out []LeadTransition
	for _, tr := range r.Evaluate(s, at) {
		s.Stage = tr.To
		s.Epoch++
		out = append(out, LeadTransition{LeadID: id, EventID: ev.GetId(), OccurredAtMs: at,
			Epoch: s.Epoch, Transition: tr})
	}
	return out
}

// resolve finds the lead ev counts for, linking and merging as needed.
func (sim *Simulator) resolve(ev *leadstreamv1.Event) (string, *simLead) {
	anon, leadID := ev.GetAnonymousId(), ev.GetLeadId()
	switch {
	case leadID != "":
		lead := sim.lead(leadID)
		if anon != "" {
			sim.link(anon, leadID, lead)
		}
		return leadID, lead
	case anon == "":
		return "", nil
	}
	if linked, ok := sim.links[anon]; ok {
		return linked, sim.leads[linked]
	}
	v, ok := sim.anons[anon]
	if !ok {
		v = newSimLead()
		sim.anons[anon] = v
	}
	return AnonPrefix + anon, v
}

// link ties anon to leadID on its first link and merges the visitor's
// history into the lead; later links of anon are ignored.
func (sim *Simulator) link(anon, leadID string, lead *simLead) {
	if _, ok := sim.links[anon]; ok {
		return
	}
	sim.links[anon] = leadID
	v, ok := sim.anons[anon]
	if !ok {
		return
	}
	delete(sim.anons, anon)
	sim.rules.Merge(lead.state, v.state)
	for id := range v.seen {
		lead.seen[id] = true
	}
}

func (sim *Simulator) lead(id string) *simLead {
	l, ok := sim.leads[id]
	if !ok {
		l = newSimLead()
		sim.leads[id] = l
	}
	return l
}

func newSimLead() *simLead {
	return &simLead{state: NewState(), seen: map[string]bool{}}
}

// Lead returns the state of a lead, by lead id or by AnonPrefix +
// anonymous id for a visitor not linked to a lead. The state is the
// simulator's own: do not change it.
func (sim *Simulator) Lead(id string) (*State, bool) {
	if l, ok := sim.leads[id]; ok {
		return l.state, true
	}
	if anon, ok := strings.CutPrefix(id, AnonPrefix); ok {
		if v, ok := sim.anons[anon]; ok {
			return v.state, true
		}
	}
	return nil, false
}

// Leads returns the ids of every lead and unlinked visitor, sorted.
func (sim *Simulator) Leads() []string {
	out := make([]string, 0, len(sim.leads)+len(sim.anons))
	for id := range sim.leads {
		out = append(out, id)
	}
	for anon := range sim.anons {
		out = append(out, AnonPrefix+anon)
	}
	sort.Strings(out)
	return out
}
