// Package tracker is the HTTP collector that websites talk to: the
// tracking pixel, the JavaScript snippet and the batch API, all producing
// to Kafka. The binary is cmd/tracker; the logic lives under internal/.
package tracker
