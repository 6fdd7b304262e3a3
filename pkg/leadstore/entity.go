package leadstore

import "github.com/leadstream/leadstream/pkg/rules"

// Entity is whose state a call reads or changes: a lead, or an anonymous
// visitor not linked to a lead yet.
type Entity struct {
	id   string
	anon bool
}

// Lead returns the entity of the lead with id leadID.
func Lead(leadID string) Entity { return Entity{id: leadID} }

// Anon returns the entity of the anonymous visitor anonID.
func Anon(anonID string) Entity { return Entity{id: anonID, anon: true} }

// IsAnon reports whether e is an anonymous visitor.
func (e Entity) IsAnon() bool { return e.anon }

// RawID returns the lead id or the anonymous id.
func (e Entity) RawID() string { return e.id }

// LeadID returns the id transitions carry: the lead id, or
// rules.AnonPrefix and the anonymous id for a visitor.
func (e Entity) LeadID() string {
	if e.anon {
		return rules.AnonPrefix + e.id
	}
	return e.id
}

// The parts of an entity's keys.
const (
	partState   = ""
	partPending = ":p"
	partLink    = ":l"
)

// key returns the key of one part of e: "ls:{l:42}" is the state of lead
// 42, "ls:{l:42}:p" its pending transitions, "ls:{a:7f3}:l" the link of
// visitor 7f3. Names are short because every key's name is kept in
// memory with it.
func (s *Store) key(e Entity, part string) string {
	kind := "l"
	if e.anon {
		kind = "a"
	}
	return s.prefix + ":{" + kind + ":" + e.id + "}" + part
}

// seenSlots returns how many slots of five remembered ids an entity
// keeps: enough for the dedupe bound besides the slot being filled, so
// between dedupeMax and dedupeMax+5 ids are remembered.
func (s *Store) seenSlots() int { return (s.dedupeMax+seenPerSlot-1)/seenPerSlot + 1 }

// seenPerSlot is how many 12-byte id records one hash field packs.
const seenPerSlot = 5

// seenRecord is the size of one remembered id: digest and seconds.
const seenRecord = 12
