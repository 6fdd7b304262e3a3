// Package app wires the tracker together: its configuration, the Kafka
// client, the producer and the HTTP server, and runs them until a signal
// asks it to drain and stop.
package app

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/logging"

	"github.com/leadstream/leadstream/services/tracker/internal/publish"
	"github.com/leadstream/leadstream/services/tracker/internal/sites"
	"github.com/leadstream/leadstream/services/tracker/internal/tracking"
)

// Config is everything the tracker reads from flags and environment.
type Config struct {
	HTTPAddr string
	Kafka    config.Kafka
	Log      logging.Config

	WriteKeys []string
	SitesFile string

	MaxBodyBytes int
	Limits       tracking.Limits
	ClockSkew    time.Duration
	MaxEventAge  time.Duration

	PixelBuffer    int
	Linger         time.Duration
	Compression    string
	ProduceTimeout time.Duration

	RateLimit         int
	RateBurst         int
	TrustForwardedFor bool

	CreateTopics     bool
	EventsPartitions int

	ShutdownDelay   time.Duration
	ShutdownTimeout time.Duration
}

// Register defines every flag on fs.
func (c *Config) Register(fs *config.FlagSet) {
	fs.String(&c.HTTPAddr, "http-addr", "127.0.0.1:8080", "address of the HTTP API and telemetry")
	c.Kafka.Register(fs)
	c.Log.Register(fs)
	fs.List(&c.WriteKeys, "write-keys", nil,
		"accepted write keys: key or key=site, comma-separated")
	fs.String(&c.SitesFile, "sites", "", "YAML file of sites with write keys and CORS origins")
	c.registerLimits(fs)
	c.registerProducer(fs)
	fs.Int(&c.EventsPartitions, "events-partitions", 8,
		"partitions of the events topic when created")
	fs.Bool(&c.CreateTopics, "create-topics", true, "create the events topic at start when missing")
	fs.Duration(&c.ShutdownDelay, "shutdown-delay", 0,
		"how long to fail readiness before refusing requests on SIGTERM")
	fs.Duration(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second,
		"how long to wait on SIGTERM for Kafka to take every accepted event")
}

func (c *Config) registerLimits(fs *config.FlagSet) {
	def := tracking.DefaultLimits()
	fs.Int(&c.MaxBodyBytes, "max-body-bytes", 512<<10, "largest batch body in bytes")
	fs.Int(&c.Limits.MaxEvents, "max-events", def.MaxEvents, "most events per batch")
	fs.Int(&c.Limits.MaxProps, "max-properties", def.MaxProps,
		"most properties, or traits, per event")
	fs.Int(&c.Limits.MaxKeyLen, "max-key-chars", def.MaxKeyLen, "longest property or trait name")
	fs.Int(&c.Limits.MaxValueLen, "max-value-chars", def.MaxValueLen,
		"longest property or trait value")
	fs.Duration(&c.ClockSkew, "clock-skew", 5*time.Minute,
		"how far a sender's clock is trusted (browsers both ways, servers into the future)")
	fs.Duration(&c.MaxEventAge, "max-event-age", 720*time.Hour,
		"oldest timestamp the batch API accepts; older events are refused")
	fs.Int(&c.RateLimit, "rate-limit", 20,
		"requests per second per write key and client address; 0 turns limiting off")
	fs.Int(&c.RateBurst, "rate-burst", 100,
		"requests a client may send at once before rate limiting")
	fs.Bool(&c.TrustForwardedFor, "trust-forwarded-for", false,
		"take the client address from X-Forwarded-For (behind a proxy only)")
}

func (c *Config) registerProducer(fs *config.FlagSet) {
	fs.Int(&c.PixelBuffer, "pixel-buffer", 10000,
		"pixel events held for Kafka before the pixel answers 503")
	fs.Duration(&c.Linger, "kafka-linger", 5*time.Millisecond,
		"how long the producer waits to fill a batch")
	fs.String(&c.Compression, "kafka-compression", "lz4",
		"codec of produced batches: "+strings.Join(publish.Compressions, ", "))
	fs.Duration(&c.ProduceTimeout, "produce-timeout", 10*time.Second,
		"how long a batch request waits for Kafka before answering 503")
}

