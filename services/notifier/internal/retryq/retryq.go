// Package retryq is the notifier's durable delay queue in Redis: failed
// deliveries wait there for their next attempt, so a failing sink holds
// back neither the Kafka partition nor other sinks, and a restart loses
// no pending retry. It also records which (transition, sink) pairs were
// delivered, so nothing is delivered twice to the same sink.
//
// Per sink there is a sorted set of pending deliveries scored by due time
// (unix ms) and a hash of their payloads. Every key shares one hash tag,
// "{<prefix>:notifier}", so each script touches one Redis Cluster slot.
// NOTE: that puts the whole queue on one cluster node; retries are rare
// next to events, so one node's throughput is ample.
package retryq

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultDeliveredTTL is how long a delivery is remembered; a transition
// redelivered by Kafka later than that would be sent again.
const DefaultDeliveredTTL = 30 * 24 * time.Hour

// Job is one pending delivery of a transition to a sink.
type Job struct {
	Sink         string `json:"sink"`
	TransitionID string `json:"transition_id"`
	// Key is the Kafka record key, kept for the dead-letter record.
	Key []byte `json:"key,omitempty"`
	// Transition is the encoded protobuf, as read from Kafka.
	Transition []byte `json:"transition"`
	// Attempts counts the attempts made so far.
	Attempts  int    `json:"attempts"`
	LastError string `json:"last_error,omitempty"`
	// Source locates the record the transition came from.
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	Offset    int64  `json:"offset"`
}

// Queue is the delay queue. It is safe for concurrent use.
type Queue struct {
	rdb   redis.UniversalClient
	base  string
	lease time.Duration
	ttl   time.Duration
}

// New returns a queue whose keys start with "{prefix:notifier}". A
// claimed job becomes due again after lease unless completed or
// rescheduled first, so a notifier that dies mid-attempt loses nothing;
// lease must outlast an attempt.
func New(rdb redis.UniversalClient, prefix string, lease, deliveredTTL time.Duration) *Queue {
	if deliveredTTL <= 0 {
		deliveredTTL = DefaultDeliveredTTL
	}
	return &Queue{rdb: rdb, base: "{" + prefix + ":notifier}", lease: lease, ttl: deliveredTTL}
}

// Lease is how long a claimed job stays invisible to other claims.
func (q *Queue) Lease() time.Duration { return q.lease }

func (q *Queue) dueKey(sink string) string  { return q.base + ":due:" + sink }
func (q *Queue) jobsKey(sink string) string { return q.base + ":jobs:" + sink }
func (q *Queue) doneKey(sink, id string) string {
	return q.base + ":done:" + sink + ":" + id
}

func member(j *Job) string { return j.TransitionID }

// Delivered reports whether the transition was delivered to the sink.
func (q *Queue) Delivered(ctx context.Context, sink, id string) (bool, error) {
	n, err := q.rdb.Exists(ctx, q.doneKey(sink, id)).Result()
	if err != nil {
		return false, fmt.Errorf("check delivery record: %w", err)
	}
	return n > 0, nil
}

// MarkDelivered records a successful delivery.
func (q *Queue) MarkDelivered(ctx context.Context, sink, id string) error {
	if err := q.rdb.SetNX(ctx, q.doneKey(sink, id), 1, q.ttl).Err(); err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	return nil
}

