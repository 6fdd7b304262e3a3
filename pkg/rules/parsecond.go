package rules

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// isDefined reports whether name was defined in section, even if its
// definition had problems: those are reported once, at the definition.
func (p *parser) isDefined(name, section string) bool {
	d, ok := p.defined[name]
	return ok && d.section == section
}

// namesOf lists the names defined in section, sorted.
func (p *parser) namesOf(section string) []string {
	m := map[string]bool{}
	for name, d := range p.defined {
		if d.section == section {
			m[name] = true
		}
	}
	return sortedKeys(m)
}

// conditions reads stages and exclude, once every name is known.
func (p *parser) conditions(r *Rules, root *yaml.Node, f map[string]entry) {
	ns := names{signals: map[string]bool{}, scores: map[string]bool{},
		traits: map[string]*trait{}}
	for name, d := range p.defined {
		switch d.section {
		case "signals":
			ns.signals[name] = true
		case "scores":
			ns.scores[name] = true
		case "traits":
			ns.traits[name] = r.traits[name]
		}
	}
	e, ok := f["stages"]
	if !ok {
		p.errorf(root, "stages", "missing; define when a lead becomes an mql and an sql, "+
			"e.g. stages: {mql: \"blog_view >= 2\"}")
	} else {
		p.stages(r, e.val, ns)
	}
	if e, ok := f["exclude"]; ok {
		r.exclude = p.cond(e.val, "exclude", ns, 0)
	}
}

func (p *parser) stages(r *Rules, n *yaml.Node, ns names) {
	f := p.fields(n, "stages", "the stages (mql, sql)", "mql", "sql")
	if f == nil {
		return
	}
	if len(f) == 0 {
		p.errorf(n, "stages", "is empty; define mql, sql or both")
	}
	if e, ok := f["mql"]; ok {
		r.mql = p.cond(e.val, "stages.mql", ns, 0)
	}
	if e, ok := f["sql"]; ok {
		r.sql = p.cond(e.val, "stages.sql", ns, 0)
	}
}

// cond reads a condition: a term, or a mapping with one of all, any, not.
func (p *parser) cond(n *yaml.Node, field string, ns names, depth int) cond {
	if depth > maxDepth {
		p.errorf(n, field, "conditions nest deeper than %d levels; simplify", maxDepth)
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return p.termCond(n, field, ns)
	case yaml.MappingNode:
		return p.compound(n, field, ns, depth)
	}
	p.errorf(n, field, "expected a condition: a term such as \"blog_view >= 2\" or a "+
		"mapping with all, any or not; found %s", kindName(n))
	return nil
}

func (p *parser) termCond(n *yaml.Node, field string, ns names) cond {
	if n.Tag == "!!null" {
		p.errorf(n, field, "is empty; %s", termHelp)
		return nil
	}
	t, err := parseTerm(n.Value, ns)
	if err != nil {
		p.errorf(n, field, "%v", err)
		return nil
	}
	return t
}

func (p *parser) compound(n *yaml.Node, field string, ns names, depth int) cond {
	f := p.fields(n, field, "all, any or not", "all", "any", "not")
	if f == nil {
		return nil
	}
	if len(f) != 1 {
		p.errorf(n, field, "give exactly one of all, any or not here; nest them to "+
			"combine, e.g. all: [\"a >= 1\", {any: [...]}]")
		return nil
	}
	if e, ok := f["not"]; ok {
		if e.val.Kind == yaml.SequenceNode {
			p.errorf(e.val, field+".not", "not takes one condition, not a list; write "+
				"not: \"trait competitor\" or not: {any: [...]}")
			return nil
		}
		inner := p.cond(e.val, field+".not", ns, depth+1)
		if inner == nil {
			return nil
		}
		return notCond{inner: inner}
	}
	if e, ok := f["all"]; ok {
		return p.list2cond(e.val, field+".all", ns, depth, false)
	}
	e := f["any"]
	return p.list2cond(e.val, field+".any", ns, depth, true)
}

// list2cond reads the list of an all or any.
func (p *parser) list2cond(n *yaml.Node, field string, ns names, depth int, anyOf bool) cond {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errorf(n, field, "expected a non-empty list of conditions, found %s; write e.g. "+
			"[\"blog_view >= 2\", \"content_download >= 1\"]", kindName(n))
		return nil
	}
	items := make([]cond, 0, len(n.Content))
	for i, item := range n.Content {
		if c := p.cond(item, field+"["+itoa(i)+"]", ns, depth+1); c != nil {
			items = append(items, c)
		}
	}
	if len(items) != len(n.Content) {
		return nil
	}
	return newList(items, anyOf)
}

func itoa(i int) string { return strconv.Itoa(i) }
