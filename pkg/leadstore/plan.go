package leadstore

import (
	"strconv"
	"sync/atomic"

	"github.com/leadstream/leadstream/pkg/rules"
)

// plan is what the scripts need of one rules value, worked out once:
// r.Spec copies its maps on every call, and the sorted names and the
// constant part of the prune arguments are the same for every event.
type plan struct {
	rules   *rules.Rules
	signals map[string]signalPlan
	traits  []string
	// prune holds (signal, keep days, keep hours) for every signal.
	prune []any
	// halfLives holds (score, half-life ms) for every score.
	halfLives []any
}

// signalPlan is what counting one signal changes.
type signalPlan struct {
	lifetime   string // "c:<signal>", or "" when not kept
	dayPrefix  string // "d:<signal>:", or ""
	hourPrefix string // "h:<signal>:", or ""
	// scores holds (score, half-life ms, points) for each score the
	// signal gives points to.
	scores []any
}

// planCache keeps the plan of the rules used last; a reload replaces it.
type planCache struct {
	cur atomic.Pointer[plan]
}

// get returns the plan of r, building it when r is not the cached rules.
func (c *planCache) get(r *rules.Rules) *plan {
	if p := c.cur.Load(); p != nil && p.rules == r {
		return p
	}
	p := newPlan(r)
	c.cur.Store(p)
	return p
}

func newPlan(r *rules.Rules) *plan {
	sp := r.Spec()
	p := &plan{rules: r, signals: make(map[string]signalPlan, len(sp.Signals)),
		traits: sp.TraitFields}
	scoreNames := sortedKeys(sp.Scores)
	for _, name := range scoreNames {
		p.halfLives = append(p.halfLives, name, sp.Scores[name].HalfLifeMs)
	}
	for _, sig := range sortedKeys(sp.Signals) {
		ss := sp.Signals[sig]
		p.prune = append(p.prune, sig, ss.KeepDays, ss.KeepHours)
		p.signals[sig] = newSignalPlan(sp, sig, scoreNames)
	}
	return p
}

func newSignalPlan(sp rules.Spec, sig string, scoreNames []string) signalPlan {
	ss := sp.Signals[sig]
	var out signalPlan
	if ss.Lifetime {
		out.lifetime = "c:" + sig
	}
	if ss.KeepDays > 0 {
		out.dayPrefix = "d:" + sig + ":"
	}
	if ss.KeepHours > 0 {
		out.hourPrefix = "h:" + sig + ":"
	}
	for _, name := range scoreNames {
		sc := sp.Scores[name]
		if pts, ok := sc.Points[sig]; ok {
			out.scores = append(out.scores, name, sc.HalfLifeMs, formatFloat(pts))
		}
	}
	return out
}

// fields appends the hash fields counting sig increments on day and hour.
func (sp signalPlan) fields(dst []any, day, hour int64) []any {
	if sp.lifetime != "" {
		dst = append(dst, sp.lifetime)
	}
	if sp.dayPrefix != "" {
		dst = append(dst, sp.dayPrefix+strconv.FormatInt(day, 10))
	}
	if sp.hourPrefix != "" {
		dst = append(dst, sp.hourPrefix+strconv.FormatInt(hour, 10))
	}
	return dst
}
