package faults

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// proc is one service process. It can be stopped, killed and started
// again with the same flags, as an orchestrator would.
type proc struct {
	name     string
	bin      string
	args     []string
	env      []string
	httpAddr string
	logPath  string

	mu   sync.Mutex
	cmd  *exec.Cmd     // guarded by mu
	done chan struct{} // guarded by mu; closed when cmd exits
	err  error         // guarded by mu; cmd's exit error
	// stopping is true from a SIGTERM, SIGKILL or SIGQUIT sent by the
	// test until the next start; guarded by mu.
	stopping bool
	// exits counts the exits the test did not ask for; guarded by mu.
	exits int
	// closed stops restarts once the test ends; guarded by mu.
	closed bool
}

// start runs the process, appending its output to its log file.
func (p *proc) start() error {
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.done, p.err, p.stopping = cmd, done, nil, false
	if p.closed {
		// The test ended while this start was on its way.
		p.stopping = true
		_ = cmd.Process.Kill()
	}
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logf.Close()
		p.mu.Lock()
		p.err = err
		restart := !p.stopping && !p.closed
		if restart {
			p.exits++
		}
		p.mu.Unlock()
		close(done)
		if restart {
			p.restart()
		}
	}()
	return nil
}

// restart starts the process again after it exited on its own, as an
// orchestrator with a restart policy would.
func (p *proc) restart() {
	time.Sleep(500 * time.Millisecond)
	p.mu.Lock()
	closed := p.closed || p.stopping
	p.mu.Unlock()
	if !closed {
		_ = p.start()
	}
}

// unexpectedExits returns how often the process exited without being told
// to.
func (p *proc) unexpectedExits() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exits
}

// close kills the process for good: no restart follows.
func (p *proc) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.kill()
}

// running reports whether the process runs.
func (p *proc) running() bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// signal sends sig to the process and, for SIGTERM and SIGKILL, waits up
// to timeout for it to exit. It returns the exit error, nil for exit 0.
func (p *proc) signal(sig syscall.Signal, timeout time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || !p.running() {
		return nil
	}
	if sig == syscall.SIGTERM || sig == syscall.SIGKILL || sig == syscall.SIGQUIT {
		p.mu.Lock()
		p.stopping = true
		p.mu.Unlock()
	}
	if err := cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal %s: %w", p.name, err)
	}
	if sig != syscall.SIGTERM && sig != syscall.SIGKILL {
		return nil
	}
	select {
	case <-done:
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("stop %s: still running %s after %s, killed", p.name, sig, timeout)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if sig == syscall.SIGKILL {
		return nil
	}
	return p.err
}

// kill stops the process with SIGKILL.
func (p *proc) kill() { _ = p.signal(syscall.SIGKILL, 10*time.Second) }

// waitReady polls /readyz until it answers 200.
func (p *proc) waitReady(ctx context.Context) error {
	url := "http://" + p.httpAddr + "/readyz"
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if !p.running() {
			return fmt.Errorf("wait for %s: %w (see %s)", p.name, errExited, p.logPath)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s ready (see %s): %w", p.name, p.logPath, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

var errExited = errors.New("process exited")
