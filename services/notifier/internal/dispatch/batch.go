package dispatch

import "sync"

// batcher gathers calls into round trips: a call made while the workers
// are idle goes out at once, alone, and the calls that arrive while they
// are busy go out together on the next trip. Under load that turns many
// Redis round trips into a few pipelines without delaying a lone call.
type batcher[Req, Res any] struct {
	calls chan batchCall[Req, Res]
	do    func(reqs []Req) ([]Res, []error)
	max   int
	wg    sync.WaitGroup
}

type batchCall[Req, Res any] struct {
	req   Req
	reply chan batchReply[Res]
}

type batchReply[Res any] struct {
	res Res
	err error
}

// newBatcher starts workers that each send up to max requests per
// call of do; do returns one result and one error per request.
func newBatcher[Req, Res any](
	workers, max int, do func(reqs []Req) ([]Res, []error),
) *batcher[Req, Res] {
	b := &batcher[Req, Res]{calls: make(chan batchCall[Req, Res], max), do: do, max: max}
	for range workers {
		b.wg.Add(1)
		go b.loop()
	}
	return b
}

// call sends req with the next trip and waits for its result.
func (b *batcher[Req, Res]) call(req Req) (Res, error) {
	reply := make(chan batchReply[Res], 1)
	b.calls <- batchCall[Req, Res]{req: req, reply: reply}
	r := <-reply
	return r.res, r.err
}

// close stops the workers once the calls made so far are answered. No
// call may start after close.
func (b *batcher[Req, Res]) close() {
	close(b.calls)
	b.wg.Wait()
}

func (b *batcher[Req, Res]) loop() {
	defer b.wg.Done()
	for first := range b.calls {
		batch := b.gather(first)
		reqs := make([]Req, len(batch))
		for i, c := range batch {
			reqs[i] = c.req
		}
		res, errs := b.do(reqs)
		for i, c := range batch {
			c.reply <- batchReply[Res]{res: res[i], err: errs[i]}
		}
	}
}

// gather adds to first the calls already waiting, without waiting for
// more.
func (b *batcher[Req, Res]) gather(first batchCall[Req, Res]) []batchCall[Req, Res] {
	batch := []batchCall[Req, Res]{first}
	for len(batch) < b.max {
		select {
		case c, ok := <-b.calls:
			if !ok {
				return batch
			}
			batch = append(batch, c)
		default:
			return batch
		}
	}
	return batch
}
