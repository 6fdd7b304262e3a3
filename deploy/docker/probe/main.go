// Command probe is the container health check of the service images. The
// images are distroless, with no shell or curl, so Compose runs this
// instead: it GETs one URL and exits 0 on a 2xx answer, 1 otherwise.
//
//	probe http://127.0.0.1:8080/readyz
//
// It uses only the standard library, so the Dockerfile builds it outside
// the workspace: GOWORK=off go build ./deploy/docker/probe/main.go.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// timeout bounds the whole check, below Compose's healthcheck timeout.
const timeout = 2 * time.Second

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: probe URL")
		os.Exit(2)
	}
	if err := check(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
}

func check(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("get %s: status %d: %s", url, resp.StatusCode, body)
	}
	return nil
}
