package bench

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/rules"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// score does to the lead store what the scorer does for one event:
// link and merge on an identify, count for the lead a linked visitor
// belongs to, evaluate, record the stage change and, as if the transition
// was published at once, acknowledge it. It mirrors the scorer's
// processing without its Kafka side, so the memory figures see the keys
// the scorer leaves behind.
func score(ctx context.Context, st *leadstore.Store, r *rules.Rules,
	ev *leadstreamv1.Event) error {
	e, err := entity(ctx, st, r, ev)
	if err != nil {
		return err
	}
	res, err := st.Apply(ctx, e, r, ev)
	if err == nil && res.LinkedTo != "" {
		e = leadstore.Lead(res.LinkedTo)
		if err = link(ctx, st, r, ev.GetAnonymousId(), res.LinkedTo); err == nil {
			res, err = st.Apply(ctx, e, r, ev)
		}
	}
	if err != nil {
		return err
	}
	trs := r.Evaluate(res.State, ev.GetOccurredAtUnixMs())
	if len(trs) == 0 {
		return nil
	}
	recs := make([]leadstore.Pending, len(trs))
	ids := make([]string, len(trs))
	for i, tr := range trs {
		ids[i] = rules.TransitionID(e.LeadID(), tr.To, res.State.Epoch+int64(i)+1)
		recs[i] = leadstore.Pending{ID: ids[i], Record: []byte(ids[i])}
	}
	epoch := res.State.Epoch + int64(len(trs))
	_, err = st.Advance(ctx, e, res.State.Epoch, trs[len(trs)-1].To, epoch, recs, "")
	if err != nil {
		return err
	}
	return st.Ack(ctx, e, ids...)
}

// entity finds whom ev counts for as the scorer does: the lead, after
// linking and merging the device on an event with both ids; the lead a
// device is known to be merged into; else the visitor.
func entity(ctx context.Context, st *leadstore.Store, r *rules.Rules,
	ev *leadstreamv1.Event) (leadstore.Entity, error) {
	anon, lead := ev.GetAnonymousId(), ev.GetLeadId()
	if lead != "" {
		return leadstore.Lead(lead), link(ctx, st, r, anon, lead)
	}
	if merged, ok := st.Merged(anon); ok {
		return leadstore.Lead(merged), nil
	}
	return leadstore.Anon(anon), nil
}

func link(ctx context.Context, st *leadstore.Store, r *rules.Rules, anon, lead string) error {
	if anon == "" {
		return nil
	}
	if merged, ok := st.Merged(anon); ok && merged == lead {
		return nil
	}
	v, err := st.Link(ctx, anon, lead)
	if err != nil {
		return err
	}
	if v.LeadID == lead {
		_, err = st.Merge(ctx, r, v)
	}
	return err
}

// errCaptured stops a command after its arguments were recorded.
var errCaptured = errors.New("captured")

// capture is a go-redis hook that records the arguments of every
// pipelined command instead of sending it: it turns the lead store's own
// apply calls, which always go out in pipelines, into commands that a
// pipeline can replay. Single commands (the store reading and extending
// its codebook) pass through.
type capture struct {
	cmds [][]any
}

var _ redis.Hook = (*capture)(nil)

// DialHook implements redis.Hook.
func (c *capture) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (c *capture) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

// ProcessPipelineHook implements redis.Hook. The lead store sends the
// apply scripts of concurrent callers as pipelines.
func (c *capture) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if cmd.Name() != "evalsha" {
				// The client's own handshake on a new connection.
				return next(ctx, cmds)
			}
		}
		for _, cmd := range cmds {
			c.cmds = append(c.cmds, cmd.Args())
			cmd.SetErr(errCaptured)
		}
		return errCaptured
	}
}

// applyCommands returns the EVALSHA commands of the lead store's apply
// script for events, keyed under prefix, as the store builds them with
// the codebook in real's Redis.
func applyCommands(ctx context.Context, real *redis.Client, prefix string, r *rules.Rules,
	events []*leadstreamv1.Event) ([][]any, error) {
	c := &capture{}
	rdb := redis.NewClient(real.Options())
	defer rdb.Close()
	rdb.AddHook(c)
	st, err := leadstore.New(rdb, prefix)
	if err != nil {
		return nil, fmt.Errorf("new lead store: %w", err)
	}
	for _, ev := range events {
		e := leadstore.Anon(ev.GetAnonymousId())
		if ev.GetLeadId() != "" {
			e = leadstore.Lead(ev.GetLeadId())
		}
		if _, err := st.Apply(ctx, e, r, ev); !errors.Is(err, errCaptured) {
			return nil, fmt.Errorf("capture apply of %s: %v", ev.GetId(), err)
		}
	}
	return c.cmds, nil
}
