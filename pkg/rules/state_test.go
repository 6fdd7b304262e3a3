package rules

import "testing"

// TestCloneSharesNothing changes every map of a clone and checks the
// original kept its values.
func TestCloneSharesNothing(t *testing.T) {
	s := &State{Stage: MQL, Epoch: 2, Counts: map[string]int64{"a": 1},
		Days:   map[string]map[int64]int64{"a": {10: 1}},
		Hours:  map[string]map[int64]int64{"a": {7: 1}},
		Scores: map[string]ScoreState{"e": {Value: 1, AtMs: 5}},
		Traits: map[string]string{"t": "x"}}
	c := s.Clone()
	c.Stage, c.Counts["a"], c.Days["a"][10], c.Hours["a"][7] = SQL, 9, 9, 9
	c.Scores["e"], c.Traits["t"] = ScoreState{Value: 9}, "y"
	if s.Stage != MQL || s.Counts["a"] != 1 || s.Days["a"][10] != 1 || s.Hours["a"][7] != 1 ||
		s.Scores["e"].Value != 1 || s.Traits["t"] != "x" {
		t.Fatalf("changing the clone changed the original: %+v", s)
	}
}
