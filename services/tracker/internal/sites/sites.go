// Package sites knows the write keys the tracker accepts, the site each
// belongs to and the browser origins allowed to send with it.
package sites

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrDuplicateKey means two sites claim the same write key.
var ErrDuplicateKey = errors.New("write key configured twice")

// Site is one website that sends events.
type Site struct {
	Name     string   `yaml:"name"`
	WriteKey string   `yaml:"write_key"`
	Origins  []string `yaml:"origins"`
}

// Registry maps write keys to sites. It is read-only once built, so it is
// safe for concurrent use.
type Registry struct {
	byKey map[string]*Site
	// origins holds, per write key, the normalised allowed origins.
	origins map[string]map[string]bool
}

// ParseKeys reads the --write-keys list: each entry is key or key=site;
// a bare key names a site after itself.
func ParseKeys(list []string) ([]Site, error) {
	out := make([]Site, 0, len(list))
	for _, entry := range list {
		key, name, _ := strings.Cut(strings.TrimSpace(entry), "=")
		key, name = strings.TrimSpace(key), strings.TrimSpace(name)
		if key == "" {
			return nil, fmt.Errorf("write key entry %q: the key is empty", entry)
		}
		if name == "" {
			name = key
		}
		out = append(out, Site{Name: name, WriteKey: key})
	}
	return out, nil
}

type file struct {
	Sites []Site `yaml:"sites"`
}

// LoadFile reads a sites YAML file: {sites: [{name, write_key, origins}]}.
func LoadFile(path string) ([]Site, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read sites file: %w", err)
	}
	sites, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("parse sites file %s: %w", path, err)
	}
	return sites, nil
}

// Parse decodes the sites YAML, refusing unknown fields so a typo in a
// field name does not silently drop an origin.
func Parse(data []byte) ([]Site, error) {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("decode yaml: %w", err)
	}
	for i, s := range f.Sites {
		if s.WriteKey == "" {
			return nil, fmt.Errorf("site %d (%q): write_key is empty", i, s.Name)
		}
		if s.Name == "" {
			f.Sites[i].Name = s.WriteKey
		}
	}
	return f.Sites, nil
}

// New builds a registry of sites, normalising their origins. A key given
// twice is an error, since it would be ambiguous which site it means.
func New(sites ...Site) (*Registry, error) {
	r := &Registry{byKey: map[string]*Site{}, origins: map[string]map[string]bool{}}
	for i := range sites {
		s := sites[i]
		if _, dup := r.byKey[s.WriteKey]; dup {
			return nil, fmt.Errorf("site %q: %w", s.Name, ErrDuplicateKey)
		}
		allowed := map[string]bool{}
		for _, o := range s.Origins {
			norm, err := NormalizeOrigin(o)
			if err != nil {
				return nil, fmt.Errorf("site %q: %w", s.Name, err)
			}
			allowed[norm] = true
		}
		r.byKey[s.WriteKey] = &s
		r.origins[s.WriteKey] = allowed
	}
	return r, nil
}

// Len is the number of write keys.
func (r *Registry) Len() int { return len(r.byKey) }

// Lookup returns the site of a write key, or nil for an unknown key.
func (r *Registry) Lookup(key string) *Site {
	return r.byKey[key]
}

// HasOrigins reports whether the key restricts browsers to a list of
// origins.
func (r *Registry) HasOrigins(key string) bool {
	return len(r.origins[key]) > 0
}

// OriginAllowed reports whether a browser at origin may send with key.
func (r *Registry) OriginAllowed(key, origin string) bool {
	norm, err := NormalizeOrigin(origin)
	return err == nil && r.origins[key][norm]
}

// AnyOriginAllowed reports whether any key lets a browser at origin send;
// it answers preflights that name no key.
func (r *Registry) AnyOriginAllowed(origin string) bool {
	norm, err := NormalizeOrigin(origin)
	if err != nil {
		return false
	}
	for _, allowed := range r.origins {
		if allowed[norm] {
			return true
		}
	}
	return false
}

// NormalizeOrigin checks that s is scheme://host[:port] with an http or
// https scheme and nothing after the host, and returns it in lower case
// without default ports, the form browsers send in the Origin header.
func NormalizeOrigin(s string) (string, error) {
	u, err := url.Parse(strings.TrimSuffix(strings.TrimSpace(s), "/"))
	if err != nil {
		return "", fmt.Errorf("origin %q: %w", s, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("origin %q: want http(s)://host[:port]", s)
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("origin %q: an origin has no path, query or user", s)
	}
	host := strings.ToLower(u.Host)
	if port := u.Port(); scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		host = strings.ToLower(u.Hostname())
	}
	return scheme + "://" + host, nil
}
