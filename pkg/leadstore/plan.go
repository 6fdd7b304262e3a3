package leadstore

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/leadstream/leadstream/pkg/rules"
)

// plan is what the scripts need of one rules value, worked out once:
// r.Spec copies its maps on every call, and the coded field names, the
// sorted names and the constant part of the prune arguments are the same
// for every event.
type plan struct {
	rules   *rules.Rules
	signals map[string]signalPlan
	// traits holds the event trait fields the rules keep, and fields
	// their coded hash fields, index for index.
	traits []string
	fields []string
	// prune holds (signal code, keep days, keep hours) for every signal.
	prune []any
	// halfLives holds (score field, half-life ms) for every score.
	halfLives []any
}

// signalPlan is what counting one signal changes.
type signalPlan struct {
	lifetime   string // "c<code>", or "" when not kept
	dayPrefix  string // "d<code>:", or ""
	hourPrefix string // "h<code>:", or ""
	// scores holds (score field, half-life ms, points) for each score the
	// signal gives points to.
	scores []any
}

// planCache keeps the plan of the rules used last; a reload replaces it.
type planCache struct {
	cur atomic.Pointer[plan]
}

// plan returns the plan of r, building it when r is not the cached rules;
// the first plan of rules that name something new gives it a code.
func (s *Store) plan(ctx context.Context, r *rules.Rules) (*plan, error) {
	if p := s.plans.cur.Load(); p != nil && p.rules == r {
		return p, nil
	}
	sp := r.Spec()
	book, err := s.names.codes(ctx, s.rdb, specNames(sp))
	if err != nil {
		return nil, fmt.Errorf("plan rules %s: %w", r.Version(), err)
	}
	p := newPlan(r, sp, book)
	s.plans.cur.Store(p)
	return p, nil
}

// specNames lists what sp counts, as codebook names.
func specNames(sp rules.Spec) []string {
	var out []string
	for _, sig := range sortedKeys(sp.Signals) {
		out = append(out, kindSignal+":"+sig)
	}
	for _, sc := range sortedKeys(sp.Scores) {
		out = append(out, kindScore+":"+sc)
	}
	for _, f := range sp.TraitFields {
		out = append(out, kindTrait+":"+f)
	}
	return out
}

func newPlan(r *rules.Rules, sp rules.Spec, book *codebook) *plan {
	p := &plan{rules: r, signals: make(map[string]signalPlan, len(sp.Signals)),
		traits: sp.TraitFields}
	for _, f := range sp.TraitFields {
		p.fields = append(p.fields, "t"+book.byName[kindTrait+":"+f])
	}
	scoreNames := sortedKeys(sp.Scores)
	scoreFields := map[string]string{}
	for _, name := range scoreNames {
		scoreFields[name] = "s" + book.byName[kindScore+":"+name]
		p.halfLives = append(p.halfLives, scoreFields[name], sp.Scores[name].HalfLifeMs)
	}
	for _, sig := range sortedKeys(sp.Signals) {
		ss := sp.Signals[sig]
		code := book.byName[kindSignal+":"+sig]
		p.prune = append(p.prune, code, ss.KeepDays, ss.KeepHours)
		p.signals[sig] = newSignalPlan(sp, sig, code, scoreNames, scoreFields)
	}
	return p
}

func newSignalPlan(sp rules.Spec, sig, code string, scoreNames []string,
	scoreFields map[string]string) signalPlan {
	ss := sp.Signals[sig]
	var out signalPlan
	if ss.Lifetime {
		out.lifetime = "c" + code
	}
	if ss.KeepDays > 0 {
		out.dayPrefix = "d" + code + ":"
	}
	if ss.KeepHours > 0 {
		out.hourPrefix = "h" + code + ":"
	}
	for _, name := range scoreNames {
		sc := sp.Scores[name]
		if pts, ok := sc.Points[sig]; ok {
			out.scores = append(out.scores, scoreFields[name], sc.HalfLifeMs, formatFloat(pts))
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
