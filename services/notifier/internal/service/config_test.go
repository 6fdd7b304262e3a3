package service_test

import (
	"errors"
	"testing"
	"time"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/services/notifier/internal/service"
)

// parse reads args, after the minimum a notifier needs, as the binary
// would.
func parse(t *testing.T, args ...string) service.Config {
	t.Helper()
	var cfg service.Config
	fs := config.NewFlagSet("notifier")
	cfg.Register(fs)
	base := []string{"--sinks", "sinks.yaml", "--kafka-brokers", "127.0.0.1:9092",
		"--redis-addrs", "127.0.0.1:6379"}
	if err := fs.Parse(append(base, args...)); err != nil {
		t.Fatalf("parse flags: %v", err)
	}
	return cfg
}

func TestGroupTimeouts(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		session   time.Duration
		rebalance time.Duration
		field     string // the field Validate names; empty when valid
	}{
		{"defaults", nil, 30 * time.Second, 30 * time.Second, ""},
		{"short but allowed", []string{"--session-timeout", "1s", "--rebalance-timeout", "2s"},
			time.Second, 2 * time.Second, ""},
		{"session below 1s", []string{"--session-timeout", "999ms"},
			999 * time.Millisecond, 30 * time.Second, "session-timeout"},
		{"rebalance zero", []string{"--rebalance-timeout", "0s"},
			30 * time.Second, 0, "rebalance-timeout"},
		{"negative session", []string{"--session-timeout", "-5s"},
			-5 * time.Second, 30 * time.Second, "session-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := parse(t, tt.args...)
			if cfg.Session != tt.session || cfg.Rebalance != tt.rebalance {
				t.Errorf("session, rebalance = %v, %v, want %v, %v",
					cfg.Session, cfg.Rebalance, tt.session, tt.rebalance)
			}
			err := cfg.Validate()
			var fe *config.FieldError
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field || fe.Fix == ""):
				t.Errorf("Validate() = %v, want a FieldError for %s with a fix", err, tt.field)
			}
		})
	}
}

func TestGroupTimeoutsFromEnvironment(t *testing.T) {
	t.Setenv("LEADSTREAM_SESSION_TIMEOUT", "7s")
	t.Setenv("LEADSTREAM_REBALANCE_TIMEOUT", "9s")
	cfg := parse(t)
	if cfg.Session != 7*time.Second || cfg.Rebalance != 9*time.Second {
		t.Errorf("session, rebalance = %v, %v, want 7s, 9s", cfg.Session, cfg.Rebalance)
	}
}
