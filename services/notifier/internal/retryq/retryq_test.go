package retryq_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/leadstream/leadstream/pkg/testenv"
	"github.com/leadstream/leadstream/services/notifier/internal/retryq"
)

func TestQueueLifecycle(t *testing.T) {
	tests := []struct {
		name  string
		start func(testing.TB) *testenv.Redis
	}{
		{"single node", testenv.StartRedis},
		{"cluster", testenv.StartRedisCluster},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rdb := tt.start(t).Client(t)
			exerciseQueue(t, rdb)
			exerciseMany(t, rdb)
		})
	}
}

// exerciseMany checks the one-round-trip forms against the outcomes of
// the single ones, starting with no script cached in Redis.
func exerciseMany(t *testing.T, rdb redis.UniversalClient) {
	t.Helper()
	ctx := t.Context()
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatalf("flush scripts: %v", err)
	}
	q := retryq.New(rdb, testenv.Prefix(t), time.Minute, time.Hour)
	now := time.Now()
	var reqs []retryq.Scheduling
	for _, id := range []string{"a", "b", "a"} {
		j := &retryq.Job{Sink: "crm", TransitionID: id, Transition: []byte(id)}
		reqs = append(reqs, retryq.Scheduling{Job: j, Due: now})
	}
	got, errs := q.ScheduleMany(ctx, reqs)
	want := []int{retryq.Scheduled, retryq.Scheduled, retryq.AlreadyQueued}
	if err := errors.Join(errs...); err != nil || !slices.Equal(got, want) {
		t.Fatalf("ScheduleMany() = %v, %v; want %v", got, err, want)
	}

	jobs := []*retryq.Job{reqs[0].Job, reqs[1].Job}
	if err := errors.Join(q.CompleteMany(ctx, jobs, true)...); err != nil {
		t.Fatalf("CompleteMany() = %v", err)
	}
	if n, _ := q.Backlog(ctx, "crm"); n != 0 {
		t.Fatalf("Backlog() after CompleteMany = %d, want 0", n)
	}
	got, errs = q.ScheduleMany(ctx, reqs[:2])
	want = []int{retryq.AlreadyDelivered, retryq.AlreadyDelivered}
	if err := errors.Join(errs...); err != nil || !slices.Equal(got, want) {
		t.Fatalf("ScheduleMany() after delivery = %v, %v; want %v", got, err, want)
	}
}

func exerciseQueue(t *testing.T, rdb redis.UniversalClient) {
	t.Helper()
	ctx := t.Context()
	q := retryq.New(rdb, testenv.Prefix(t), time.Minute, time.Hour)
	now := time.Now()
	job := &retryq.Job{Sink: "crm", TransitionID: "tr-1", Transition: []byte{1, 2}, Attempts: 1}

	mustSchedule(t, q, job, now.Add(time.Second), retryq.Scheduled)
	mustSchedule(t, q, job, now, retryq.AlreadyQueued)
	if got, _ := q.Claim(ctx, "crm", now, 10); len(got) != 0 {
		t.Fatalf("claimed %d jobs before they were due", len(got))
	}
	got, err := q.Claim(ctx, "crm", now.Add(2*time.Second), 10)
	if err != nil || len(got) != 1 || got[0].Attempts != 1 ||
		string(got[0].Transition) != "\x01\x02" {
		t.Fatalf("Claim() = %+v, %v", got, err)
	}
	if again, _ := q.Claim(ctx, "crm", now.Add(3*time.Second), 10); len(again) != 0 {
		t.Fatalf("a leased job was claimed twice")
	}
	if again, _ := q.Claim(ctx, "crm", now.Add(2*time.Minute+3*time.Second), 10); len(again) != 1 {
		t.Fatalf("a job whose lease expired was not claimed again")
	}

	got[0].Attempts = 2
	if err := q.Reschedule(ctx, got[0], now); err != nil {
		t.Fatal(err)
	}
	if n, _ := q.Backlog(ctx, "crm"); n != 1 {
		t.Fatalf("Backlog() = %d, want 1", n)
	}
	if err := q.Complete(ctx, got[0], true); err != nil {
		t.Fatal(err)
	}
	if n, _ := q.Backlog(ctx, "crm"); n != 0 {
		t.Fatalf("Backlog() after Complete = %d, want 0", n)
	}
	if ok, _ := q.Delivered(ctx, "crm", "tr-1"); !ok {
		t.Fatal("Complete(delivered) did not record the delivery")
	}
	mustSchedule(t, q, job, now, retryq.AlreadyDelivered)
}

func mustSchedule(t *testing.T, q *retryq.Queue, j *retryq.Job, due time.Time, want int) {
	t.Helper()
	got, err := q.Schedule(t.Context(), j, due)
	if err != nil || got != want {
		t.Fatalf("Schedule() = %d, %v; want %d", got, err, want)
	}
}
