package rules

import (
	"path"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var topKeys = []string{"version", "timezone", "signals", "traits", "scores", "stages",
	"exclude", "require_identified"}

// rules reads the top-level mapping.
func (p *parser) rules(root *yaml.Node) *Rules {
	r := &Rules{file: p.file, loc: time.UTC, signals: map[string]*signal{},
		traits: map[string]*trait{}, scores: map[string]*score{}}
	f := p.fields(root, "", "the rules (version, signals, stages, ...)", topKeys...)
	if f == nil {
		return r
	}
	p.version(r, f)
	p.timezone(r, f)
	if e, ok := f["signals"]; ok {
		p.signals(r, e.val)
	}
	if e, ok := f["traits"]; ok {
		p.traits(r, e.val)
	}
	if e, ok := f["scores"]; ok {
		p.scores(r, e.val)
	}
	p.conditions(r, root, f)
	if e, ok := f["require_identified"]; ok {
		r.identify = p.boolean(e.val, "require_identified")
	}
	return r
}

func (p *parser) version(r *Rules, f map[string]entry) {
	e, ok := f["version"]
	if !ok {
		p.errorf(&yaml.Node{Line: 1}, "version", "missing; add a line such as "+
			"version: \"2026-q4\" so that transitions name the rules that decided them")
		return
	}
	r.version, _ = p.text(e.val, "version")
}

func (p *parser) timezone(r *Rules, f map[string]entry) {
	e, ok := f["timezone"]
	if !ok {
		return
	}
	name, ok := p.text(e.val, "timezone")
	if !ok {
		return
	}
	if strings.EqualFold(name, "local") {
		p.errorf(e.val, "timezone", "\"Local\" depends on the machine; name the zone, "+
			"e.g. UTC or Europe/Berlin")
		return
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		p.errorf(e.val, "timezone", "unknown time zone %q; use an IANA name such as UTC, "+
			"Europe/Berlin or America/New_York", name)
		return
	}
	r.loc = loc
}

func (p *parser) boolean(n *yaml.Node, field string) bool {
	s, ok := p.scalar(n, field)
	switch {
	case !ok:
	case strings.EqualFold(s, "true"):
		return true
	case strings.EqualFold(s, "false"):
	default:
		p.errorf(n, field, "%q is not true or false; write true or false", s)
	}
	return false
}

var signalKeys = []string{"event", "url_path", "properties", "form"}

func (p *parser) signals(r *Rules, n *yaml.Node) {
	entries, _ := p.mapping(n, "signals", "signal definitions")
	for _, e := range entries {
		if !p.define(e.key, "signals") {
			continue
		}
		if s := p.signal(e.name, e.val); s != nil {
			r.signals[e.name] = s
		}
	}
}

// signal reads one signal; nil when it has problems (already reported).
func (p *parser) signal(name string, n *yaml.Node) *signal {
	field := "signals." + name
	f := p.fields(n, field, "a signal such as {event: page_view, url_path: \"/blog/*\"}",
		signalKeys...)
	if f == nil {
		return nil
	}
	before := len(p.errs)
	s := &signal{name: name, props: map[string]string{}}
	if e, ok := f["event"]; ok {
		s.event, _ = p.text(e.val, field+".event")
	} else {
		p.errorf(n, field+".event", "missing; say which event type counts, e.g. "+
			"event: page_view")
	}
	if e, ok := f["url_path"]; ok {
		s.urlPath = p.urlPattern(e.val, field+".url_path")
	}
	if e, ok := f["properties"]; ok {
		p.properties(s, e.val, field+".properties")
	}
	if e, ok := f["form"]; ok {
		p.form(s, e.val, field+".form")
	}
	if len(p.errs) > before {
		return nil
	}
	return s
}

func (p *parser) urlPattern(n *yaml.Node, field string) string {
	pat, ok := p.text(n, field)
	if !ok {
		return ""
	}
	if !strings.HasPrefix(pat, "/") {
		p.errorf(n, field, "%q must start with \"/\": give the path only, e.g. "+
			"\"/pricing\" or \"/blog/*\"", pat)
		return ""
	}
	if _, err := path.Match(pat, pat); err != nil {
		p.errorf(n, field, "%q is not a valid pattern (%v); check the [ ] brackets and "+
			"backslashes", pat, err)
		return ""
	}
	return pat
}

func (p *parser) properties(s *signal, n *yaml.Node, field string) {
	entries, _ := p.mapping(n, field, "property values, e.g. {contact_me: \"yes\"}")
	for _, e := range entries {
		if strings.TrimSpace(e.name) == "" {
			p.errorf(e.key, field, "a property name is empty; name the property")
			continue
		}
		if v, ok := p.scalar(e.val, join(field, e.name)); ok {
			s.props[e.name] = v
		}
	}
}

func (p *parser) form(s *signal, n *yaml.Node, field string) {
	name, ok := p.text(n, field)
	if !ok {
		return
	}
	if v, dup := s.props["form"]; dup && v != name {
		p.errorf(n, field, "conflicts with properties.form %q; keep one of them", v)
		return
	}
	s.props["form"] = name
}

var traitKeys = []string{"field", "matches", "in", "equals", "gte", "gt", "lte", "lt"}

func (p *parser) traits(r *Rules, n *yaml.Node) {
	entries, _ := p.mapping(n, "traits", "trait definitions")
	for _, e := range entries {
		if !p.define(e.key, "traits") {
			continue
		}
		if t := p.trait(e.name, e.val); t != nil {
			r.traits[e.name] = t
		}
	}
}

// trait reads one trait; nil when it has problems (already reported).
func (p *parser) trait(name string, n *yaml.Node) *trait {
	field := "traits." + name
	f := p.fields(n, field, "a trait such as {field: title, matches: \"(?i)vp\"}",
		traitKeys...)
	if f == nil {
		return nil
	}
	before := len(p.errs)
	t := &trait{name: name}
	if e, ok := f["field"]; ok {
		t.field, _ = p.text(e.val, field+".field")
	} else {
		p.errorf(n, field+".field", "missing; name the lead trait to test, e.g. "+
			"field: title")
	}
	p.traitTest(t, n, f, field)
	if len(p.errs) > before {
		return nil
	}
	return t
}

// traitTest reads the one test of a trait: matches, in, equals or numeric
// bounds (which may combine, e.g. gte and lte).
func (p *parser) traitTest(t *trait, n *yaml.Node, f map[string]entry, field string) {
	kinds := 0
	for _, k := range []string{"matches", "in", "equals"} {
		if _, ok := f[k]; ok {
			kinds++
		}
	}
	if p.bounds(t, f, field) {
		kinds++
	}
	if kinds != 1 {
		p.errorf(n, field, "give exactly one test: matches, in, equals, or numeric "+
			"bounds (gte, gt, lte, lt)")
		return
	}
	if e, ok := f["matches"]; ok {
		t.matches = p.regexp(e.val, field+".matches")
	}
	if e, ok := f["in"]; ok {
		t.in = p.list(e.val, field+".in")
	}
	if e, ok := f["equals"]; ok {
		if v, ok := p.text(e.val, field+".equals"); ok {
			t.equals = &v
		}
	}
}

// bounds reads the numeric bounds of a trait and reports whether it has any.
func (p *parser) bounds(t *trait, f map[string]entry, field string) bool {
	found := false
	for _, k := range []string{"gte", "gt", "lte", "lt"} {
		if e, ok := f[k]; ok {
			found = true
			if v, ok := p.number(e.val, join(field, k)); ok {
				t.bounds = append(t.bounds, bound{op: boundOps[k], n: v})
			}
		}
	}
	return found
}

var boundOps = map[string]op{"gte": opGE, "gt": opGT, "lte": opLE, "lt": opLT}

func (p *parser) regexp(n *yaml.Node, field string) *regexp.Regexp {
	expr, ok := p.text(n, field)
	if !ok {
		return nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		p.errorf(n, field, "%q is not a valid regular expression (%v); in YAML, quote it "+
			"with single quotes and write (?i) in front to ignore case", expr,
			strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		return nil
	}
	return re
}

// list reads a non-empty list of values, lower-cased for comparison.
func (p *parser) list(n *yaml.Node, field string) []string {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errorf(n, field, "expected a non-empty list, e.g. [a.com, b.io], found %s",
			kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		if v, ok := p.text(item, field+"["+itoa(i)+"]"); ok {
			out = append(out, strings.ToLower(v))
		}
	}
	return out
}

var scoreKeys = []string{"half_life", "points"}

func (p *parser) scores(r *Rules, n *yaml.Node) {
	entries, _ := p.mapping(n, "scores", "score definitions")
	for _, e := range entries {
		if !p.define(e.key, "scores") {
			continue
		}
		if s := p.score(r, e.name, e.val); s != nil {
			r.scores[e.name] = s
		}
	}
}

// score reads one score; nil when it has problems (already reported).
func (p *parser) score(r *Rules, name string, n *yaml.Node) *score {
	field := "scores." + name
	f := p.fields(n, field, "a score such as {half_life: 30d, points: {blog_view: 5}}",
		scoreKeys...)
	if f == nil {
		return nil
	}
	before := len(p.errs)
	s := &score{name: name, points: map[string]float64{}}
	if e, ok := f["half_life"]; ok {
		if text, ok := p.text(e.val, field+".half_life"); ok {
			w, err := parseDuration(text)
			if err != nil {
				p.errorf(e.val, field+".half_life", "%v", err)
			}
			s.halfLifeMs, s.halfLife = w.hours*msPerHour, w.text
		}
	}
	if e, ok := f["points"]; ok {
		p.points(r, s, e.val, field+".points")
	} else {
		p.errorf(n, field+".points", "missing; give points per signal, e.g. "+
			"points: {blog_view: 5}")
	}
	if len(p.errs) > before {
		return nil
	}
	return s
}

func (p *parser) points(r *Rules, s *score, n *yaml.Node, field string) {
	entries, ok := p.mapping(n, field, "points per signal, e.g. {blog_view: 5}")
	if ok && len(entries) == 0 {
		p.errorf(n, field, "is empty; give points per signal, e.g. {blog_view: 5}")
	}
	for _, e := range entries {
		if !p.isDefined(e.name, "signals") {
			p.errorf(e.key, join(field, e.name), "unknown signal %q; define it under "+
				"signals%s", e.name, suggest(e.name, p.namesOf("signals")))
			continue
		}
		if v, ok := p.number(e.val, join(field, e.name)); ok {
			s.points[e.name] = v
		}
	}
}
