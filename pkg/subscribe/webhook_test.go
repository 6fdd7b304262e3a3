package subscribe_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leadstream/leadstream/pkg/subscribe"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

func TestVerify(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`{"id":"x"}`)
	now := time.Unix(1796292900, 0)
	good := subscribe.Sign(secret, body, now)
	tests := []struct {
		name   string
		header string
		body   []byte
		secret []byte
		now    time.Time
		want   error
	}{
		{"valid", good, body, secret, now, nil},
		{"rotated secret listed second",
			good[:len("t=1796292900,")] + "v1=00," + good[len("t=1796292900,"):],
			body, secret, now, nil},
		{"tampered body", good, []byte(`{"id":"y"}`), secret, now, subscribe.ErrSignature},
		{"wrong secret", good, body, []byte("other"), now, subscribe.ErrSignature},
		{"too old", good, body, secret, now.Add(6 * time.Minute), subscribe.ErrSignatureExpired},
		{"from the future", good, body, secret, now.Add(-6 * time.Minute),
			subscribe.ErrSignatureExpired},
		{"empty header", "", body, secret, now, subscribe.ErrSignature},
		{"no v1", "t=1796292900", body, secret, now, subscribe.ErrSignature},
		{"bad timestamp", "t=abc,v1=00", body, secret, now, subscribe.ErrSignature},
		{"bad hex", "t=1796292900,v1=zz", body, secret, now, subscribe.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := subscribe.Verify(tt.header, tt.body, tt.secret, 0, tt.now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify() = %v, want %v", err, tt.want)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("t=1796292900,v1=00", []byte("{}"))
	f.Add("t=,v1=,v1=zz,,=", []byte(""))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		now := time.Unix(1796292900, 0)
		err := subscribe.Verify(header, body, []byte("k"), 0, now)
		_, want, _ := strings.Cut(subscribe.Sign([]byte("k"), body, now), ",")
		if err == nil && !strings.Contains(header, want) {
			t.Fatalf("Verify accepted %q without the right signature", header)
		}
	})
}

func TestNewPayload(t *testing.T) {
	tr := &leadstreamv1.Transition{
		Id: "tr-1", LeadId: "crm-0042", From: leadstreamv1.Stage_STAGE_VISITOR,
		To: leadstreamv1.Stage_STAGE_MQL, OccurredAtUnixMs: 1796292900000, EventId: "ev",
		RulesVersion: "2026-q4", Scores: map[string]float64{"engagement": 25.5},
	}
	b, err := json.Marshal(subscribe.NewPayload(tr))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"tr-1","lead_id":"crm-0042","from":"visitor","to":"mql",` +
		`"occurred_at":"2026-12-03T10:15:00Z","event_id":"ev","rules_version":"2026-q4",` +
		`"reasons":[],"counters":{},"scores":{"engagement":25.5},"traits":{}}`
	if string(b) != want {
		t.Errorf("payload\n got %s\nwant %s", b, want)
	}
}

func TestParseStage(t *testing.T) {
	tests := []struct {
		word string
		want leadstreamv1.Stage
		ok   bool
	}{
		{"visitor", leadstreamv1.Stage_STAGE_VISITOR, true},
		{"mql", leadstreamv1.Stage_STAGE_MQL, true},
		{"sql", leadstreamv1.Stage_STAGE_SQL, true},
		{"excluded", leadstreamv1.Stage_STAGE_EXCLUDED, true},
		{"SQL", 0, false},
		{"unspecified", 0, false},
		{"lead", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			got, ok := subscribe.ParseStage(tt.word)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseStage(%q) = %v, %v; want %v, %v", tt.word, got, ok, tt.want, tt.ok)
			}
			if ok && subscribe.StageName(got) != tt.word {
				t.Errorf("StageName(%v) = %q", got, subscribe.StageName(got))
			}
		})
	}
}

func TestBackoffStaysWithinCeiling(t *testing.T) {
	tests := []struct {
		attempt int
		ceiling time.Duration
	}{
		{1, 100 * time.Millisecond}, {2, 200 * time.Millisecond},
		{4, 800 * time.Millisecond}, {30, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.ceiling.String(), func(t *testing.T) {
			for range 200 {
				d := subscribe.Backoff(100*time.Millisecond, time.Second, tt.attempt)
				if d < 0 || d > tt.ceiling {
					t.Fatalf("Backoff(attempt %d) = %v, want within [0, %v]",
						tt.attempt, d, tt.ceiling)
				}
			}
		})
	}
}

func TestMemoryDedupeEvictsOldest(t *testing.T) {
	d := subscribe.NewMemoryDedupe(2)
	ctx := t.Context()
	for _, id := range []string{"a", "b", "c"} {
		if err := d.Mark(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for id, want := range map[string]bool{"a": false, "b": true, "c": true, "d": false} {
		if seen, _ := d.Seen(ctx, id); seen != want {
			t.Errorf("Seen(%q) = %v, want %v", id, seen, want)
		}
	}
}
