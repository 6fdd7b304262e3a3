package demo

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/leadstream/leadstream/pkg/rules"
)

// Observed is what the transitions topic held, checked against an
// expectation as it is read.
type Observed struct {
	expected map[string]bool   // "lead_id to" keys the rules expect
	ids      map[string]string // key to the id first read for it
	stage    map[string]rules.Stage
	next     map[int32]int64 // partition to the offset after the last read
	problems []string
	copies   int
}

// NewObserved starts an empty log of what arrives for exp.
func NewObserved(exp Expectation) *Observed {
	o := &Observed{expected: map[string]bool{}, ids: map[string]string{},
		stage: map[string]rules.Stage{}, next: map[int32]int64{}}
	for _, k := range exp.Transitions {
		o.expected[k] = true
	}
	return o
}

// Add records one record and returns a note for the line that shows it:
// empty for an expected transition, otherwise what is wrong with it or
// that it is a copy.
func (o *Observed) Add(s Seen) string {
	o.next[s.Partition] = max(o.next[s.Partition], s.Offset+1)
	if s.Err != nil {
		o.problems = append(o.problems, s.Err.Error())
		return "does not decode"
	}
	tr := s.Transition
	key := transitionKey(tr.GetLeadId(), StageWord(tr.GetTo()))
	first, known := o.ids[key]
	switch {
	case known && first == tr.GetId():
		// Transitions are published at least once; a copy has the same id.
		o.copies++
		return "published again"
	case known:
		o.problems = append(o.problems, fmt.Sprintf("%s published twice, as %s and %s",
			key, first, tr.GetId()))
		return "another id for the same move"
	}
	o.ids[key] = tr.GetId()
	if st, err := rules.ParseStage(StageWord(tr.GetTo())); err == nil {
		o.stage[tr.GetLeadId()] = st
	}
	if !o.expected[key] {
		o.problems = append(o.problems, "unexpected "+key)
		return "unexpected"
	}
	return ""
}

// Missing lists the expected transitions not read yet, sorted.
func (o *Observed) Missing() []string {
	var out []string
	for k := range o.expected {
		if _, ok := o.ids[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Reached reports whether every partition was read up to its offset in
// end.
//
// NOTE: this holds only for a topic without transaction markers, which
// take offsets that no record is read at; the scorers publish without
// transactions.
func (o *Observed) Reached(end map[int32]int64) bool {
	for p, off := range end {
		if o.next[p] < off {
			return false
		}
	}
	return true
}

// Err reports what the topic held that the rules do not expect, and what
// they expect that it does not hold.
func (o *Observed) Err() error {
	problems := append([]string{}, o.problems...)
	if m := o.Missing(); len(m) > 0 {
		problems = append(problems, "missing "+strings.Join(m, ", "))
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "; "))
}

// Copies counts the transitions read more than once.
func (o *Observed) Copies() int { return o.copies }

// Final is each lead's stage as the transitions read say: the target of
// its last one, or visitor for a lead in leads with none. Leads come from
// the traffic, since a lead that never moves publishes nothing.
func (o *Observed) Final(leads []string) map[string]rules.Stage {
	out := make(map[string]rules.Stage, len(leads))
	for _, id := range leads {
		out[id] = rules.Visitor
	}
	for id, st := range o.stage {
		out[id] = st
	}
	return out
}
