package supervise

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// Backoff bounds between restarts of a child that died; a child that ran
// for StableAfter before dying starts again from the first backoff.
const (
	FirstBackoff = 500 * time.Millisecond
	MaxBackoff   = 15 * time.Second
	StableAfter  = time.Minute
)

// errStopping refuses a restart that races with Stop.
var errStopping = errors.New("stopping")

// Spec describes one child process.
type Spec struct {
	Name string   // shown before each output line, e.g. "scorer-1"
	Path string   // the executable
	Args []string // arguments after the executable
	Env  []string // KEY=VALUE added to devstack's own environment
	// Ready reports nil once the child does its job; nil means the child
	// counts as ready as soon as it runs.
	Ready func(ctx context.Context) error
	// Signal asks the child to stop; SIGTERM when zero.
	Signal syscall.Signal
}

// Process is a supervised child: restarted when it dies, up to a limit.
type Process struct {
	spec        Spec
	out         *Output
	log         *zap.Logger
	maxRestarts int

	mu       sync.Mutex
	cmd      *exec.Cmd // the current run; guarded by mu
	stopping bool      // guarded by mu

	stopc  chan struct{} // closed by Stop
	done   chan struct{} // closed when the supervising goroutine returns
	failed chan error    // receives once when the restarts are used up
	exit   error         // how the last run ended; read after done
}

// Start runs spec and supervises it until Stop. It fails only when the
// first start fails.
func Start(spec Spec, out *Output, log *zap.Logger, maxRestarts int) (*Process, error) {
	p := &Process{
		spec: spec, out: out, log: log.With(zap.String("part", spec.Name)),
		maxRestarts: maxRestarts,
		stopc:       make(chan struct{}), done: make(chan struct{}), failed: make(chan error, 1),
	}
	first, err := p.start()
	if err != nil {
		return nil, err
	}
	go p.supervise(first)
	return p, nil
}

// Name is the child's name.
func (p *Process) Name() string { return p.spec.Name }

// Failed receives an error once the child died more often than allowed.
func (p *Process) Failed() <-chan error { return p.failed }

// run is one execution of the child.
type run struct {
	cmd     *exec.Cmd
	out     *prefixWriter
	started time.Time
}

func (r *run) wait() error {
	err := r.cmd.Wait()
	r.out.flush()
	return err
}

func (p *Process) start() (*run, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping {
		return nil, errStopping
	}
	pw := newPrefixWriter(p.out, p.spec.Name)
	cmd := exec.Command(p.spec.Path, p.spec.Args...)
	cmd.Env = append(os.Environ(), p.spec.Env...)
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", p.spec.Name, err)
	}
	p.cmd = cmd
	p.log.Info("part started", zap.Int("pid", cmd.Process.Pid))
	return &run{cmd: cmd, out: pw, started: time.Now()}, nil
}

// supervise waits for each run to end and restarts the child, with a
// growing backoff, until Stop or until the restarts are used up.
func (p *Process) supervise(r *run) {
	defer close(p.done)
	err := r.wait()
	backoff, attempt := FirstBackoff, 0
	for !p.isStopping() {
		if time.Since(r.started) > StableAfter {
			backoff, attempt = FirstBackoff, 0
		}
		attempt++
		if attempt > p.maxRestarts {
			p.failed <- fmt.Errorf("%s died %d times, last: %w", p.spec.Name, attempt, exitErr(err))
			return
		}
		p.log.Warn("part exited, restarting", zap.Int("attempt", attempt),
			zap.Duration("backoff", backoff), zap.Error(exitErr(err)))
		select {
		case <-time.After(backoff):
		case <-p.stopc:
			return
		}
		backoff = min(2*backoff, MaxBackoff)
		next, serr := p.start()
		if serr != nil {
			err = serr
			continue
		}
		r = next
		err = r.wait()
	}
	p.exit = err
}

func (p *Process) isStopping() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopping
}

// exitErr names a clean exit too, so a restart log always says why.
func exitErr(err error) error {
	if err == nil {
		return errors.New("exited with status 0")
	}
	return err
}

// Stop signals the child, waits up to timeout for it to exit, then kills
// its process group. It reports a child that had to be killed or that
// exited with an error.
func (p *Process) Stop(ctx context.Context, timeout time.Duration) error {
	p.mu.Lock()
	already := p.stopping
	p.stopping = true
	cmd := p.cmd
	p.mu.Unlock()
	if !already {
		close(p.stopc)
	}

	sig := p.spec.Signal
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	// An error here means the child has already exited, which is fine.
	_ = cmd.Process.Signal(sig)

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.done:
		if p.exit != nil {
			return fmt.Errorf("stop %s: %w", p.spec.Name, p.exit)
		}
		return nil
	case <-timer.C:
	case <-ctx.Done():
	}
	_ = killGroup(cmd.Process.Pid)
	<-p.done
	return fmt.Errorf("stop %s: killed after %s", p.spec.Name, timeout)
}

// WaitReady polls the child's Ready check until it passes, the child
// gives up, or ctx ends.
func (p *Process) WaitReady(ctx context.Context) error {
	if p.spec.Ready == nil {
		return nil
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		checkCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = p.spec.Ready(checkCtx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s to be ready: %w (last check: %w)",
				p.spec.Name, ctx.Err(), last)
		case <-p.done:
			return fmt.Errorf("wait for %s to be ready: it stopped", p.spec.Name)
		case <-tick.C:
		}
	}
}
