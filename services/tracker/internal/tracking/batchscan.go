package tracking

import (
	"strconv"
	"time"
)

// The field names of a batch and of its events, as decodeStrict knows
// them through the wire structs' tags.
var (
	batchFields = []string{"write_key", "source", "events"}
	eventFields = []string{"id", "type", "anonymous_id", "lead_id", "timestamp", "url",
		"referrer", "properties", "traits"}
)

// decodeFast decodes a well-formed batch of valid events in one pass over
// a single copy of body. It declines (ok=false) whatever would make
// decodeStrict answer with an error or a problem, and whatever it cannot
// decide exactly as encoding/json would: repeated fields, keys that
// differ from a field name only in case, invalid UTF-8, null events,
// deep unknown values. When it accepts, its batch equals decodeStrict's;
// FuzzBatchDecoders checks that.
func decodeFast(body []byte, limits Limits) (Batch, bool) {
	s := scanner{src: string(body)}
	var (
		b    Batch
		seen uint8
	)
	ok := s.members(func(key string) bool {
		switch key {
		case "write_key":
			return once(&seen, 1) && s.optString(&b.WriteKey)
		case "source":
			var source string
			ok := once(&seen, 2) && s.optString(&source)
			b.Snippet = source == SourceSnippet
			return ok
		case "events":
			return once(&seen, 4) && s.events(&b, limits.MaxEvents)
		}
		return unknownKey(key, batchFields) && s.skip(0)
	})
	if !ok || !s.end() || len(b.Events) == 0 {
		return Batch{}, false
	}
	return b, true
}

// once sets bit in seen and reports whether it was clear: a field seen
// twice is left to the strict decoder.
func once(seen *uint8, bit uint8) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// events reads the events array, declining past max events.
func (s *scanner) events(b *Batch, max int) bool {
	b.Events = make([]Raw, 0, min(max, len(s.src)/128+1))
	return s.elements(func() bool {
		if len(b.Events) == max {
			return false
		}
		b.Events = append(b.Events, Raw{})
		return s.event(&b.Events[len(b.Events)-1])
	})
}

// event reads one event object into r.
func (s *scanner) event(r *Raw) bool {
	var seen uint16
	return s.space() == '{' && s.members(func(key string) bool {
		i := fieldIndex(key)
		if i < 0 {
			return unknownKey(key, eventFields) && s.skip(0)
		}
		if seen&(1<<i) != 0 {
			return false
		}
		seen |= 1 << i
		return s.eventField(r, i)
	})
}

func fieldIndex(key string) int {
	for i, f := range eventFields {
		if f == key {
			return i
		}
	}
	return -1
}

// eventField reads the value of eventFields[i] into r.
func (s *scanner) eventField(r *Raw, i int) bool {
	switch eventFields[i] {
	case "id":
		return s.optString(&r.ID)
	case "type":
		return s.optString(&r.Type)
	case "anonymous_id":
		return s.optString(&r.AnonymousID)
	case "lead_id":
		return s.optString(&r.LeadID)
	case "timestamp":
		return s.timestamp(&r.ClientMs)
	case "url":
		return s.optString(&r.URL)
	case "referrer":
		return s.optString(&r.Referrer)
	case "properties":
		return s.values(&r.Properties)
	default:
		return s.values(&r.Traits)
	}
}

// optString reads a string into dst; null leaves dst alone.
func (s *scanner) optString(dst *string) bool {
	if s.space() == 'n' {
		return s.word("null")
	}
	v, ok := s.str()
	*dst = v
	return ok
}

// timestamp reads what decodeTimestamp accepts without a problem.
func (s *scanner) timestamp(dst *int64) bool {
	switch s.space() {
	case 'n':
		return s.word("null")
	case '"':
		v, ok := s.str()
		if !ok || v == "" {
			return ok
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		*dst = t.UnixMilli()
		return err == nil && *dst > 0
	}
	v, ok := s.number()
	if !ok {
		return false
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	*dst = ms
	return err == nil && ms > 0
}

// values reads a properties or traits object as decodeValues would
// leave it: nil for null or {}, else a map without the null entries.
func (s *scanner) values(dst *map[string]string) bool {
	if s.space() == 'n' {
		return s.word("null")
	}
	return s.members(func(key string) bool {
		if *dst == nil {
			*dst = make(map[string]string, 4)
		}
		v, present, ok := s.scalar()
		if present {
			(*dst)[key] = v
		} else {
			delete(*dst, key)
		}
		return ok
	})
}
