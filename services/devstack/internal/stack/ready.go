package stack

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/redis/go-redis/v9"
)

// httpReady returns a check that passes once GET http://addr/readyz
// answers 200.
func httpReady(addr string) func(ctx context.Context) error {
	url := "http://" + addr + "/readyz"
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("build readiness request: %w", err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("get %s: %w", url, err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("get %s: status %d", url, resp.StatusCode)
		}
		return nil
	}
}

// redisReady returns a check that passes once Redis at addr answers PING.
func redisReady(addr string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		cl := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		defer cl.Close()
		if err := cl.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("ping redis %s: %w", addr, err)
		}
		return nil
	}
}
