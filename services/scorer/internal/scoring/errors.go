package scoring

import "errors"

// ErrInvalid marks an event that can never be scored; it goes to the
// dead-letter topic.
var ErrInvalid = errors.New("invalid event")
