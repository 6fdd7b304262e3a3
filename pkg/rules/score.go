package rules

import "math"

// score is a named sum of points per signal, optionally decaying.
type score struct {
	name string
	// halfLifeMs is 0 for a score that never decays.
	halfLifeMs int64
	halfLife   string // as written, for Describe
	points     map[string]float64
}

// decay returns the factor by which a value shrinks over dtMs >= 0.
func decay(dtMs, halfLifeMs int64) float64 {
	if halfLifeMs <= 0 || dtMs <= 0 {
		return 1
	}
	return math.Exp2(-float64(dtMs) / float64(halfLifeMs))
}

// scoreAt values s at atMs under a half-life. Before s.AtMs a score is
// worth s.Value: a score is never extrapolated backwards.
func scoreAt(s ScoreState, halfLifeMs, atMs int64) float64 {
	if atMs <= s.AtMs {
		return s.Value
	}
	return s.Value * decay(atMs-s.AtMs, halfLifeMs)
}

// addPoints adds points earned at atMs to s; see AddPoints.
func addPoints(s ScoreState, halfLifeMs int64, points float64, atMs int64) ScoreState {
	if atMs >= s.AtMs {
		return ScoreState{Value: scoreAt(s, halfLifeMs, atMs) + points, AtMs: atMs}
	}
	return ScoreState{Value: s.Value + points*decay(s.AtMs-atMs, halfLifeMs), AtMs: s.AtMs}
}

// combine adds two states of one score, as when an anonymous visitor's
// history merges into a lead: both are decayed to the later AtMs.
func combine(a, b ScoreState, halfLifeMs int64) ScoreState {
	at := max(a.AtMs, b.AtMs)
	return ScoreState{Value: scoreAt(a, halfLifeMs, at) + scoreAt(b, halfLifeMs, at), AtMs: at}
}

// halfLife returns the half-life of score name in ms; 0 for no decay or
// an unknown score.
func (r *Rules) halfLife(name string) int64 {
	if sc, ok := r.scores[name]; ok {
		return sc.halfLifeMs
	}
	return 0
}

// AddPoints returns s after points were earned at event time atMs, with
// the half-life h of score name (no decay when it has none):
//
//	if atMs >= s.AtMs: Value = s.Value * 2^(-(atMs - s.AtMs)/h) + points
//	                   AtMs  = atMs
//	else (late event): Value = s.Value + points * 2^(-(s.AtMs - atMs)/h)
//	                   AtMs  = s.AtMs
//
// so that the order in which events arrive does not change the value at
// any later time. The lead store's script implements the same update.
func (r *Rules) AddPoints(s ScoreState, name string, points float64, atMs int64) ScoreState {
	return addPoints(s, r.halfLife(name), points, atMs)
}

// ScoreAt returns the value of s, a state of score name, at event time
// atMs: s.Value * 2^(-(atMs - s.AtMs)/h) for atMs >= s.AtMs, and s.Value
// for an earlier atMs.
func (r *Rules) ScoreAt(name string, s ScoreState, atMs int64) float64 {
	return scoreAt(s, r.halfLife(name), atMs)
}

// scoresFor lists, in name order, the scores that give points for sig.
// The slice is shared and must not be changed.
func (r *Rules) scoresFor(sig string) []*score { return r.bySignal[sig] }

// indexScores works out scoresFor once, when the rules are parsed.
func (r *Rules) indexScores() {
	r.bySignal = map[string][]*score{}
	for _, name := range r.scoreNames {
		for sig := range r.scores[name].points {
			r.bySignal[sig] = append(r.bySignal[sig], r.scores[name])
		}
	}
}

func finite(v float64) bool {
	return !math.IsInf(v, 0) && !math.IsNaN(v)
}