// scheduleScript adds a job unless it was delivered or is already
// queued; a queued one keeps its attempt count and due time, which is
// what a redelivered Kafka record must not reset.
var scheduleScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 2 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1`)

// Schedule outcomes.
const (
	AlreadyDelivered = 0
	Scheduled        = 1
	AlreadyQueued    = 2
)

// Schedule queues j to be attempted at due; it returns one of
// AlreadyDelivered, Scheduled or AlreadyQueued.
func (q *Queue) Schedule(ctx context.Context, j *Job, due time.Time) (int, error) {
	keys, args, err := q.scheduleArgs(j, due)
	if err != nil {
		return 0, err
	}
	n, err := scheduleScript.Run(ctx, q.rdb, keys, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("schedule retry: %w", err)
	}
	return n, nil
}

func (q *Queue) scheduleArgs(j *Job, due time.Time) ([]string, []any, error) {
	payload, err := json.Marshal(j)
	if err != nil {
		return nil, nil, fmt.Errorf("encode job: %w", err)
	}
	keys := []string{q.dueKey(j.Sink), q.jobsKey(j.Sink), q.doneKey(j.Sink, j.TransitionID)}
	return keys, []any{member(j), payload, due.UnixMilli()}, nil
}

// Scheduling is one job for ScheduleMany and when it is due.
type Scheduling struct {
	Job *Job
	Due time.Time
}

// ScheduleMany is Schedule for several jobs in one round trip; result i
// and error i belong to reqs[i]. Each job is scheduled atomically on its
// own, as by Schedule.
func (q *Queue) ScheduleMany(ctx context.Context, reqs []Scheduling) ([]int, []error) {
	out, errs := make([]int, len(reqs)), make([]error, len(reqs))
	cmds := make([]*redis.Cmd, len(reqs))
	pipe := q.rdb.Pipeline()
	for i, r := range reqs {
		keys, args, err := q.scheduleArgs(r.Job, r.Due)
		if err != nil {
			errs[i] = err
			continue
		}
		cmds[i] = scheduleScript.EvalSha(ctx, pipe, keys, args...)
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
	for i, c := range cmds {
		if c == nil {
			continue
		}
		n, err := c.Int()
		if redis.HasErrorPrefix(err, "NOSCRIPT") {
			// The script is not cached yet (or Redis restarted): Schedule
			// loads it.
			out[i], errs[i] = q.Schedule(ctx, reqs[i].Job, reqs[i].Due)
			continue
		}
		if err != nil {
			errs[i] = fmt.Errorf("schedule retry: %w", err)
		}
		out[i] = n
	}
	return out, errs
}

// Reschedule stores j's new state and makes it due at due.
func (q *Queue) Reschedule(ctx context.Context, j *Job, due time.Time) error {
	payload, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("encode job: %w", err)
	}
	_, err = q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, q.jobsKey(j.Sink), member(j), payload)
		p.ZAdd(ctx, q.dueKey(j.Sink), redis.Z{Score: float64(due.UnixMilli()), Member: member(j)})
		return nil
	})
	if err != nil {
		return fmt.Errorf("reschedule retry: %w", err)
	}
	return nil
}

// claimScript takes up to ARGV[2] jobs due by ARGV[1] and pushes their
// due time to ARGV[3], the lease, so no other notifier takes them.
var claimScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], ARGV[3], id)
  local p = redis.call('HGET', KEYS[2], id)
  if p then table.insert(out, p) else redis.call('ZREM', KEYS[1], id) end
end
return out`)

// Claim leases up to n jobs of sink that are due at now.
func (q *Queue) Claim(ctx context.Context, sink string, now time.Time, n int) ([]*Job, error) {
	keys := []string{q.dueKey(sink), q.jobsKey(sink)}
	res, err := claimScript.Run(ctx, q.rdb, keys,
		now.UnixMilli(), n, now.Add(q.lease).UnixMilli()).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("claim retries: %w", err)
	}
	jobs := make([]*Job, 0, len(res))
	for _, p := range res {
		j := &Job{}
		if err := json.Unmarshal([]byte(p), j); err != nil {
			return nil, fmt.Errorf("decode job: %w", err)
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// completeScript removes a job and, when delivered, records the delivery
// in the same step, so a crash cannot leave one without the other.
var completeScript = redis.NewScript(`
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if ARGV[2] == '1' then redis.call('SET', KEYS[3], 1, 'PX', ARGV[3], 'NX') end
return 1`)

// Complete removes j from the queue; delivered records the delivery too.
func (q *Queue) Complete(ctx context.Context, j *Job, delivered bool) error {
	keys, args := q.completeArgs(j, delivered)
	if err := completeScript.Run(ctx, q.rdb, keys, args...).Err(); err != nil {
		return fmt.Errorf("complete retry: %w", err)
	}
	return nil
}

func (q *Queue) completeArgs(j *Job, delivered bool) ([]string, []any) {
	flag := "0"
	if delivered {
		flag = "1"
	}
	keys := []string{q.dueKey(j.Sink), q.jobsKey(j.Sink), q.doneKey(j.Sink, j.TransitionID)}
	return keys, []any{member(j), flag, q.ttl.Milliseconds()}
}

// CompleteMany is Complete for several jobs in one round trip; error i
// belongs to jobs[i].
func (q *Queue) CompleteMany(ctx context.Context, jobs []*Job, delivered bool) []error {
	errs := make([]error, len(jobs))
	cmds := make([]*redis.Cmd, len(jobs))
	pipe := q.rdb.Pipeline()
	for i, j := range jobs {
		keys, args := q.completeArgs(j, delivered)
		cmds[i] = completeScript.EvalSha(ctx, pipe, keys, args...)
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
	for i, c := range cmds {
		err := c.Err()
		switch {
		case redis.HasErrorPrefix(err, "NOSCRIPT"):
			errs[i] = q.Complete(ctx, jobs[i], delivered)
		case err != nil:
			errs[i] = fmt.Errorf("complete retry: %w", err)
		}
	}
	return errs
}

// Backlog counts the pending jobs of sink.
func (q *Queue) Backlog(ctx context.Context, sink string) (int64, error) {
	n, err := q.rdb.ZCard(ctx, q.dueKey(sink)).Result()
	if err != nil {
		return 0, fmt.Errorf("count retries: %w", err)
	}
	return n, nil
}
