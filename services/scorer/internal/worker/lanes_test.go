package worker

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// TestLaneQueueKeepsOrder queues turns of one lane from several batches
// and starts their goroutines in the reverse order: each turn must still
// run only after the one queued before it has ended, while a turn of
// another lane runs at once.
func TestLaneQueueKeepsOrder(t *testing.T) {
	var q laneQueue
	lane, other := laneKey{partition: 1, lane: 7}, laneKey{partition: 2, lane: 7}
	turns := make([]*laneTurn, 5)
	for i := range turns {
		turns[i] = q.enter(lane)
	}
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := len(turns) - 1; i >= 0; i-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := turns[i].wait(); err != nil {
				t.Errorf("turn %d: %v", i, err)
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			q.leave(lane, turns[i], nil)
		}()
		time.Sleep(time.Millisecond) // let the later turns wait first
	}
	free := q.enter(other)
	select {
	case <-waitDone(free):
	case <-time.After(5 * time.Second):
		t.Fatal("a turn of an idle lane waited")
	}
	q.leave(other, free, nil)
	wg.Wait()
	for i, got := range order {
		if got != i {
			t.Fatalf("turns ran in order %v, want 0..4", order)
		}
	}
	if len(q.tails) != 0 {
		t.Fatalf("lanes left busy after every turn ended: %v", q.tails)
	}
}

// TestLaneQueueFailsLaterTurns ends a turn with an error: the turns
// queued behind it on the lane must get the error rather than score
// records past one that was not scored.
func TestLaneQueueFailsLaterTurns(t *testing.T) {
	var q laneQueue
	lane := laneKey{partition: 0, lane: 3}
	first, second, third := q.enter(lane), q.enter(lane), q.enter(lane)
	boom := errors.New("redis went away")
	if err := first.wait(); err != nil {
		t.Fatalf("first turn: %v", err)
	}
	q.leave(lane, first, boom)
	err := second.wait()
	if !errors.Is(err, boom) {
		t.Fatalf("second turn got %v, want the first turn's error", err)
	}
	q.leave(lane, second, err)
	if err := third.wait(); !errors.Is(err, boom) {
		t.Fatalf("third turn got %v, want the first turn's error", err)
	}
}

func waitDone(t *laneTurn) <-chan struct{} {
	c := make(chan struct{})
	go func() {
		_ = t.wait()
		close(c)
	}()
	return c
}
