package dispatch

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func TestBatcher(t *testing.T) {
	const calls, most = 200, 16
	var mu sync.Mutex
	var sizes []int
	errOdd := errors.New("odd")
	b := newBatcher(2, most, func(reqs []int) ([]int, []error) {
		time.Sleep(2 * time.Millisecond) // a round trip, while calls pile up
		mu.Lock()
		sizes = append(sizes, len(reqs))
		mu.Unlock()
		res, errs := make([]int, len(reqs)), make([]error, len(reqs))
		for i, r := range reqs {
			res[i] = r * 2
			if r%2 == 1 {
				errs[i] = errOdd
			}
		}
		return res, errs
	})

	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			res, err := b.call(i)
			if res != i*2 || (i%2 == 1) != (err != nil) {
				t.Errorf("call(%d) = %d, %v; want its own result", i, res, err)
			}
		})
	}
	wg.Wait()
	b.close()

	total, biggest := 0, 0
	for _, n := range sizes {
		total += n
		biggest = max(biggest, n)
	}
	if total != calls || biggest > most {
		t.Errorf("batches %v: %d requests, largest %d; want %d, at most %d",
			sizes, total, biggest, calls, most)
	}
	if len(sizes) == calls {
		t.Error("every call went alone; nothing was batched")
	}
}
