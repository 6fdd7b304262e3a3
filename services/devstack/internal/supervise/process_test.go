package supervise

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
)

// helperEnv makes the test binary act as a child process.
const helperEnv = "SUPERVISE_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	goleak.VerifyTestMain(m)
}

// helper is the child: "graceful" prints and exits 0 on SIGTERM, "die"
// exits 3 at once, "stubborn" ignores SIGTERM.
func helper(mode string) int {
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGTERM)
	fmt.Println("hello")
	fmt.Fprint(os.Stderr, "partial")
	switch mode {
	case "die":
		return 3
	case "stubborn":
		time.Sleep(time.Minute)
		return 0
	}
	<-sigc
	fmt.Println("\nbye")
	return 0
}

// syncBuffer is a bytes.Buffer safe for the output goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func startHelper(t *testing.T, mode string, maxRestarts int) (*Process, *syncBuffer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("find test binary: %v", err)
	}
	var out syncBuffer
	p, err := Start(Spec{Name: "child", Path: exe, Env: []string{helperEnv + "=" + mode}},
		NewOutput(&out), zap.NewNop(), maxRestarts)
	if err != nil {
		t.Fatalf("start helper: %v", err)
	}
	t.Cleanup(func() { _ = p.Stop(context.Background(), time.Second) })
	return p, &out
}

func TestStopGraceful(t *testing.T) {
	p, out := startHelper(t, "graceful", 0)
	waitFor(t, func() bool { return strings.Contains(out.String(), "child | hello\n") })
	if err := p.Stop(context.Background(), 5*time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if got := out.String(); !strings.Contains(got, "child | partial\n") ||
		!strings.Contains(got, "child | bye\n") {
		t.Errorf("output = %q, want prefixed lines hello, partial and bye", got)
	}
}

func TestStopKillsStubborn(t *testing.T) {
	p, out := startHelper(t, "stubborn", 0)
	waitFor(t, func() bool { return strings.Contains(out.String(), "hello") })
	start := time.Now()
	err := p.Stop(context.Background(), 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("stop = %v, want a killed error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stop took %s, want about the timeout", d)
	}
}

func TestRestartsThenGivesUp(t *testing.T) {
	p, out := startHelper(t, "die", 2)
	select {
	case err := <-p.Failed():
		if !strings.Contains(err.Error(), "died 3 times") {
			t.Errorf("failure = %v, want it to count 3 deaths", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no failure after the restarts were used up")
	}
	if n := strings.Count(out.String(), "child | hello"); n != 3 {
		t.Errorf("child ran %d times, want 3 (1 start + 2 restarts)", n)
	}
}

func TestWaitReady(t *testing.T) {
	tests := []struct {
		name    string
		ready   func(calls int) error
		wantErr bool
	}{
		{"passes at once", func(int) error { return nil }, false},
		{"passes on third call", func(n int) error {
			if n < 3 {
				return fmt.Errorf("not yet")
			}
			return nil
		}, false},
		{"never passes", func(int) error { return fmt.Errorf("never") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := startHelper(t, "graceful", 0)
			calls := 0
			p.spec.Ready = func(context.Context) error { calls++; return tt.ready(calls) }
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := p.WaitReady(ctx); (err != nil) != tt.wantErr {
				t.Errorf("WaitReady = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
