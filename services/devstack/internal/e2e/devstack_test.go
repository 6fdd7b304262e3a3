package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leadstream/leadstream/services/devstack/internal/deploycheck"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bins.dir != "" {
		_ = os.RemoveAll(bins.dir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// bins holds the binaries every test of the package shares.
var bins struct {
	once sync.Once
	dir  string
	err  error
}

// buildAll builds devstack and the services into one directory, as make
// build does, once for all the tests.
func buildAll(t *testing.T) string {
	t.Helper()
	bins.once.Do(func() {
		if bins.dir, bins.err = os.MkdirTemp("", "leadstream-e2e-bin-"); bins.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		for _, s := range append([]string{"devstack"}, deploycheck.Services...) {
			if _, bins.err = deploycheck.Build(ctx, bins.dir, s); bins.err != nil {
				return
			}
		}
	})
	if bins.err != nil {
		t.Fatalf("build: %v", bins.err)
	}
	return bins.dir
}

// webhook records the bodies posted to it.
type webhook struct {
	mu     sync.Mutex
	bodies []string
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.mu.Lock()
	w.bodies = append(w.bodies, string(body))
	w.mu.Unlock()
}

func (w *webhook) has(s string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range w.bodies {
		if strings.Contains(b, s) {
			return true
		}
	}
	return false
}

// devstack is one running devstack process.
type devstack struct {
	cmd     *exec.Cmd
	tracker string
	kafka   string
	redis   string
	done    chan struct{}
}

var readyLine = regexp.MustCompile(`devstack ready: tracker=(\S+) kafka=(\S+) redis=(\S+)`)

func startDevstack(t *testing.T, bin, dataDir, hook string) *devstack {
	t.Helper()
	rules, _ := filepath.Abs(filepath.Join(deploycheck.Root, "deploy/rules/example.yaml"))
	cmd := exec.Command(filepath.Join(bin, "devstack"), "--rules", rules,
		"--http", "127.0.0.1:0", "--kafka", "127.0.0.1:0", "--data-dir", dataDir,
		"--scorers", "2", "--write-key", "wk_e2e", "--stop-timeout", "15s",
		"--webhook", hook, "--webhook-secret", "e2e-secret", "--log-level", "warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("pipe: %v", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start devstack: %v", err)
	}
	d := &devstack{cmd: cmd, done: make(chan struct{})}
	readyc := make(chan []string, 1)
	go d.scan(stdout, readyc)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-d.done
	})
	select {
	case m := <-readyc:
		d.tracker, d.kafka, d.redis = m[1], m[2], m[3]
	case <-time.After(60 * time.Second):
		t.Fatal("devstack not ready within 60s")
	}
	return d
}

// scan logs devstack's output and reports the ready line.
func (d *devstack) scan(r io.Reader, readyc chan<- []string) {
	defer close(d.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := readyLine.FindStringSubmatch(line); m != nil {
			readyc <- m
		}
		if testing.Verbose() {
			fmt.Println(line)
		}
	}
	_ = d.cmd.Wait()
}

// children lists the processes whose parent is pid.
func children(t *testing.T, pid int) []int {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// The command name may hold spaces; the fields after it do not.
		fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			out = append(out, child)
		}
	}
	return out
}

func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	// A zombie has exited; only its parent has not reaped it yet.
	return err == nil && !strings.Contains(string(data), ") Z ")
}

// stop sends SIGTERM and wants exit status 0 and every child gone.
func (d *devstack) stop(t *testing.T) {
	t.Helper()
	kids := children(t, d.cmd.Process.Pid)
	// Redis, the tracker, two scorers and the notifier.
	if len(kids) != 5 {
		t.Errorf("devstack has %d children, want 5", len(kids))
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("signal devstack: %v", err)
	}
	select {
	case <-d.done:
	case <-time.After(45 * time.Second):
		t.Fatal("devstack did not exit within 45s of SIGTERM")
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("devstack exited %d, want 0", code)
	}
	for _, pid := range kids {
		if alive(pid) {
			t.Errorf("child %d still runs after devstack exited", pid)
		}
	}
}
