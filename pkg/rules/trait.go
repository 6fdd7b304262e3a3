package rules

import (
	"regexp"
	"strconv"
	"strings"
)

// trait is a fact about a lead, tested on one raw trait field.
type trait struct {
	name  string
	field string
	// Exactly one test kind is set: matches, in, equals or bounds.
	matches *regexp.Regexp
	// cache remembers recent results of matches; see matchCache.
	cache  *matchCache
	in     []string // lower case, as written otherwise
	equals *string
	bounds []bound
}

// bound is one numeric comparison, e.g. gte 50.
type bound struct {
	op op
	n  float64
}

// holds reports whether the raw value of the trait's field satisfies it.
// A missing or empty value never does.
func (t *trait) holds(traits map[string]string) bool {
	raw := strings.TrimSpace(traits[t.field])
	if raw == "" {
		return false
	}
	switch {
	case t.matches != nil:
		return t.cache.match(t.matches, raw)
	case t.equals != nil:
		return raw == *t.equals
	case t.in != nil:
		return t.inList(raw)
	default:
		return t.inBounds(raw)
	}
}

func (t *trait) inList(raw string) bool {
	if !isASCII(raw) {
		raw = strings.ToLower(raw)
	}
	for _, v := range t.in {
		if equalLowerASCII(v, raw) {
			return true
		}
	}
	return false
}

// equalLowerASCII reports whether low equals s in lower case, for an s
// that is ASCII or lower case already; unlike strings.ToLower it
// allocates nothing.
func equalLowerASCII(low, s string) bool {
	if len(low) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != low[i] {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func (t *trait) inBounds(raw string) bool {
	v, ok := parseNumber(raw)
	if !ok {
		return false
	}
	for _, b := range t.bounds {
		if !b.op.compare(v, b.n) {
			return false
		}
	}
	return true
}

// parseNumber reads a trait value such as "250", "1,200" or "3.5e6". It
// refuses anything that is not a finite number.
func parseNumber(raw string) (float64, bool) {
	s := strings.ReplaceAll(strings.TrimSpace(raw), ",", "")
	s = strings.ReplaceAll(s, "_", "")
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !finite(v) {
		return 0, false
	}
	return v, true
}
