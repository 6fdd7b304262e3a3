package rules

import (
	"math"
	"testing"
)

const day = int64(86400000)

func TestDecay(t *testing.T) {
	r := mustParse(t, withStages("stages: {mql: \"page >= 1\"}\n"))
	t0 := int64(1_800_000_000_000)
	tests := []struct {
		name  string
		score string
		steps []earn
		at    int64
		want  float64
	}{
		{"one half-life", "eng", []earn{{10, t0}}, t0 + day, 5},
		{"two half-lives", "eng", []earn{{10, t0}}, t0 + 2*day, 2.5},
		{"in order", "eng", []earn{{10, t0}, {10, t0 + day}}, t0 + day, 15},
		{"out of order", "eng", []earn{{10, t0 + day}, {10, t0}}, t0 + day, 15},
		{"late event does not move the reference", "eng", []earn{{10, t0 + day}, {10, t0}},
			t0 + 2*day, 7.5},
		{"before the reference time", "eng", []earn{{8, t0}}, t0 - day, 8},
		{"no decay", "flat", []earn{{1.5, t0}, {1.5, t0 + 100*day}}, t0 + 1000*day, 3},
		{"unknown score never decays", "missing", []earn{{4, t0}}, t0 + day, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s ScoreState
			for _, st := range tt.steps {
				s = r.AddPoints(s, tt.score, st.points, st.at)
			}
			if got := r.ScoreAt(tt.score, s, tt.at); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("got %v, want %v (state %+v)", got, tt.want, s)
			}
		})
	}
}

// earn is points earned at a time.
type earn struct {
	points float64
	at     int64
}

// TestDecayOrderIndependent checks that any arrival order of the same
// points gives the same value later on.
func TestDecayOrderIndependent(t *testing.T) {
	r := mustParse(t, withStages("stages: {mql: \"page >= 1\"}\n"))
	t0 := int64(1_800_000_000_000)
	times := []int64{t0 + 3*day, t0, t0 + day/3, t0 + 7*day, t0 + 2*day}
	var inOrder, shuffled ScoreState
	for _, at := range []int64{times[1], times[2], times[4], times[0], times[3]} {
		inOrder = r.AddPoints(inOrder, "eng", 10, at)
	}
	for _, at := range times {
		shuffled = r.AddPoints(shuffled, "eng", 10, at)
	}
	later := t0 + 10*day
	a, b := r.ScoreAt("eng", inOrder, later), r.ScoreAt("eng", shuffled, later)
	if math.Abs(a-b) > 1e-9 {
		t.Errorf("in order %v, shuffled %v", a, b)
	}
}

func TestCombine(t *testing.T) {
	t0 := int64(1_800_000_000_000)
	got := combine(ScoreState{Value: 10, AtMs: t0}, ScoreState{Value: 4, AtMs: t0 + day}, day)
	if got.AtMs != t0+day || math.Abs(got.Value-9) > 1e-9 {
		t.Errorf("got %+v, want 9 at the later time", got)
	}
}

func TestFormatValue(t *testing.T) {
	tests := map[float64]string{41.5: "41.5", 40: "40", 2: "2", 39.96: "40", 0.04: "0",
		-0.04: "0", -2.25: "-2.3", 1234567.89: "1234567.9"}
	for v, want := range tests {
		if got := formatValue(v); got != want {
			t.Errorf("formatValue(%v) = %q, want %q", v, got, want)
		}
	}
}
