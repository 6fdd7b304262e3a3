package bench

import (
	"fmt"
	"strconv"
	"time"

	"github.com/leadstream/leadstream/pkg/config"
)

// Suites in the order a run takes them; references come first so that
// later figures can be compared with them.
var Suites = []string{"kafka", "redis", "rules", "pixel", "batch", "memory", "scorer",
	"notifier", "latency"}

// Config is what a run measures and for how long.
type Config struct {
	// Bin is the directory of the tracker, scorer and notifier binaries.
	Bin string
	// Self is the harness binary, run again to serve the bare pixel.
	Self string
	// Rules is the rules file the scorer and the memory figures use.
	Rules string
	// OutDir receives results.json, chart.png and the child logs.
	OutDir string
	// Quick shortens every step for a run of a minute or two.
	Quick bool
	// Workers is the concurrency of the closed-loop HTTP loads.
	Workers int
	// Duration is how long each throughput step is counted.
	Duration time.Duration
	// Rates are the event rates of the latency steps, per second.
	Rates []int
	// Leads are the lead counts of the memory figures.
	Leads []int
	// Events is how many events the scorer and Kafka figures use.
	Events int
	// Only restricts the run to these suites; empty runs all.
	Only []string
	// Profile takes a CPU profile of every scorer while it drains.
	Profile bool

	leads []string // --leads, read into Leads by Validate
}

// Register defines the flags on fs.
func (c *Config) Register(fs *config.FlagSet) {
	fs.String(&c.Bin, "bin", "bin", "directory of the tracker, scorer and notifier binaries")
	fs.String(&c.Rules, "rules", "deploy/rules/example.yaml", "rules file to score with")
	fs.String(&c.OutDir, "out", "bench/out", "directory for results.json, chart.png and logs")
	fs.Bool(&c.Quick, "quick", false, "short steps: about a minute in all")
	fs.Int(&c.Workers, "workers", 32, "concurrent requests of the HTTP loads")
	fs.Duration(&c.Duration, "duration", 0, "counted time of each load step (default 8s, quick 2s)")
	fs.List(&c.Only, "only", nil, "run only these suites: "+fmt.Sprint(Suites))
	fs.Bool(&c.Profile, "profile", false,
		"take a CPU profile of each scorer while it drains, into <out>/profiles")
	fs.List(&c.leads, "leads", nil,
		"lead counts of the memory figures (default 10000,100000, quick 10000)")
}

// Defaults fills what the flags left open, by mode.
func (c *Config) Defaults() {
	if c.Duration == 0 {
		c.Duration = pick(c.Quick, 2*time.Second, 8*time.Second)
	}
	if len(c.Rates) == 0 {
		c.Rates = pick(c.Quick, []int{500, 2000}, []int{500, 1000, 2000, 4000, 7000, 10000})
	}
	if len(c.Leads) == 0 {
		c.Leads = pick(c.Quick, []int{10000}, []int{10000, 100000})
	}
	if c.Events == 0 {
		c.Events = pick(c.Quick, 20000, 100000)
	}
}

// Validate reports the first setting that cannot work.
func (c *Config) Validate() error {
	if c.Workers < 1 {
		return &config.FieldError{Field: "workers", Value: strconv.Itoa(c.Workers),
			Fix: "use at least 1"}
	}
	known := map[string]bool{}
	for _, s := range Suites {
		known[s] = true
	}
	for _, s := range c.Only {
		if !known[s] {
			return &config.FieldError{Field: "only", Value: s,
				Fix: "name suites from " + fmt.Sprint(Suites)}
		}
	}
	if len(c.leads) > 0 {
		c.Leads = c.Leads[:0]
	}
	for _, l := range c.leads {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return &config.FieldError{Field: "leads", Value: l,
				Fix: "list positive lead counts, e.g. 10000,1000000"}
		}
		c.Leads = append(c.Leads, n)
	}
	return nil
}

// runs reports whether the suite is part of the run.
func (c *Config) runs(suite string) bool {
	if len(c.Only) == 0 {
		return true
	}
	for _, s := range c.Only {
		if s == suite {
			return true
		}
	}
	return false
}

func pick[T any](quick bool, short, long T) T {
	if quick {
		return short
	}
	return long
}
