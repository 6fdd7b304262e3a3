package subscribe

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Dedupe remembers which transitions were handled, so a transition that
// Kafka delivers again (after a rebalance or a restart before the commit)
// is dropped instead of handled twice.
type Dedupe interface {
	// Seen reports whether the transition id was marked before.
	Seen(ctx context.Context, id string) (bool, error)
	// Mark records that the transition id was handled.
	Mark(ctx context.Context, id string) error
}

var (
	_ Dedupe = (*MemoryDedupe)(nil)
	_ Dedupe = (*RedisDedupe)(nil)
)

// MemoryDedupe keeps the most recent transition ids in memory, evicting
// the least recently marked. It forgets everything on restart, so it
// suits a single process that tolerates a rare duplicate after a crash.
type MemoryDedupe struct {
	mu    sync.Mutex
	size  int
	order *list.List               // guarded by mu; front is newest
	index map[string]*list.Element // guarded by mu
}

// NewMemoryDedupe returns a MemoryDedupe holding up to size ids (at least
// one).
func NewMemoryDedupe(size int) *MemoryDedupe {
	if size < 1 {
		size = 1
	}
	return &MemoryDedupe{size: size, order: list.New(), index: map[string]*list.Element{}}
}

// Seen reports whether id is among the remembered ids.
func (m *MemoryDedupe) Seen(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.index[id]
	return ok, nil
}

// Mark remembers id, evicting the oldest id when full.
func (m *MemoryDedupe) Mark(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.index[id]; ok {
		m.order.MoveToFront(el)
		return nil
	}
	m.index[id] = m.order.PushFront(id)
	if m.order.Len() > m.size {
		oldest := m.order.Back()
		m.order.Remove(oldest)
		delete(m.index, oldest.Value.(string))
	}
	return nil
}

// RedisDedupe records handled transition ids in Redis with a time to
// live, so every replica of a subscriber, and a restarted one, agree.
type RedisDedupe struct {
	client redis.UniversalClient
	prefix string
	ttl    time.Duration
}

// NewRedisDedupe returns a RedisDedupe storing keys "<prefix>:<id>" that
// expire after ttl (30 days when ttl is zero or less). Use a prefix that
// names your service, so two subscribers never share their marks.
func NewRedisDedupe(client redis.UniversalClient, prefix string, ttl time.Duration) *RedisDedupe {
	if ttl <= 0 {
		ttl = 30 * 24 * time.Hour
	}
	return &RedisDedupe{client: client, prefix: prefix, ttl: ttl}
}

// Seen reports whether the key for id exists.
func (r *RedisDedupe) Seen(ctx context.Context, id string) (bool, error) {
	n, err := r.client.Exists(ctx, r.key(id)).Result()
	if err != nil {
		return false, fmt.Errorf("check dedupe key: %w", err)
	}
	return n > 0, nil
}

// Mark sets the key for id with the time to live.
func (r *RedisDedupe) Mark(ctx context.Context, id string) error {
	if err := r.client.Set(ctx, r.key(id), 1, r.ttl).Err(); err != nil {
		return fmt.Errorf("set dedupe key: %w", err)
	}
	return nil
}

func (r *RedisDedupe) key(id string) string { return r.prefix + ":" + id }
