package workload

import (
	"fmt"
	"time"
)

// Config says what to generate. The same Config, seed included, always
// gives the same Workload.
type Config struct {
	// Seed drives every random choice.
	Seed int64
	// Prefix starts every lead, device and event id, so that runs sharing
	// a broker or a Redis never see each other's leads.
	Prefix string
	// Leads is the number of identified leads.
	Leads int
	// Visitors is the number of anonymous devices that never identify.
	Visitors int
	// MaxDevices is the most devices (anonymous ids) one lead uses.
	MaxDevices int
	// DuplicateRate is the share of events sent a second time, unchanged.
	DuplicateRate float64
	// ExcludedRate is the share of leads from a competitor's domain.
	ExcludedRate float64
	// MaxBatch is the most events in one batch.
	MaxBatch int
	// Poison is the number of poison records.
	Poison int
	// Newest is the latest event time; events reach up to 20 days back.
	Newest time.Time
	// WriteKey goes into every batch.
	WriteKey string
}

// DefaultConfig returns a small workload: a few hundred leads, about two
// thousand events.
func DefaultConfig(seed int64) Config {
	return Config{
		Seed:          seed,
		Prefix:        "wl-",
		Leads:         300,
		Visitors:      30,
		MaxDevices:    3,
		DuplicateRate: 0.05,
		ExcludedRate:  0.08,
		MaxBatch:      20,
		Poison:        6,
		Newest:        time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC),
		WriteKey:      "wk_faults",
	}
}

// Validate reports the first field that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Leads < 0 || c.Visitors < 0 || c.Poison < 0:
		return fmt.Errorf("workload: leads, visitors and poison must be >= 0")
	case c.MaxDevices < 1:
		return fmt.Errorf("workload: max devices must be >= 1, got %d", c.MaxDevices)
	case c.MaxBatch < 1:
		return fmt.Errorf("workload: max batch must be >= 1, got %d", c.MaxBatch)
	case c.DuplicateRate < 0 || c.DuplicateRate > 1:
		return fmt.Errorf("workload: duplicate rate must be in [0, 1], got %g", c.DuplicateRate)
	case c.ExcludedRate < 0 || c.ExcludedRate > 1:
		return fmt.Errorf("workload: excluded rate must be in [0, 1], got %g", c.ExcludedRate)
	case c.Newest.IsZero():
		return fmt.Errorf("workload: newest event time is not set")
	}
	return nil
}
