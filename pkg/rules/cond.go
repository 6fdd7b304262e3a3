package rules

import (
	"math"
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

// cond is a node of a condition tree.
type cond interface {
	// eval reports whether the condition holds and, if it does, the
	// reasons: each term that held, with its values.
	eval(e *evalCtx) (bool, []string)
	// explain renders the condition with its current values, whether or
	// not it holds; it is how "not (...)" reasons are written.
	explain(e *evalCtx) string
}

type allCond struct{ items []cond }

type anyCond struct{ items []cond }

type notCond struct{ inner cond }

func (c allCond) eval(e *evalCtx) (bool, []string) {
	var reasons []string
	for _, item := range c.items {
		ok, rs := item.eval(e)
		if !ok {
			return false, nil
		}
		reasons = append(reasons, rs...)
	}
	return true, reasons
}

func (c anyCond) eval(e *evalCtx) (bool, []string) {
	held := false
	var reasons []string
	for _, item := range c.items {
		if ok, rs := item.eval(e); ok {
			held = true
			reasons = append(reasons, rs...)
		}
	}
	return held, reasons
}

func (c notCond) eval(e *evalCtx) (bool, []string) {
	if ok, _ := c.inner.eval(e); ok {
		return false, nil
	}
	return true, []string{c.explain(e)}
}

func (c allCond) explain(e *evalCtx) string { return joinExplain(e, c.items, " and ") }

func (c anyCond) explain(e *evalCtx) string { return joinExplain(e, c.items, " or ") }

func (c notCond) explain(e *evalCtx) string {
	return "not (" + unwrap(c.inner.explain(e)) + ")"
}

// joinExplain renders items joined by sep, bracketing nested lists.
func joinExplain(e *evalCtx, items []cond, sep string) string {
	parts := make([]string, len(items))
	for i, item := range items {
		parts[i] = item.explain(e)
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
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0 // no "-0"
	}
	return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0")
}

// formatNumber writes a number from the rules file as its author wrote it,
// in the shortest exact form.
func formatNumber(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}
