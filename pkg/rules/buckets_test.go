package rules

import (
	"testing"
	"time"
)

func TestExportedBuckets(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	cases := []struct {
		name      string
		atMs      int64
		loc       *time.Location
		day, hour int64
	}{
		{"epoch", 0, time.UTC, 0, 0},
		{"just before the epoch", -1, time.UTC, -1, -1},
		{"late evening utc is the next day in berlin", 23*3_600_000 + 30*60_000, berlin, 1, 23},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := LocalDay(c.atMs, c.loc); got != c.day {
				t.Errorf("LocalDay = %d, want %d", got, c.day)
			}
			if got := UnixHour(c.atMs); got != c.hour {
				t.Errorf("UnixHour = %d, want %d", got, c.hour)
			}
		})
	}
}
