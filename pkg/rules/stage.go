package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
)

var stageNames = map[Stage]string{
	Visitor:  "visitor",
	MQL:      "mql",
	SQL:      "sql",
	Excluded: "excluded",
}

// String returns the stage as the lower-case word of the contract:
// "visitor", "mql", "sql" or "excluded".
func (s Stage) String() string {
	if name, ok := stageNames[s]; ok {
		return name
	}
	return "stage(" + strconv.Itoa(int(s)) + ")"
}

// ParseStage returns the stage named by word, as String writes it.
func ParseStage(word string) (Stage, error) {
	for s, name := range stageNames {
		if name == word {
			return s, nil
		}
	}
	return 0, fmt.Errorf("parse stage %q: %w", word, ErrUnknownStage)
}

// MarshalText implements encoding.TextMarshaler with the contract's word.
func (s Stage) MarshalText() ([]byte, error) {
	if _, ok := stageNames[s]; !ok {
		return nil, fmt.Errorf("marshal stage %d: %w", int(s), ErrUnknownStage)
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Stage) UnmarshalText(text []byte) error {
	st, err := ParseStage(string(text))
	if err != nil {
		return err
	}
	*s = st
	return nil
}

// TransitionID returns the deterministic id of the transition that moves
// leadID to stage to as its epoch-th stage change: the hex form of the
// first 16 bytes of sha256(leadID + "\x00" + to.String() + "\x00" +
// decimal epoch). A consumer that sees the same id twice drops the copy.
func TransitionID(leadID string, to Stage, epoch int64) string {
	sum := sha256.Sum256([]byte(leadID + "\x00" + to.String() + "\x00" +
		strconv.FormatInt(epoch, 10)))
	return hex.EncodeToString(sum[:16])
}
