package rules

import (
	"fmt"
	"io"
	"strings"
)

// Describe writes a plain-language summary of r for the people who own
// the definitions: the signals, traits and scores, what each stage
// requires, and what excludes a lead.
func Describe(w io.Writer, r *Rules) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Rules %q from %s; days are counted in %s.\n", r.version, r.file,
		r.loc)
	describeSignals(&b, r)
	describeTraits(&b, r)
	describeScores(&b, r)
	b.WriteString("\nStages\n")
	describeStage(&b, "becomes an MQL", r.mql)
	describeStage(&b, "becomes an SQL", r.sql)
	b.WriteString("  A lead meeting the SQL criteria first passes through MQL.\n")
	b.WriteString("\nExclusion\n")
	describeStage(&b, "is excluded (final)", r.exclude)
	if r.identify {
		b.WriteString("\nOnly identified leads (with a lead id) qualify; anonymous " +
			"visitors are counted and merged into the lead when they identify.\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("describe rules: %w", err)
	}
	return nil
}

func describeSignals(b *strings.Builder, r *Rules) {
	b.WriteString("\nSignals\n")
	if len(r.signals) == 0 {
		b.WriteString("  (none)\n")
	}
	for _, name := range sortedKeys(r.signals) {
		fmt.Fprintf(b, "  %s: %s\n", name, r.signals[name].describe())
	}
}

func (s *signal) describe() string {
	out := "each " + s.event + " event"
	switch _, deep := deepPrefix(s.urlPath); {
	case s.urlPath == "":
	case deep:
		out += fmt.Sprintf(" on a page below %s (any depth)", strings.TrimSuffix(
			strings.TrimSuffix(s.urlPath, "*"), "*"))
	default:
		out += " on a page whose path is " + s.urlPath
	}
	for _, k := range sortedKeys(s.props) {
		out += fmt.Sprintf(" with %s = %q", k, s.props[k])
	}
	return out
}

func describeTraits(b *strings.Builder, r *Rules) {
	if len(r.traits) == 0 {
		return
	}
	b.WriteString("\nTraits (facts from identify events)\n")
	for _, name := range sortedKeys(r.traits) {
		fmt.Fprintf(b, "  %s: %s\n", name, r.traits[name].describe())
	}
}

func (t *trait) describe() string {
	switch {
	case t.matches != nil:
		return fmt.Sprintf("%s matches the pattern %s", t.field, t.matches)
	case t.equals != nil:
		return fmt.Sprintf("%s is exactly %q", t.field, *t.equals)
	case t.in != nil:
		return fmt.Sprintf("%s is one of %s (ignoring case)", t.field, strings.Join(t.in, ", "))
	}
	parts := make([]string, len(t.bounds))
	for i, bd := range t.bounds {
		parts[i] = opWords[bd.op] + " " + formatNumber(bd.n)
	}
	return fmt.Sprintf("%s is a number %s", t.field, strings.Join(parts, " and "))
}

func describeScores(b *strings.Builder, r *Rules) {
	if len(r.scores) == 0 {
		return
	}
	b.WriteString("\nScores\n")
	for _, name := range r.scoreNames {
		sc := r.scores[name]
		var pts []string
		for _, sig := range sortedKeys(sc.points) {
			pts = append(pts, fmt.Sprintf("%s %s", sig, formatNumber(sc.points[sig])))
		}
		decays := "never decays"
		if sc.halfLifeMs > 0 {
			decays = "halves every " + durationWords(sc.halfLife)
		}
		fmt.Fprintf(b, "  %s: points per signal: %s; %s\n", name, strings.Join(pts, ", "),
			decays)
	}
}

func describeStage(b *strings.Builder, what string, c cond) {
	if c == nil {
		fmt.Fprintf(b, "  A lead never %s: no criteria are set.\n", what)
		return
	}
	fmt.Fprintf(b, "  A lead %s when\n", what)
	describeCond(b, c, "    ")
}

// describeCond writes c as an indented outline.
func describeCond(b *strings.Builder, c cond, indent string) {
	switch c := c.(type) {
	case *term:
		b.WriteString(indent + "- " + c.describe() + "\n")
	case allCond:
		b.WriteString(indent + "- all of these hold:\n")
		for _, item := range c.items {
			describeCond(b, item, indent+"    ")
		}
	case anyCond:
		b.WriteString(indent + "- any of these holds:\n")
		for _, item := range c.items {
			describeCond(b, item, indent+"    ")
		}
	case notCond:
		b.WriteString(indent + "- this does NOT hold:\n")
		describeCond(b, c.inner, indent+"    ")
	}
}

var opWords = map[op]string{opGE: "at least", opGT: "more than", opLE: "at most",
	opLT: "less than", opEQ: "exactly"}

// describe renders a term in words, e.g. "pricing_view on at least 2
// different days in the last 30 days".
func (t *term) describe() string {
	n := opWords[t.op] + " " + formatNumber(t.n)
	switch t.kind {
	case kindLifetime:
		return fmt.Sprintf("%s happened %s %s in total", t.name, n, plural(t.n, "time"))
	case kindCount:
		return fmt.Sprintf("%s happened %s %s in the last %s", t.name, n, plural(t.n, "time"),
			durationWords(t.window.text))
	case kindDistinctDays:
		return fmt.Sprintf("%s happened on %s different %s in the last %s", t.name, n,
			plural(t.n, "day"), durationWords(t.window.text))
	case kindScore:
		return fmt.Sprintf("score %s is %s", t.name, n)
	}
	return fmt.Sprintf("the lead is %s (%s)", t.name, t.trait.describe())
}

func plural(n float64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// durationWords turns "14d" into "14 days" and "1h" into "1 hour".
func durationWords(text string) string {
	num, unit := text[:len(text)-1], "hour"
	if strings.HasSuffix(text, "d") {
		unit = "day"
	}
	if num == "1" {
		return "1 " + unit
	}
	return num + " " + unit + "s"
}
