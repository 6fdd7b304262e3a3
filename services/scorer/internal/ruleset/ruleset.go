// Package ruleset holds the rules a scorer runs and swaps them for a new
// version of the file on SIGHUP, keeping the old ones when the new file
// has an error.
package ruleset

import (
	"context"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"go.uber.org/zap"

	"github.com/leadstream/leadstream/pkg/rules"
)

// Holder holds the current rules. It is safe for concurrent use.
type Holder struct {
	path   string
	cur    atomic.Pointer[rules.Rules]
	log    *zap.Logger
	onLoad func(ok bool)
	sigs   chan os.Signal // set by Listen
}

// Load reads the rules file at path; it fails when the file has an
// error.
func Load(path string, log *zap.Logger, onLoad func(ok bool)) (*Holder, error) {
	r, err := rules.Load(path)
	if err != nil {
		return nil, err
	}
	h := &Holder{path: path, log: log, onLoad: onLoad}
	h.cur.Store(r)
	return h, nil
}

// Current returns the rules in force.
func (h *Holder) Current() *rules.Rules { return h.cur.Load() }

// Reload reads the file again and adopts it if it is valid; otherwise it
// keeps the rules in force and logs why.
func (h *Holder) Reload() bool {
	r, err := rules.Load(h.path)
	if err != nil {
		h.log.Error("rules reload refused, keeping the rules in force",
			zap.String("version", h.Current().Version()), zap.Error(err))
		h.onLoad(false)
		return false
	}
	old := h.cur.Swap(r)
	h.log.Info("rules reloaded", zap.String("from_version", old.Version()),
		zap.String("version", r.Version()), zap.String("file", h.path))
	h.onLoad(true)
	return true
}

// Listen starts catching SIGHUP at once. Until a process catches it,
// SIGHUP ends the process, so call Listen before anyone can send it;
// signals that arrive before Watch runs wait for it.
func (h *Holder) Listen() {
	if h.sigs == nil {
		h.sigs = make(chan os.Signal, 1)
		signal.Notify(h.sigs, syscall.SIGHUP)
	}
}

// Watch reloads the rules on every SIGHUP until ctx ends, calling Listen
// first if no one did.
func (h *Holder) Watch(ctx context.Context) error {
	h.Listen()
	defer signal.Stop(h.sigs)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.sigs:
			h.Reload()
		}
	}
}
