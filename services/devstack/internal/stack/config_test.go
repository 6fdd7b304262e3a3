package stack

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/logging"
)

func validConfig(t *testing.T) Config {
	t.Helper()
	return Config{
		Rules: "../../../../deploy/rules/example.yaml", HTTP: "127.0.0.1:8080",
		Kafka: "127.0.0.1:9092", DataDir: t.TempDir(), Scorers: 2, WriteKey: "wk_dev",
		Bin: fakeBin(t), StopTimeout: time.Second, MaxRestarts: 1,
		Log: logging.Config{Format: "console", Level: "info"},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		field  string // empty means valid
	}{
		{"valid", func(*Config) {}, ""},
		{"missing rules", func(c *Config) { c.Rules = "nope.yaml" }, "rules"},
		{"sinks and webhook", func(c *Config) { c.Sinks, c.Webhook = c.Rules, "http://x" },
			"webhook"},
		{"secret without webhook", func(c *Config) { c.WebhookSecret = "s" }, "webhook-secret"},
		{"public http", func(c *Config) { c.HTTP = "0.0.0.0:8080" }, "http"},
		{"kafka not host:port", func(c *Config) { c.Kafka = "9092" }, "kafka"},
		{"bad redis", func(c *Config) { c.Redis = "redis" }, "redis"},
		{"no scorers", func(c *Config) { c.Scorers = 0 }, "scorers"},
		{"no write key", func(c *Config) { c.WriteKey = "" }, "write-key"},
		{"no binaries", func(c *Config) { c.Bin = filepath.Join(c.DataDir, "x") }, "bin"},
		{"localhost ok", func(c *Config) { c.HTTP = "localhost:0" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig(t)
			tt.change(&c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "--"+tt.field+" ") {
				t.Fatalf("Validate = %v, want an error naming --%s", err, tt.field)
			}
		})
	}
}

func TestRegisterDefaults(t *testing.T) {
	var c Config
	fs := config.NewFlagSetEnv("devstack", func(string) (string, bool) { return "", false })
	c.Register(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatalf("parse: %v", err)
	}
	if c.HTTP != "127.0.0.1:8080" || c.Kafka != "127.0.0.1:9092" || c.Scorers != 2 ||
		c.WriteKey != "wk_dev" || c.DataDir != ".data/devstack" || c.Log.Format != "console" {
		t.Errorf("defaults = %+v", c)
	}
}

func TestSinksYAML(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		want, not []string
	}{
		{"log by default", Config{}, []string{"type: log", "allow_private_networks: true"},
			[]string{"webhook"}},
		{"webhook with secret", Config{Webhook: "http://h/x", WebhookSecret: "s"},
			[]string{"type: webhook", `url: "http://h/x"`, "secret_env: " + WebhookSecretEnv},
			[]string{"type: log"}},
		{"webhook without secret", Config{Webhook: "http://h/x"},
			[]string{"type: webhook"}, []string{"secret_env"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sinksYAML(&tt.cfg)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in\n%s", w, got)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("unexpected %q in\n%s", n, got)
				}
			}
		})
	}
}
