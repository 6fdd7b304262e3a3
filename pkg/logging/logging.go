// Package logging builds the zap loggers services use: JSON for
// production, coloured console lines for development.
package logging

import (
	"fmt"
	"strings"

	"github.com/leadstream/leadstream/pkg/config"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Config chooses the log format and level.
type Config struct {
	Format string // json or console
	Level  string // debug, info, warn or error
}

// Validate reports an unknown format or level.
func (c Config) Validate() error {
	switch c.Format {
	case "json", "console":
	default:
		return fmt.Errorf("--log-format %q: use json or console", c.Format)
	}
	if _, err := zapcore.ParseLevel(c.Level); err != nil {
		return fmt.Errorf("--log-level %q: use debug, info, warn or error", c.Level)
	}
	return nil
}

// New builds a logger for the service name, writing to standard error.
func New(service string, c Config) (*zap.Logger, error) {
	return build(service, c, "stderr")
}

// build is New writing to output, a path or "stderr".
func build(service string, c Config, output string) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(c.Level)
	if err != nil {
		return nil, fmt.Errorf("parse log level: %w", err)
	}
	var cfg zap.Config
	if strings.EqualFold(c.Format, "console") {
		cfg = zap.NewDevelopmentConfig()
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		cfg.DisableStacktrace = true
	} else {
		cfg = zap.NewProductionConfig()
		cfg.EncoderConfig.TimeKey = "ts"
		cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	}
	cfg.Level = zap.NewAtomicLevelAt(level)
	cfg.OutputPaths = []string{output}
	log, err := cfg.Build()
	if err != nil {
		return nil, fmt.Errorf("build logger: %w", err)
	}
	return log.With(zap.String("service", service)), nil
}

// Register defines --log-format and --log-level on fs.
func (c *Config) Register(fs *config.FlagSet) {
	fs.String(&c.Format, "log-format", "json", "log format: json or console")
	fs.String(&c.Level, "log-level", "info", "log level: debug, info, warn or error")
}
