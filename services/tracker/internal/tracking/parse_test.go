package tracking

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestParsePixel(t *testing.T) {
	cases := []struct {
		name    string
		query   string
		key     string
		want    Raw
		problem string
	}{
		{"full", "k=wk&e=download&aid=a1&lid=l1&eid=e1&url=https%3A%2F%2Fx.io%2Fa&ref=r&ts=1700" +
			"&p.file=guide.pdf&t.title=CTO&_=123", "wk",
			Raw{ID: "e1", Type: "download", AnonymousID: "a1", LeadID: "l1", ClientMs: 1700,
				URL: "https://x.io/a", Referrer: "r",
				Properties: map[string]string{"file": "guide.pdf"},
				Traits:     map[string]string{"title": "CTO"}}, ""},
		{"defaults to page view", "k=wk&aid=a1", "wk",
			Raw{Type: "page_view", AnonymousID: "a1"}, ""},
		{"first value wins", "k=wk&aid=a1&aid=a2&p.x=1&p.x=2", "wk",
			Raw{Type: "page_view", AnonymousID: "a1", Properties: map[string]string{"x": "1"}}, ""},
		{"bad ts", "k=wk&aid=a&ts=yesterday", "wk", Raw{}, ReasonInvalidTimestamp},
		{"zero ts", "k=wk&aid=a&ts=0", "wk", Raw{}, ReasonInvalidTimestamp},
		{"nameless property", "k=wk&aid=a&p.=1", "wk", Raw{}, ReasonInvalidKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			key, raw, problems := ParsePixel(q)
			if key != tc.key {
				t.Errorf("key = %q, want %q", key, tc.key)
			}
			if tc.problem != "" {
				if len(problems) == 0 || problems[0].Reason != tc.problem {
					t.Fatalf("problems = %v, want %s", problems, tc.problem)
				}
				return
			}
			if len(problems) > 0 || !reflect.DeepEqual(raw, tc.want) {
				t.Errorf("raw = %+v, problems %v; want %+v", raw, problems, tc.want)
			}
		})
	}
}

func TestDecodeBatch(t *testing.T) {
	cases := []struct {
		name     string
		body     string
		err      error
		want     Raw
		problems []string
	}{
		{"contract example", `{"write_key":"wk","events":[{"id":"9b2f","type":"page_view",
			"anonymous_id":"a-17","lead_id":"","timestamp":"2026-12-03T10:15:00Z",
			"url":"https://example.com/pricing","referrer":"",
			"properties":{"utm_source":"newsletter"},"traits":{}}]}`, nil,
			Raw{ID: "9b2f", Type: "page_view", AnonymousID: "a-17", ClientMs: 1796292900000,
				URL:        "https://example.com/pricing",
				Properties: map[string]string{"utm_source": "newsletter"}}, nil},
		{"scalars become strings", `{"events":[{"type":"x","lead_id":"l","timestamp":1700,
			"traits":{"employees":120,"vip":true,"gone":null}}]}`, nil,
			Raw{Type: "x", LeadID: "l", ClientMs: 1700,
				Traits: map[string]string{"employees": "120", "vip": "true"}}, nil},
		{"not json", `{"events":[`, ErrMalformed, Raw{}, nil},
		{"no events", `{"write_key":"wk","events":[]}`, ErrMalformed, Raw{}, nil},
		{"events not a list", `{"events":{}}`, ErrMalformed, Raw{}, nil},
		{"too many", `{"events":[` + strings.Repeat(`{},`, 500) + `{}]}`, ErrTooManyEvents,
			Raw{}, nil},
		{"per event problems", `{"events":[{"type":"x","timestamp":"yesterday"},
			{"type":7},{"type":"x","properties":{"nested":{"a":1}}}]}`, nil, Raw{},
			[]string{ReasonInvalidTimestamp, ReasonInvalidValue, ReasonInvalidValue}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, problems, err := DecodeBatch([]byte(tc.body), DefaultLimits())
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			var reasons []string
			for _, p := range problems {
				reasons = append(reasons, p.Reason)
			}
			if !reflect.DeepEqual(reasons, tc.problems) {
				t.Fatalf("problems = %v, want %v", problems, tc.problems)
			}
			if tc.problems == nil && !reflect.DeepEqual(b.Events[0], tc.want) {
				t.Errorf("event = %+v, want %+v", b.Events[0], tc.want)
			}
		})
	}
}

func TestDecodeBatchSnippet(t *testing.T) {
	b, _, err := DecodeBatch([]byte(`{"write_key":"wk","source":"snippet",
		"events":[{"type":"x","anonymous_id":"a"}]}`), DefaultLimits())
	if err != nil || !b.Snippet || b.WriteKey != "wk" {
		t.Fatalf("batch = %+v, err %v", b, err)
	}
}
