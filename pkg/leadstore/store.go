// Package leadstore keeps each lead's scoring state in Redis: what the
// rules engine counts, the event ids already counted, the stage and the
// transitions still to be published. Every change is one Lua script over
// the keys of one lead (or one anonymous visitor), and those keys share a
// hash tag, so the same code runs on a single Redis and on Redis Cluster.
//
// Keys are "<prefix>:{l:<id>}" (state) and "<prefix>:{l:<id>}:p"
// (pending transitions) for leads, "<prefix>:{a:<id>}", "...:p" and
// "...:l" (link) for anonymous visitors.
package leadstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// Defaults for the options.
const (
	// DefaultDedupeWindow is how long, in event time, an event id stays
	// known after the lead's clock passed it.
	DefaultDedupeWindow = 7 * 24 * time.Hour
	// DefaultDedupeMax bounds the event ids kept per lead; up to five
	// more are kept, as ids are dropped five at a time.
	DefaultDedupeMax = 10000
	// DefaultAnonTTL is how long a visitor's history outlives its link.
	DefaultAnonTTL = 30 * 24 * time.Hour
	// mergedCacheMax bounds the in-process cache of merged visitors.
	mergedCacheMax = 100000
)

// Store reads and changes lead state in Redis. It is safe for concurrent
// use.
type Store struct {
	rdb       redis.UniversalClient
	prefix    string
	window    time.Duration
	dedupeMax int
	anonTTL   time.Duration
	observe   func(script string, d time.Duration)
	log       *zap.Logger
	plans     planCache
	names     *names
	batch     coalescer

	// versionPrefix and versions make the state versions the scripts
	// set: a random prefix of this store and a count.
	versionPrefix string
	versions      atomic.Uint64

	mu     sync.Mutex
	merged map[string]string // anonymous id to the lead it is merged into; guarded by mu
}

// Option configures a Store.
type Option func(*Store)

// WithDedupe sets how long event ids are remembered per lead, in event
// time, and how many at most.
func WithDedupe(window time.Duration, maxIDs int) Option {
	return func(s *Store) { s.window, s.dedupeMax = window, maxIDs }
}

// WithAnonTTL sets how long a linked visitor's history is kept after its
// merge; 0 keeps it forever.
func WithAnonTTL(ttl time.Duration) Option {
	return func(s *Store) { s.anonTTL = ttl }
}

// WithObserver has fn called with the name and duration of every script
// run, for metrics.
func WithObserver(fn func(script string, d time.Duration)) Option {
	return func(s *Store) { s.observe = fn }
}

// WithLogger sets the logger; the default is silent.
func WithLogger(log *zap.Logger) Option {
	return func(s *Store) { s.log = log }
}

// New returns a Store on rdb whose keys start with prefix.
func New(rdb redis.UniversalClient, prefix string, opts ...Option) (*Store, error) {
	if prefix == "" || strings.ContainsAny(prefix, "{}") {
		return nil, fmt.Errorf("new lead store: prefix %q: %w", prefix, ErrBadPrefix)
	}
	s := &Store{rdb: rdb, prefix: prefix, window: DefaultDedupeWindow,
		dedupeMax: DefaultDedupeMax, anonTTL: DefaultAnonTTL,
		observe: func(string, time.Duration) {}, log: zap.NewNop(),
		merged: map[string]string{},
		names:  newNames(prefix + ":names")}
	s.batch.rdb = rdb
	var seed [6]byte
	_, _ = rand.Read(seed[:]) // never fails on the platforms Go supports
	s.versionPrefix = base64.RawURLEncoding.EncodeToString(seed[:])
	for _, o := range opts {
		o(s)
	}
	if s.dedupeMax < 1 || s.window <= 0 {
		return nil, fmt.Errorf("new lead store: dedupe window %s, max %d: %w",
			s.window, s.dedupeMax, ErrBadDedupe)
	}
	return s, nil
}

// Load loads every script into Redis (every master on a cluster), so the
// first events need no fallback from EVALSHA to EVAL.
func (s *Store) Load(ctx context.Context) error {
	scripts := []*redis.Script{applyScript, readScript, advanceScript, linkScript, mergeScript,
		codesScript}
	load := func(ctx context.Context, c *redis.Client) error {
		for _, sc := range scripts {
			if err := sc.Load(ctx, c).Err(); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, load)
	} else if c, ok := s.rdb.(*redis.Client); ok {
		err = load(ctx, c)
	}
	if err != nil {
		return fmt.Errorf("load lead store scripts: %w", err)
	}
	_, err = s.names.reload(ctx, s.rdb)
	return err
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// newVersion returns a state version no store has made before: the
// store's random prefix and its count.
func (s *Store) newVersion() string {
	return s.versionPrefix + strconv.FormatUint(s.versions.Add(1), 36)
}
