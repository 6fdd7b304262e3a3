package tracking

import (
	"errors"
	"fmt"
	"net/http"
)

// Errors about a whole request rather than one of its events.
var (
	// ErrMalformed means the body is not a batch at all.
	ErrMalformed = errors.New("malformed batch")
	// ErrTooManyEvents means the batch holds more events than allowed.
	ErrTooManyEvents = errors.New("too many events")
)

// Reason codes name why an event was refused. They are bounded, so they
// double as metric labels, and stable, so clients may switch on them.
const (
	ReasonMissingIdentity  = "missing_identity"
	ReasonIdentifyNeedsIDs = "identify_needs_ids"
	ReasonInvalidType      = "invalid_type"
	ReasonInvalidID        = "invalid_id"
	ReasonInvalidTimestamp = "invalid_timestamp"
	ReasonTooOld           = "timestamp_too_old"
	ReasonInvalidText      = "invalid_text"
	ReasonInvalidEmail     = "invalid_email"
	ReasonInvalidKey       = "invalid_key"
	ReasonInvalidValue     = "invalid_value"
	ReasonTooLarge         = "too_large"
)

// Problem says why one event of a request was refused.
type Problem struct {
	// Index is the event's position in the batch; 0 for the pixel.
	Index int `json:"index"`
	// Reason is one of the Reason codes.
	Reason string `json:"reason"`
	// Detail explains the reason for a person, naming the field.
	Detail string `json:"detail"`
}

// Status is the HTTP status the problem deserves: 413 for limits, 400
// for everything else.
func (p Problem) Status() int {
	if p.Reason == ReasonTooLarge {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// Error implements error.
func (p Problem) Error() string {
	return fmt.Sprintf("event %d: %s: %s", p.Index, p.Reason, p.Detail)
}

// Problems are the reasons a request was refused, one or more per bad
// event.
type Problems []Problem

// Status is 413 when any problem is past a limit, else 400.
func (ps Problems) Status() int {
	for _, p := range ps {
		if p.Status() == http.StatusRequestEntityTooLarge {
			return p.Status()
		}
	}
	return http.StatusBadRequest
}

// Error implements error.
func (ps Problems) Error() string {
	if len(ps) == 0 {
		return "no problems"
	}
	return fmt.Sprintf("%d invalid events, first %v", len(ps), ps[0])
}
