package rules

import (
	"errors"
	"fmt"
)

// ErrUnknownStage is returned by ParseStage for a word that names no stage.
var ErrUnknownStage = errors.New("unknown stage")

// ParseError is one problem in a rules file: where it is, which field it
// concerns and what to do about it. Parse and Load return every problem
// they find, joined with errors.Join; errors.As finds the first.
type ParseError struct {
	// File is the name given to Parse, or the path given to Load.
	File string
	// Line is the 1-based line of the offending node; 0 when unknown.
	Line int
	// Field is the dotted path of the offending key, e.g.
	// "stages.sql.any[1]".
	Field string
	// Msg says what is wrong and how to fix it.
	Msg string
}

// Error implements error as "file:line: field: message".
func (e *ParseError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Msg)
}
