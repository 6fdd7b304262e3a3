package stack

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/leadstream/leadstream/services/devstack/internal/supervise"
)

// Consumer groups of the scorers and the notifier.
const (
	ScorerGroup   = "leadstream-scorer"
	NotifierGroup = "leadstream-notifier"
)

// ScorerCommand is the scorer subcommand that consumes events.
var ScorerCommand = []string{"run"}

// endpoints are the addresses the parts talk over.
type endpoints struct {
	http, kafka, redis string
	rules, sinks       string
}

func (c *Config) logArgs() []string {
	return []string{"--log-format", c.Log.Format, "--log-level", c.Log.Level}
}

func trackerSpec(cfg *Config, ep endpoints) supervise.Spec {
	args := append([]string{
		"--http-addr", ep.http,
		"--write-keys", cfg.WriteKey + "=devstack",
		"--kafka-brokers", ep.kafka,
	}, cfg.logArgs()...)
	return supervise.Spec{
		Name: "tracker", Path: filepath.Join(cfg.Bin, "tracker"), Args: args,
		Ready: httpReady(ep.http),
	}
}

func scorerSpec(cfg *Config, ep endpoints, n int) (supervise.Spec, error) {
	addr, err := freeAddr()
	if err != nil {
		return supervise.Spec{}, err
	}
	args := append(append([]string{}, ScorerCommand...),
		"--http-addr", addr,
		"--rules", ep.rules,
		"--group", ScorerGroup,
		"--kafka-brokers", ep.kafka,
		"--redis-addrs", ep.redis,
	)
	return supervise.Spec{
		Name: fmt.Sprintf("scorer-%d", n), Path: filepath.Join(cfg.Bin, "scorer"),
		Args: append(args, cfg.logArgs()...), Ready: httpReady(addr),
	}, nil
}

func notifierSpec(cfg *Config, ep endpoints) (supervise.Spec, error) {
	addr, err := freeAddr()
	if err != nil {
		return supervise.Spec{}, err
	}
	args := append([]string{
		"--http-addr", addr,
		"--sinks", ep.sinks,
		"--group", NotifierGroup,
		"--kafka-brokers", ep.kafka,
		"--redis-addrs", ep.redis,
	}, cfg.logArgs()...)
	var env []string
	if cfg.WebhookSecret != "" {
		env = append(env, WebhookSecretEnv+"="+cfg.WebhookSecret)
	}
	return supervise.Spec{
		Name: "notifier", Path: filepath.Join(cfg.Bin, "notifier"), Args: args, Env: env,
		Ready: httpReady(addr),
	}, nil
}

// redisSpec runs a private redis-server whose append-only file lives in
// the data directory, so a second run resumes every lead's state.
func redisSpec(cfg *Config) (supervise.Spec, string, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return supervise.Spec{}, "", fmt.Errorf(
			"find redis-server (install it with make setup, or pass --redis): %w", err)
	}
	dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "redis"))
	if err != nil {
		return supervise.Spec{}, "", fmt.Errorf("resolve redis dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return supervise.Spec{}, "", fmt.Errorf("create redis dir: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return supervise.Spec{}, "", err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// SIGTERM makes redis-server fsync the append-only file and save a
	// snapshot before it exits.
	return supervise.Spec{
		Name: "redis", Path: path, Ready: redisReady(addr),
		Args: []string{
			"--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--dir", dir,
			"--appendonly", "yes", "--save", "60 1", "--daemonize", "no",
			"--protected-mode", "yes",
		},
	}, addr, nil
}
