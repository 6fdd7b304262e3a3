package faults

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

var (
	fullFlag = flag.Bool("faults.full", false,
		"run the full suite: thousands of leads per scenario")
	seedFlag  = flag.Int64("faults.seed", 0, "workload seed; 0 picks one from the clock")
	leadsFlag = flag.Int("faults.leads", 0, "leads per scenario; 0 for the default of the mode")
	bugsFlag  = flag.Bool("faults.known-bugs", false, "also run the scenarios that fail "+
		"because of a known bug")
	keepFlag   = flag.Bool("faults.keep-logs", false, "print where the service logs are kept")
	binDirFlag = flag.String("faults.bin", "", "directory holding tracker, scorer and notifier "+
		"binaries; empty builds them once into a temporary directory")
)

// binDir holds the service binaries for this test run.
var binDir string

// services are the binaries the suite runs.
var services = []string{"tracker", "scorer", "notifier"}

func TestMain(m *testing.M) {
	flag.Parse()
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		code = 1
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	binDir = *binDirFlag
	if binDir == "" && needsServices() {
		dir, err := os.MkdirTemp("", "leadstream-faults-bin-")
		if err != nil {
			return 1, fmt.Errorf("make binary directory: %w", err)
		}
		defer os.RemoveAll(dir)
		if err := build(dir); err != nil {
			return 1, err
		}
		binDir = dir
	}
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			return 1, fmt.Errorf("leaked goroutines: %w", err)
		}
	}
	return code, nil
}

// needsServices reports whether the tests selected may start services;
// unit tests of the checker need no binaries.
func needsServices() bool {
	run := flag.Lookup("test.run").Value.String()
	return run == "" || strings.Contains(run, "Scenario")
}

// build compiles every service into dir, once per test binary run, so the
// suite always tests the code in the tree.
func build(dir string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	start := time.Now()
	for _, s := range services {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, s), "./cmd/"+s)
		cmd.Dir = filepath.Join(root, "services", s)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %w\n%s", s, err, out)
		}
	}
	fmt.Fprintf(os.Stderr, "faults: built %v in %s\n", services,
		time.Since(start).Round(time.Millisecond))
	return nil
}

// repoRoot finds the directory holding go.work above the working
// directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find repository root: no go.work above the working directory")
		}
		dir = parent
	}
}
