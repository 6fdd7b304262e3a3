// Package bench measures leadstream's throughput, latency and memory on
// the machine it runs on. Every figure is measured beside a reference
// taken in the same run on the same machine (a bare HTTP handler, raw
// Kafka clients, the Lua script alone, a bare HTTP client), so a figure
// reads as a fraction of what the hardware and the servers allow rather
// than as an absolute number that only means something on one laptop.
//
// The services run as real child processes, as devstack runs them; the
// broker (kfake) and the load generators run in the calling process, and
// redis-server is a child too. On a small machine all of them share the
// same cores, which the report says next to the numbers.
package bench
