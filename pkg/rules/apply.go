package rules

import (
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// NewState returns the state of a lead never seen before: a visitor with
// nothing counted.
func NewState() *State {
	return &State{
		Stage:  Visitor,
		Counts: map[string]int64{},
		Days:   map[string]map[int64]int64{},
		Hours:  map[string]map[int64]int64{},
		Scores: map[string]ScoreState{},
		Traits: map[string]string{},
	}
}

// init makes every map of s usable.
func (s *State) init() {
	if s.Stage == 0 {
		s.Stage = Visitor
	}
	if s.Counts == nil {
		s.Counts = map[string]int64{}
	}
	if s.Days == nil {
		s.Days = map[string]map[int64]int64{}
	}
	if s.Hours == nil {
		s.Hours = map[string]map[int64]int64{}
	}
	if s.Scores == nil {
		s.Scores = map[string]ScoreState{}
	}
	if s.Traits == nil {
		s.Traits = map[string]string{}
	}
}

// Apply counts ev into s exactly as the lead store does, at the event's
// time t. For each signal of ev, in name order: the lifetime count is
// incremented if Spec asks for it, the bucket of the local day of t and
// of the unix hour of t if Spec keeps them, and every score that gives
// points for the signal earns them (see AddPoints). Non-empty traits of ev
// for the fields Spec names overwrite older values. A lead id marks s
// identified; traits of other fields are not kept. A zero stage becomes
// Visitor. Apply neither deduplicates nor evaluates: the caller does both.
func (r *Rules) Apply(s *State, ev *leadstreamv1.Event) {
	s.init()
	at := ev.GetOccurredAtUnixMs()
	var buf [8]string
	for _, sig := range r.AppendSignals(buf[:0], ev) {
		r.count(s, sig, at)
	}
	for _, field := range r.spec.TraitFields {
		if v := ev.GetTraits()[field]; v != "" {
			s.Traits[field] = v
		}
	}
	if ev.GetLeadId() != "" {
		s.Identified = true
	}
}

// count records one occurrence of signal sig at time at.
func (r *Rules) count(s *State, sig string, at int64) {
	sp := r.spec.Signals[sig]
	if sp.Lifetime {
		s.Counts[sig]++
	}
	if sp.KeepDays > 0 {
		bump(s.Days, sig, localDay(at, r.loc))
	}
	if sp.KeepHours > 0 {
		bump(s.Hours, sig, unixHour(at))
	}
	for _, sc := range r.scoresFor(sig) {
		s.Scores[sc.name] = addPoints(s.Scores[sc.name], sc.halfLifeMs, sc.points[sig], at)
	}
}

func bump(buckets map[string]map[int64]int64, sig string, k int64) {
	if buckets[sig] == nil {
		buckets[sig] = map[int64]int64{}
	}
	buckets[sig][k]++
}

// Prune drops the buckets of s that no window can see at atMs or later:
// day buckets before the local day of atMs minus the signal's KeepDays
// plus one, hour buckets likewise, and all buckets of signals the rules
// keep none of. The lead store prunes after each event at its event time.
//
// NOTE: an event that arrives later than the longest window of a signal
// after newer events were pruned sees fewer buckets than a full replay in
// time order would. Both the lead store and the Simulator prune the same
// way, so they agree.
func (r *Rules) Prune(s *State, atMs int64) {
	day, hour := localDay(atMs, r.loc), unixHour(atMs)
	for sig, buckets := range s.Days {
		pruneBuckets(s.Days, sig, buckets, day-r.spec.Signals[sig].KeepDays)
	}
	for sig, buckets := range s.Hours {
		pruneBuckets(s.Hours, sig, buckets, hour-r.spec.Signals[sig].KeepHours)
	}
}

// pruneBuckets drops the buckets at or before cutoff, and the signal's
// map once empty.
func pruneBuckets(all map[string]map[int64]int64, sig string, b map[int64]int64, cutoff int64) {
	for k := range b {
		if k <= cutoff {
			delete(b, k)
		}
	}
	if len(b) == 0 {
		delete(all, sig)
	}
}

// Merge adds the history of src, an anonymous visitor, into dst, the lead
// it turned out to be, as the lead store does on the first identify:
// counts are added, day and hour buckets summed per bucket, scores decayed
// to the later of their two times and added, and traits of src copied
// where dst has none. Stage, epoch and identity of dst are unchanged.
func (r *Rules) Merge(dst, src *State) {
	dst.init()
	for sig, n := range src.Counts {
		dst.Counts[sig] += n
	}
	mergeBuckets(dst.Days, src.Days)
	mergeBuckets(dst.Hours, src.Hours)
	for name, sc := range src.Scores {
		if cur, ok := dst.Scores[name]; ok {
			dst.Scores[name] = combine(cur, sc, r.halfLife(name))
		} else {
			dst.Scores[name] = sc
		}
	}
	for k, v := range src.Traits {
		if dst.Traits[k] == "" && v != "" {
			dst.Traits[k] = v
		}
	}
}

func mergeBuckets(dst, src map[string]map[int64]int64) {
	for sig, buckets := range src {
		for k, n := range buckets {
			if dst[sig] == nil {
				dst[sig] = map[int64]int64{}
			}
			dst[sig][k] += n
		}
	}
}
