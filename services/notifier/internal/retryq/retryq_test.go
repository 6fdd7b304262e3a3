package retryq_test

import (
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
			exerciseQueue(t, tt.start(t).Client(t))
		})
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
	if err != nil || len(got) != 1 || got[0].Attempts != 1 || string(got[0].Transition) != "\x01\x02" {
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
