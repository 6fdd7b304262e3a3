package bench

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/zap"
)

// Bench is one run: the servers every suite shares and the report.
type Bench struct {
	cfg    Config
	log    *zap.Logger
	report *Report
	broker *kfake.Cluster
	kafka  string // broker address
	redis  *Child
	raddr  string // redis address
	rdb    *redis.Client
	seq    int // numbers the names of topics, groups and key prefixes

	// refs holds the references measured so far, by name.
	refs map[string]float64
}

// Run measures every suite of cfg and returns the report. A suite that
// cannot run (a service not built yet) is reported as missing; an error
// means the run itself could not go on.
func Run(ctx context.Context, cfg Config, log *zap.Logger) (*Report, error) {
	cfg.Defaults()
	b := &Bench{cfg: cfg, log: log, refs: map[string]float64{},
		report: &Report{Started: time.Now(), Quick: cfg.Quick, Machine: ThisMachine()}}
	if err := b.startServers(ctx); err != nil {
		b.stopServers()
		return nil, err
	}
	defer b.stopServers()

	for _, s := range b.suites() {
		if !cfg.runs(s.name) || ctx.Err() != nil {
			continue
		}
		if err := b.reset(ctx); err != nil {
			return nil, err
		}
		log.Info("suite started", zap.String("suite", s.name))
		start := time.Now()
		if err := s.run(ctx); err != nil {
			log.Warn("suite incomplete", zap.String("suite", s.name), zap.Error(err))
			b.report.Missing(s.name, s.name+" suite", err.Error())
		}
		log.Info("suite done", zap.String("suite", s.name),
			zap.Duration("took", time.Since(start).Round(time.Millisecond)))
	}
	b.report.Seconds = time.Since(b.report.Started).Seconds()
	return b.report, ctx.Err()
}

// reset empties the broker and Redis, so that each suite starts as the
// one before it did: without the millions of records the tracker suites
// leave in the broker (this process's heap, whose garbage collection
// would take CPU from the next suite) and the leads the memory suite
// leaves in Redis (a larger keyspace makes every script slower than when
// the Redis ceiling was measured on an empty one).
func (b *Bench) reset(ctx context.Context) error {
	cl, err := b.client()
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	listed, err := adm.ListTopics(ctx)
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	if names := listed.Names(); len(names) > 0 {
		deleted, err := adm.DeleteTopics(ctx, names...)
		if err == nil {
			err = deleted.Error()
		}
		if err != nil {
			return fmt.Errorf("delete topics: %w", err)
		}
	}
	return b.flushRedis(ctx)
}

// flushRedis empties Redis and returns this process's garbage to the
// system, so that what comes next starts on an empty keyspace and a
// quiet heap.
func (b *Bench) flushRedis(ctx context.Context) error {
	if err := b.rdb.FlushAll(ctx).Err(); err != nil {
		return fmt.Errorf("flush redis: %w", err)
	}
	debug.FreeOSMemory()
	return nil
}

type suite struct {
	name string
	run  func(context.Context) error
}

func (b *Bench) suites() []suite {
	return []suite{
		{"kafka", b.kafkaSuite}, {"redis", b.redisSuite}, {"rules", b.rulesSuite},
		{"pixel", b.pixelSuite}, {"batch", b.batchSuite}, {"memory", b.memorySuite},
		{"scorer", b.scorerSuite}, {"notifier", b.notifierSuite},
		{"latency", b.latencySuite},
	}
}

// startServers starts the broker in this process and a private redis-server
// without persistence, so disk writes do not blur the figures.
func (b *Bench) startServers(ctx context.Context) error {
	var err error
	b.broker, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(8))
	if err != nil {
		return fmt.Errorf("start broker: %w", err)
	}
	b.kafka = b.broker.ListenAddrs()[0]

	port, err := freePort()
	if err != nil {
		return err
	}
	b.raddr = "127.0.0.1:" + strconv.Itoa(port)
	b.redis, err = StartChild("redis", "redis-server", b.logDir(), []string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--daemonize", "no", "--dir", b.logDir(),
	}, nil)
	if err != nil {
		return err
	}
	b.rdb = redis.NewClient(&redis.Options{Addr: b.raddr, PoolSize: 64})
	return waitRedis(ctx, b.rdb)
}

func (b *Bench) stopServers() {
	if b.rdb != nil {
		_ = b.rdb.Close()
	}
	if b.redis != nil {
		b.redis.Stop(5 * time.Second)
	}
	if b.broker != nil {
		b.broker.Close()
	}
}

func (b *Bench) logDir() string { return filepath.Join(b.cfg.OutDir, "logs") }

// name returns a name no earlier suite of the run used.
func (b *Bench) name(kind string) string {
	b.seq++
	return fmt.Sprintf("bench-%s-%d", kind, b.seq)
}

func waitRedis(ctx context.Context, rdb *redis.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		if err := rdb.Ping(ctx).Err(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for redis-server: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freeAddr returns a free loopback address.
func freeAddr() (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	return "127.0.0.1:" + strconv.Itoa(port), nil
}
