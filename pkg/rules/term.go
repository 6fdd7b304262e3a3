package rules

import "strconv"

// termKind says what a term measures.
type termKind int

// cost ranks how much work measuring a term of the kind takes: a map
// lookup, a decay, a scan of buckets, a trait test that may run a regular
// expression.
func (k termKind) cost() int {
	switch k {
	case kindLifetime:
		return 1
	case kindScore:
		return 2
	case kindCount, kindDistinctDays:
		return 4
	}
	return 8
}

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

// newEvalCtx returns the context of s at atMs. It is a value so that it
// can live on the caller's stack.
func (r *Rules) newEvalCtx(s *State, atMs int64) evalCtx {
	return evalCtx{r: r, s: s, atMs: atMs, day: localDay(atMs, r.loc), hour: unixHour(atMs)}
}

// score values score name at evaluation time.
func (e *evalCtx) score(name string) float64 {
	return e.r.ScoreAt(name, e.s.Scores[name], e.atMs)
}

// lhs renders the measured side of the term, e.g. "count(x, 14d)".
func (t *term) lhs() string {
	return string(t.appendLHS(make([]byte, 0, 64)))
}

// appendLHS appends the measured side of the term to b.
func (t *term) appendLHS(b []byte) []byte {
	switch t.kind {
	case kindCount:
		return append(append(append(append(append(b, "count("...), t.name...), ", "...),
			t.window.text...), ')')
	case kindDistinctDays:
		return append(append(append(append(append(b, "distinct_days("...), t.name...),
			", "...), t.window.text...), ')')
	case kindScore:
		return append(append(append(b, "score("...), t.name...), ')')
	case kindTrait:
		return append(append(b, "trait "...), t.name...)
	}
	return append(b, t.name...)
}

// String renders the term in canonical form, as the parser accepts it.
func (t *term) String() string {
	if t.kind == kindTrait {
		return t.lhs()
	}
	return t.lhs() + " " + string(t.op) + " " + formatNumber(t.n)
}

// holds reports whether the term holds for the lead at evaluation time.
func (t *term) holds(e *evalCtx) bool {
	if t.kind == kindTrait {
		return t.trait.holds(e.s.Traits)
	}
	return t.op.compare(t.value(e), t.n)
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
	// One buffer and one string per reason: reasons are written for every
	// stage change.
	b := t.appendLHS(make([]byte, 0, 64))
	b = appendValue(append(b, " = "...), t.value(e))
	b = append(append(append(b, ' '), t.op...), ' ')
	return string(strconv.AppendFloat(b, t.n, 'f', -1, 64))
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
	if int64(len(buckets)) > span {
		return sumSpan(buckets, last-span+1, last, distinct)
	}
	var total int64
	for k, n := range buckets {
		if k > last-span && k <= last && n > 0 {
			total += bucketValue(n, distinct)
		}
	}
	return total
}

// sumSpan is windowCount for maps with more buckets than the window has:
// it looks up each bucket of [first, last] instead of scanning the map.
func sumSpan(buckets map[int64]int64, first, last int64, distinct bool) int64 {
	var total int64
	for k := first; k <= last; k++ {
		if n := buckets[k]; n > 0 {
			total += bucketValue(n, distinct)
		}
	}
	return total
}

// bucketValue is what a bucket holding n > 0 adds to a window's value.
func bucketValue(n int64, distinct bool) int64 {
	if distinct {
		return 1
	}
	return n
}
