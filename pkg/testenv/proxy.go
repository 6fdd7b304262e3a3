package testenv

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Proxy is an in-process toxiproxy in front of one upstream address, for
// tests that slow or cut a connection.
type Proxy struct {
	// Addr is where clients connect instead of the upstream.
	Addr string

	mu    sync.Mutex
	proxy *toxiproxy.Proxy // guarded by mu
}

var (
	apiOnce sync.Once
	api     *toxiproxy.ApiServer
)

func proxyServer() *toxiproxy.ApiServer {
	apiOnce.Do(func() {
		metrics := toxiproxy.NewMetricsContainer(prometheus.NewRegistry())
		api = toxiproxy.NewServer(metrics, zerolog.Nop())
	})
	return api
}

// StartProxy listens on a free loopback port and forwards to upstream
// until the test ends.
func StartProxy(tb testing.TB, upstream string) *Proxy {
	tb.Helper()
	p := toxiproxy.NewProxy(proxyServer(), Prefix(tb)+"proxy", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		tb.Fatalf("start proxy to %s: %v", upstream, err)
	}
	tb.Cleanup(p.Stop)
	return &Proxy{Addr: p.Listen, proxy: p}
}

// Cut closes every open connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.proxy.Stop()
}

// Restore accepts connections again on the same address after Cut.
func (p *Proxy) Restore(tb testing.TB) {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.proxy.Listen = p.Addr
	if err := p.proxy.Start(); err != nil {
		tb.Fatalf("restore proxy on %s: %v", p.Addr, err)
	}
}

// AddLatency delays every byte read from the upstream by ms milliseconds
// (with jitter ms of jitter) until RemoveToxics.
func (p *Proxy) AddLatency(tb testing.TB, ms, jitter int) {
	tb.Helper()
	p.addToxic(tb, fmt.Sprintf(`{"name":"latency","type":"latency","stream":"downstream",`+
		`"attributes":{"latency":%d,"jitter":%d}}`, ms, jitter))
}

// AddTimeout stops all data from flowing (connections hang) until
// RemoveToxics; with ms > 0 connections are closed after ms milliseconds.
func (p *Proxy) AddTimeout(tb testing.TB, ms int) {
	tb.Helper()
	p.addToxic(tb, fmt.Sprintf(`{"name":"timeout","type":"timeout","stream":"downstream",`+
		`"attributes":{"timeout":%d}}`, ms))
}

func (p *Proxy) addToxic(tb testing.TB, js string) {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.proxy.Toxics.AddToxicJson(strings.NewReader(js)); err != nil {
		tb.Fatalf("add toxic %s: %v", js, err)
	}
}

// RemoveToxics removes every latency and timeout toxic.
func (p *Proxy) RemoveToxics() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.proxy.Toxics.ResetToxics(context.Background())
}
