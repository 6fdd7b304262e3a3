// Package scoring decides what one event does to a lead: which lead it
// counts for (linking and merging anonymous visitors), what it counts,
// and which stage changes it causes. It keeps nothing itself: every step
// is one atomic script of the lead store, and stage changes are written
// only if no one else changed the stage in between.
package scoring

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/rules"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// maxConflicts bounds how often one event re-reads a lead whose stage
// others keep changing; each conflict means progress elsewhere.
const maxConflicts = 16

// Store is the part of the lead store that scoring uses.
type Store interface {
	Merged(anonID string) (string, bool)
	Link(ctx context.Context, anonID, leadID string) (*leadstore.Visitor, error)
	Merge(ctx context.Context, r *rules.Rules, v *leadstore.Visitor) (bool, error)
	ApplyRun(ctx context.Context, e leadstore.Entity, r *rules.Rules,
		evs []*leadstreamv1.Event, known string) (*leadstore.RunResult, error)
	Read(ctx context.Context, e leadstore.Entity) (*rules.State, []leadstore.Pending, error)
	Advance(ctx context.Context, e leadstore.Entity, fromEpoch int64, stage rules.Stage,
		epoch int64, recs []leadstore.Pending, known string) (string, error)
}

var _ Store = (*leadstore.Store)(nil)

// Outcome is what processing a run of events did.
type Outcome struct {
	// Entity is whom the events counted for.
	Entity leadstore.Entity
	// Duplicates tells, for each event, whether it had been counted
	// before.
	Duplicates []bool
	// Pending holds every transition of Entity still to be published,
	// including ones recorded for earlier events.
	Pending []leadstore.Pending
	// Decided holds the transitions this call recorded, in order.
	Decided []*leadstreamv1.Transition
}

// Processor scores events against the lead store.
type Processor struct {
	store  Store
	now    func() time.Time
	states stateCache
}

// stateCacheMax bounds the states a Processor keeps; the cache is emptied
// when full, which costs only states sent again.
const stateCacheMax = 20000

// stateCache keeps the state of each entity this process scored last,
// with the version Redis gave it. While Redis still has that version the
// apply script leaves the state out of its reply: no one else changed
// it, and the state here, replayed as the script counted, is the stored
// one.
type stateCache struct {
	mu sync.Mutex
	m  map[leadstore.Entity]versioned // guarded by mu
}

type versioned struct {
	version string
	st      *rules.State
}

// take returns the version known for e and its state, which the caller
// now owns: "" and nil when none is kept. The entry leaves the cache, so
// the state needs no copy; the caller puts the state it ends with back.
// Another run of e meanwhile, from another lane, finds none and is sent
// the stored state.
func (c *stateCache) take(e leadstore.Entity) (string, *rules.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[e]
	if !ok {
		return "", nil
	}
	delete(c.m, e)
	return v.version, v.st
}

// put keeps st as e's state at version; with no version it forgets e.
// st must not change afterwards.
func (c *stateCache) put(e leadstore.Entity, version string, st *rules.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version == "" {
		delete(c.m, e)
		return
	}
	if c.m == nil || len(c.m) >= stateCacheMax {
		c.m = map[leadstore.Entity]versioned{}
	}
	c.m[e] = versioned{version: version, st: st}
}

func (c *stateCache) drop(e leadstore.Entity) { c.put(e, "", nil) }

// New returns a Processor on store.
func New(store Store) *Processor {
	return &Processor{store: store, now: time.Now}
}

// Process counts ev for its lead under r and records the transitions it
// causes. ev must have passed Validate.
func (p *Processor) Process(ctx context.Context, r *rules.Rules,
	ev *leadstreamv1.Event) (*Outcome, error) {
	return p.ProcessRun(ctx, r, []*leadstreamv1.Event{ev})
}

// Runnable reports whether ev and next may be processed in one run: the
// same ids, so the same entity, and no identify to link in between.
func Runnable(ev, next *leadstreamv1.Event) bool {
	anon, lead := ev.GetAnonymousId(), ev.GetLeadId()
	return (anon == "" || lead == "") && next.GetAnonymousId() == anon &&
		next.GetLeadId() == lead
}

// ProcessRun counts evs, valid events of one device or lead in order (see
// Runnable), in one step of the store, and records the transitions each
// causes as if they came one by one.
func (p *Processor) ProcessRun(ctx context.Context, r *rules.Rules,
	evs []*leadstreamv1.Event) (*Outcome, error) {
	first := evs[0]
	e, err := p.entity(ctx, r, first)
	if err != nil {
		return nil, err
	}
	known, kept := p.states.take(e)
	res, err := p.store.ApplyRun(ctx, e, r, evs, known)
	if err == nil && res.LinkedTo != "" {
		// The visitor was linked to a lead, here or by another worker:
		// the events count for the lead once the visitor's history is in
		// it. A worker that stopped between linking and merging left that
		// history outside, and these events, redelivered, may be in it:
		// the merge brings their ids along, so the lead sees duplicates.
		p.states.drop(e)
		e = leadstore.Lead(res.LinkedTo)
		if err = p.linkAndMerge(ctx, r, first.GetAnonymousId(), res.LinkedTo); err == nil {
			known, kept = p.states.take(e)
			res, err = p.store.ApplyRun(ctx, e, r, evs, known)
		}
	}
	if err != nil {
		p.states.drop(e)
		return nil, err
	}
	before := res.Before
	if before == nil {
		// Still at the version kept here.
		before = kept
	}
	out := &Outcome{Entity: e, Duplicates: res.Duplicates, Pending: res.Pending}
	if err := p.decide(ctx, r, out, before, res.Version, evs); err != nil {
		p.states.drop(e)
		return nil, err
	}
	return out, nil
}

