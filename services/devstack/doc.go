// Package devstack runs the whole leadstream pipeline on one machine: a
// Kafka-protocol broker, a private Redis and every service as a child
// process. The binary is cmd/devstack; the logic lives under internal/.
package devstack
