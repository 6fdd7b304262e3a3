package leadstore

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/leadstream/leadstream/pkg/rules"
)

// Read returns the state and pending transitions of entity e.
func (s *Store) Read(ctx context.Context, e Entity) (*rules.State, []Pending, error) {
	keys := []string{s.key(e, partState), s.key(e, partPending)}
	v, err := s.runQueued(ctx, "read", readScript, keys, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", e.LeadID(), err)
	}
	st, pending, err := s.decode(ctx, v)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", e.LeadID(), err)
	}
	return st, pending, nil
}

// Advance sets e's stage and epoch and records the transitions that lead
// there as pending, in one step, but only if e's epoch is still
// fromEpoch; otherwise it returns ErrConflict and changes nothing. known
// is the version of the state the caller evaluated; the state's new
// version is returned when nothing else changed the state since, so the
// caller's state, at the new stage, is the stored one; otherwise "".
func (s *Store) Advance(ctx context.Context, e Entity, fromEpoch int64, stage rules.Stage,
	epoch int64, recs []Pending, known string) (string, error) {
	version := s.newVersion()
	args := []any{fromEpoch, int(stage), epoch, known, version}
	for _, p := range recs {
		args = append(args, p.ID, p.Record)
	}
	keys := []string{s.key(e, partState), s.key(e, partPending)}
	v, err := s.runQueued(ctx, "advance", advanceScript, keys, args)
	if err != nil {
		return "", fmt.Errorf("advance %s to %s: %w", e.LeadID(), stage, err)
	}
	switch n, _ := v.(int64); n {
	case 1:
		return version, nil
	case 2:
		return "", nil
	}
	return "", fmt.Errorf("advance %s from epoch %d: %w", e.LeadID(), fromEpoch, ErrConflict)
}

// Ack removes the pending transitions ids of e once they are published.
func (s *Store) Ack(ctx context.Context, e Entity, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := s.rdb.HDel(ctx, s.key(e, partPending), ids...).Err(); err != nil {
		return fmt.Errorf("ack transitions of %s: %w", e.LeadID(), err)
	}
	return nil
}

// AckAll removes the published transitions of several entities in one
// pipeline: one round trip per Redis node instead of one per entity.
func (s *Store) AckAll(ctx context.Context, acks map[Entity][]string) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for e, ids := range acks {
			if len(ids) > 0 {
				p.HDel(ctx, s.key(e, partPending), ids...)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ack transitions of %d leads: %w", len(acks), err)
	}
	return nil
}
