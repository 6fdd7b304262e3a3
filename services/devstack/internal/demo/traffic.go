package demo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Event is one line of an example events file, in the shape of the
// tracker's batch API.
type Event struct {
	ID          string            `json:"id"`
	Type        string            `json:"type"`
	AnonymousID string            `json:"anonymous_id,omitempty"`
	LeadID      string            `json:"lead_id,omitempty"`
	Timestamp   time.Time         `json:"timestamp"`
	URL         string            `json:"url,omitempty"`
	Referrer    string            `json:"referrer,omitempty"`
	Properties  map[string]string `json:"properties,omitempty"`
	Traits      map[string]string `json:"traits,omitempty"`
}

// Situation is a titled group of events: one story a marketing team knows.
type Situation struct {
	Title  string
	Events []Event
}

// Parse reads an example events file: one JSON event per line, and
// comment lines starting with "#" that title the situation whose events
// follow. Blank lines are skipped.
func Parse(r io.Reader) ([]Situation, error) {
	var out []Situation
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			title := strings.TrimSpace(strings.TrimPrefix(line, "#"))
			out = append(out, Situation{Title: title})
		default:
			ev, err := decodeEvent(line)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			if len(out) == 0 {
				out = append(out, Situation{})
			}
			out[len(out)-1].Events = append(out[len(out)-1].Events, ev)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return dropEmpty(out), nil
}

func decodeEvent(line string) (Event, error) {
	var ev Event
	dec := json.NewDecoder(bytes.NewReader([]byte(line)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	if dec.More() {
		return Event{}, fmt.Errorf("decode event: more than one JSON value on the line")
	}
	switch {
	case ev.Type == "":
		return Event{}, fmt.Errorf("event %q has no type", ev.ID)
	case ev.AnonymousID == "" && ev.LeadID == "":
		return Event{}, fmt.Errorf("event %q has neither anonymous_id nor lead_id", ev.ID)
	case ev.Timestamp.IsZero():
		return Event{}, fmt.Errorf("event %q has no timestamp", ev.ID)
	}
	return ev, nil
}

func dropEmpty(in []Situation) []Situation {
	out := in[:0]
	for _, s := range in {
		if len(s.Events) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// Shift moves each situation in time so that its last event happened
// lead minutes before now, keeping the spacing between its events: a
// story that spread over five days in the file spreads over the five days
// before now. Event time is what the rules' windows and decay run on, so
// the outcome does not depend on when the demo runs.
func Shift(sits []Situation, now time.Time, lead time.Duration) []Situation {
	out := make([]Situation, len(sits))
	for i, s := range sits {
		last := s.Events[0].Timestamp
		for _, ev := range s.Events {
			if ev.Timestamp.After(last) {
				last = ev.Timestamp
			}
		}
		delta := now.Add(-lead).Sub(last)
		out[i] = Situation{Title: s.Title, Events: make([]Event, len(s.Events))}
		for j, ev := range s.Events {
			ev.Timestamp = ev.Timestamp.Add(delta).UTC().Truncate(time.Millisecond)
			out[i].Events[j] = ev
		}
	}
	return out
}

// Span is the time between the oldest and the newest event.
func Span(sits []Situation) time.Duration {
	var first, last time.Time
	for _, s := range sits {
		for _, ev := range s.Events {
			if first.IsZero() || ev.Timestamp.Before(first) {
				first = ev.Timestamp
			}
			if ev.Timestamp.After(last) {
				last = ev.Timestamp
			}
		}
	}
	return last.Sub(first)
}
