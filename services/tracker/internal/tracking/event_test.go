package tracking

import (
	"strings"
	"testing"
	"time"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

var received = time.Date(2026, 12, 3, 10, 15, 0, 0, time.UTC)

func testPolicy() Policy {
	return Policy{Limits: DefaultLimits(), Skew: 5 * time.Minute, MaxAge: 720 * time.Hour,
		NewID: func() string { return "generated" }}
}

func meta(src leadstreamv1.Source) Meta {
	return Meta{Source: src, Site: "shop", ReceivedAt: received}
}

func TestBuildRefuses(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	manyProps := map[string]string{}
	for i := range 51 {
		manyProps[long(i+1)] = "v"
	}
	cases := []struct {
		name   string
		raw    Raw
		reason string
	}{
		{"no identity", Raw{Type: "page_view"}, ReasonMissingIdentity},
		{"identify without lead", Raw{Type: "identify", AnonymousID: "a"}, ReasonIdentifyNeedsIDs},
		{"identify without anonymous", Raw{Type: "identify", LeadID: "l"}, ReasonIdentifyNeedsIDs},
		{"empty type", Raw{AnonymousID: "a"}, ReasonInvalidType},
		{"type with space", Raw{Type: "page view", AnonymousID: "a"}, ReasonInvalidType},
		{"long type", Raw{Type: long(65), AnonymousID: "a"}, ReasonTooLarge},
		{"id with slash", Raw{ID: "a/b", Type: "x", AnonymousID: "a"}, ReasonInvalidID},
		{"long id", Raw{ID: long(129), Type: "x", AnonymousID: "a"}, ReasonTooLarge},
		{"bad utf8", Raw{Type: "x", AnonymousID: "a\xff"}, ReasonInvalidText},
		{"control char", Raw{Type: "x", AnonymousID: "a", URL: "http://x/\n"}, ReasonInvalidText},
		{"long url", Raw{Type: "x", AnonymousID: "a", URL: long(2049)}, ReasonTooLarge},
		{"too many properties", Raw{Type: "x", AnonymousID: "a", Properties: manyProps},
			ReasonTooLarge},
		{"long property name", Raw{Type: "x", AnonymousID: "a",
			Properties: map[string]string{long(65): "v"}}, ReasonTooLarge},
		{"long property value", Raw{Type: "x", AnonymousID: "a",
			Properties: map[string]string{"k": long(1025)}}, ReasonTooLarge},
		{"long trait value", Raw{Type: "identify", AnonymousID: "a", LeadID: "l",
			Traits: map[string]string{"title": long(1025)}}, ReasonTooLarge},
		{"empty property name", Raw{Type: "x", AnonymousID: "a",
			Properties: map[string]string{"": "v"}}, ReasonInvalidKey},
		{"bad email", Raw{Type: "identify", AnonymousID: "a", LeadID: "l",
			Traits: map[string]string{"email": "not-an-address"}}, ReasonInvalidEmail},
		{"negative time", Raw{Type: "x", AnonymousID: "a", ClientMs: -5}, ReasonInvalidTimestamp},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, problems := testPolicy().Build(3, tc.raw, meta(leadstreamv1.Source_SOURCE_BATCH))
			if ev != nil {
				t.Fatalf("Build accepted %v", ev)
			}
			if len(problems) == 0 || problems[0].Reason != tc.reason || problems[0].Index != 3 {
				t.Fatalf("problems = %v, want first reason %s at index 3", problems, tc.reason)
			}
		})
	}
}

func TestBuildAccepts(t *testing.T) {
	raw := Raw{ID: "e-1", Type: "identify", AnonymousID: "a-17", LeadID: "crm-42",
		ClientMs: received.Add(-time.Minute).UnixMilli(), URL: "https://example.com/pricing",
		Referrer:   "https://search.example/",
		Properties: map[string]string{"utm_source": "newsletter"},
		Traits:     map[string]string{"email": "  Ann@Buyer.Example ", "title": "CTO"}}
	ev, problems := testPolicy().Build(0, raw, meta(leadstreamv1.Source_SOURCE_BATCH))
	if len(problems) > 0 {
		t.Fatalf("Build refused: %v", problems)
	}
	want := map[string]string{"email": "ann@buyer.example", "email_domain": "buyer.example",
		"title": "CTO"}
	for k, v := range want {
		if ev.Traits[k] != v {
			t.Errorf("traits[%s] = %q, want %q", k, ev.Traits[k], v)
		}
	}
	if raw.Traits["email"] != "  Ann@Buyer.Example " {
		t.Errorf("Build changed the sender's traits map")
	}
	if ev.Id != "e-1" || ev.Site != "shop" || ev.ReceivedAtUnixMs != received.UnixMilli() ||
		ev.OccurredAtUnixMs != raw.ClientMs || ev.ClientTimestampUnixMs != raw.ClientMs {
		t.Errorf("event = %v", ev)
	}
}

