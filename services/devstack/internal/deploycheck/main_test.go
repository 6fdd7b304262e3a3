package deploycheck

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// serviceEnv holds, per service, the environment variables it reads; it
// is filled once by TestMain from the built binaries.
var serviceEnv map[string]map[string]bool

// setupErr says, per service, why its variables could not be learnt;
// every test that needs them fails with it.
var setupErr = map[string]error{}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "deploycheck")
	if err != nil {
		fmt.Fprintln(os.Stderr, "make temp dir:", err)
		os.Exit(1)
	}
	serviceEnv = loadServiceEnv(dir)
	code := 0
	defer func() { os.RemoveAll(dir); os.Exit(code) }()
	code = m.Run()
	if err := goleak.Find(); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, "goroutines leaked:", err)
		code = 1
	}
}

func loadServiceEnv(dir string) map[string]map[string]bool {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out := map[string]map[string]bool{}
	for _, s := range Services {
		bin, err := Build(ctx, dir, s)
		if err != nil {
			setupErr[s] = err
			continue
		}
		prefixes := [][]string{nil}
		if s == "scorer" {
			prefixes = append(prefixes, []string{"run"})
		}
		names, err := EnvNames(ctx, bin, prefixes...)
		if err != nil {
			setupErr[s] = err
			continue
		}
		for n := range SecretEnv {
			names[n] = true
		}
		out[s] = names
	}
	return out
}

func envOf(t *testing.T, service string) map[string]bool {
	t.Helper()
	if err := setupErr[service]; err != nil {
		t.Fatalf("learn what %s reads: %v", service, err)
	}
	env, ok := serviceEnv[service]
	if !ok {
		t.Fatalf("no service %q", service)
	}
	return env
}
