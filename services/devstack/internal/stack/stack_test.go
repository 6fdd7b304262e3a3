package stack

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leadstream/leadstream/pkg/logging"
	"go.uber.org/goleak"
	"go.uber.org/zap"
)

// fakeEnv names the file where the fake services record what happens to
// them; its presence makes the test binary act as a service.
const fakeEnv = "DEVSTACK_TEST_FAKE_LOG"

func TestMain(m *testing.M) {
	if logPath := os.Getenv(fakeEnv); logPath != "" {
		os.Exit(fakeService(logPath))
	}
	goleak.VerifyTestMain(m)
}

// fakeService serves /readyz on --http-addr and records its start and its
// stop, so the test can check the order devstack stops things in.
func fakeService(logPath string) int {
	name := filepath.Base(os.Args[0])
	addr := argAfter(os.Args, "--http-addr")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		return 1
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(http.ResponseWriter, *http.Request) {})
	go func() { _ = http.Serve(ln, mux) }()
	record(logPath, "start "+name+" "+strings.Join(os.Args[1:], " "))
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGTERM)
	<-sigc
	// A short pause makes a wrong stop order visible in the log.
	time.Sleep(50 * time.Millisecond)
	record(logPath, "stop "+name)
	return 0
}

func record(path, line string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}

func argAfter(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// fakeBin links the test binary as tracker, scorer and notifier.
func fakeBin(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("find test binary: %v", err)
	}
	dir := t.TempDir()
	for _, name := range []string{"tracker", "scorer", "notifier"} {
		if err := os.Symlink(exe, filepath.Join(dir, name)); err != nil {
			t.Fatalf("link %s: %v", name, err)
		}
	}
	return dir
}

func TestRunStartsAndStopsInOrder(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "fake.log")
	t.Setenv(fakeEnv, logPath)
	cfg := Config{
		Rules: "../../../../deploy/rules/example.yaml", HTTP: "127.0.0.1:0",
		Kafka: "127.0.0.1:0", DataDir: t.TempDir(), Scorers: 2, WriteKey: "wk_test",
		Bin: fakeBin(t), StopTimeout: 5 * time.Second, MaxRestarts: 1,
		Webhook: "http://127.0.0.1:1/hook", WebhookSecret: "s3cret",
		Log: logging.Config{Format: "console", Level: "info"},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, cfg, zap.NewNop(), pw); pw.Close() }()
	waitLine(t, pr, "devstack ready: tracker=http://127.0.0.1:")
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("run: %v", err)
	}

	log := readLog(t, logPath)
	checkStopOrder(t, log)
	sinks, err := os.ReadFile(filepath.Join(cfg.DataDir, "sinks.yaml"))
	if err != nil {
		t.Fatalf("read generated sinks: %v", err)
	}
	if s := string(sinks); !strings.Contains(s, WebhookSecretEnv) || strings.Contains(s, "s3cret") {
		t.Errorf("sinks file must name the secret's variable, not the secret:\n%s", s)
	}
}

func waitLine(t *testing.T, r io.Reader, want string) {
	t.Helper()
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if strings.Contains(sc.Text(), want) {
				found <- true
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if !ok {
			t.Fatalf("output ended without %q", want)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("no %q within 60s", want)
	}
}

func readLog(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read fake log: %v", err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// checkStopOrder wants the tracker stopped before any scorer and every
// scorer before the notifier.
func checkStopOrder(t *testing.T, log []string) {
	t.Helper()
	var stops []string
	starts := 0
	for _, line := range log {
		if strings.HasPrefix(line, "stop ") {
			stops = append(stops, strings.TrimPrefix(line, "stop "))
		} else {
			starts++
		}
	}
	want := []string{"tracker", "scorer", "scorer", "notifier"}
	if starts != 4 || fmt.Sprint(stops) != fmt.Sprint(want) {
		t.Errorf("starts = %d, stops = %v; want 4 starts and stops %v\n%s",
			starts, stops, want, strings.Join(log, "\n"))
	}
}
