package lifecycle_test

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/leadstream/leadstream/pkg/lifecycle"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunStopsAllWhenOneFails(t *testing.T) {
	boom := errors.New("boom")
	stopped := make(chan struct{})
	err := lifecycle.Run(context.Background(), zap.NewNop(),
		func(ctx context.Context) error { <-ctx.Done(); close(stopped); return nil },
		func(context.Context) error { return boom },
	)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	select {
	case <-stopped:
	default:
		t.Fatal("the healthy task was not stopped")
	}
}

func TestRunCleanCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := lifecycle.Run(ctx, zap.NewNop(),
		func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	if err != nil {
		t.Fatalf("err = %v, want nil after a clean cancel", err)
	}
}
