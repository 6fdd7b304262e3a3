package rules

import "sort"

// Spec says exactly what the lead store must keep for these rules, so
// that it keeps nothing more. Buckets older than a signal's longest window
// may be dropped (see Prune).
type Spec struct {
	// Version is the rules version.
	Version string `json:"version"`
	// TimeZone is the IANA name of the zone in which day buckets are cut.
	TimeZone string `json:"time_zone"`
	// Signals holds, for every defined signal, what to count.
	Signals map[string]SignalSpec `json:"signals"`
	// Scores holds every score with its half-life and points.
	Scores map[string]ScoreSpec `json:"scores"`
	// TraitFields lists the raw trait fields the traits test, sorted; only
	// these need to be kept.
	TraitFields []string `json:"trait_fields"`
}

// SignalSpec says how one signal is counted.
type SignalSpec struct {
	// Lifetime is true when a term compares the signal's lifetime count.
	Lifetime bool `json:"lifetime"`
	// KeepDays is the number of local day buckets to keep, counting the
	// current day: the longest day window of the signal. 0 means none.
	KeepDays int64 `json:"keep_days"`
	// KeepHours is the number of UTC hour buckets to keep, counting the
	// current hour: the longest window of the signal that is not whole
	// days. 0 means none.
	KeepHours int64 `json:"keep_hours"`
}

// ScoreSpec describes one score.
type ScoreSpec struct {
	// HalfLifeMs is the half-life in milliseconds; 0 means no decay.
	HalfLifeMs int64 `json:"half_life_ms"`
	// Points holds the points per signal.
	Points map[string]float64 `json:"points"`
}

// Spec returns what the lead store must keep for these rules.
func (r *Rules) Spec() Spec {
	out := r.spec
	out.Signals = make(map[string]SignalSpec, len(r.spec.Signals))
	for k, v := range r.spec.Signals {
		out.Signals[k] = v
	}
	out.Scores = make(map[string]ScoreSpec, len(r.spec.Scores))
	for k, v := range r.spec.Scores {
		points := make(map[string]float64, len(v.Points))
		for s, n := range v.Points {
			points[s] = n
		}
		out.Scores[k] = ScoreSpec{HalfLifeMs: v.HalfLifeMs, Points: points}
	}
	out.TraitFields = append([]string(nil), r.spec.TraitFields...)
	return out
}

func (r *Rules) buildSpec() Spec {
	sp := Spec{Version: r.version, TimeZone: r.loc.String(),
		Signals: map[string]SignalSpec{}, Scores: map[string]ScoreSpec{}}
	for name := range r.signals {
		sp.Signals[name] = SignalSpec{}
	}
	for _, c := range []cond{r.mql, r.sql, r.exclude} {
		walkTerms(c, func(t *term) { sp.need(t) })
	}
	for name, sc := range r.scores {
		sp.Scores[name] = ScoreSpec{HalfLifeMs: sc.halfLifeMs, Points: sc.points}
	}
	fields := map[string]bool{}
	for _, t := range r.traits {
		fields[t.field] = true
	}
	sp.TraitFields = sortedKeys(fields)
	sort.Strings(sp.TraitFields)
	return sp
}

// need widens the signal's spec to serve term t.
func (sp *Spec) need(t *term) {
	s := sp.Signals[t.name]
	switch t.kind {
	case kindLifetime:
		s.Lifetime = true
	case kindCount, kindDistinctDays:
		if d, whole := t.window.days(); whole {
			s.KeepDays = max(s.KeepDays, d)
		} else {
			s.KeepHours = max(s.KeepHours, t.window.hours)
		}
	default:
		return
	}
	sp.Signals[t.name] = s
}

// walkTerms calls fn for every term of c.
func walkTerms(c cond, fn func(*term)) {
	switch c := c.(type) {
	case *term:
		fn(c)
	case allCond:
		for _, item := range c.items {
			walkTerms(item, fn)
		}
	case anyCond:
		for _, item := range c.items {
			walkTerms(item, fn)
		}
	case notCond:
		walkTerms(c.inner, fn)
	}
}
