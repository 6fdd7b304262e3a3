package workload

import (
	"fmt"
	"sort"

	"github.com/leadstream/leadstream/pkg/rules"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// Expect returns the oracle of the workload under r, like the function
// Expect, with Causes, Cause and EventTimes filled in.
func (w *Workload) Expect(r *rules.Rules) (*Oracle, error) {
	o, err := Expect(r, w.Events())
	if err != nil {
		return nil, err
	}
	byLead, err := w.leadEvents()
	if err != nil {
		return nil, err
	}
	o.Causes, o.Cause = map[string][]string{}, map[string]string{}
	for _, tr := range o.Transitions {
		o.Causes[tr.ID()] = ids(byLead[tr.LeadID])
	}
	for _, evs := range byLead {
		for id, cause := range soleCauses(r, evs) {
			if _, ok := o.Transitions[id]; ok {
				o.Cause[id] = cause
			}
		}
	}
	o.EventTimes = map[string]int64{}
	for _, ev := range w.Events() {
		pb, err := ev.Proto()
		if err != nil {
			return nil, fmt.Errorf("expect causes: %w", err)
		}
		o.EventTimes[ev.ID] = pb.GetOccurredAtUnixMs()
	}
	return o, nil
}

// leadEvents returns each lead's events, once per id, in workload order.
func (w *Workload) leadEvents() (map[string][]*leadstreamv1.Event, error) {
	out, seen := map[string][]*leadstreamv1.Event{}, map[string]bool{}
	for _, ev := range w.Events() {
		lead, ok := w.Owners[ev.ID]
		if !ok || seen[ev.ID] {
			continue
		}
		seen[ev.ID] = true
		pb, err := ev.Proto()
		if err != nil {
			return nil, fmt.Errorf("expect causes: %w", err)
		}
		out[lead] = append(out[lead], pb)
	}
	return out, nil
}

// soleCauses finds the transitions of one lead that only one of its
// events can cause, whatever the order: an event e causes transition T in
// every order when e alone yields T and the other events without e do
// not. With rules whose conditions only grow true (like the suite's), the
// events before e then never yield T, and those events with e always do.
func soleCauses(r *rules.Rules, evs []*leadstreamv1.Event) map[string]string {
	out := map[string]string{}
	for i, e := range evs {
		alone := transitionIDs(r, e)
		if len(alone) == 0 {
			continue
		}
		rest := append(append([]*leadstreamv1.Event(nil), evs[:i]...), evs[i+1:]...)
		without := transitionIDs(r, rest...)
		for id := range alone {
			if !without[id] {
				out[id] = e.GetId()
			}
		}
	}
	return out
}

// transitionIDs runs evs through a fresh simulator and returns the ids of
// the transitions they cause.
func transitionIDs(r *rules.Rules, evs ...*leadstreamv1.Event) map[string]bool {
	sim, out := rules.NewSimulator(r), map[string]bool{}
	for _, ev := range evs {
		for _, tr := range sim.Process(ev) {
			out[tr.ID()] = true
		}
	}
	return out
}

func ids(evs []*leadstreamv1.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.GetId()
	}
	sort.Strings(out)
	return out
}
