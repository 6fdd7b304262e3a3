// Package faults proves, under injected faults, that the pipeline loses
// nothing and counts nothing twice.
//
// The tests run the real tracker, scorers and notifier as separate
// processes against an in-process Kafka (kfake) and a private
// redis-server, drive a seeded workload (pkg/workload) through the
// tracker while killing, scaling, slowing and cutting parts of the
// system, wait until the pipeline is quiet, and compare what it holds with
// what the rules engine alone computes from the same events:
//
//   - every lead's counters, scores, traits and stage in Redis;
//   - every expected transition id on the transitions topic and delivered
//     to the webhook, and none that the oracle lacks;
//   - every event the tracker acknowledged on the events topic;
//   - exactly the poison records on the dead-letter topic.
//
// Repeated publications and deliveries of one transition are allowed by
// the at-least-once contract; they are counted and reported, never
// hidden. Each scenario prints one summary line, with the seed that
// replays it.
package faults
