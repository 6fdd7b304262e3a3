package ruleset_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"

	"github.com/leadstream/leadstream/services/scorer/internal/ruleset"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatalf("read %s: %v", from, err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatalf("write %s: %v", to, err)
	}
}

// TestSIGHUPReloads sends real SIGHUPs: a valid new file is adopted, a
// broken one refused with the rules in force kept.
func TestSIGHUPReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	copyFile(t, "../../testdata/rules.yaml", path)
	results := make(chan bool, 4)
	h, err := ruleset.Load(path, zaptest.NewLogger(t), func(ok bool) { results <- ok })
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	h.Listen() // before the first signal, which would otherwise end the test binary
	go func() { done <- h.Watch(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	tests := []struct {
		file, version string
		ok            bool
	}{
		{"../../testdata/rules-v2.yaml", "test-2", true},
		{"../../testdata/rules-bad.yaml", "test-2", false},
		{"../../testdata/rules.yaml", "test-1", true},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			copyFile(t, tc.file, path)
			if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
				t.Fatalf("send SIGHUP: %v", err)
			}
			select {
			case ok := <-results:
				if ok != tc.ok {
					t.Fatalf("reload ok = %v, want %v", ok, tc.ok)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no reload after SIGHUP")
			}
			if v := h.Current().Version(); v != tc.version {
				t.Fatalf("version in force = %q, want %q", v, tc.version)
			}
		})
	}
}