// decide replays the run on st, the state before it, evaluates after each
// event, and records every stage change in one conditional step, filling
// out.Decided and out.Pending. When the stage changed meanwhile, it reads
// the lead again and evaluates at the last event. A duplicate is
// evaluated too: if the process that first counted it stopped before
// recording its transitions, this records them now.
func (p *Processor) decide(ctx context.Context, r *rules.Rules, out *Outcome,
	st *rules.State, version string, evs []*leadstreamv1.Event) error {
	from := st.Epoch
	var decided []*leadstreamv1.Transition
	for i, ev := range evs {
		if !out.Duplicates[i] {
			r.Apply(st, ev)
			r.Prune(st, ev.GetOccurredAtUnixMs())
		}
		decided = append(decided, p.evaluate(r, out.Entity, st, ev)...)
	}
	last := evs[len(evs)-1]
	for range maxConflicts {
		if len(decided) == 0 {
			p.states.put(out.Entity, version, st)
			return nil
		}
		recs := make([]leadstore.Pending, len(decided))
		for i, t := range decided {
			b, err := Marshal(t)
			if err != nil {
				return err
			}
			recs[i] = leadstore.Pending{ID: t.GetId(), Record: b}
		}
		advanced, err := p.store.Advance(ctx, out.Entity, from, st.Stage, st.Epoch, recs, version)
		if err == nil {
			p.states.put(out.Entity, advanced, st)
			out.Decided = decided
			out.Pending = appendPending(out.Pending, recs)
			return nil
		}
		if !errors.Is(err, leadstore.ErrConflict) {
			return err
		}
		if st, out.Pending, err = p.store.Read(ctx, out.Entity); err != nil {
			return err
		}
		from, version = st.Epoch, ""
		decided = p.evaluate(r, out.Entity, st, last)
	}
	return fmt.Errorf("score event %s for %s: %w", last.GetId(), out.Entity.LeadID(),
		leadstore.ErrConflict)
}

// evaluate evaluates st at ev's time, moves st to the stages it reaches,
// and returns their transitions.
func (p *Processor) evaluate(r *rules.Rules, e leadstore.Entity, st *rules.State,
	ev *leadstreamv1.Event) []*leadstreamv1.Transition {
	trs := r.Evaluate(st, ev.GetOccurredAtUnixMs())
	out := make([]*leadstreamv1.Transition, len(trs))
	for i, tr := range trs {
		out[i] = Build(r, e.LeadID(), st, st.Epoch+int64(i)+1, tr, ev, p.now())
	}
	if len(trs) > 0 {
		st.Stage = trs[len(trs)-1].To
		st.Epoch += int64(len(trs))
	}
	return out
}

// appendPending adds recs to pending, skipping ids already there.
func appendPending(pending, recs []leadstore.Pending) []leadstore.Pending {
	have := make(map[string]bool, len(pending))
	for _, p := range pending {
		have[p.ID] = true
	}
	for _, rec := range recs {
		if !have[rec.ID] {
			pending = append(pending, rec)
		}
	}
	return pending
}

// entity finds whom ev counts for. An event with both ids links the
// anonymous id to the lead (the first link wins) and merges the visitor's
// history into the lead, once.
func (p *Processor) entity(ctx context.Context, r *rules.Rules,
	ev *leadstreamv1.Event) (leadstore.Entity, error) {
	anon, lead := ev.GetAnonymousId(), ev.GetLeadId()
	if lead != "" {
		if anon != "" {
			if err := p.linkAndMerge(ctx, r, anon, lead); err != nil {
				return leadstore.Entity{}, err
			}
		}
		return leadstore.Lead(lead), nil
	}
	// An unknown link is found by the apply script itself, in the same
	// round trip that would count the event for the visitor.
	if lead, ok := p.store.Merged(anon); ok {
		return leadstore.Lead(lead), nil
	}
	return leadstore.Anon(anon), nil
}

// linkAndMerge links anon to lead unless it is linked already, and merges
// the visitor's history into the lead it is linked to.
func (p *Processor) linkAndMerge(ctx context.Context, r *rules.Rules, anon, lead string) error {
	// A link never changes and a merge happens once: a device this
	// process has merged into the lead needs neither again.
	if merged, ok := p.store.Merged(anon); ok && merged == lead {
		return nil
	}
	v, err := p.store.Link(ctx, anon, lead)
	if err != nil {
		return err
	}
	// The merge runs again whenever a process that has not merged the
	// device sees one of its events with both ids (a redelivery after a
	// crash, say); the store's guard makes all but the first a no-op,
	// which also repairs a stop between link and merge.
	if v.LeadID == lead {
		p.states.drop(leadstore.Lead(lead))
		if _, err := p.store.Merge(ctx, r, v); err != nil {
			return err
		}
	}
	return nil
}
