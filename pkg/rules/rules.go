// Package rules reads the rules file that defines when a lead becomes a
// marketing-qualified lead (MQL), a sales-qualified lead (SQL) or is
// excluded, and applies it: it maps events to signals, keeps a lead's
// counters and scores in a State, and decides stage transitions with the
// reasons that made them happen.
//
// Everything runs on event time, never on the wall clock, so replaying the
// same events gives the same stages, reasons and transition ids.
package rules

import (
	"time"

	// The rules name IANA time zones; embedding the database keeps them
	// working in minimal container images without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Rules is a parsed, validated rules file. It is immutable and safe for
// concurrent use.
type Rules struct {
	file     string
	version  string
	loc      *time.Location
	identify bool

	signals map[string]*signal
	// byEvent lists the signals of each event type in name order.
	byEvent map[string][]*signal

	traits     map[string]*trait
	scores     map[string]*score
	scoreNames []string
	// bySignal lists the scores that give points for each signal, in
	// name order.
	bySignal map[string][]*score

	mql, sql, exclude cond
	spec              Spec
}

// Version returns the version string of the rules file, e.g. "2026-q4".
func (r *Rules) Version() string { return r.version }

// Location returns the time zone in which days are counted.
func (r *Rules) Location() *time.Location { return r.loc }

// RequireIdentified reports whether only leads with a lead id can qualify.
// Anonymous visitors still count and can still be excluded.
func (r *Rules) RequireIdentified() bool { return r.identify }

// File returns the file name the rules were parsed from.
func (r *Rules) File() string { return r.file }

// finish derives the indexes and the Spec once parsing succeeded.
func (r *Rules) finish() {
	r.byEvent = map[string][]*signal{}
	for _, name := range sortedKeys(r.signals) {
		s := r.signals[name]
		r.byEvent[s.event] = append(r.byEvent[s.event], s)
	}
	r.scoreNames = sortedKeys(r.scores)
	r.indexScores()
	for _, t := range r.traits {
		if t.matches != nil {
			t.cache = newMatchCache()
		}
	}
	r.spec = r.buildSpec()
}
