package dispatch

import "sync"

// lanes runs work for different keys in parallel and work for one key
// in the order it was given, one at a time: a lead's SQL transition is
// not handed to the sinks before its MQL transition was. It is safe for
// concurrent use.
type lanes struct {
	mu sync.Mutex
	// queued holds, per key with work running, the work waiting behind
	// it; a key is absent when nothing of it runs. mu must be held.
	queued map[string][]func()
	// pending counts the work given to run that has not returned, both
	// running and queued. mu must be held.
	pending int
	wg      sync.WaitGroup
}

func newLanes() *lanes {
	return &lanes{queued: map[string][]func(){}}
}

// run starts fn now when nothing of key runs, else after the work
// queued before it.
func (l *lanes) run(key string, fn func()) {
	l.mu.Lock()
	l.pending++
	if q, busy := l.queued[key]; busy {
		l.queued[key] = append(q, fn)
		l.mu.Unlock()
		return
	}
	l.queued[key] = nil
	l.mu.Unlock()

	l.wg.Add(1)
	go l.drain(key, fn)
}

// drain runs fn and then the key's queued work until none is left.
func (l *lanes) drain(key string, fn func()) {
	defer l.wg.Done()
	for fn != nil {
		fn()
		fn = l.next(key)
	}
}

// next takes the key's next queued work, or retires the key.
func (l *lanes) next(key string) func() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending--
	q := l.queued[key]
	if len(q) == 0 {
		delete(l.queued, key)
		return nil
	}
	l.queued[key] = q[1:]
	return q[0]
}

// busy reports whether work of key is running or queued.
func (l *lanes) busy(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.queued[key]
	return ok
}

// size is the amount of work given to run that has not returned.
func (l *lanes) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pending
}

// wait blocks until all work given to run has returned. Call it only
// once no more run calls can come.
func (l *lanes) wait() { l.wg.Wait() }
