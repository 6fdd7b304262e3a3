package bench

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"google.golang.org/protobuf/proto"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// eventContentType is the content-type header of event records, as the
// tracker writes it.
const eventContentType = "application/x-protobuf; proto=leadstream.v1.Event"

const dayMs = int64(24 * 3600 * 1000)

// Mix generates the events of a realistic lead for the example rules: a
// visitor reads two blog posts and the pricing page anonymously, fills
// in a form that identifies them, then downloads a guide, opens a
// newsletter and comes back to pricing a day later. Six of its eight
// events count for a signal; the lead ends as an MQL.
type Mix struct {
	// Prefix makes ids unique to one suite.
	Prefix string
	// Base is the event time of the first event, unix ms.
	Base int64

	mu  sync.Mutex
	rnd *rand.Rand // guarded by mu
}

// NewMix returns a Mix with a fixed seed, so runs compare.
func NewMix(prefix string, base int64) *Mix {
	return &Mix{Prefix: prefix, Base: base, rnd: rand.New(rand.NewPCG(1, 2))}
}

// Lead returns the events of the i-th lead in event-time order.
func (m *Mix) Lead(i int) []*leadstreamv1.Event {
	anon := fmt.Sprintf("%s-a%d", m.Prefix, i)
	lead := fmt.Sprintf("%s-l%d", m.Prefix, i)
	at := m.Base + int64(i%1000)*60_000
	page := func(url string, t int64) *leadstreamv1.Event {
		return m.event("page_view", anon, "", t, "https://example.com"+url)
	}
	ident := m.event("identify", anon, lead, at+4*60_000, "https://example.com/signup")
	ident.Traits = map[string]string{"email": fmt.Sprintf("p%d@buyer%d.example", i, i%97),
		"title": "Analyst", "company": "Buyer Inc", "employees": "120"}
	dl := m.event("download", "", lead, at+dayMs, "https://example.com/guides/scoring")
	dl.Properties = map[string]string{"asset": "scoring-guide"}
	return []*leadstreamv1.Event{
		page("/blog/lead-scoring-101", at),
		page("/blog/mql-vs-sql", at+60_000),
		page("/pricing", at+120_000),
		ident,
		dl,
		m.event("email_open", "", lead, at+dayMs+3600_000, ""),
		page("/pricing", at+dayMs+7200_000),
		page("/about", at+dayMs+7300_000),
	}
}

// ContactMe returns one event that makes a new lead an SQL at once: an
// identified form submit with contact_me=yes.
func (m *Mix) ContactMe(i int, atMs int64) *leadstreamv1.Event {
	ev := m.event("form_submit", "", fmt.Sprintf("%s-c%d", m.Prefix, i), atMs,
		"https://example.com/contact")
	ev.Properties = map[string]string{"contact_me": "yes"}
	return ev
}

func (m *Mix) event(typ, anon, lead string, at int64, url string) *leadstreamv1.Event {
	return &leadstreamv1.Event{Id: m.uuid(), Type: typ, AnonymousId: anon, LeadId: lead,
		OccurredAtUnixMs: at, ReceivedAtUnixMs: at, Url: url,
		Source: leadstreamv1.Source_SOURCE_BATCH, Site: "bench"}
}

// uuid returns an id shaped like the random ids the tracker assigns, so
// the dedupe sets hold ids of a realistic size.
func (m *Mix) uuid() string {
	m.mu.Lock()
	a, c := m.rnd.Uint64(), m.rnd.Uint64()
	m.mu.Unlock()
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(a>>32), uint16(a>>16),
		uint16(a)&0xfff, uint16(c>>48)&0xfff, c&0xffffffffffff)
}

// Key returns the record key of ev: the anonymous id, else the lead id.
func Key(ev *leadstreamv1.Event) string {
	if ev.GetAnonymousId() != "" {
		return ev.GetAnonymousId()
	}
	return ev.GetLeadId()
}

// Encode returns the wire form of ev.
func Encode(ev *leadstreamv1.Event) ([]byte, error) {
	b, err := proto.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", ev.GetId(), err)
	}
	return b, nil
}
