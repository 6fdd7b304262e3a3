package rules

import (
	"strings"
	"testing"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

func TestSignals(t *testing.T) {
	r := mustParse(t, withStages("stages: {mql: \"page >= 1\"}\n"))
	contact := event("e", "form_submit", "a", "", 0, "https://x.example/contact")
	contact.Properties = map[string]string{"form": "contact", "contact_me": "yes"}
	noConsent := event("e", "form_submit", "a", "", 0, "")
	noConsent.Properties = map[string]string{"form": "contact", "contact_me": "no"}
	otherForm := event("e", "form_submit", "a", "", 0, "")
	otherForm.Properties = map[string]string{"form": "demo", "contact_me": "yes"}
	tests := []struct {
		name string
		ev   *leadstreamv1.Event
		want string
	}{
		{"blog post", event("e", "page_view", "a", "", 0, "https://x.example/blog/a"),
			"blog_view,page"},
		{"deep blog post", event("e", "page_view", "a", "", 0,
			"https://x.example/blog/2026/12/a?utm=x#top"), "blog_view,page"},
		{"blog index is not a post", event("e", "page_view", "a", "", 0,
			"https://x.example/blog/"), "page"},
		{"pricing with slash", event("e", "page_view", "a", "", 0,
			"https://x.example/pricing/"), "page,pricing_view"},
		{"pricing subpage", event("e", "page_view", "a", "", 0,
			"https://x.example/pricing/team"), "page"},
		{"relative url", event("e", "page_view", "a", "", 0, "/pricing?plan=pro"),
			"page,pricing_view"},
		{"no url", event("e", "page_view", "a", "", 0, ""), "page"},
		{"bad url", event("e", "page_view", "a", "", 0, "http://[::1"), "page"},
		{"download", event("e", "download", "a", "", 0, ""), "download"},
		{"unknown type", event("e", "video_play", "a", "", 0, ""), ""},
		{"contact form", contact, "contact"},
		{"contact without consent", noConsent, ""},
		{"other form", otherForm, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(r.Signals(tt.ev), ","); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMatchPath(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/pricing", "/pricing", true},
		{"/pricing", "/Pricing", false},
		{"/blog/*", "/blog/a", true},
		{"/blog/*", "/blog/a/b/c", true},
		{"/blog/**", "/blog/a/b", true},
		{"/blog/*", "/blog", false},
		{"/blog/*", "/blogs/a", false},
		{"/*/blog/*", "/de/blog/a", true},
		{"/*/blog/*", "/blog/a", false},
		{"/docs/*.pdf", "/docs/a.pdf", true},
		{"/docs/*.pdf", "/docs/x/a.pdf", false}, // only a final "/*" reaches deeper
		{"/docs/?.html", "/docs/a.html", true},
		{"/case-studies/[a-c]*", "/case-studies/acme", true},
		{"/case-studies/[a-c]*", "/case-studies/zeta", false},
		{"/*", "/", false},
		{"/*", "/anything/at/all", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.path, func(t *testing.T) {
			if got := matchPath(tt.pattern, tt.path); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
