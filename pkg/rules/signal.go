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

// matches reports whether ev produces the signal; evPath reads the
// cleaned path of ev.Url at most once across the signals of one event.
func (s *signal) matches(ev *leadstreamv1.Event, evPath *lazyPath) bool {
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
	p, ok := evPath.get()
	return ok && matchPath(s.urlPath, p)
}

// Signals returns the names of every signal ev produces, sorted. An event
// may produce several signals, or none (nil). The slice is new on every
// call; AppendSignals reuses the caller's.
func (r *Rules) Signals(ev *leadstreamv1.Event) []string {
	return r.AppendSignals(nil, ev)
}

// AppendSignals appends the names of every signal ev produces, sorted, to
// dst and returns the extended slice, as Signals does. With a dst of
// enough capacity, reused from event to event, it allocates nothing for
// the URLs events usually carry. The names are shared with r and must not
// be changed.
func (r *Rules) AppendSignals(dst []string, ev *leadstreamv1.Event) []string {
	candidates := r.byEvent[ev.GetType()]
	evPath := lazyPath{raw: ev.GetUrl()}
	for _, s := range candidates {
		if s.matches(ev, &evPath) {
			dst = append(dst, s.name)
		}
	}
	return dst
}

// lazyPath parses a URL at most once, and only when a signal asks.
type lazyPath struct {
	raw  string
	done bool
	path string
	ok   bool
}

func (l *lazyPath) get() (string, bool) {
	if !l.done {
		l.path, l.ok = urlPath(l.raw)
		l.done = true
	}
	return l.path, l.ok
}

// urlPath returns the decoded path of rawURL with one trailing slash
// removed (so "/pricing/" reads as "/pricing"); "/" for a URL without a
// path. It fails for an empty or unparsable URL.
func urlPath(rawURL string) (string, bool) {
	raw := strings.TrimSpace(rawURL)
	if raw == "" {
		return "", false
	}
	p, ok := plainPath(raw)
	if !ok {
		if p, ok = parsedPath(raw); !ok {
			return "", false
		}
	}
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	if len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return p, true
}

// parsedPath returns the decoded path of raw as net/url reads it.
func parsedPath(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	return u.Path, true
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
	// The first depth+1 segments of p must match the prefix, and something
	// must follow them.
	end := nthSlash(p, strings.Count(prefix, "/")+1)
	if end < 0 || end == len(p)-1 {
		return false
	}
	ok, err := path.Match(prefix, p[:end])
	return ok && err == nil
}

// deepPrefix splits a pattern ending in "/*" or "/**" into the part before
// that suffix.
func deepPrefix(pattern string) (string, bool) {
	if prefix, ok := strings.CutSuffix(pattern, "/**"); ok {
		return prefix, true
	}
	if prefix, ok := strings.CutSuffix(pattern, "/*"); ok {
		return prefix, true
	}
	return "", false
}

// nthSlash returns the index of the n-th "/" in p (n >= 1), or -1.
func nthSlash(p string, n int) int {
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			if n--; n == 0 {
				return i
			}
		}
	}
	return -1
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
