package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// WebhookSecretEnv carries --webhook-secret to the notifier, so the secret
// never appears in a file or on a command line.
const WebhookSecretEnv = "LEADSTREAM_DEVSTACK_WEBHOOK_SECRET"

// sinksFile returns the sinks file the notifier should read: --sinks as
// given, or one written into the data directory for --webhook, or a log
// sink that prints every transition.
func sinksFile(cfg *Config) (string, error) {
	if cfg.Sinks != "" {
		return filepath.Abs(cfg.Sinks)
	}
	path := filepath.Join(cfg.DataDir, "sinks.yaml")
	if err := os.WriteFile(path, []byte(sinksYAML(cfg)), 0o600); err != nil {
		return "", fmt.Errorf("write sinks file: %w", err)
	}
	return filepath.Abs(path)
}

// sinksYAML allows private networks because devstack runs on a laptop,
// where the webhook receiver is usually on localhost.
func sinksYAML(cfg *Config) string {
	head := "# Written by devstack on each start; edits are overwritten.\n" +
		"allow_private_networks: true\nsinks:\n"
	if cfg.Webhook == "" {
		return head + "  - name: log\n    type: log\n    stages: [mql, sql, excluded]\n"
	}
	s := head + "  - name: webhook\n    type: webhook\n" +
		"    url: " + strconv.Quote(cfg.Webhook) + "\n"
	if cfg.WebhookSecret != "" {
		s += "    secret_env: " + WebhookSecretEnv + "\n"
	}
	return s + "    stages: [mql, sql, excluded]\n"
}
