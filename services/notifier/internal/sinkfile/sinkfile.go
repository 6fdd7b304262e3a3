// Package sinkfile reads and checks the notifier's sinks file: which
// endpoints receive which stage transitions, and how patiently. Every
// mistake is reported with the file, line and fix before the notifier
// starts; secrets and secret URLs come only from the environment.
package sinkfile

import (
	"time"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// Sink types.
const (
	TypeWebhook = "webhook"
	TypeSlack   = "slack"
	TypeLog     = "log"
)

// Defaults for the optional per-sink settings.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxAttempts = 8
	maxTimeout         = 2 * time.Minute
	maxMaxAttempts     = 100
)

// File is a checked sinks file.
type File struct {
	// AllowPrivateNetworks lets sinks reach loopback and private
	// addresses; for development and tests only.
	AllowPrivateNetworks bool
	// Sinks are in file order.
	Sinks []Sink
}

// Sink is one checked destination.
type Sink struct {
	Name string
	Type string
	// URL is the endpoint, from url or from the variable url_env names.
	URL string
	// Secret signs webhook bodies; from the variable secret_env names.
	Secret []byte
	// Stages are the target stages this sink receives.
	Stages []leadstreamv1.Stage
	// Timeout bounds each attempt.
	Timeout time.Duration
	// MaxAttempts is the number of attempts before parking, at least 1.
	MaxAttempts int
	// LinkTemplate, for slack, builds a link to the lead; "{{lead_id}}"
	// is replaced by the URL-escaped lead id.
	LinkTemplate string
	// Line is where the sink starts in the file.
	Line int
}

// Wants reports whether the sink receives transitions to stage.
func (s *Sink) Wants(stage leadstreamv1.Stage) bool {
	for _, st := range s.Stages {
		if st == stage {
			return true
		}
	}
	return false
}
