// Package scorer holds the stateless workers that read events from Kafka,
// keep each lead's state in Redis through the rules engine and publish
// every stage change. The binary is cmd/scorer; the logic lives under
// internal/.
package scorer
