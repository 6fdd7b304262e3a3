package stack

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/logging"
)

// DefaultStopTimeout outlasts the longest grace a part gives itself on
// SIGTERM, the tracker's 30s --shutdown-timeout for Kafka to take the
// events it accepted (the scorers drain for 20s), so that a slow drain
// ends by the part's own deadline rather than by SIGKILL.
const DefaultStopTimeout = 35 * time.Second

// Config is everything devstack needs to start the pipeline.
type Config struct {
	Rules         string        // rules file for the scorers
	Sinks         string        // sinks file for the notifier; empty means generate one
	Webhook       string        // URL of a single webhook sink, instead of Sinks
	WebhookSecret string        // HMAC secret of that webhook; never logged
	HTTP          string        // tracker address
	Kafka         string        // broker address
	Redis         string        // running Redis to use; empty starts one
	DataDir       string        // where the broker and Redis keep their data
	Scorers       int           // number of scorer processes
	WriteKey      string        // write key the tracker accepts
	Bin           string        // directory holding the service binaries
	StopTimeout   time.Duration // how long a child may take to stop
	MaxRestarts   int           // restarts allowed per child before giving up
	Log           logging.Config
}

// Register defines the devstack flags on fs.
func (c *Config) Register(fs *config.FlagSet) {
	fs.String(&c.Rules, "rules", "deploy/rules/example.yaml", "rules file for the scorers")
	fs.String(&c.Sinks, "sinks", "", "notifier sinks file (default: log every transition)")
	fs.String(&c.Webhook, "webhook", "", "URL of a single webhook sink, instead of --sinks")
	fs.String(&c.WebhookSecret, "webhook-secret", "", "HMAC secret for --webhook")
	fs.String(&c.HTTP, "http", "127.0.0.1:8080", "tracker address; port 0 picks a free one")
	fs.String(&c.Kafka, "kafka", "127.0.0.1:9092", "broker address; port 0 picks a free one")
	fs.String(&c.Redis, "redis", "", "use the Redis at this address instead of starting one")
	fs.String(&c.DataDir, "data-dir", ".data/devstack", "directory for broker and Redis data")
	fs.Int(&c.Scorers, "scorers", 2, "number of scorer processes")
	fs.String(&c.WriteKey, "write-key", "wk_dev", "write key the tracker accepts")
	fs.String(&c.Bin, "bin", defaultBin(), "directory holding tracker, scorer and notifier")
	fs.Duration(&c.StopTimeout, "stop-timeout", DefaultStopTimeout,
		"how long each part may take to stop before it is killed")
	fs.Int(&c.MaxRestarts, "max-restarts", 5, "restarts allowed per part before devstack gives up")
	c.Log.Register(fs)
	// A developer reads devstack in a terminal, so console is the default.
	if _, ok := os.LookupEnv(config.EnvName("log-format")); !ok {
		f := fs.Lookup("log-format")
		f.DefValue = "console"
		_ = f.Value.Set("console")
	}
}

// defaultBin is the directory of the running executable, where make build
// puts every service binary.
func defaultBin() string {
	exe, err := os.Executable()
	if err != nil {
		return "bin"
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return filepath.Dir(exe)
}

// Validate reports the first setting that cannot work, with its fix.
func (c *Config) Validate() error {
	if err := c.Log.Validate(); err != nil {
		return err
	}
	if err := fileExists("rules", c.Rules); err != nil {
		return err
	}
	if err := c.validateSinks(); err != nil {
		return err
	}
	for _, a := range []struct{ field, addr string }{{"http", c.HTTP}, {"kafka", c.Kafka}} {
		if err := loopback(a.field, a.addr); err != nil {
			return err
		}
	}
	if c.Redis != "" {
		if _, _, err := net.SplitHostPort(c.Redis); err != nil {
			return &config.FieldError{Field: "redis", Value: c.Redis, Fix: "use host:port"}
		}
	}
	return c.validateProcesses()
}

func (c *Config) validateSinks() error {
	if c.Sinks != "" && c.Webhook != "" {
		return &config.FieldError{Field: "webhook", Value: c.Webhook,
			Fix: "use either --sinks or --webhook, not both"}
	}
	if c.WebhookSecret != "" && c.Webhook == "" {
		return &config.FieldError{Field: "webhook-secret", Fix: "set --webhook too"}
	}
	if c.Sinks != "" {
		return fileExists("sinks", c.Sinks)
	}
	return nil
}

func (c *Config) validateProcesses() error {
	if c.Scorers < 1 {
		return &config.FieldError{Field: "scorers", Value: fmt.Sprint(c.Scorers),
			Fix: "run at least one scorer"}
	}
	if c.WriteKey == "" {
		return &config.FieldError{Field: "write-key", Fix: "set a write key such as wk_dev"}
	}
	if c.DataDir == "" {
		return &config.FieldError{Field: "data-dir", Fix: "name a directory such as .data/devstack"}
	}
	if c.StopTimeout <= 0 {
		return &config.FieldError{Field: "stop-timeout", Value: c.StopTimeout.String(),
			Fix: "use a positive duration such as 35s"}
	}
	for _, name := range []string{"tracker", "scorer", "notifier"} {
		if err := fileExists("bin", filepath.Join(c.Bin, name)); err != nil {
			return &config.FieldError{Field: "bin", Value: c.Bin,
				Fix: "point at the directory of the built services (run make build)"}
		}
	}
	return nil
}

// loopback accepts only loopback addresses: devstack has no
// authentication, so it must not listen where others can reach it.
func loopback(field, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return &config.FieldError{Field: field, Value: addr, Fix: "use host:port"}
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return &config.FieldError{Field: field, Value: addr,
			Fix: "devstack listens on loopback only; use 127.0.0.1"}
	}
	return nil
}

func fileExists(field, path string) error {
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		return &config.FieldError{Field: field, Value: path, Fix: "name an existing file"}
	}
	return nil
}
