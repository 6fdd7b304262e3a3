package tracking

import (
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// Fixed limits on the fields that Limits does not make configurable.
const (
	MaxTypeLen = 64
	MaxIDLen   = 128
	MaxURLLen  = 2048
)

// TypeIdentify is the event type that links an anonymous id to a lead.
const TypeIdentify = "identify"

// Raw is one event as its sender described it, before any check.
type Raw struct {
	ID          string
	Type        string
	AnonymousID string
	LeadID      string
	// ClientMs is the sender's timestamp in unix ms; 0 when none was sent.
	ClientMs   int64
	URL        string
	Referrer   string
	Properties map[string]string
	Traits     map[string]string
}

// Limits bound what one request may carry; past them the answer is 413.
type Limits struct {
	MaxEvents   int // events per batch
	MaxProps    int // properties, and separately traits, per event
	MaxKeyLen   int // characters of a property or trait name
	MaxValueLen int // characters of a property or trait value
}

// DefaultLimits are the limits the tracker starts with.
func DefaultLimits() Limits {
	return Limits{MaxEvents: 500, MaxProps: 50, MaxKeyLen: 64, MaxValueLen: 1024}
}

// Policy decides which events are accepted and how they are stamped.
type Policy struct {
	Limits Limits
	// Skew is how far a sender's clock may be off and still be trusted.
	// Browsers are trusted only within it, in both directions; servers
	// only within it into the future.
	Skew time.Duration
	// MaxAge is how old a server's timestamp may be; older events are
	// refused with ReasonTooOld.
	MaxAge time.Duration
	// NewID returns an id for events sent without one; NewEventID when
	// nil.
	NewID func() string
}

// Meta is what the tracker knows about an event beyond what the sender
// said: where and when it arrived.
type Meta struct {
	Source     leadstreamv1.Source
	Site       string
	ReceivedAt time.Time
}

// Build checks raw and returns the event to produce, or every problem
// found with it; index is the event's position, for the problems.
func (p Policy) Build(index int, raw Raw, meta Meta) (*leadstreamv1.Event, Problems) {
	c := checker{index: index, limits: p.Limits}
	c.checkIdentity(raw)
	c.checkFields(raw)
	props := c.checkMap("properties", raw.Properties)
	traits := normalizeTraits(&c, c.checkMap("traits", raw.Traits))
	occurred := p.occurredAt(&c, raw.ClientMs, meta)
	if len(c.problems) > 0 {
		return nil, c.problems
	}

	id := raw.ID
	if id == "" {
		id = p.newID()
	}
	return &leadstreamv1.Event{
		Id: id, Type: raw.Type, AnonymousId: raw.AnonymousID, LeadId: raw.LeadID,
		OccurredAtUnixMs:      occurred,
		ReceivedAtUnixMs:      meta.ReceivedAt.UnixMilli(),
		ClientTimestampUnixMs: raw.ClientMs,
		Url:                   raw.URL, Referrer: raw.Referrer,
		Properties: props, Traits: traits,
		Source: meta.Source, Site: meta.Site,
	}, nil
}

func (p Policy) newID() string {
	if p.NewID != nil {
		return p.NewID()
	}
	return NewEventID()
}

// occurredAt picks the event time: the sender's clock when it is trusted,
// else the receive time.
func (p Policy) occurredAt(c *checker, clientMs int64, meta Meta) int64 {
	received := meta.ReceivedAt.UnixMilli()
	if clientMs == 0 {
		return received
	}
	if clientMs < 0 {
		c.add(ReasonInvalidTimestamp, "timestamp is before 1970")
		return received
	}
	skew := p.Skew.Milliseconds()
	if clientMs > received+skew {
		return received
	}
	if meta.Source == leadstreamv1.Source_SOURCE_BATCH {
		if clientMs < received-p.MaxAge.Milliseconds() {
			c.add(ReasonTooOld, fmt.Sprintf("timestamp is older than %s", p.MaxAge))
		}
		return clientMs
	}
	if clientMs < received-skew {
		return received
	}
	return clientMs
}

// checker collects the problems of one event.
type checker struct {
	index    int
	limits   Limits
	problems Problems
}

func (c *checker) add(reason, detail string) {
	c.problems = append(c.problems, Problem{Index: c.index, Reason: reason, Detail: detail})
}

func (c *checker) checkIdentity(raw Raw) {
	if raw.Type == TypeIdentify && (raw.AnonymousID == "" || raw.LeadID == "") {
		c.add(ReasonIdentifyNeedsIDs, "identify needs both anonymous_id and lead_id")
		return
	}
	if raw.AnonymousID == "" && raw.LeadID == "" {
		c.add(ReasonMissingIdentity, "set anonymous_id or lead_id")
	}
}

func (c *checker) checkFields(raw Raw) {
	switch {
	case raw.Type == "":
		c.add(ReasonInvalidType, "type is empty")
	case len(raw.Type) > MaxTypeLen:
		c.add(ReasonTooLarge, fmt.Sprintf("type is longer than %d bytes", MaxTypeLen))
	case !isToken(raw.Type):
		c.add(ReasonInvalidType, "type may hold only letters, digits and _ . : -")
	}
	switch {
	case len(raw.ID) > MaxIDLen:
		c.add(ReasonTooLarge, fmt.Sprintf("id is longer than %d bytes", MaxIDLen))
	case !isToken(raw.ID):
		c.add(ReasonInvalidID, "id may hold only letters, digits and _ . : -")
	}
	c.checkText("anonymous_id", raw.AnonymousID, MaxIDLen)
	c.checkText("lead_id", raw.LeadID, MaxIDLen)
	c.checkText("url", raw.URL, MaxURLLen)
	c.checkText("referrer", raw.Referrer, MaxURLLen)
}

// checkText refuses text that is not UTF-8, holds control characters or
// is longer than max characters; it reports whether s is fine.
func (c *checker) checkText(field, s string, max int) bool {
	if plainText(s, max) {
		return true
	}
	if !utf8.ValidString(s) {
		c.add(ReasonInvalidText, field+" is not valid UTF-8")
		return false
	}
	if n := utf8.RuneCountInString(s); n > max {
		c.add(ReasonTooLarge, fmt.Sprintf("%s has %d characters, more than %d", field, n, max))
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			c.add(ReasonInvalidText, field+" holds control characters")
			return false
		}
	}
	return true
}

// checkMap checks a properties or traits map and returns it, or nil when
// it is empty.
func (c *checker) checkMap(field string, m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	if len(m) > c.limits.MaxProps {
		c.add(ReasonTooLarge, fmt.Sprintf("%s has %d entries, more than %d",
			field, len(m), c.limits.MaxProps))
		return nil
	}
	for k, v := range m {
		// The names of fields are built only for a problem's detail.
		if k != "" && plainText(k, c.limits.MaxKeyLen) && plainText(v, c.limits.MaxValueLen) {
			continue
		}
		if k == "" {
			c.add(ReasonInvalidKey, field+" has an empty name")
			continue
		}
		if c.checkText(field+" name", k, c.limits.MaxKeyLen) {
			c.checkText(field+"."+k, v, c.limits.MaxValueLen)
		}
	}
	return m
}

// plainText reports whether s is printable ASCII of at most max bytes,
// which checkText passes without looking further.
func plainText(s string, max int) bool {
	if len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// isToken reports whether s holds only the characters allowed in types
// and ids. The empty string passes; callers check emptiness themselves.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		ok := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
			b == '_' || b == '.' || b == ':' || b == '-'
		if !ok {
			return false
		}
	}
	return true
}
