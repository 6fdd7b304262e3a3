package deploycheck

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"time"
)

// Services are the binaries the deployments run.
var Services = []string{"tracker", "scorer", "notifier"}

// Root is the repository root, relative to this package.
const Root = "../../../.."

// Build compiles the named service into dir and returns its path.
func Build(ctx context.Context, dir, service string) (string, error) {
	out := filepath.Join(dir, service)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/"+service)
	cmd.Dir = filepath.Join(Root, "services", service)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", service, err, msg)
	}
	return out, nil
}

var envPattern = regexp.MustCompile(`\(env (LEADSTREAM_[A-Z0-9_]+)\)`)

// EnvNames runs the binary with -h (after each of the given argument
// prefixes) and returns every environment variable its flags read.
func EnvNames(ctx context.Context, bin string, prefixes ...[]string) (map[string]bool, error) {
	if len(prefixes) == 0 {
		prefixes = [][]string{nil}
	}
	names := map[string]bool{}
	for _, p := range prefixes {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		cmd := exec.CommandContext(ctx, bin, append(append([]string{}, p...), "-h")...)
		cmd.Env = cleanEnv()
		// The exit status of -h differs between programs; the text matters.
		out, _ := cmd.CombinedOutput()
		cancel()
		for _, m := range envPattern.FindAllStringSubmatch(string(out), -1) {
			names[m[1]] = true
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s -h names no LEADSTREAM_ variables", bin)
	}
	return names, nil
}

// cleanEnv drops LEADSTREAM_ variables, so help shows the built-in
// defaults whatever the developer's shell holds.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if len(kv) < 11 || kv[:11] != "LEADSTREAM_" {
			out = append(out, kv)
		}
	}
	return out
}

// SecretEnv lists variables the shared config reads directly from the
// environment, without a flag, so that secrets never show in a process
// listing.
var SecretEnv = map[string]bool{
	"LEADSTREAM_KAFKA_SASL_PASSWORD": true,
	"LEADSTREAM_REDIS_PASSWORD":      true,
}
