package rules

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// op is a comparison operator of a condition term.
type op string

// The operators a term may use.
const (
	opGE op = ">="
	opGT op = ">"
	opLE op = "<="
	opLT op = "<"
	opEQ op = "=="
)

func (o op) compare(a, b float64) bool {
	switch o {
	case opGE:
		return a >= b
	case opGT:
		return a > b
	case opLE:
		return a <= b
	case opLT:
		return a < b
	case opEQ:
		return a == b
	}
	return false
}

// cond is a node of a condition tree: a *term, allCond, anyCond or
// notCond. Evaluation switches on the type rather than calling methods, so
// that the evaluation context stays on the caller's stack.
type cond interface{ isCond() }

type allCond struct {
	items []cond
	// cheap holds items ordered by cost, for the boolean pass (see order).
	cheap []cond
}

type anyCond struct {
	items []cond
	cheap []cond
}

type notCond struct{ inner cond }

func (*term) isCond()   {}
func (allCond) isCond() {}
func (anyCond) isCond() {}
func (notCond) isCond() {}

// newList builds an all (or any) condition of items.
func newList(items []cond, anyOf bool) cond {
	cheap := order(items)
	if anyOf {
		return anyCond{items: items, cheap: cheap}
	}
	return allCond{items: items, cheap: cheap}
}

// order returns items cheapest first. Whether a list holds does not
// depend on the order of its items, so the boolean pass may stop at the
// first failing (or holding) item it tries; trying counters before
// regular expressions makes that early stop cheap. Reasons keep the
// written order.
func order(items []cond) []cond {
	out := append([]cond(nil), items...)
	sort.SliceStable(out, func(i, j int) bool { return cost(out[i]) < cost(out[j]) })
	return out
}

// cost roughly ranks how much work evaluating c takes.
func cost(c cond) int {
	switch c := c.(type) {
	case *term:
		return c.kind.cost()
	case allCond:
		return sumCost(c.items)
	case anyCond:
		return sumCost(c.items)
	case notCond:
		return cost(c.inner)
	}
	return 0
}

func sumCost(items []cond) int {
	n := 0
	for _, item := range items {
		n += cost(item)
	}
	return n
}

// holds reports whether c holds; a missing condition never does. It
// allocates nothing, so that the common case of an event that changes no
// stage costs no garbage.
func holds(c cond, e *evalCtx) bool {
	switch c := c.(type) {
	case *term:
		return c.holds(e)
	case allCond:
		for _, item := range c.cheap {
			if !holds(item, e) {
				return false
			}
		}
		return true
	case anyCond:
		for _, item := range c.cheap {
			if holds(item, e) {
				return true
			}
		}
		return false
	case notCond:
		return !holds(c.inner, e)
	}
	return false
}

// appendReasons appends to dst why c holds: each term that held, with its
// values, in the written order; a "not" gives its rendered inner
// condition. It is only called once holds reported true.
func appendReasons(dst []string, c cond, e *evalCtx) []string {
	switch c := c.(type) {
	case *term:
		return append(dst, c.explain(e))
	case allCond:
		for _, item := range c.items {
			dst = appendReasons(dst, item, e)
		}
	case anyCond:
		for _, item := range c.items {
			if holds(item, e) {
				dst = appendReasons(dst, item, e)
			}
		}
	case notCond:
		dst = append(dst, explain(c, e))
	}
	return dst
}

// explain renders c with its current values, whether or not it holds; it
// is how "not (...)" reasons are written.
func explain(c cond, e *evalCtx) string {
	switch c := c.(type) {
	case *term:
		return c.explain(e)
	case allCond:
		return joinExplain(e, c.items, " and ")
	case anyCond:
		return joinExplain(e, c.items, " or ")
	case notCond:
		return "not (" + unwrap(explain(c.inner, e)) + ")"
	}
	return ""
}

// joinExplain renders items joined by sep, bracketing nested lists.
func joinExplain(e *evalCtx, items []cond, sep string) string {
	parts := make([]string, len(items))
	for i, item := range items {
		parts[i] = explain(item, e)
	}
	return "(" + strings.Join(parts, sep) + ")"
}

// unwrap drops the outer brackets of a rendered list, where the context
// already brackets it.
func unwrap(s string) string {
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") && balanced(s[1:len(s)-1]) {
		return s[1 : len(s)-1]
	}
	return s
}

// balanced reports whether brackets in s never close more than they open.
func balanced(s string) bool {
	depth := 0
	for _, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}

// formatValue writes a measured value compactly: one decimal at most,
// trailing zeros trimmed (41.5, 40, 2).
func formatValue(v float64) string {
	return string(appendValue(make([]byte, 0, 24), v))
}

// appendValue appends v to b as formatValue writes it.
func appendValue(b []byte, v float64) []byte {
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0 // no "-0"
	}
	b = strconv.AppendFloat(b, v, 'f', 1, 64)
	if n := len(b); n >= 2 && b[n-2] == '.' && b[n-1] == '0' {
		b = b[:n-2]
	}
	return b
}

// formatNumber writes a number from the rules file as its author wrote it,
// in the shortest exact form.
func formatNumber(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}
