package subscribe

import "errors"

// Sentinel errors callers can test with errors.Is.
var (
	// ErrNoHandler means New was called without a handler.
	ErrNoHandler = errors.New("subscribe: a handler is required")
	// ErrNoBrokers means the configuration names no broker.
	ErrNoBrokers = errors.New("subscribe: at least one broker is required")
	// ErrNoGroup means the configuration names no consumer group.
	ErrNoGroup = errors.New("subscribe: a consumer group id is required")
	// ErrSignature means a webhook signature header is missing, malformed
	// or does not match the body.
	ErrSignature = errors.New("webhook signature does not verify")
	// ErrSignatureExpired means a webhook signature is valid but its
	// timestamp lies outside the accepted tolerance (a possible replay).
	ErrSignatureExpired = errors.New("webhook signature timestamp outside tolerance")
)
