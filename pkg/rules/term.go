package rules

import (
	"fmt"
	"strconv"
)

// termKind says what a term measures.
type termKind int

const (
	kindLifetime     termKind = iota + 1 // blog_view >= 2
	kindCount                            // count(blog_view, 14d) >= 2
	kindDistinctDays                     // distinct_days(blog_view, 30d) >= 2
	kindScore                            // score(engagement) >= 40
	kindTrait                            // trait decision_maker
)

// term is a leaf of a condition tree.
type term struct {
	kind   termKind
	name   string // signal, score or trait name
	window window // count and distinct_days only
	op     op
	n      float64
	// trait is resolved at parse time for kindTrait.
	trait *trait
}

// evalCtx is what evaluating a condition needs: one lead at one time.
type evalCtx struct {
	r    *Rules
	s    *State
	atMs int64
	day  int64 // local day of atMs
	hour int64 // unix hour of atMs
}

func (r *Rules) newEvalCtx(s *State, atMs int64) *evalCtx {
	return &evalCtx{r: r, s: s, atMs: atMs, day: localDay(atMs, r.loc), hour: unixHour(atMs)}
}

// score values score name at evaluation time.
func (e *evalCtx) score(name string) float64 {
	return e.r.ScoreAt(name, e.s.Scores[name], e.atMs)
}

// lhs renders the measured side of the term, e.g. "count(x, 14d)".
func (t *term) lhs() string {
	switch t.kind {
	case kindCount:
		return "count(" + t.name + ", " + t.window.text + ")"
	case kindDistinctDays:
		return "distinct_days(" + t.name + ", " + t.window.text + ")"
	case kindScore:
		return "score(" + t.name + ")"
	case kindTrait:
		return "trait " + t.name
	}
	return t.name
}

// String renders the term in canonical form, as the parser accepts it.
func (t *term) String() string {
	if t.kind == kindTrait {
		return t.lhs()
	}
	return t.lhs() + " " + string(t.op) + " " + formatNumber(t.n)
}

func (t *term) eval(e *evalCtx) (bool, []string) {
	if t.kind == kindTrait {
		if !t.trait.holds(e.s.Traits) {
			return false, nil
		}
		return true, []string{t.explain(e)}
	}
	v := t.value(e)
	if !t.op.compare(v, t.n) {
		return false, nil
	}
	return true, []string{t.explain(e)}
}

// explain renders the term with its value: "blog_view = 2 >= 2", or for a
// trait the raw field, `trait decision_maker (title = "VP Sales")`.
func (t *term) explain(e *evalCtx) string {
	if t.kind == kindTrait {
		raw, ok := e.s.Traits[t.trait.field]
		if !ok || raw == "" {
			return t.lhs() + " (" + t.trait.field + " not set)"
		}
		return t.lhs() + " (" + t.trait.field + " = " + strconv.Quote(raw) + ")"
	}
	return fmt.Sprintf("%s = %s %s %s", t.lhs(), formatValue(t.value(e)), t.op,
		formatNumber(t.n))
}

// value measures the term's left-hand side for the lead at evaluation time.
func (t *term) value(e *evalCtx) float64 {
	switch t.kind {
	case kindLifetime:
		return float64(e.s.Counts[t.name])
	case kindCount:
		return float64(t.windowCount(e, false))
	case kindDistinctDays:
		return float64(t.windowCount(e, true))
	case kindScore:
		return e.score(t.name)
	}
	return 0
}

// windowCount sums the term's signal over its window, or counts the days
// with activity when distinct. A window of whole days covers local days
// [day-d+1, day]; any other covers UTC hours [hour-h+1, hour].
func (t *term) windowCount(e *evalCtx, distinct bool) int64 {
	buckets, last := e.s.Hours[t.name], e.hour
	span := t.window.hours
	if d, whole := t.window.days(); whole {
		buckets, last, span = e.s.Days[t.name], e.day, d
	}
	var total int64
	for k, n := range buckets {
		if k > last-span && k <= last && n > 0 {
			if distinct {
				total++
			} else {
				total += n
			}
		}
	}
	return total
}
