package rules

import (
	"testing"
	"time"
)

// TestLocalDayUTC checks the arithmetic shortcut for UTC against the
// calendar, around the epoch and at the edges of days.
func TestLocalDayUTC(t *testing.T) {
	tests := []struct {
		name string
		atMs int64
	}{
		{"epoch", 0},
		{"just before the epoch", -1},
		{"a day before the epoch", -msPerDay},
		{"just after a day before the epoch", -msPerDay + 1},
		{"last ms of a day", 1_800_000_000_000 - 1_800_000_000_000%msPerDay - 1},
		{"first ms of a day", 1_800_000_000_000 - 1_800_000_000_000%msPerDay},
		{"long before the epoch", -5_000_000_000_123},
		{"far ahead", 4_102_444_800_000 + 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y, m, d := time.UnixMilli(tt.atMs).UTC().Date()
			want := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
			if got := localDay(tt.atMs, time.UTC); got != want {
				t.Errorf("got %d, want %d", got, want)
			}
		})
	}
}
