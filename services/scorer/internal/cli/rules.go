package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/leadstream/leadstream/pkg/rules"
)

// RulesCheck validates the rules file at path and describes it.
func RulesCheck(w io.Writer, path string) error {
	r, err := rules.Load(path)
	if err != nil {
		return err
	}
	return rules.Describe(w, r)
}

// RulesTest runs the events in eventsPath (JSON lines) through the rules
// at rulesPath and writes the transitions and the final leads.
func RulesTest(w io.Writer, rulesPath, eventsPath string) error {
	r, err := rules.Load(rulesPath)
	if err != nil {
		return err
	}
	f, err := os.Open(eventsPath)
	if err != nil {
		return fmt.Errorf("open events: %w", err)
	}
	defer f.Close()
	return rules.RunTest(w, r, f)
}
