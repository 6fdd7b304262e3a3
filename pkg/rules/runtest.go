package rules

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// maxLine bounds one JSONL line; tracker batches are far smaller.
const maxLine = 1 << 20

// jsonEvent is one event in the JSON shape of the tracker's batch API.
type jsonEvent struct {
	ID          string            `json:"id"`
	Type        string            `json:"type"`
	AnonymousID string            `json:"anonymous_id"`
	LeadID      string            `json:"lead_id"`
	Timestamp   string            `json:"timestamp"`
	URL         string            `json:"url"`
	Referrer    string            `json:"referrer"`
	Properties  map[string]string `json:"properties"`
	Traits      map[string]string `json:"traits"`
}

// RunTest reads events, one JSON object per line in the shape of the
// tracker's batch API, runs them through a Simulator in file order and
// writes each transition with its reasons, then each lead's final stage,
// counters, scores and traits. Blank lines and lines starting with # are
// skipped. A bad line stops the run with an error naming its number.
func RunTest(w io.Writer, r *Rules, events io.Reader) error {
	sim := NewSimulator(r)
	var out strings.Builder
	out.WriteString("transitions\n")
	last, err := runEvents(&out, r, sim, events)
	if err != nil {
		return err
	}
	writeLeads(&out, r, sim, last)
	if _, err := io.WriteString(w, out.String()); err != nil {
		return fmt.Errorf("write test results: %w", err)
	}
	return nil
}

// runEvents processes every line and returns the latest event time seen.
func runEvents(out *strings.Builder, r *Rules, sim *Simulator, in io.Reader) (int64, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	var last int64
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		ev, err := decodeEvent(line)
		if err != nil {
			return 0, fmt.Errorf("read events line %d: %w", n, err)
		}
		last = max(last, ev.GetOccurredAtUnixMs())
		for _, tr := range sim.Process(ev) {
			writeTransition(out, r, tr)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read events: %w", err)
	}
	return last, nil
}

// decodeEvent parses one line strictly: unknown fields are refused, so
// that a misspelt key does not silently change a test.
func decodeEvent(line []byte) (*leadstreamv1.Event, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var je jsonEvent
	if err := dec.Decode(&je); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode event: more than one JSON value on the line")
	}
	switch {
	case je.Type == "":
		return nil, errors.New("event has no type; set \"type\", e.g. \"page_view\"")
	case je.AnonymousID == "" && je.LeadID == "":
		return nil, errors.New("event has neither anonymous_id nor lead_id; set one")
	}
	at, err := time.Parse(time.RFC3339, je.Timestamp)
	if err != nil {
		return nil, fmt.Errorf("event timestamp %q is not RFC 3339, e.g. "+
			"2026-12-03T10:15:00Z: %w", je.Timestamp, err)
	}
	return &leadstreamv1.Event{Id: je.ID, Type: je.Type, AnonymousId: je.AnonymousID,
		LeadId: je.LeadID, OccurredAtUnixMs: at.UnixMilli(), Url: je.URL,
		Referrer: je.Referrer, Properties: je.Properties, Traits: je.Traits}, nil
}

func writeTransition(out *strings.Builder, r *Rules, tr LeadTransition) {
	fmt.Fprintf(out, "  %s: %s → %s at %s (event %s, epoch %d)\n", tr.LeadID, tr.From, tr.To,
		formatTime(tr.OccurredAtMs, r), tr.EventID, tr.Epoch)
	for _, reason := range tr.Reasons {
		fmt.Fprintf(out, "      %s\n", reason)
	}
}

func writeLeads(out *strings.Builder, r *Rules, sim *Simulator, atMs int64) {
	fmt.Fprintf(out, "leads (scores as of %s)\n", formatTime(atMs, r))
	for _, id := range sim.Leads() {
		s, _ := sim.Lead(id)
		fmt.Fprintf(out, "  %s: %s\n", id, s.Stage)
		writeList(out, "counters", s.Counts, func(_ string, n int64) string {
			return strconv.FormatInt(n, 10)
		})
		writeList(out, "scores", s.Scores, func(name string, sc ScoreState) string {
			return formatValue(r.ScoreAt(name, sc, atMs))
		})
		writeList(out, "traits", s.Traits, func(_, v string) string {
			return strconv.Quote(v)
		})
	}
}

// writeList writes "label: k=v k=v" in key order, or nothing for an empty m.
func writeList[V any](out *strings.Builder, label string, m map[string]V,
	format func(string, V) string) {
	if len(m) == 0 {
		return
	}
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+format(k, m[k]))
	}
	fmt.Fprintf(out, "      %s: %s\n", label, strings.Join(parts, " "))
}

func formatTime(ms int64, r *Rules) string {
	return time.UnixMilli(ms).In(r.loc).Format(time.RFC3339)
}
