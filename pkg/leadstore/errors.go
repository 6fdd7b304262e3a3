package leadstore

import "errors"

// Sentinel errors of the lead store.
var (
	// ErrConflict means the entity's stage changed since it was read:
	// read it again and evaluate anew.
	ErrConflict = errors.New("stage changed concurrently")
	// ErrBadPrefix means the key prefix is empty or has a brace, which
	// would break the hash tags.
	ErrBadPrefix = errors.New("key prefix must be non-empty and free of { and }")
	// ErrBadDedupe means the dedupe window or size is not positive.
	ErrBadDedupe = errors.New("dedupe window and size must be positive")
	// ErrBadRun means ApplyRun got no events or more than MaxRun.
	ErrBadRun = errors.New("a run holds 1 to MaxRun events")
	// ErrBadReply means Redis answered a script with an unexpected shape.
	ErrBadReply = errors.New("unexpected reply from redis")
)
