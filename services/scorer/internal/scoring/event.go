package scoring

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// Limits on a valid event; the tracker enforces far smaller ones.
const (
	maxIDLen = 256
	// maxAheadMs is how far an event's time may be ahead of the time it
	// was received. The tracker never writes more than its clock skew;
	// an event further ahead would move its lead's clock into the future,
	// and with it the windows that prune buckets and remembered ids.
	maxAheadMs = 24 * 3600 * 1000
)

// Decode reads an event record value and checks it; an error means the
// record is poison and belongs in the dead-letter topic.
func Decode(value []byte) (*leadstreamv1.Event, error) {
	ev := &leadstreamv1.Event{}
	if err := proto.Unmarshal(value, ev); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	if err := Validate(ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// Validate reports why ev cannot be scored: it needs an id, a type, and
// an anonymous id or a lead id, each of sane length, and a time no more
// than a day ahead of when it was received (when that is known). It reads
// nothing but the event, so a replay decides the same.
func Validate(ev *leadstreamv1.Event) error {
	at, recv := ev.GetOccurredAtUnixMs(), ev.GetReceivedAtUnixMs()
	switch {
	case recv > 0 && at > recv+maxAheadMs:
		return fmt.Errorf("validate event %s: %w: occurred_at %d is more than a day "+
			"after received_at %d", ev.GetId(), ErrInvalid, at, recv)
	case ev.GetId() == "":
		return fmt.Errorf("validate event: %w: no id", ErrInvalid)
	case ev.GetType() == "":
		return fmt.Errorf("validate event %s: %w: no type", ev.GetId(), ErrInvalid)
	case ev.GetAnonymousId() == "" && ev.GetLeadId() == "":
		return fmt.Errorf("validate event %s: %w: neither anonymous_id nor lead_id",
			ev.GetId(), ErrInvalid)
	}
	ids := [...]struct{ name, v string }{{"id", ev.GetId()},
		{"anonymous_id", ev.GetAnonymousId()}, {"lead_id", ev.GetLeadId()}}
	for _, id := range ids {
		if len(id.v) > maxIDLen {
			return fmt.Errorf("validate event: %w: %s longer than %d bytes", ErrInvalid,
				id.name, maxIDLen)
		}
	}
	return nil
}
