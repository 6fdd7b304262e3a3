package rules

import (
	"strings"
	"testing"
	"time"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// baseRules is a small rules file that the tests extend with stages.
const baseRules = `version: "t1"
timezone: UTC
signals:
  blog_view: {event: page_view, url_path: "/blog/*"}
  pricing_view: {event: page_view, url_path: "/pricing"}
  download: {event: download}
  contact: {event: form_submit, form: contact, properties: {contact_me: "yes"}}
  page: {event: page_view}
traits:
  dm: {field: title, matches: '(?i)\b(vp|ceo)\b'}
  rival: {field: email_domain, in: [Rival.com, other.io]}
  big: {field: employees, gte: 100, lt: 10000}
  german: {field: country, equals: DE}
scores:
  eng: {half_life: 1d, points: {blog_view: 10, download: 20}}
  flat: {points: {pricing_view: 1.5}}
`

// mustParse parses text or fails the test.
func mustParse(t testing.TB, text string) *Rules {
	t.Helper()
	r, err := Parse("test.yaml", []byte(text))
	if err != nil {
		t.Fatalf("parse rules: %v", err)
	}
	return r
}

// withStages returns baseRules with the given stages and tail appended.
func withStages(tail string) string {
	return baseRules + strings.TrimLeft(tail, "\n")
}

// ms returns the unix ms of an RFC 3339 time.
func ms(t testing.TB, s string) int64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("parse time %q: %v", s, err)
	}
	return tm.UnixMilli()
}

// event builds an event; url may be empty.
func event(id, typ, anon, lead string, at int64, url string) *leadstreamv1.Event {
	return &leadstreamv1.Event{Id: id, Type: typ, AnonymousId: anon, LeadId: lead,
		OccurredAtUnixMs: at, Url: url}
}

// identify builds an identify event with traits.
func identify(id, anon, lead string, at int64, traits map[string]string) *leadstreamv1.Event {
	ev := event(id, "identify", anon, lead, at, "")
	ev.Traits = traits
	return ev
}
