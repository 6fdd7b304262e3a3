package rules

import (
	"strings"
	"testing"
)

func TestPlainPath(t *testing.T) {
	tests := []struct {
		raw  string
		path string
		ok   bool
	}{
		{"https://example.com/blog/a?utm=x#top", "/blog/a", true},
		{"HTTP://Example.COM:8080/Pricing/", "/Pricing/", true},
		{"https://example.com", "", true},
		{"https://example.com?q=1", "", true},
		{"https://example.com#/pricing", "", true},
		{"/pricing?plan=pro", "/pricing", true},
		{"/a/b#c?d", "/a/b", true},
		{"https://example.com/q?x=%20y", "/q", true},
		{"https://example.com/caf%C3%A9", "", false},
		{"https://example.com/a#b%", "", false},
		{"https://user@example.com/a", "", false},
		{"http://[::1]/a", "", false},
		{"https://example.com:80x/a", "", false},
		{"https://example.com/a b", "", false},
		{"//example.com/a", "", false},
		{"ftp://example.com/a", "", false},
		{"example.com/a", "", false},
		{"mailto:a@example.com", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, ok := plainPath(tt.raw)
			if got != tt.path || ok != tt.ok {
				t.Errorf("got %q %v, want %q %v", got, ok, tt.path, tt.ok)
			}
		})
	}
}

// TestURLPathAllocations checks that the URLs events usually carry are
// read without garbage.
func TestURLPathAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	for _, raw := range []string{"https://example.com/blog/a?utm_source=x", "/pricing/"} {
		n := testing.AllocsPerRun(100, func() { urlPath(raw) })
		if n != 0 {
			t.Errorf("urlPath(%q) allocates %v times", raw, n)
		}
	}
}

// FuzzPlainPath checks that the fast path reads every URL it takes exactly
// as net/url does.
func FuzzPlainPath(f *testing.F) {
	for _, seed := range []string{"https://example.com/blog/a?utm=x#top", "/pricing/",
		"http://h:/a", "HTTPS://a.b:1/x?%zz#f", "http:///x", "https://a..b/c",
		"/a#b%20", "http://x/%41", "https://-/?", "http://h:8080"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		raw = strings.TrimSpace(raw)
		got, ok := plainPath(raw)
		if !ok {
			return
		}
		want, wantOK := parsedPath(raw)
		if !wantOK || got != want {
			t.Fatalf("plainPath(%q) = %q, net/url reads %q (ok %v)", raw, got, want, wantOK)
		}
	})
}
