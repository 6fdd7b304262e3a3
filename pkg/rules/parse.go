package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxDepth bounds how deeply conditions nest; real rules need three or four.
const maxDepth = 32

// reserved words cannot name signals, traits or scores: they start terms.
var reserved = map[string]bool{"trait": true, "count": true, "distinct_days": true,
	"score": true, "not": true, "all": true, "any": true}

// Load reads and validates the rules file at path. See Parse.
func Load(path string) (*Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load rules %s: %w", path, err)
	}
	r, err := Parse(path, data)
	if err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	return r, nil
}

// Parse reads and validates a rules file; name is the file name used in
// errors. A file with any error is refused whole: the error joins one
// *ParseError per problem, each naming the line and field and saying how
// to fix it.
func Parse(name string, data []byte) (*Rules, error) {
	p := &parser{file: name, defined: map[string]definition{}}
	root := p.document(data)
	if root == nil {
		return nil, p.err()
	}
	r := p.rules(root)
	if len(p.errs) > 0 {
		return nil, p.err()
	}
	r.finish()
	return r, nil
}

// definition records where a name was defined, to report duplicates.
type definition struct {
	section string
	line    int
}

// parser collects every problem of one file rather than stopping at the
// first, so that an author can fix them all in one pass.
type parser struct {
	file    string
	errs    []*ParseError
	defined map[string]definition
}

func (p *parser) errorf(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &ParseError{File: p.file, Line: line, Field: field,
		Msg: fmt.Sprintf(format, args...)})
}

// err joins the problems found, in line order.
func (p *parser) err() error {
	sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
	errs := make([]error, len(p.errs))
	for i, e := range p.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// document decodes the single YAML document of data. It refuses anchors and
// aliases, which marketing files do not need and which can make cycles.
func (p *parser) document(data []byte) (root *yaml.Node) {
	var doc yaml.Node
	if err := decodeYAML(data, &doc); err != nil {
		line := 0
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		p.errs = append(p.errs, &ParseError{File: p.file, Line: line,
			Msg: "invalid YAML (" + err.Error() + "); fix the syntax at that line"})
		return nil
	}
	if len(doc.Content) == 0 {
		p.errorf(&doc, "", "the file is empty; start with version: \"2026-q4\"")
		return nil
	}
	if !p.noAliases(doc.Content[0]) {
		return nil
	}
	return doc.Content[0]
}

// decodeYAML decodes exactly one document, turning a panic in the YAML
// library into an error so that no input can crash the caller.
func decodeYAML(data []byte, doc *yaml.Node) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("decode yaml: %v", v)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(doc); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("line %d: a rules file holds one document; remove the "+
			"extra \"---\" and what follows", max(extra.Line, 1))
	}
	return nil
}

func (p *parser) noAliases(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		p.errorf(n, "", "anchors and aliases (& and *) are not supported; write the "+
			"value out in full")
		return false
	}
	for _, c := range n.Content {
		if !p.noAliases(c) {
			return false
		}
	}
	return true
}

// entry is one key and value of a mapping.
type entry struct {
	key, val *yaml.Node
	name     string
}

// mapping returns the entries of n, reporting a non-mapping or duplicate
// keys under field.
func (p *parser) mapping(n *yaml.Node, field, what string) ([]entry, bool) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, field, "expected %s (key: value lines), found %s", what, kindName(n))
		return nil, false
	}
	seen := map[string]int{}
	var out []entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if first, dup := seen[k.Value]; dup {
			p.errorf(k, join(field, k.Value), "duplicate key %q (first at line %d); keep "+
				"one", k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, entry{key: k, val: n.Content[i+1], name: k.Value})
	}
	return out, true
}

// fields returns the entries of a mapping by key, reporting keys that are
// not in allowed.
func (p *parser) fields(n *yaml.Node, field, what string, allowed ...string) map[string]entry {
	entries, ok := p.mapping(n, field, what)
	if !ok {
		return nil
	}
	out := map[string]entry{}
	for _, e := range entries {
		if !contains(allowed, e.name) {
			p.errorf(e.key, join(field, e.name), "unknown key %q%s; allowed here: %s",
				e.name, suggest(e.name, allowed), strings.Join(allowed, ", "))
			continue
		}
		out[e.name] = e
	}
	return out
}

// scalar returns the text of a scalar value, reporting anything else.
func (p *parser) scalar(n *yaml.Node, field string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, field, "expected a value, found %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

// text returns a non-empty scalar.
func (p *parser) text(n *yaml.Node, field string) (string, bool) {
	s, ok := p.scalar(n, field)
	if ok && strings.TrimSpace(s) == "" {
		p.errorf(n, field, "is empty; give a value")
		return "", false
	}
	return strings.TrimSpace(s), ok
}

// number returns a finite number written in plain decimal notation.
func (p *parser) number(n *yaml.Node, field string) (float64, bool) {
	s, ok := p.scalar(n, field)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !finite(v) || !plainNumber(s) {
		p.errorf(n, field, "%q is not a number; write e.g. 5 or 2.5", s)
		return 0, false
	}
	return v, true
}

// define registers a name of a section, reporting bad and duplicate names.
func (p *parser) define(k *yaml.Node, section string) bool {
	field := join(section, k.Value)
	switch {
	case !isIdent(k.Value):
		p.errorf(k, field, "%q is not a valid name; use letters, digits and underscores, "+
			"starting with a letter (e.g. blog_view)", k.Value)
	case reserved[k.Value]:
		p.errorf(k, field, "%q is a reserved word; pick another name", k.Value)
	default:
		if d, dup := p.defined[k.Value]; dup {
			p.errorf(k, field, "name %q is already used under %s at line %d; names must be "+
				"unique across signals, traits and scores", k.Value, d.section, d.line)
			return false
		}
		p.defined[k.Value] = definition{section: section, line: k.Line}
		return true
	}
	return false
}

func kindName(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return "nothing"
	case n.Kind == yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	}
	return "something else"
}

// join builds a dotted field path.
func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
