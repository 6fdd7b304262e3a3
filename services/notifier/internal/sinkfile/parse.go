package sinkfile

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/leadstream/leadstream/pkg/subscribe"
	"github.com/leadstream/leadstream/services/notifier/internal/netguard"
)

// LookupEnv reads an environment variable; os.LookupEnv in production.
type LookupEnv func(name string) (string, bool)

// Load reads and checks the sinks file at path.
func Load(path string, env LookupEnv) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read sinks file: %w", err)
	}
	return Parse(path, data, env)
}

// Parse checks the sinks file contents; name labels the errors. It
// reports every problem it finds, joined, each as "name:line: ...".
func Parse(name string, data []byte, env LookupEnv) (*File, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &parser{name: name, env: env, names: map[string]int{}}
	f := p.file(&doc)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return f, nil
}

type parser struct {
	name  string
	env   LookupEnv
	names map[string]int // sink name -> line, to find duplicates
	errs  []error
}

func (p *parser) errorf(line int, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.name, line, fmt.Sprintf(format, args...)))
}

func (p *parser) file(doc *yaml.Node) *File {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		p.errorf(1, "the file is empty; list sinks under `sinks:`")
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.errorf(root.Line, "want a mapping with `sinks:` at the top")
		return nil
	}
	f := &File{}
	var sinks *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		switch key.Value {
		case "sinks":
			sinks = val
		case "allow_private_networks":
			f.AllowPrivateNetworks = p.boolean(val, "allow_private_networks")
		default:
			p.errorf(key.Line, "unknown key %q; want sinks or allow_private_networks", key.Value)
		}
	}
	if sinks == nil || sinks.Kind != yaml.SequenceNode || len(sinks.Content) == 0 {
		p.errorf(root.Line, "`sinks:` must list at least one sink")
		return f
	}
	for _, n := range sinks.Content {
		if s, ok := p.sink(n, f.AllowPrivateNetworks); ok {
			f.Sinks = append(f.Sinks, s)
		}
	}
	return f
}

func (p *parser) boolean(n *yaml.Node, field string) bool {
	b, err := strconv.ParseBool(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		p.errorf(n.Line, "%s: want true or false", field)
	}
	return b
}

// rawSink holds a sink's fields as written, with the line of each.
type rawSink struct {
	fields map[string]*yaml.Node
}

func (r rawSink) str(key string) string {
	if n := r.fields[key]; n != nil {
		return n.Value
	}
	return ""
}

func (r rawSink) line(key string, fallback int) int {
	if n := r.fields[key]; n != nil {
		return n.Line
	}
	return fallback
}

var sinkKeys = map[string]bool{
	"name": true, "type": true, "url": true, "url_env": true, "secret_env": true,
	"stages": true, "timeout": true, "max_attempts": true, "link_template": true,
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func (p *parser) sink(n *yaml.Node, allowPrivate bool) (Sink, bool) {
	before := len(p.errs)
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "each sink must be a mapping with name, type and stages")
		return Sink{}, false
	}
	r := rawSink{fields: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if !sinkKeys[key.Value] {
			p.errorf(key.Line, "unknown sink key %q", key.Value)
			continue
		}
		if key.Value != "stages" && val.Kind != yaml.ScalarNode {
			p.errorf(val.Line, "%s: want a single value", key.Value)
			continue
		}
		r.fields[key.Value] = val
	}
	s := Sink{Line: n.Line, Name: r.str("name"), Type: r.str("type")}
	p.sinkName(r, &s)
	p.kind(r, &s)
	p.stages(r, &s)
	p.target(r, &s, allowPrivate)
	p.tuning(r, &s)
	return s, len(p.errs) == before
}

// sinkName checks the sink name and that it is unique.
func (p *parser) sinkName(r rawSink, s *Sink) {
	switch {
	case s.Name == "":
		p.errorf(s.Line, "sink needs a name")
	case !namePattern.MatchString(s.Name):
		p.errorf(r.line("name", s.Line),
			"sink name %q: use lower-case letters, digits, - and _", s.Name)
	case p.names[s.Name] != 0:
		p.errorf(r.line("name", s.Line),
			"sink name %q already used on line %d", s.Name, p.names[s.Name])
	default:
		p.names[s.Name] = r.line("name", s.Line)
	}
}

func (p *parser) kind(r rawSink, s *Sink) {
	switch s.Type {
	case TypeWebhook, TypeSlack, TypeLog:
	case "":
		p.errorf(s.Line, "sink %q needs a type: webhook, slack or log", s.Name)
	default:
		p.errorf(r.line("type", s.Line), "sink %q: unknown type %q; use webhook, slack or log",
			s.Name, s.Type)
	}
	if s.Type != TypeSlack && r.fields["link_template"] != nil {
		p.errorf(r.line("link_template", s.Line),
			"sink %q: link_template applies to slack sinks only", s.Name)
	}
}

