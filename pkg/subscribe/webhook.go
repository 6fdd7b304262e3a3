package subscribe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// Headers the notifier sends with every webhook request.
const (
	// HeaderSignature carries "t=<unix seconds>,v1=<hex HMAC-SHA256>".
	HeaderSignature = "Leadstream-Signature"
	// HeaderDelivery is unique per attempt.
	HeaderDelivery = "Leadstream-Delivery"
	// HeaderIdempotencyKey is the transition id, the same on every attempt.
	HeaderIdempotencyKey = "Idempotency-Key"
)

// occurredAtLayout is RFC 3339 with milliseconds only when they are not
// zero, so whole seconds read "2026-12-03T10:15:00Z".
const occurredAtLayout = "2006-01-02T15:04:05.999Z07:00"

// Payload is the JSON body of a webhook delivery. Receivers can decode
// into it.
type Payload struct {
	ID           string             `json:"id"`
	LeadID       string             `json:"lead_id"`
	From         string             `json:"from"`
	To           string             `json:"to"`
	OccurredAt   string             `json:"occurred_at"`
	EventID      string             `json:"event_id"`
	RulesVersion string             `json:"rules_version"`
	Reasons      []string           `json:"reasons"`
	Counters     map[string]int64   `json:"counters"`
	Scores       map[string]float64 `json:"scores"`
	Traits       map[string]string  `json:"traits"`
}

// NewPayload converts a transition to its webhook form: stages as
// lower-case words, the event time as RFC 3339 in UTC, and empty lists
// and maps instead of null.
func NewPayload(tr *leadstreamv1.Transition) Payload {
	return Payload{
		ID: tr.GetId(), LeadID: tr.GetLeadId(),
		From: StageName(tr.GetFrom()), To: StageName(tr.GetTo()),
		OccurredAt:   time.UnixMilli(tr.GetOccurredAtUnixMs()).UTC().Format(occurredAtLayout),
		EventID:      tr.GetEventId(),
		RulesVersion: tr.GetRulesVersion(),
		Reasons:      nonNilSlice(tr.GetReasons()),
		Counters:     nonNilMap(tr.GetCounters()),
		Scores:       nonNilMap(tr.GetScores()),
		Traits:       nonNilMap(tr.GetTraits()),
	}
}

// StageName returns the lower-case word for a stage ("visitor", "mql",
// "sql", "excluded"), or "unspecified".
func StageName(s leadstreamv1.Stage) string {
	name := strings.TrimPrefix(s.String(), "STAGE_")
	return strings.ToLower(name)
}

// ParseStage is the inverse of StageName; ok is false for an unknown
// word.
func ParseStage(word string) (leadstreamv1.Stage, bool) {
	v, ok := leadstreamv1.Stage_value["STAGE_"+strings.ToUpper(word)]
	if !ok || v == 0 || strings.ToLower(word) != word {
		return 0, false
	}
	return leadstreamv1.Stage(v), true
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}

// Sign returns the Leadstream-Signature header value for body sent at
// time at, under secret.
func Sign(secret, body []byte, at time.Time) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte("."))
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a Leadstream-Signature header against the raw request
// body and the shared secret, in constant time, and refuses a timestamp
// further than tolerance from now (zero means five minutes), which
// bounds replays. It accepts any of several v1 entries, so a sender may
// sign with an old and a new secret while they rotate.
func Verify(header string, body, secret []byte, tolerance time.Duration, now time.Time) error {
	ts, sigs, err := parseSignature(header)
	if err != nil {
		return err
	}
	if tolerance <= 0 {
		tolerance = 5 * time.Minute
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("parse signature timestamp: %w", ErrSignature)
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return ErrSignatureExpired
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if got, err := hex.DecodeString(s); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrSignature
}

func parseSignature(header string) (ts string, sigs []string, err error) {
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return "", nil, fmt.Errorf("read signature header: %w", ErrSignature)
	}
	return ts, sigs, nil
}
