package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadstream/leadstream/pkg/config"
)

func parseConfig(t *testing.T, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	fs := config.NewFlagSetEnv("tracker", func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	var cfg Config
	cfg.Register(fs)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := parseConfig(t, map[string]string{"LEADSTREAM_WRITE_KEYS": "wk_a,wk_b=blog"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != "127.0.0.1:8080" || cfg.PixelBuffer != 10000 ||
		cfg.MaxBodyBytes != 512<<10 || cfg.MaxEventAge != 720*time.Hour ||
		cfg.ClockSkew != 5*time.Minute || !cfg.CreateTopics || cfg.EventsPartitions != 8 ||
		cfg.Limits.MaxEvents != 500 || len(cfg.WriteKeys) != 2 || cfg.Compression != "lz4" {
		t.Errorf("defaults = %+v", cfg)
	}
}

func TestConfigRefuses(t *testing.T) {
	sitesFile := filepath.Join(t.TempDir(), "sites.yaml")
	if err := os.WriteFile(sitesFile, []byte("sites:\n  - name: a\n    write_key: wk\n"+
		"    origins: [example.com]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		args  []string
		field string
	}{
		{"no keys", nil, "write-keys"},
		{"bad addr", []string{"--write-keys=wk", "--http-addr=8080"}, "http-addr"},
		{"zero buffer", []string{"--write-keys=wk", "--pixel-buffer=0"}, "pixel-buffer"},
		{"negative skew", []string{"--write-keys=wk", "--clock-skew=-1s"}, "clock-skew"},
		{"age below skew", []string{"--write-keys=wk", "--max-event-age=1m"}, "max-event-age"},
		{"bad origin", []string{"--sites=" + sitesFile}, "sites"},
		{"missing sites file", []string{"--sites=/nonexistent.yaml"}, "sites"},
		{"duplicate key", []string{"--write-keys=wk", "--sites=" + sitesFile}, "sites"},
		{"bad brokers", []string{"--write-keys=wk", "--kafka-brokers=nohost"}, "kafka-brokers"},
		{"bad compression", []string{"--write-keys=wk", "--kafka-compression=gzip"},
			"kafka-compression"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig(t, nil, tc.args...)
			var fe *config.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err = %v, want a FieldError on %s", err, tc.field)
			}
			if !strings.Contains(err.Error(), "--"+tc.field) {
				t.Errorf("message %q does not name the flag", err)
			}
		})
	}
}
