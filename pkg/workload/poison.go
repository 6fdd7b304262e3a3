package workload

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// Poison is a record that a harness produces straight to the events topic,
// bypassing the tracker, which would refuse it. The scorer must move it to
// the dead-letter topic and carry on.
type Poison struct {
	Key   []byte
	Value []byte
	// Reason says what is wrong with it, for test output.
	Reason string
	// Hint is a word, lower case, that the reason a consumer gives for
	// refusing the record must contain.
	Hint string
}

// poison returns the configured number of poison records, alternating
// between bytes that are no protobuf and events that identify nobody.
func (g *gen) poison() []Poison {
	out := make([]Poison, 0, g.cfg.Poison)
	for i := 0; i < g.cfg.Poison; i++ {
		key := []byte(fmt.Sprintf("%spoison-%d", g.cfg.Prefix, i))
		if i%2 == 0 {
			out = append(out, Poison{Key: key, Value: g.garbage(), Reason: "not a protobuf",
				Hint: "decode"})
			continue
		}
		out = append(out, Poison{Key: key, Value: g.anonymous(),
			Reason: "no anonymous_id or lead_id", Hint: "anonymous_id"})
	}
	return out
}

// garbage returns bytes that fail to decode as any protobuf message: the
// first byte is a tag with field number 0, which the wire format forbids.
func (g *gen) garbage() []byte {
	b := make([]byte, g.between(4, 32))
	g.rnd.Read(b)
	b[0] = 0x00
	return b
}

// anonymous returns a valid Event protobuf that names no anonymous id and
// no lead id, so no lead can count it.
func (g *gen) anonymous() []byte {
	b, err := proto.Marshal(&leadstreamv1.Event{Id: g.id(), Type: "page_view",
		OccurredAtUnixMs: g.cfg.Newest.UnixMilli(), Url: "https://example.com/blog/x"})
	if err != nil {
		panic(fmt.Sprintf("marshal poison event: %v", err)) // cannot happen
	}
	return b
}
