package tracking

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// SourceSnippet is the value of a batch's source field when the /t.js
// snippet sent it; browsers' clocks are trusted less than servers'.
const SourceSnippet = "snippet"

// Batch is a decoded POST /v1/events body.
type Batch struct {
	WriteKey string
	// Snippet is true when the batch says it comes from the snippet.
	Snippet bool
	// Events holds one entry per event sent; an event with problems is
	// left zero.
	Events []Raw
}

type wireBatch struct {
	WriteKey string            `json:"write_key"`
	Source   string            `json:"source"`
	Events   []json.RawMessage `json:"events"`
}

type wireEvent struct {
	ID          string                     `json:"id"`
	Type        string                     `json:"type"`
	AnonymousID string                     `json:"anonymous_id"`
	LeadID      string                     `json:"lead_id"`
	Timestamp   json.RawMessage            `json:"timestamp"`
	URL         string                     `json:"url"`
	Referrer    string                     `json:"referrer"`
	Properties  map[string]json.RawMessage `json:"properties"`
	Traits      map[string]json.RawMessage `json:"traits"`
}

// DecodeBatch decodes a batch body. It fails with ErrMalformed when the
// body is not a batch and ErrTooManyEvents past limits.MaxEvents; an
// event that cannot be read is reported in problems by its index, so
// the sender learns about every bad event at once. The batch keeps no
// reference to body, which the caller may reuse.
func DecodeBatch(body []byte, limits Limits) (Batch, Problems, error) {
	if b, ok := decodeFast(body, limits); ok {
		return b, nil, nil
	}
	return decodeStrict(body, limits)
}

// decodeStrict is the reference decoder: encoding/json in three passes.
// It decides every body the single-pass decoder declines, so it alone
// writes the errors and problems a sender sees.
func decodeStrict(body []byte, limits Limits) (Batch, Problems, error) {
	var w wireBatch
	if err := json.Unmarshal(body, &w); err != nil {
		return Batch{}, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(w.Events) == 0 {
		return Batch{}, nil, fmt.Errorf("%w: events is empty", ErrMalformed)
	}
	if len(w.Events) > limits.MaxEvents {
		return Batch{}, nil, fmt.Errorf("%w: %d events, at most %d per batch",
			ErrTooManyEvents, len(w.Events), limits.MaxEvents)
	}

	b := Batch{WriteKey: w.WriteKey, Snippet: w.Source == SourceSnippet,
		Events: make([]Raw, len(w.Events))}
	var problems Problems
	for i, msg := range w.Events {
		c := checker{index: i}
		b.Events[i] = decodeEvent(&c, msg)
		problems = append(problems, c.problems...)
	}
	return b, problems, nil
}

func decodeEvent(c *checker, msg json.RawMessage) Raw {
	var w wireEvent
	if err := json.Unmarshal(msg, &w); err != nil {
		c.add(ReasonInvalidValue, "event is not a JSON object of the documented fields")
		return Raw{}
	}
	return Raw{
		ID: w.ID, Type: w.Type, AnonymousID: w.AnonymousID, LeadID: w.LeadID,
		ClientMs: decodeTimestamp(c, w.Timestamp), URL: w.URL, Referrer: w.Referrer,
		Properties: decodeValues(c, "properties", w.Properties),
		Traits:     decodeValues(c, "traits", w.Traits),
	}
}

// decodeTimestamp reads an RFC 3339 string or a number of unix ms; null,
// absent or "" mean no timestamp.
func decodeTimestamp(c *checker, raw json.RawMessage) int64 {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == `""` {
		return 0
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil && t.UnixMilli() > 0 {
				return t.UnixMilli()
			}
		}
		c.add(ReasonInvalidTimestamp, "timestamp must be RFC 3339, e.g. 2026-12-03T10:15:00Z")
		return 0
	}
	ms, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || ms <= 0 {
		c.add(ReasonInvalidTimestamp, "a numeric timestamp must be positive unix milliseconds")
		return 0
	}
	return ms
}

// decodeValues turns JSON scalars into strings: numbers keep their JSON
// text, booleans become true or false and null drops the entry. Objects
// and arrays are refused, since the topic carries flat string maps.
func decodeValues(c *checker, field string, m map[string]json.RawMessage) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, raw := range m {
		raw = bytes.TrimSpace(raw)
		switch {
		case string(raw) == "null":
		case raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				c.add(ReasonInvalidValue, fmt.Sprintf("%s.%s is not a string", field, k))
				continue
			}
			out[k] = s
		case raw[0] == '{' || raw[0] == '[':
			c.add(ReasonInvalidValue, fmt.Sprintf("%s.%s must be a string, number or boolean",
				field, k))
		default:
			out[k] = string(raw)
		}
	}
	return out
}
