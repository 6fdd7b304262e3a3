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

// key returns the key of one part of e, e.g. "ls:{lead:42}:state".
func (s *Store) key(e Entity, part string) string {
	kind := "lead"
	if e.anon {
		kind = "anon"
	}
	return s.prefix + ":{" + kind + ":" + e.id + "}:" + part
}
