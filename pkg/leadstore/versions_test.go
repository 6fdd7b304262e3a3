package leadstore

import (
	"context"
	"testing"

	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/pkg/testenv"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// TestVersionAfterDataLoss deletes a lead's state, as a Redis that lost
// its data would, and counts the lead again from the start: a caller that
// kept the old state must be sent the new one, even where the rebuilt
// state has been changed as often as the lost one had.
func TestVersionAfterDataLoss(t *testing.T) {
	r, err := rules.Load("../../deploy/rules/example.yaml")
	if err != nil {
		t.Fatalf("load rules: %v", err)
	}
	rdb := testenv.StartRedis(t).Client(t)
	ctx := context.Background()
	lead := Lead("L-lost")
	run := func(s *Store, known string, id string) *RunResult {
		t.Helper()
		ev := &leadstreamv1.Event{Id: id, Type: "download", LeadId: "L-lost",
			OccurredAtUnixMs: 1_790_000_000_000}
		res, err := s.ApplyRun(ctx, lead, r, []*leadstreamv1.Event{ev}, known)
		if err != nil {
			t.Fatalf("apply %s: %v", id, err)
		}
		return res
	}
	prefix := testenv.Prefix(t) + "ls"
	kept, err := New(rdb, prefix)
	if err != nil {
		t.Fatalf("new store: %v", err)
	}
	known := run(kept, "", "e1").Version

	if err := rdb.Del(ctx, kept.key(lead, partState)).Err(); err != nil {
		t.Fatalf("delete the lead: %v", err)
	}
	// The replay after the loss is counted by another scorer.
	other, err := New(rdb, prefix)
	if err != nil {
		t.Fatalf("new store: %v", err)
	}
	run(other, "", "e1")
	if res := run(kept, known, "e2"); res.Before == nil {
		t.Fatal("a rebuilt state passed for the lost one the caller kept")
	}
}