func TestBuildAssignsID(t *testing.T) {
	ev, problems := testPolicy().Build(0, Raw{Type: "x", LeadID: "l"},
		meta(leadstreamv1.Source_SOURCE_BATCH))
	if len(problems) > 0 || ev.Id != "generated" {
		t.Fatalf("ev = %v, problems = %v", ev, problems)
	}
}

func TestOccurredAt(t *testing.T) {
	now := received.UnixMilli()
	minute := time.Minute.Milliseconds()
	cases := []struct {
		name     string
		source   leadstreamv1.Source
		client   int64
		want     int64
		refused  bool
		original int64
	}{
		{"none", leadstreamv1.Source_SOURCE_BATCH, 0, now, false, 0},
		{"batch recent", leadstreamv1.Source_SOURCE_BATCH, now - 60*minute, now - 60*minute,
			false, now - 60*minute},
		{"batch 29 days", leadstreamv1.Source_SOURCE_BATCH, now - 29*24*60*minute,
			now - 29*24*60*minute, false, now - 29*24*60*minute},
		{"batch too old", leadstreamv1.Source_SOURCE_BATCH, now - 31*24*60*minute, 0, true, 0},
		{"batch near future", leadstreamv1.Source_SOURCE_BATCH, now + 4*minute, now + 4*minute,
			false, now + 4*minute},
		{"batch far future", leadstreamv1.Source_SOURCE_BATCH, now + 6*minute, now, false,
			now + 6*minute},
		{"pixel within skew", leadstreamv1.Source_SOURCE_PIXEL, now - 4*minute, now - 4*minute,
			false, now - 4*minute},
		{"pixel past skew", leadstreamv1.Source_SOURCE_PIXEL, now - 6*minute, now, false,
			now - 6*minute},
		{"snippet future", leadstreamv1.Source_SOURCE_SNIPPET, now + 60*minute, now, false,
			now + 60*minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := Raw{Type: "x", AnonymousID: "a", ClientMs: tc.client}
			ev, problems := testPolicy().Build(0, raw, meta(tc.source))
			if tc.refused {
				if len(problems) != 1 || problems[0].Reason != ReasonTooOld {
					t.Fatalf("problems = %v, want %s", problems, ReasonTooOld)
				}
				return
			}
			if len(problems) > 0 {
				t.Fatalf("refused: %v", problems)
			}
			if ev.OccurredAtUnixMs != tc.want || ev.ClientTimestampUnixMs != tc.original {
				t.Errorf("occurred %d client %d, want %d and %d", ev.OccurredAtUnixMs,
					ev.ClientTimestampUnixMs, tc.want, tc.original)
			}
		})
	}
}

func TestEmailDomain(t *testing.T) {
	cases := map[string]string{
		"ann@buyer.example": "buyer.example", "a@b@c.io": "c.io", "x@localhost": "localhost",
		"@buyer.example": "", "ann@": "", "ann": "", "a b@c.io": "", "a@.io": "", "a@io.": "",
	}
	for email, want := range cases {
		t.Run(email, func(t *testing.T) {
			got, ok := EmailDomain(email)
			if got != want || ok != (want != "") {
				t.Errorf("EmailDomain(%q) = %q, %v; want %q", email, got, ok, want)
			}
		})
	}
}

func TestEmptyEmailIsDropped(t *testing.T) {
	raw := Raw{Type: "identify", AnonymousID: "a", LeadID: "l",
		Traits: map[string]string{"email": "  ", "company": "Acme"}}
	ev, problems := testPolicy().Build(0, raw, meta(leadstreamv1.Source_SOURCE_BATCH))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if _, ok := ev.Traits["email"]; ok || ev.Traits["company"] != "Acme" {
		t.Errorf("traits = %v", ev.Traits)
	}
}

func TestNewEventID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewEventID()
		if len(id) != 36 || id[14] != '7' || !isToken(id) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

func TestProblemsStatus(t *testing.T) {
	cases := []struct {
		name string
		ps   Problems
		want int
	}{
		{"bad request", Problems{{Reason: ReasonInvalidType}}, 400},
		{"too large wins", Problems{{Reason: ReasonInvalidType}, {Reason: ReasonTooLarge}}, 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.ps.Status(); got != tc.want {
				t.Errorf("Status() = %d, want %d", got, tc.want)
			}
		})
	}
}
