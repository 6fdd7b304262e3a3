package leadstore

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"
	"strconv"

	"github.com/leadstream/leadstream/pkg/rules"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// Result is what Apply found: whether the event was a duplicate, and the
// entity's state and pending transitions after it; or, for a visitor
// linked to a lead meanwhile, LinkedTo and an empty state.
type Result struct {
	Duplicate bool
	State     *rules.State
	Pending   []Pending
	// LinkedTo is the lead the visitor is linked to; when set, nothing
	// was counted and the event belongs to that lead.
	LinkedTo string
}

// RunResult is what ApplyRun found: which events were duplicates, the
// entity's state before the run and its pending transitions; or, for a
// visitor linked to a lead meanwhile, LinkedTo and an empty state.
type RunResult struct {
	// Duplicates tells, for each event, whether its id had been counted.
	Duplicates []bool
	// Before is the state before the run. Replaying the run on it, r.Apply
	// and r.Prune at its time for each event that is no duplicate, gives
	// the state after each event, as the script counted it. It is nil
	// when the state was at the version the caller said it knows.
	Before  *rules.State
	Pending []Pending
	// Version is the state's version after the run.
	Version string
	// LinkedTo is the lead the visitor is linked to; when set, nothing
	// was counted and the events belong to that lead.
	LinkedTo string
}

// MaxRun bounds the events of one ApplyRun, and so how long one script
// holds Redis.
const MaxRun = 16

// Apply counts ev for entity e in one script, exactly as r.Apply followed
// by r.Prune at the event time would: unless its id was counted already,
// it increments what r.Spec asks for, updates scores, stores traits and
// marks the entity identified when ev has a lead id. New or duplicate, it
// returns the state and the pending transitions, so a caller that crashed
// between counting an event and recording its transitions repairs that on
// the redelivery.
func (s *Store) Apply(ctx context.Context, e Entity, r *rules.Rules,
	ev *leadstreamv1.Event) (*Result, error) {
	res, err := s.ApplyRun(ctx, e, r, []*leadstreamv1.Event{ev}, "")
	if err != nil {
		return nil, err
	}
	st := res.Before
	if res.LinkedTo == "" && !res.Duplicates[0] {
		r.Apply(st, ev)
		r.Prune(st, ev.GetOccurredAtUnixMs())
	}
	return &Result{Duplicate: res.Duplicates[0], State: st, Pending: res.Pending,
		LinkedTo: res.LinkedTo}, nil
}

// ApplyRun counts evs, at most MaxRun events of entity e, in order and in
// one script, each as Apply would. known is the version of e's state the
// caller holds, or "": when the state is still at it, the reply leaves
// the state out and Before is nil.
func (s *Store) ApplyRun(ctx context.Context, e Entity, r *rules.Rules,
	evs []*leadstreamv1.Event, known string) (*RunResult, error) {
	if len(evs) == 0 || len(evs) > MaxRun {
		return nil, fmt.Errorf("apply %d events to %s: %w", len(evs), e.LeadID(), ErrBadRun)
	}
	p, err := s.plan(ctx, r)
	if err != nil {
		return nil, err
	}
	keys := []string{s.key(e, partState), s.key(e, partPending), s.key(e, partLink)}
	args := append([]any{s.window.Milliseconds(), s.seenSlots(), known, s.newVersion(),
		len(evs), len(p.prune) / 3}, p.prune...)
	for _, ev := range evs {
		args = appendEventArgs(args, p, ev)
	}
	first := evs[0].GetId()
	v, err := s.runQueued(ctx, "apply", applyScript, keys, args)
	if err != nil {
		return nil, fmt.Errorf("apply event %s to %s: %w", first, e.LeadID(), err)
	}
	parts, _ := v.([]any)
	if lead, ok := linkedReply(parts); ok {
		// An empty state keeps callers that ignore LinkedTo from
		// deciding anything on the visitor's behalf.
		return &RunResult{LinkedTo: lead, Duplicates: make([]bool, len(evs)),
			Before: rules.NewState()}, nil
	}
	if len(parts) != 4 {
		return nil, fmt.Errorf("apply event %s: %w", first, ErrBadReply)
	}
	flags, _ := parts[0].(string)
	version, _ := parts[3].(string)
	unchanged := parts[1] == nil
	if len(flags) != len(evs) || (unchanged && (known == "" || version == "")) {
		return nil, fmt.Errorf("apply event %s: %w", first, ErrBadReply)
	}
	// With the state left out of the reply (the caller holds it), only
	// the pending records are read; Before stays nil.
	var st *rules.State
	var pending []Pending
	if unchanged {
		pendFlat, _ := parts[2].([]any)
		pending = decodePending(pendFlat)
	} else if st, pending, err = s.decode(ctx, parts[1:3]); err != nil {
		return nil, fmt.Errorf("apply event %s: %w", first, err)
	}
	dups := make([]bool, len(evs))
	for i := range dups {
		dups[i] = flags[i] == '1'
	}
	return &RunResult{Duplicates: dups, Before: st, Pending: pending, Version: version}, nil
}

// linkedReply reads the {2, lead id} answer of the apply script.
func linkedReply(parts []any) (string, bool) {
	if len(parts) != 2 {
		return "", false
	}
	code, _ := parts[0].(int64)
	lead, _ := parts[1].(string)
	return lead, code == 2 && lead != ""
}

// appendEventArgs appends to args the block of the apply script's
// arguments for ev under p's rules: their number, then the changes ev
// makes.
func appendEventArgs(args []any, p *plan, ev *leadstreamv1.Event) []any {
	r := p.rules
	at := ev.GetOccurredAtUnixMs()
	day, hour := rules.LocalDay(at, r.Location()), rules.UnixHour(at)
	ident := "0"
	if ev.GetLeadId() != "" {
		ident = "1"
	}
	var buf [8]string // most events produce a signal or two
	sigs := r.AppendSignals(buf[:0], ev)
	start := len(args)
	args = append(args, 0, seenID(ev.GetId()), at, ident)

	var incr, scores []any
	for _, sig := range sigs {
		sp := p.signals[sig]
		incr = sp.fields(incr, day, hour)
		scores = append(scores, sp.scores...)
	}
	args = append(append(args, len(incr)), incr...)
	args = append(append(args, len(scores)/3), scores...)

	n := len(args)
	args = append(args, 0)
	for i, f := range p.traits {
		if v := ev.GetTraits()[f]; v != "" {
			args = append(args, p.fields[i], v)
		}
	}
	args[n] = (len(args) - n - 1) / 2

	// The mark changes whenever the hour or the local day does (a day
	// may start at a half hour), and only then can a bucket fall out of
	// its window: the script scans for old buckets only on a new mark.
	args = append(args, day, hour, hour*10+day%10)
	args[start] = len(args) - start - 1
	return args
}

// seenID is what the state remembers of an event id: the first 64 bits
// of its SHA-256, as 8 raw bytes. Ids are often UUIDs of 36 characters,
// and remembered ids are most of what a lead costs in Redis; two
// ids of one lead sharing a digest are about as likely as a 1-in-10^11
// draw even with 10,000 ids remembered.
func seenID(id string) string {
	if id == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(id))
	return string(sum[:8])
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
