// Package stack starts the whole leadstream pipeline on one machine: an
// in-process Kafka-protocol broker with a data directory, a private
// redis-server, the tracker, N scorers and the notifier as child
// processes; it reports when everything is ready and stops it all, in an
// order that loses nothing, on a signal.
package stack
