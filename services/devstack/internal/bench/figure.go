package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Figure is one measured number, the reference it is compared with and
// the target it should meet.
type Figure struct {
	// Name says what was measured, e.g. "tracker pixel".
	Name string `json:"name"`
	// Group is the suite the figure belongs to, e.g. "tracker".
	Group string `json:"group"`
	// Value is the measurement, in Unit.
	Value float64 `json:"value"`
	// Unit is the unit of Value and Reference, e.g. "req/s".
	Unit string `json:"unit"`
	// Reference is the ceiling measured in the same run; 0 when the
	// figure has none.
	Reference float64 `json:"reference,omitempty"`
	// RefName says what the reference is.
	RefName string `json:"reference_name,omitempty"`
	// Target is what the figure should meet, or nil.
	Target *Target `json:"target,omitempty"`
	// Note records the conditions, or why the figure is missing.
	Note string `json:"note,omitempty"`
	// Missing is true when the figure could not be measured.
	Missing bool `json:"missing,omitempty"`
}

// Target is a goal for a figure: a bound on its value or on its ratio to
// the reference.
type Target struct {
	// Ratio compares Value/Reference with Bound instead of Value.
	Ratio bool `json:"ratio,omitempty"`
	// AtMost makes Bound an upper limit; otherwise it is a lower one.
	AtMost bool `json:"at_most,omitempty"`
	// Bound is the limit.
	Bound float64 `json:"bound"`
}

// Ratio returns Value/Reference, or 0 without a reference.
func (f Figure) Ratio() float64 {
	if f.Reference == 0 || f.Missing {
		return 0
	}
	return f.Value / f.Reference
}

// Met reports whether the figure meets its target; ok is false when
// there is no target or nothing was measured.
func (f Figure) Met() (met, ok bool) {
	if f.Target == nil || f.Missing {
		return false, false
	}
	v := f.Value
	if f.Target.Ratio {
		if f.Reference == 0 {
			return false, false
		}
		v = f.Ratio()
	}
	if f.Target.AtMost {
		return v <= f.Target.Bound, true
	}
	return v >= f.Target.Bound, true
}

// String describes the target, e.g. ">= 0.70 x ref" or "<= 50 ms".
func (t *Target) String() string {
	if t == nil {
		return ""
	}
	op := ">="
	if t.AtMost {
		op = "<="
	}
	if t.Ratio {
		return fmt.Sprintf("%s %.2f x ref", op, t.Bound)
	}
	return fmt.Sprintf("%s %s", op, num(t.Bound))
}

// Report is the outcome of one run.
type Report struct {
	// Started is when the run began.
	Started time.Time `json:"started"`
	// Seconds is how long the run took.
	Seconds float64 `json:"seconds"`
	// Quick is true for the short mode.
	Quick bool `json:"quick"`
	// Machine describes where it ran.
	Machine Machine `json:"machine"`
	// Commit is the git commit measured, when known.
	Commit string `json:"commit,omitempty"`
	// Figures are the measurements in the order taken.
	Figures []Figure `json:"figures"`
	// Latency holds the latency steps, for the chart.
	Latency []LatencyStep `json:"latency,omitempty"`
}

// Add appends figures to the report.
func (r *Report) Add(fs ...Figure) { r.Figures = append(r.Figures, fs...) }

// Missing records a figure that could not be measured and why.
func (r *Report) Missing(group, name, why string) {
	r.Add(Figure{Group: group, Name: name, Missing: true, Note: why})
}

// WriteJSON writes the report to path, creating its directory.
func (r *Report) WriteJSON(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create results dir: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// num formats a number with a precision that suits its size.
func num(v float64) string {
	switch a := abs(v); {
	case a == 0:
		return "0"
	case a >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 1:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
