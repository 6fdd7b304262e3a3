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
	Apply(ctx context.Context, e leadstore.Entity, r *rules.Rules,
		ev *leadstreamv1.Event) (*leadstore.Result, error)
	Read(ctx context.Context, e leadstore.Entity) (*rules.State, []leadstore.Pending, error)
	Advance(ctx context.Context, e leadstore.Entity, fromEpoch int64, stage rules.Stage,
		epoch int64, recs []leadstore.Pending) error
}

var _ Store = (*leadstore.Store)(nil)

// Outcome is what processing one event did.
type Outcome struct {
	// Entity is whom the event counted for.
	Entity leadstore.Entity
	// Duplicate is true when the event had been counted before.
	Duplicate bool
	// Pending holds every transition of Entity still to be published,
	// including ones recorded for earlier events.
	Pending []leadstore.Pending
	// Decided holds the transitions this call recorded, in order.
	Decided []*leadstreamv1.Transition
}

// Processor scores events against the lead store.
type Processor struct {
	store Store
	now   func() time.Time
}

// New returns a Processor on store.
func New(store Store) *Processor {
	return &Processor{store: store, now: time.Now}
}

// Process counts ev for its lead under r and records the transitions it
// causes. ev must have passed Validate.
func (p *Processor) Process(ctx context.Context, r *rules.Rules,
	ev *leadstreamv1.Event) (*Outcome, error) {
	e, err := p.entity(ctx, r, ev)
	if err != nil {
		return nil, err
	}
	res, err := p.store.Apply(ctx, e, r, ev)
	if err == nil && res.LinkedTo != "" {
		// The visitor was linked to a lead, here or by another worker:
		// the event counts for the lead once the visitor's history is in
		// it. A worker that stopped between linking and merging left that
		// history outside, and this event, redelivered, may be in it: the
		// merge brings its id along, so the lead sees a duplicate.
		e = leadstore.Lead(res.LinkedTo)
		if err = p.linkAndMerge(ctx, r, ev.GetAnonymousId(), res.LinkedTo); err == nil {
			res, err = p.store.Apply(ctx, e, r, ev)
		}
	}
	if err != nil {
		return nil, err
	}
	out := &Outcome{Entity: e, Duplicate: res.Duplicate, Pending: res.Pending}

	// A duplicate is evaluated too: if the process that first counted it
	// stopped before recording its transitions, this records them now.
	st := res.State
	for range maxConflicts {
		decided, err := p.advance(ctx, r, e, st, ev)
		if err == nil {
			out.Decided = decided
			out.Pending = appendPending(out.Pending, decided)
			return out, nil
		}
		if !errors.Is(err, leadstore.ErrConflict) {
			return nil, err
		}
		if st, out.Pending, err = p.store.Read(ctx, e); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("score event %s for %s: %w", ev.GetId(), e.LeadID(),
		leadstore.ErrConflict)
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
		if _, err := p.store.Merge(ctx, r, v); err != nil {
			return err
		}
	}
	return nil
}

// advance evaluates st at the event's time and, when stages change,
// records them with their transitions in one conditional step.
func (p *Processor) advance(ctx context.Context, r *rules.Rules, e leadstore.Entity,
	st *rules.State, ev *leadstreamv1.Event) ([]*leadstreamv1.Transition, error) {
	at := ev.GetOccurredAtUnixMs()
	trs := r.Evaluate(st, at)
	if len(trs) == 0 {
		return nil, nil
	}
	decided := make([]*leadstreamv1.Transition, len(trs))
	recs := make([]leadstore.Pending, len(trs))
	for i, tr := range trs {
		t := Build(r, e.LeadID(), st, st.Epoch+int64(i)+1, tr, ev, p.now())
		b, err := Marshal(t)
		if err != nil {
			return nil, err
		}
		decided[i], recs[i] = t, leadstore.Pending{ID: t.GetId(), Record: b}
	}
	last := trs[len(trs)-1].To
	if err := p.store.Advance(ctx, e, st.Epoch, last, st.Epoch+int64(len(trs)), recs); err != nil {
		return nil, err
	}
	return decided, nil
}

// appendPending adds the records of decided to pending, skipping ids
// already there.
func appendPending(pending []leadstore.Pending,
	decided []*leadstreamv1.Transition) []leadstore.Pending {
	have := make(map[string]bool, len(pending))
	for _, p := range pending {
		have[p.ID] = true
	}
	for _, t := range decided {
		if !have[t.GetId()] {
			b, _ := Marshal(t)
			pending = append(pending, leadstore.Pending{ID: t.GetId(), Record: b})
		}
	}
	return pending
}
