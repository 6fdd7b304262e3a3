package tracking

import (
	"net/url"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// checkAccepted fails when an accepted event breaks what the scorer
// relies on: it encodes, has an id, a type and an identity, and its
// maps stay within the limits.
func checkAccepted(t *testing.T, p Policy, ev *leadstreamv1.Event) {
	t.Helper()
	if _, err := proto.Marshal(ev); err != nil {
		t.Fatalf("accepted event does not encode: %v", err)
	}
	if ev.Id == "" || ev.Type == "" || ev.AnonymousId == "" && ev.LeadId == "" {
		t.Fatalf("accepted event lacks id, type or identity: %v", ev)
	}
	if ev.Type == TypeIdentify && (ev.AnonymousId == "" || ev.LeadId == "") {
		t.Fatalf("identify accepted without both ids: %v", ev)
	}
	if len(ev.Properties) > p.Limits.MaxProps || len(ev.Traits) > p.Limits.MaxProps+1 {
		t.Fatalf("accepted event past the limits: %v", ev)
	}
	if ev.OccurredAtUnixMs <= 0 || ev.OccurredAtUnixMs > ev.ReceivedAtUnixMs+p.Skew.Milliseconds() {
		t.Fatalf("occurred_at %d outside trust window", ev.OccurredAtUnixMs)
	}
	if e, ok := ev.Traits[TraitEmail]; ok && ev.Traits[TraitEmailDomain] == "" {
		t.Fatalf("email %q without domain", e)
	}
}

func FuzzPixelQuery(f *testing.F) {
	for _, s := range []string{
		"k=wk&aid=a1&e=download&p.file=a.pdf&ts=1796292900000",
		"k=wk&aid=a&lid=l&e=identify&t.email=Ann%40Buyer.Example",
		"aid=%ff&p.=x&ts=-1", "k=&e=a+b&url=%0a", "t.email=@&lid=x&ts=99999999999999999999",
	} {
		f.Add(s)
	}
	p := Policy{Limits: DefaultLimits(), Skew: 5 * time.Minute, MaxAge: 720 * time.Hour}
	f.Fuzz(func(t *testing.T, query string) {
		q, _ := url.ParseQuery(query)
		_, raw, _ := ParsePixel(q)
		m := Meta{Source: leadstreamv1.Source_SOURCE_PIXEL, ReceivedAt: time.Now()}
		ev, problems := p.Build(0, raw, m)
		if len(problems) == 0 {
			checkAccepted(t, p, ev)
		} else if ev != nil {
			t.Fatalf("Build returned an event with problems %v", problems)
		}
	})
}

func FuzzBatchDecode(f *testing.F) {
	for _, s := range []string{
		`{"write_key":"wk","events":[{"type":"page_view","anonymous_id":"a",` +
			`"timestamp":"2026-12-03T10:15:00Z","properties":{"n":1}}]}`,
		`{"events":[{"type":"identify","anonymous_id":"a","lead_id":"l",` +
			`"traits":{"email":" X@Y.Z "}}]}`,
		`{"events":[{"type":"x","lead_id":"l","timestamp":-1},{"type":[]}]}`,
		`{"events":[{"type":"x","lead_id":"l","properties":{"a":{"b":1}}}]}`, `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	p := Policy{Limits: DefaultLimits(), Skew: 5 * time.Minute, MaxAge: 720 * time.Hour}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, problems, err := DecodeBatch(body, p.Limits)
		if err != nil || len(problems) > 0 {
			return
		}
		m := Meta{Source: leadstreamv1.Source_SOURCE_BATCH, ReceivedAt: time.Now()}
		for i, raw := range b.Events {
			if ev, more := p.Build(i, raw, m); len(more) == 0 {
				checkAccepted(t, p, ev)
			}
		}
	})
}

// FuzzBatchDecoders checks the single-pass decoder against the strict
// one: whenever it accepts a body, the strict decoder must accept it
// too, without problems, and decode the same batch.
func FuzzBatchDecoders(f *testing.F) {
	for _, s := range append(fastBodies(), declinedBodies()...) {
		f.Add([]byte(s))
	}
	limits := Limits{MaxEvents: 3, MaxProps: 50, MaxKeyLen: 64, MaxValueLen: 1024}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := decodeFast(body, limits)
		if !ok {
			return
		}
		strict, problems, err := decodeStrict(body, limits)
		if err != nil || len(problems) > 0 {
			t.Fatalf("single pass accepted what strict refuses: %v %v", err, problems)
		}
		if !reflect.DeepEqual(fast, strict) {
			t.Fatalf("decoders differ:\nfast   %+v\nstrict %+v", fast, strict)
		}
	})
}
