package rules

import (
	"net/url"
	"path"
	"sort"
	"strings"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// signal says which events count as one named signal.
type signal struct {
	name  string
	event string
	// urlPath is the pattern the path of the event's URL must match; empty
	// means any URL, including none.
	urlPath string
	// props must all equal the event's properties; the form key lives here
	// too, as "form".
	props map[string]string
}

// matches reports whether ev produces the signal. evPath is the cleaned
// path of ev.Url, or ok=false when the URL has no usable path.
func (s *signal) matches(ev *leadstreamv1.Event, evPath func() (string, bool)) bool {
	if ev.GetType() != s.event {
		return false
	}
	for k, v := range s.props {
		got, ok := ev.GetProperties()[k]
		if !ok || got != v {
			return false
		}
	}
	if s.urlPath == "" {
		return true
	}
	p, ok := evPath()
	return ok && matchPath(s.urlPath, p)
}

// Signals returns the names of every signal ev produces, sorted. An event
// may produce several signals, or none.
func (r *Rules) Signals(ev *leadstreamv1.Event) []string {
	candidates := r.byEvent[ev.GetType()]
	if len(candidates) == 0 {
		return nil
	}
	evPath := lazyPath(ev.GetUrl())

	var out []string
	for _, s := range candidates {
		if s.matches(ev, evPath) {
			out = append(out, s.name)
		}
	}
	return out
}

// lazyPath parses rawURL at most once, and only when a signal asks.
func lazyPath(rawURL string) func() (string, bool) {
	var (
		done bool
		p    string
		ok   bool
	)
	return func() (string, bool) {
		if !done {
			p, ok = urlPath(rawURL)
			done = true
		}
		return p, ok
	}
}

// urlPath returns the decoded path of rawURL with one trailing slash
// removed (so "/pricing/" reads as "/pricing"); "/" for a URL without a
// path. It fails for an empty or unparsable URL.
func urlPath(rawURL string) (string, bool) {
	if strings.TrimSpace(rawURL) == "" {
		return "", false
	}
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return "", false
	}
	p := u.Path
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	if len(p) > 1 && strings.HasSuffix(p, "/") {
		p = p[:len(p)-1]
	}
	return p, true
}

// matchPath matches a path against a url_path pattern. A pattern ending
// in "/*" or "/**" matches every path strictly below the part before that
// suffix, at any depth: "/blog/*" matches "/blog/a" and "/blog/a/b" but
// not "/blog". Otherwise the whole path must match the pattern with
// path.Match semantics, where "*" stays within one path segment.
func matchPath(pattern, p string) bool {
	prefix, deep := deepPrefix(pattern)
	if !deep {
		ok, err := path.Match(pattern, p)
		return ok && err == nil
	}
	depth := strings.Count(prefix, "/")
	parts := strings.SplitN(p, "/", depth+2)
	if len(parts) < depth+2 || parts[depth+1] == "" {
		return false
	}
	ok, err := path.Match(prefix, strings.Join(parts[:depth+1], "/"))
	return ok && err == nil
}

// deepPrefix splits a pattern ending in "/*" or "/**" into the part before
// that suffix.
func deepPrefix(pattern string) (string, bool) {
	for _, suffix := range []string{"/**", "/*"} {
		if strings.HasSuffix(pattern, suffix) {
			return strings.TrimSuffix(pattern, suffix), true
		}
	}
	return "", false
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
