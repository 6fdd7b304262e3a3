package workload

import (
	"fmt"
	"strings"
	"time"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// Event is one event as the tracker's batch API takes it.
type Event struct {
	ID          string            `json:"id"`
	Type        string            `json:"type"`
	AnonymousID string            `json:"anonymous_id,omitempty"`
	LeadID      string            `json:"lead_id,omitempty"`
	Timestamp   string            `json:"timestamp"`
	URL         string            `json:"url,omitempty"`
	Referrer    string            `json:"referrer,omitempty"`
	Properties  map[string]string `json:"properties,omitempty"`
	Traits      map[string]string `json:"traits,omitempty"`
}

// Batch is one request body for POST /v1/events.
type Batch struct {
	WriteKey string  `json:"write_key"`
	Events   []Event `json:"events"`
}

// Key returns the Kafka key the tracker gives the event: the anonymous id,
// else the lead id.
func (e Event) Key() string {
	if e.AnonymousID != "" {
		return e.AnonymousID
	}
	return e.LeadID
}

// Proto returns the event as the tracker publishes it, as far as the rules
// can tell: event time from the timestamp, email lower-cased and
// email_domain derived from it.
func (e Event) Proto() (*leadstreamv1.Event, error) {
	at, err := time.Parse(time.RFC3339, e.Timestamp)
	if err != nil {
		return nil, fmt.Errorf("parse timestamp of event %s: %w", e.ID, err)
	}
	return &leadstreamv1.Event{
		Id:                    e.ID,
		Type:                  e.Type,
		AnonymousId:           e.AnonymousID,
		LeadId:                e.LeadID,
		OccurredAtUnixMs:      at.UnixMilli(),
		ClientTimestampUnixMs: at.UnixMilli(),
		Url:                   e.URL,
		Referrer:              e.Referrer,
		Properties:            copyMap(e.Properties),
		Traits:                trackerTraits(e.Traits),
		Source:                leadstreamv1.Source_SOURCE_BATCH,
	}, nil
}

// trackerTraits copies traits the way the tracker stores them: email
// lower-cased and email_domain derived from it.
func trackerTraits(in map[string]string) map[string]string {
	out := copyMap(in)
	if email, ok := out["email"]; ok {
		email = strings.ToLower(strings.TrimSpace(email))
		out["email"] = email
		if _, domain, ok := strings.Cut(email, "@"); ok && domain != "" {
			out["email_domain"] = domain
		}
	}
	return out
}

func copyMap(in map[string]string) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}
