package leadstore

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/leadstream/leadstream/pkg/rules"
)

// Visitor is an anonymous visitor's history as Link returned it, ready to
// merge into the lead it is linked to.
type Visitor struct {
	// AnonID is the anonymous id.
	AnonID string
	// LeadID is the lead the visitor is linked to: the first link wins.
	LeadID string
	state  []any
}

// Resolve returns the lead anonID is linked to, if any.
func (s *Store) Resolve(ctx context.Context, anonID string) (string, bool, error) {
	lead, err := s.rdb.Get(ctx, s.key(Anon(anonID), partLink)).Result()
	if err == redis.Nil {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("resolve anonymous id %s: %w", anonID, err)
	}
	return lead, true, nil
}

// Link links anonID to leadID unless it is linked already, and returns
// the visitor with the lead it is linked to and its history to merge.
func (s *Store) Link(ctx context.Context, anonID, leadID string) (*Visitor, error) {
	e := Anon(anonID)
	keys := []string{s.key(e, partLink), s.key(e, partState)}
	v, err := s.runQueued(ctx, "link", linkScript, keys,
		[]any{leadID, s.anonTTL.Milliseconds()})
	if err != nil {
		return nil, fmt.Errorf("link %s to %s: %w", anonID, leadID, err)
	}
	parts, ok := v.([]any)
	if !ok || len(parts) != 2 {
		return nil, fmt.Errorf("link %s: %w", anonID, ErrBadReply)
	}
	linked, _ := parts[0].(string)
	st, _ := parts[1].([]any)
	return &Visitor{AnonID: anonID, LeadID: linked, state: st}, nil
}

// Merge adds v's history to its lead as r.Merge does, exactly once per
// anonymous id, and reports whether this call merged it.
func (s *Store) Merge(ctx context.Context, r *rules.Rules, v *Visitor) (bool, error) {
	p, err := s.plan(ctx, r)
	if err != nil {
		return false, err
	}
	args := []any{v.AnonID, s.window.Milliseconds(), s.seenSlots(), s.newVersion(),
		len(p.halfLives) / 2}
	args = append(args, p.halfLives...)
	args = append(append(args, len(v.state)/2), v.state...)

	keys := []string{s.key(Lead(v.LeadID), partState)}
	res, err := s.runQueued(ctx, "merge", mergeScript, keys, args)
	if err != nil {
		return false, fmt.Errorf("merge %s into %s: %w", v.AnonID, v.LeadID, err)
	}
	if err := s.forget(ctx, v.AnonID); err != nil {
		return false, err
	}
	s.rememberMerged(v.AnonID, v.LeadID)
	n, _ := res.(int64)
	return n == 1, nil
}

// forget deletes a merged visitor's state, keeping only its link. The
// lead holds the counts and the event ids now, and every later event of
// the visitor goes to the lead; a stop before this leaves the history to
// the time to live Link gave it.
func (s *Store) forget(ctx context.Context, anonID string) error {
	e := Anon(anonID)
	_, err := s.runQueued(ctx, "forget", nil, nil, []any{"unlink", s.key(e, partState)})
	if err != nil {
		return fmt.Errorf("delete merged visitor %s: %w", anonID, err)
	}
	return nil
}

// Merged returns the lead anonID is known, in this process, to be linked
// to and merged into; a caller may then skip Link and Merge, and count
// the visitor's events for the lead directly. Knowing the link alone is
// not enough for that: a worker that stopped between Link and Merge left
// the visitor's history, and a redelivered event counted in it, outside
// the lead.
func (s *Store) Merged(anonID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lead, ok := s.merged[anonID]
	return lead, ok
}

// rememberMerged caches a finished merge, emptying the cache when full.
func (s *Store) rememberMerged(anonID, leadID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.merged) >= mergedCacheMax {
		s.merged = map[string]string{}
	}
	s.merged[anonID] = leadID
}

// View is everything the store holds about one lead, for operators.
type View struct {
	State   *rules.State
	Pending []Pending
	// Anons lists the anonymous ids merged into the lead.
	Anons []string
	// Seen is how many event ids the lead remembers for deduplication.
	Seen int64
}

// Show returns what the store holds about entity e.
func (s *Store) Show(ctx context.Context, e Entity) (*View, error) {
	st, pending, err := s.Read(ctx, e)
	if err != nil {
		return nil, err
	}
	fields, err := s.rdb.HGetAll(ctx, s.key(e, partState)).Result()
	if err != nil {
		return nil, fmt.Errorf("show %s: %w", e.LeadID(), err)
	}
	var anons []string
	var seen int64
	for f, v := range fields {
		if anon, ok := strings.CutPrefix(f, prefixMerged); ok {
			anons = append(anons, anon)
		}
		if len(f) > 1 && strings.HasPrefix(f, prefixSeenRec) {
			seen += int64(len(v) / seenRecord)
		}
	}
	sort.Strings(anons)
	return &View{State: st, Pending: pending, Anons: anons, Seen: seen}, nil
}

// Clock returns the latest event time counted for e, in unix ms; 0 when
// none.
func (s *Store) Clock(ctx context.Context, e Entity) (int64, error) {
	v, err := s.rdb.HGet(ctx, s.key(e, partState), fieldClock).Result()
	if err == redis.Nil {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read clock of %s: %w", e.LeadID(), err)
	}
	return strconv.ParseInt(v, 10, 64)
}
