package publish

import "errors"

// Errors that mean Kafka cannot take the events now; the tracker answers
// 503 so the sender retries later.
var (
	// ErrBufferFull means the pixel buffer holds as many unacknowledged
	// events as it may.
	ErrBufferFull = errors.New("pixel buffer full")
	// ErrClosed means the producer is shutting down.
	ErrClosed = errors.New("producer closed")
	// ErrTimeout means Kafka did not acknowledge a batch in time.
	ErrTimeout = errors.New("kafka did not acknowledge in time")
)

// ErrCompression means a compression name is not one of Compressions.
var ErrCompression = errors.New("unknown compression")
