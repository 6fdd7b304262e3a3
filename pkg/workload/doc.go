// Package workload generates a seeded, reproducible stream of tracker
// batches for fault tests, and computes with the rules engine alone what
// the pipeline must end up with: every lead's counters and stage, and the
// exact set of transition ids.
//
// The stream has what real traffic has and what breaks naive pipelines:
// several devices per lead linked by identify events, server-side events
// that carry only a lead id, exact duplicates (the same event id sent
// again), timestamps out of order within a lead, excluded leads
// (competitors), visitors that never identify, and a few poison records
// that a harness produces straight to the events topic because the
// tracker would refuse them.
//
// The oracle is only exact for rules whose outcome does not depend on the
// order in which partitions deliver events; deploy/rules/faults.yaml is
// written that way (lifetime counts and traits only).
package workload
