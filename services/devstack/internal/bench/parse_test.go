package bench

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseUsedMemory(t *testing.T) {
	tests := []struct {
		name string
		info string
		want int64
		err  bool
	}{
		{"info text", "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n",
			1048576, false},
		{"client buffers left out", "used_memory:1048576\r\nmem_clients_normal:48576\r\n",
			1000000, false},
		{"clients past the total", "used_memory:10\r\nmem_clients_normal:11\r\n", 0, true},
		{"missing", "# Memory\r\nused_memory_rss:10\r\n", 0, true},
		{"not a number", "used_memory:lots\r\n", 0, true},
		{"negative", "used_memory:-1\r\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseUsedMemory(tt.info)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("parseUsedMemory = %d, %v; want %d, error %v", got, err, tt.want,
					tt.err)
			}
			if err != nil && !errors.Is(err, ErrBadInfo) {
				t.Errorf("error %v is not ErrBadInfo", err)
			}
		})
	}
}

func FuzzParseUsedMemory(f *testing.F) {
	f.Add("used_memory:1024\r\n")
	f.Add("# Memory\nused_memory:\n")
	f.Add("used_memory:99999999999999999999\n")
	f.Fuzz(func(t *testing.T, info string) {
		n, err := parseUsedMemory(info)
		if err == nil && n < 0 {
			t.Fatalf("negative memory %d from %q", n, info)
		}
	})
}

func TestParseStatus(t *testing.T) {
	status := "Name:\ttracker\nVmPeak:\t  900000 kB\nVmHWM:\t   40960 kB\nVmRSS:\t   20480 kB\n"
	tests := []struct {
		name      string
		in        string
		rss, peak int64
		err       bool
	}{
		{"status", status, 20480 << 10, 40960 << 10, false},
		{"no peak", "VmRSS:\t 1 kB\n", 0, 0, true},
		{"bad number", "VmHWM:\t x kB\n", 0, 0, true},
		{"empty", "", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rss, peak, err := parseStatus(strings.NewReader(tt.in))
			if (err != nil) != tt.err || rss != tt.rss || peak != tt.peak {
				t.Fatalf("parseStatus = %d, %d, %v; want %d, %d, error %v", rss, peak, err,
					tt.rss, tt.peak, tt.err)
			}
		})
	}
}

func FuzzParseStatus(f *testing.F) {
	f.Add("VmHWM:\t 10 kB\nVmRSS:\t 5 kB\n")
	f.Add("VmHWM:\n")
	f.Add("VmRSS: 1099511627777 kB\nVmHWM: 1 kB")
	f.Fuzz(func(t *testing.T, in string) {
		rss, peak, err := parseStatus(strings.NewReader(in))
		if err == nil && (rss < 0 || peak <= 0) {
			t.Fatalf("parseStatus(%q) = %d, %d", in, rss, peak)
		}
	})
}

func TestParseRedisWork(t *testing.T) {
	tests := []struct {
		name string
		info string
		want redisWork
		err  bool
	}{
		{"cpu and scripts", "# CPU\r\nused_cpu_sys:1.5\r\nused_cpu_user:2.25\r\n" +
			"# Commandstats\r\ncmdstat_evalsha:calls=42,usec=900,usec_per_call=21.4\r\n",
			redisWork{cpu: 3.75, evals: 42}, false},
		{"bad usec", "used_cpu_sys:1\nused_cpu_user:1\ncmdstat_get:calls=1,usec=\n",
			redisWork{}, true},
		{"no scripts yet", "used_cpu_sys:0.5\nused_cpu_user:0.5\n", redisWork{cpu: 1}, false},
		{"no cpu", "cmdstat_evalsha:calls=1,usec=2\n", redisWork{}, true},
		{"bad cpu", "used_cpu_sys:x\nused_cpu_user:1\n", redisWork{}, true},
		{"bad calls", "used_cpu_sys:1\nused_cpu_user:1\ncmdstat_evalsha:calls=x,usec=1\n",
			redisWork{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRedisWork(tt.info)
			if (err != nil) != tt.err || got.cpu != tt.want.cpu || got.evals != tt.want.evals {
				t.Fatalf("parseRedisWork = %+v, %v; want %+v, error %v", got, err, tt.want, tt.err)
			}
			if err != nil && !errors.Is(err, ErrBadInfo) {
				t.Errorf("error %v is not ErrBadInfo", err)
			}
		})
	}
}

// TestRedisWorkByCommand spreads the commands' work over the events and
// lists the busiest first.
func TestRedisWorkByCommand(t *testing.T) {
	w0, err := parseRedisWork("used_cpu_sys:1\nused_cpu_user:1\n" +
		"cmdstat_evalsha:calls=10,usec=100\ncmdstat_hdel:calls=4,usec=8\n")
	if err != nil {
		t.Fatal(err)
	}
	w1, err := parseRedisWork("used_cpu_sys:2\nused_cpu_user:1\n" +
		"cmdstat_evalsha:calls=30,usec=500\ncmdstat_hdel:calls=14,usec=28\n" +
		"cmdstat_unlink:calls=10,usec=40,usec_per_call=4.00,rejected_calls=0\n")
	if err != nil {
		t.Fatal(err)
	}
	got := w1.since(w0).byCommand(20, 2)
	want := "per event: evalsha 1.00 calls 20.0 µs, unlink 0.50 calls 2.0 µs"
	if got != want {
		t.Fatalf("byCommand = %q, want %q", got, want)
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want time.Duration
		err  bool
	}{
		{"stat", "4242 (scorer) S 1 4242 4242 0 -1 4194560 9000 0 0 0 250 75 0 0 20 0 9 0",
			3250 * time.Millisecond, false},
		{"name with spaces and parentheses",
			"7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0", 30 * time.Millisecond, false},
		{"cut short", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 1", 0, true},
		{"no name", "7 x R 1", 0, true},
		{"bad number", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 x 2 0", 0, true},
		{"negative", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 -1 2 0", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("parseStat = %v, %v; want %v, error %v", got, err, tt.want, tt.err)
			}
			if err != nil && !errors.Is(err, ErrBadInfo) {
				t.Errorf("error %v is not ErrBadInfo", err)
			}
		})
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add("1 (go) S 0 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0")
	f.Add("1 ()) S")
	f.Add(")")
	f.Fuzz(func(t *testing.T, in string) {
		if d, err := parseStat(in); err == nil && d < 0 {
			t.Fatalf("parseStat(%q) = %v", in, d)
		}
	})
}
