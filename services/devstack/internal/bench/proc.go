package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Child is a process the harness started: a service or redis-server.
type Child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done closes
}

// StartChild starts path with args, its output going to logDir/name.log.
func StartChild(name, path, logDir string, args, env []string) (*Child, error) {
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, fmt.Errorf("create log dir: %w", err)
	}
	out, err := os.Create(filepath.Join(logDir, name+".log"))
	if err != nil {
		return nil, fmt.Errorf("create %s log: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &Child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		out.Close()
		close(c.done)
	}()
	return c, nil
}

// Pid returns the process id.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (c *Child) Exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Stop asks the process to stop with SIGTERM and kills it after timeout.
func (c *Child) Stop(timeout time.Duration) {
	if c.Exited() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(timeout):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// Memory returns the resident set size now and its peak (VmRSS and
// VmHWM) in bytes.
func (c *Child) Memory() (rss, peak int64, err error) {
	return procMemory(c.Pid())
}

func procMemory(pid int) (rss, peak int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read process status: %w", err)
	}
	defer f.Close()
	return parseStatus(f)
}

// parseStatus reads VmRSS and VmHWM, in bytes, from the text of
// /proc/<pid>/status.
func parseStatus(r io.Reader) (rss, peak int64, err error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || (fields[0] != "VmRSS:" && fields[0] != "VmHWM:") {
			continue
		}
		kb, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil || kb < 0 || kb > 1<<40 {
			return 0, 0, fmt.Errorf("parse %s %q: %w", fields[0], fields[1], ErrBadInfo)
		}
		if fields[0] == "VmRSS:" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("read process status: %w", err)
	}
	if peak == 0 {
		return 0, 0, fmt.Errorf("read process status: no VmHWM: %w", ErrBadInfo)
	}
	return rss, peak, nil
}

// WaitHTTP polls url until it answers 200, the child dies or ctx ends.
func (c *Child) WaitHTTP(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if c.Exited() {
			return fmt.Errorf("wait for %s: exited: %v", c.name, c.err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s at %s: %w", c.name, url, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// findBinary returns the path of a service binary in dir, or an error
// that says how to build it.
func findBinary(dir, name string) (string, error) {
	path := filepath.Join(dir, name)
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		return "", fmt.Errorf("find %s in %s (run make build): %w", name, dir, ErrNoBinary)
	}
	return path, nil
}

// clockTicks is the unit of the CPU times in /proc/<pid>/stat; Linux
// reports them in USER_HZ, which is 100 on every architecture Go runs on.
const clockTicks = 100

// CPU returns the CPU time the process has used so far, user and system.
func (c *Child) CPU() (time.Duration, error) { return procCPU(c.Pid()) }

func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read process stat: %w", err)
	}
	return parseStat(string(b))
}

// parseStat reads utime and stime from the text of /proc/<pid>/stat. The
// command name in parentheses may hold spaces and parentheses itself, so
// the fields are counted from the last ")".
func parseStat(s string) (time.Duration, error) {
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, fmt.Errorf("parse process stat: no command name: %w", ErrBadInfo)
	}
	// After the name: state (field 3) ... utime (14), stime (15).
	fields := strings.Fields(s[end+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("parse process stat: %d fields: %w", len(fields), ErrBadInfo)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 0 || n > 1<<40 {
			return 0, fmt.Errorf("parse process stat %q: %w", f, ErrBadInfo)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// processWork is the CPU time the scorers and this process (the broker
// and the harness) used over a measurement.
type processWork struct {
	children, self time.Duration
}

// processWorkOf runs fn and returns the CPU time children and this
// process used meanwhile.
func processWorkOf(children []*service, fn func() error) (processWork, error) {
	c0, s0, err := cpuNow(children)
	if err != nil {
		return processWork{}, err
	}
	if err := fn(); err != nil {
		return processWork{}, err
	}
	c1, s1, err := cpuNow(children)
	if err != nil {
		return processWork{}, err
	}
	return processWork{children: c1 - c0, self: s1 - s0}, nil
}

// cpuNow returns the CPU time of children together and of this process.
func cpuNow(children []*service) (sum, self time.Duration, err error) {
	for _, c := range children {
		d, err := c.child.CPU()
		if err != nil {
			return 0, 0, err
		}
		sum += d
	}
	self, err = procCPU(os.Getpid())
	return sum, self, err
}

// perEvent describes w spread over n events.
func (w processWork) perEvent(n int64) string {
	if n <= 0 {
		return "no events"
	}
	us := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
	return fmt.Sprintf("scorer CPU %.1f µs per event, broker and harness %.1f µs",
		us(w.children), us(w.self))
}
