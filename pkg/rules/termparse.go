package rules

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// names is what a term may refer to; the parser checks every reference.
type names struct {
	signals map[string]bool
	scores  map[string]bool
	traits  map[string]*trait
}

const termHelp = "write e.g. \"blog_view >= 2\", \"count(pricing_view, 14d) >= 2\", " +
	"\"distinct_days(pricing_view, 30d) >= 2\", \"score(engagement) >= 40\" or " +
	"\"trait decision_maker\""

// parseTerm reads one condition term. Its errors say how to fix the term.
func parseTerm(text string, ns names) (*term, error) {
	s := strings.TrimSpace(text)
	if s == "" {
		return nil, errors.New("empty condition; " + termHelp)
	}
	if rest, ok := strings.CutPrefix(s, "trait"); ok && startsWithSpace(rest) {
		return parseTraitTerm(strings.TrimSpace(rest), ns)
	}
	i := strings.IndexAny(s, "<>=!")
	if i < 0 {
		return nil, fmt.Errorf("%q has no comparison; %s", s, termHelp)
	}
	o, rest, err := parseOp(s[i:])
	if err != nil {
		return nil, err
	}
	t, err := parseLHS(strings.TrimSpace(s[:i]), ns)
	if err != nil {
		return nil, err
	}
	t.op = o
	if t.n, err = parseThreshold(rest, t.kind); err != nil {
		return nil, err
	}
	return t, nil
}

func startsWithSpace(s string) bool {
	return s != "" && (s[0] == ' ' || s[0] == '\t')
}

func parseTraitTerm(name string, ns names) (*term, error) {
	if !isIdent(name) {
		return nil, fmt.Errorf("%q is not a trait name; write \"trait <name>\" with a name "+
			"defined under traits", name)
	}
	tr, ok := ns.traits[name]
	if !ok {
		return nil, fmt.Errorf("unknown trait %q; define it under traits%s", name,
			suggest(name, keysOf(ns.traits)))
	}
	return &term{kind: kindTrait, name: name, trait: tr}, nil
}

// parseOp reads the operator at the start of s and returns the rest.
func parseOp(s string) (op, string, error) {
	for _, o := range []op{opGE, opLE, opEQ, opGT, opLT} {
		if rest, ok := strings.CutPrefix(s, string(o)); ok {
			if rest != "" && strings.ContainsAny(rest[:1], "<>=!") {
				break
			}
			return o, rest, nil
		}
	}
	bad := s
	if j := strings.IndexFunc(s, notOpRune); j > 0 {
		bad = s[:j]
	}
	return "", "", fmt.Errorf("unknown operator %q; use one of >=, >, <=, <, ==", bad)
}

func notOpRune(r rune) bool { return !strings.ContainsRune("<>=!", r) }

// parseLHS reads "<signal>", "count(<signal>, <window>)",
// "distinct_days(<signal>, <window>)" or "score(<name>)".
func parseLHS(s string, ns names) (*term, error) {
	open := strings.IndexByte(s, '(')
	if open < 0 {
		return signalTerm(kindLifetime, s, ns)
	}
	fn := strings.TrimSpace(s[:open])
	if !strings.HasSuffix(s, ")") {
		return nil, fmt.Errorf("%q lacks a closing bracket; %s", s, termHelp)
	}
	args := strings.Split(s[open+1:len(s)-1], ",")
	for i := range args {
		args[i] = strings.TrimSpace(args[i])
	}
	switch fn {
	case "count":
		return windowTerm(kindCount, args, ns)
	case "distinct_days":
		return windowTerm(kindDistinctDays, args, ns)
	case "score":
		return scoreTerm(args, ns)
	}
	return nil, fmt.Errorf("unknown function %q; use count(signal, window), "+
		"distinct_days(signal, window) or score(name)", fn)
}

func signalTerm(kind termKind, name string, ns names) (*term, error) {
	if !isIdent(name) {
		return nil, fmt.Errorf("%q is not a signal name; %s", name, termHelp)
	}
	if !ns.signals[name] {
		return nil, fmt.Errorf("unknown signal %q; define it under signals%s", name,
			suggest(name, keysOf(ns.signals)))
	}
	return &term{kind: kind, name: name}, nil
}

func windowTerm(kind termKind, args []string, ns names) (*term, error) {
	fn := map[termKind]string{kindCount: "count", kindDistinctDays: "distinct_days"}[kind]
	if len(args) != 2 {
		return nil, fmt.Errorf("%s takes a signal and a window, e.g. %s(pricing_view, 14d)",
			fn, fn)
	}
	t, err := signalTerm(kind, args[0], ns)
	if err != nil {
		return nil, err
	}
	if t.window, err = parseDuration(args[1]); err != nil {
		return nil, fmt.Errorf("window of %s: %w", fn, err)
	}
	if _, whole := t.window.days(); kind == kindDistinctDays && !whole {
		return nil, fmt.Errorf("distinct_days needs a window of whole days, e.g. 30d, "+
			"not %q", args[1])
	}
	return t, nil
}

func scoreTerm(args []string, ns names) (*term, error) {
	if len(args) != 1 || !isIdent(args[0]) {
		return nil, errors.New("score takes one score name, e.g. score(engagement)")
	}
	if !ns.scores[args[0]] {
		return nil, fmt.Errorf("unknown score %q; define it under scores%s", args[0],
			suggest(args[0], keysOf(ns.scores)))
	}
	return &term{kind: kindScore, name: args[0]}, nil
}

// parseThreshold reads the number a term compares with. Counts compare
// with whole numbers, scores with any finite number.
func parseThreshold(s string, kind termKind) (float64, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || !finite(n) || !plainNumber(s) {
		return 0, fmt.Errorf("%q is not a number; compare with a number, e.g. >= 2", s)
	}
	if kind != kindScore && (n < 0 || n != math.Trunc(n)) {
		return 0, fmt.Errorf("counts are whole numbers: compare with 0, 1, 2, ... not %s", s)
	}
	return n, nil
}

// plainNumber accepts digits with an optional sign, point and exponent,
// refusing forms such as hex or "Inf" that ParseFloat also takes.
func plainNumber(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789+-.eE", c) {
			return false
		}
	}
	return true
}

// isIdent reports whether s is a name: a letter or underscore, then
// letters, digits and underscores.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		letter := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func keysOf[V any](m map[string]V) []string { return sortedKeys(m) }

// suggest returns "; did you mean X?" for the closest known name, if one is
// close enough to be a typo.
func suggest(name string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(name, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