func (p *parser) stages(r rawSink, s *Sink) {
	n := r.fields["stages"]
	if n == nil || n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errorf(r.line("stages", s.Line),
			"sink %q: list the stages it receives, e.g. stages: [sql]",
			s.Name)
		return
	}
	for _, item := range n.Content {
		st, ok := subscribe.ParseStage(item.Value)
		if !ok || item.Kind != yaml.ScalarNode {
			p.errorf(item.Line,
				"sink %q: unknown stage %q; use visitor, mql, sql or excluded", s.Name,
				item.Value)
			continue
		}
		if s.Wants(st) {
			p.errorf(item.Line, "sink %q: stage %q listed twice", s.Name, item.Value)
			continue
		}
		s.Stages = append(s.Stages, st)
	}
}

func (p *parser) target(r rawSink, s *Sink, allowPrivate bool) {
	if s.Type == TypeLog {
		for _, k := range []string{"url", "url_env", "secret_env"} {
			if r.fields[k] != nil {
				p.errorf(r.line(k, s.Line), "sink %q: a log sink takes no %s", s.Name, k)
			}
		}
		return
	}
	s.URL = p.url(r, s, allowPrivate)
	secretEnv := r.str("secret_env")
	switch {
	case s.Type == TypeWebhook && secretEnv == "":
		p.errorf(s.Line,
			"sink %q: webhooks are signed; set secret_env to the variable holding the secret",
			s.Name)
	case s.Type == TypeSlack && secretEnv != "":
		p.errorf(r.line("secret_env", s.Line), "sink %q: slack sinks take no secret_env", s.Name)
	case secretEnv != "":
		v, ok := p.env(secretEnv)
		if !ok || v == "" {
			p.errorf(r.line("secret_env", s.Line),
				"sink %q: environment variable %s is not set", s.Name,
				secretEnv)
		}
		s.Secret = []byte(v)
	}
}

// url returns the sink URL from url or url_env and checks it; a URL from
// the environment is never quoted in errors, since it may hold a token.
// Slack sinks must use url_env: their URL is their credential.
func (p *parser) url(r rawSink, s *Sink, allowPrivate bool) string {
	raw, envName := r.str("url"), r.str("url_env")
	line := r.line("url", r.line("url_env", s.Line))
	switch {
	case raw != "" && envName != "":
		p.errorf(line, "sink %q: set url or url_env, not both", s.Name)
		return ""
	case envName != "":
		v, ok := p.env(envName)
		if !ok || v == "" {
			p.errorf(line, "sink %q: environment variable %s is not set", s.Name, envName)
			return ""
		}
		raw = v
	case raw == "":
		p.errorf(s.Line, "sink %q needs url or url_env", s.Name)
		return ""
	case s.Type == TypeSlack:
		// The URL is not quoted: it is the token.
		p.errorf(line, "sink %q: a Slack webhook URL carries its token, so it must not "+
			"be in the file; put it in an environment variable and name that with url_env",
			s.Name)
		return ""
	}
	if err := checkURL(raw, allowPrivate); err != nil {
		what := strconv.Quote(raw)
		if envName != "" {
			what = "from " + envName
		}
		p.errorf(line, "sink %q: url %s: %v", s.Name, what, err)
	}
	return raw
}

func checkURL(raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return errors.New("use an http or https URL")
	}
	if u.Hostname() == "" {
		return errors.New("the URL has no host")
	}
	if u.User != nil {
		return errors.New("credentials in the URL are not supported; use a secret")
	}
	if !allowPrivate {
		if err := netguard.CheckHost(u.Hostname()); err != nil {
			return fmt.Errorf("%w; set allow_private_networks: true only for development", err)
		}
	}
	return nil
}

func (p *parser) tuning(r rawSink, s *Sink) {
	s.Timeout, s.MaxAttempts = DefaultTimeout, DefaultMaxAttempts
	if v := r.str("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > maxTimeout {
			p.errorf(r.line("timeout", s.Line),
				"sink %q: timeout %q: want a duration from 1ms to %v, e.g. 10s",
				s.Name, v, maxTimeout)
		} else {
			s.Timeout = d
		}
	}
	if v := r.str("max_attempts"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxMaxAttempts {
			p.errorf(r.line("max_attempts", s.Line), "sink %q: max_attempts %q: want 1 to %d",
				s.Name, v, maxMaxAttempts)
		} else {
			s.MaxAttempts = n
		}
	}
	s.LinkTemplate = r.str("link_template")
	if s.LinkTemplate != "" && !strings.Contains(s.LinkTemplate, "{{lead_id}}") {
		p.errorf(r.line("link_template", s.Line), "sink %q: link_template must contain {{lead_id}}",
			s.Name)
	}
}
