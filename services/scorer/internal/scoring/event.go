package scoring

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// Limits on a valid event; the tracker enforces far smaller ones.
const (
	maxIDLen = 256
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
// an anonymous id or a lead id, each of sane length.
func Validate(ev *leadstreamv1.Event) error {
	switch {
	case ev.GetId() == "":
		return fmt.Errorf("validate event: %w: no id", ErrInvalid)
	case ev.GetType() == "":
		return fmt.Errorf("validate event %s: %w: no type", ev.GetId(), ErrInvalid)
	case ev.GetAnonymousId() == "" && ev.GetLeadId() == "":
		return fmt.Errorf("validate event %s: %w: neither anonymous_id nor lead_id",
			ev.GetId(), ErrInvalid)
	}
	for name, v := range map[string]string{"id": ev.GetId(),
		"anonymous_id": ev.GetAnonymousId(), "lead_id": ev.GetLeadId()} {
		if len(v) > maxIDLen {
			return fmt.Errorf("validate event: %w: %s longer than %d bytes", ErrInvalid,
				name, maxIDLen)
		}
	}
	return nil
}
