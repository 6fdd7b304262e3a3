package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/leadstream/leadstream/pkg/testenv"
)

func TestBadConfigExitsNonZero(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"no write keys", []string{"--kafka-brokers=127.0.0.1:1"}, 2},
		{"unknown flag", []string{"--no-such-flag"}, 2},
		{"help", []string{"--help"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.args); got != tc.code {
				t.Errorf("run(%v) = %d, want %d", tc.args, got, tc.code)
			}
		})
	}
}

// TestSIGTERM builds the binary, sends pixels through it, stops it with
// a real SIGTERM and checks it exits 0 with every accepted pixel in
// Kafka.
func TestSIGTERM(t *testing.T) {
	kafka := testenv.StartKafka(t)
	bin := filepath.Join(t.TempDir(), "tracker")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	topic := testenv.Prefix(t) + "events"
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cmd := exec.Command(bin, "--http-addr="+addr, "--write-keys=wk_test",
		"--kafka-brokers="+strings.Join(kafka.Brokers, ","), "--events-topic="+topic,
		"--log-format=console")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	logs := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs <- sc.Text()
		}
		close(logs)
	}()

	client := &http.Client{Timeout: 5 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	waitReady(t, client, "http://"+addr+"/readyz")
	const n = 50
	for i := range n {
		resp, err := client.Get(fmt.Sprintf("http://%s/p.gif?k=wk_test&aid=a%d", addr, i))
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("pixel %d: %v %v", i, resp, err)
		}
		resp.Body.Close()
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		for line := range logs {
			t.Log(line)
		}
		t.Fatalf("tracker exited with %v after SIGTERM, want 0", err)
	}
	if got := len(kafka.ReadAll(t, topic, n, 15*time.Second)); got != n {
		t.Errorf("%d of %d accepted pixels in Kafka", got, n)
	}
}

func waitReady(t *testing.T, client *http.Client, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", url)
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
