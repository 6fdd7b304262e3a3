package dispatch

import (
	"slices"
	"sync"
	"testing"
)

func TestLanesKeepOrderAndCount(t *testing.T) {
	l := newLanes()
	gate := make(chan struct{})
	var mu sync.Mutex
	var order []int
	record := func(i int) func() {
		return func() {
			if i == 0 {
				<-gate
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		}
	}
	for i := range 3 {
		l.run("a", record(i))
	}
	if !l.busy("a") || l.busy("b") {
		t.Errorf("busy(a), busy(b) = %v, %v; want true, false", l.busy("a"), l.busy("b"))
	}
	if got := l.size(); got != 3 {
		t.Errorf("size() = %d with three pieces of work given, want 3", got)
	}
	close(gate)
	l.wait()
	if !slices.Equal(order, []int{0, 1, 2}) {
		t.Errorf("work of one key ran as %v, want in order", order)
	}
	if l.size() != 0 || l.busy("a") {
		t.Errorf("size() = %d, busy(a) = %v after all returned", l.size(), l.busy("a"))
	}
}
