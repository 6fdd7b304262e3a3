package rules

import "maps"

// Stage is where a lead stands. Stages move forward only; Excluded is
// final and reachable from any stage.
type Stage int

// The stages, in order.
const (
	Visitor Stage = iota + 1
	MQL
	SQL
	Excluded
)

// State is everything the rules need to know about one lead. The lead
// store keeps it in Redis; the in-memory simulator keeps it in a map.
// Only what Spec asks for is kept.
type State struct {
	Stage Stage
	// Epoch counts the lead's stage changes so far.
	Epoch int64
	// Identified is true once the lead has a lead_id.
	Identified bool
	// Counts holds lifetime counts per signal.
	Counts map[string]int64
	// Days holds counts per signal per local day (days since 1970-01-01
	// in the rules' time zone), for day windows and distinct_days.
	Days map[string]map[int64]int64
	// Hours holds counts per signal per UTC hour (unix hours), for
	// windows that are not whole days.
	Hours map[string]map[int64]int64
	// Scores holds each score as a value at a reference event time.
	Scores map[string]ScoreState
	// Traits holds the lead's raw traits from identify events.
	Traits map[string]string
}

// ScoreState is a score's value as of AtMs (unix ms, event time). With a
// half-life h, its value at t >= AtMs is Value * 2^(-(t-AtMs)/h).
type ScoreState struct {
	Value float64
	AtMs  int64
}

// Transition is one stage change decided by Evaluate.
type Transition struct {
	From, To Stage
	// Reasons lists each term that held, with its values, e.g.
	// "content_download = 3 >= 3".
	Reasons []string
}

// Clone returns a copy of s that shares no map with it.
func (s *State) Clone() *State {
	c := *s
	c.Counts = maps.Clone(s.Counts)
	c.Days = cloneBuckets(s.Days)
	c.Hours = cloneBuckets(s.Hours)
	c.Scores = maps.Clone(s.Scores)
	c.Traits = maps.Clone(s.Traits)
	return &c
}

func cloneBuckets(b map[string]map[int64]int64) map[string]map[int64]int64 {
	if b == nil {
		return nil
	}
	out := make(map[string]map[int64]int64, len(b))
	for sig, m := range b {
		out[sig] = maps.Clone(m)
	}
	return out
}
