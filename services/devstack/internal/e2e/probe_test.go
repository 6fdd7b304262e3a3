package e2e

import (
	"bytes"
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadstream/leadstream/services/devstack/internal/deploycheck"
	"go.yaml.in/yaml/v3"
)

// composeProbe returns the URL that the Compose file's health check of
// the services asks the probe for.
func composeProbe(t *testing.T) *url.URL {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(deploycheck.Root, "docker-compose.yml"))
	if err != nil {
		t.Fatalf("read compose file: %v", err)
	}
	var c struct {
		XService struct {
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"x-service"`
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("decode compose file: %v", err)
	}
	test := c.XService.Healthcheck.Test
	if len(test) != 3 || test[0] != "CMD" || test[1] != "/usr/local/bin/probe" {
		t.Fatalf("compose health check is %q, want [CMD /usr/local/bin/probe URL]", test)
	}
	u, err := url.Parse(test[2])
	if err != nil {
		t.Fatalf("compose health check URL: %v", err)
	}
	return u
}

// buildProbe builds the probe as the Dockerfile does.
func buildProbe(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "probe")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./deploy/docker/probe/main.go")
	cmd.Dir = deploycheck.Root
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build probe: %v\n%s", err, msg)
	}
	return out
}

func runProbe(t *testing.T, probe, target string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(probe, target)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("run probe: %v", err)
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// TestComposeHealthCheck runs the Compose file's health check against
// every service of a real devstack: it passes on each, and fails once the
// services are gone.
func TestComposeHealthCheck(t *testing.T) {
	bin, probe, want := buildAll(t), buildProbe(t), composeProbe(t)
	srv := httptest.NewServer(&webhook{})
	t.Cleanup(srv.Close)
	d := startDevstack(t, bin, t.TempDir(), srv.URL)

	addrs := map[string][]string{"tracker": {strings.TrimPrefix(d.tracker, "http://")}}
	for _, name := range []string{"scorer", "notifier"} {
		addrs[name] = childAddrs(t, d, name)
	}
	var targets []string
	for name, list := range addrs {
		if len(list) == 0 {
			t.Errorf("no address of the %s", name)
		}
		for _, addr := range list {
			targets = append(targets, "http://"+addr+want.Path)
		}
	}
	for _, target := range targets {
		if code, out := runProbe(t, probe, target); code != 0 {
			t.Errorf("probe %s exited %d, want 0: %s", target, code, out)
		}
	}
	d.stop(t)
	for _, target := range targets {
		if code, out := runProbe(t, probe, target); code != 1 || !strings.Contains(out, target) {
			t.Errorf("probe %s of a stopped service exited %d, want 1 naming it: %s",
				target, code, out)
		}
	}
}