// Validate reports the first setting that cannot work, naming the flag
// and the fix.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return &config.FieldError{Field: "http-addr", Value: c.HTTPAddr, Fix: "use host:port"}
	}
	if err := c.Kafka.Validate(); err != nil {
		return err
	}
	if err := c.Log.Validate(); err != nil {
		return err
	}
	if len(c.WriteKeys) == 0 && c.SitesFile == "" {
		return &config.FieldError{Field: "write-keys",
			Fix: "name at least one write key, or a --sites file"}
	}
	for _, check := range []func() error{c.validateLimits, c.validateProducer} {
		if err := check(); err != nil {
			return err
		}
	}
	_, err := c.Sites()
	return err
}

func (c *Config) validateLimits() error {
	positive := []struct {
		field string
		value int
	}{
		{"max-body-bytes", c.MaxBodyBytes}, {"max-events", c.Limits.MaxEvents},
		{"max-properties", c.Limits.MaxProps}, {"max-key-chars", c.Limits.MaxKeyLen},
		{"max-value-chars", c.Limits.MaxValueLen}, {"pixel-buffer", c.PixelBuffer},
		{"events-partitions", c.EventsPartitions}, {"rate-burst", c.RateBurst},
	}
	for _, p := range positive {
		if p.value <= 0 {
			return &config.FieldError{Field: p.field, Value: fmt.Sprint(p.value),
				Fix: "use a number above 0"}
		}
	}
	if c.ClockSkew < 0 {
		return &config.FieldError{Field: "clock-skew", Value: c.ClockSkew.String(),
			Fix: "use a duration of 0 or more, such as 5m"}
	}
	if c.MaxEventAge < c.ClockSkew {
		return &config.FieldError{Field: "max-event-age", Value: c.MaxEventAge.String(),
			Fix: "use a duration at least as long as --clock-skew"}
	}
	if c.RateLimit < 0 {
		return &config.FieldError{Field: "rate-limit", Value: fmt.Sprint(c.RateLimit),
			Fix: "use 0 to turn rate limiting off, or a positive rate"}
	}
	return nil
}

func (c *Config) validateProducer() error {
	if c.Linger < 0 {
		return &config.FieldError{Field: "kafka-linger", Value: c.Linger.String(),
			Fix: "use a duration of 0 or more, such as 5ms"}
	}
	if _, err := publish.ParseCompression(c.Compression); err != nil {
		return &config.FieldError{Field: "kafka-compression", Value: c.Compression,
			Fix: "use one of " + strings.Join(publish.Compressions, ", ")}
	}
	if c.ProduceTimeout <= 0 {
		return &config.FieldError{Field: "produce-timeout", Value: c.ProduceTimeout.String(),
			Fix: "use a positive duration such as 10s"}
	}
	if c.ShutdownTimeout <= 0 || c.ShutdownDelay < 0 {
		return &config.FieldError{Field: "shutdown-timeout",
			Fix: "use a positive --shutdown-timeout and a --shutdown-delay of 0 or more"}
	}
	return nil
}

// Sites reads the write keys of --write-keys and --sites into a registry.
func (c *Config) Sites() (*sites.Registry, error) {
	all, err := sites.ParseKeys(c.WriteKeys)
	if err != nil {
		return nil, &config.FieldError{Field: "write-keys", Fix: err.Error()}
	}
	if c.SitesFile != "" {
		more, err := sites.LoadFile(c.SitesFile)
		if err != nil {
			return nil, &config.FieldError{Field: "sites", Value: c.SitesFile, Fix: err.Error()}
		}
		all = append(all, more...)
	}
	reg, err := sites.New(all...)
	if err != nil {
		return nil, &config.FieldError{Field: "sites", Fix: err.Error()}
	}
	return reg, nil
}
