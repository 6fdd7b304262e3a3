package workload

import (
	"testing"
	"time"
)

// FuzzEventProto feeds arbitrary timestamps and traits to the conversion
// the oracle relies on: it must fail cleanly or keep the time exactly.
func FuzzEventProto(f *testing.F) {
	f.Add("2026-12-01T10:00:00Z", "a@b.c")
	f.Add("2026-12-01T10:00:00+02:00", "@")
	f.Add("not a time", "")
	f.Fuzz(func(t *testing.T, ts, email string) {
		pb, err := Event{ID: "e", Timestamp: ts, Traits: map[string]string{"email": email}}.Proto()
		if err != nil {
			return
		}
		at, _ := time.Parse(time.RFC3339, ts)
		if pb.GetOccurredAtUnixMs() != at.UnixMilli() {
			t.Fatalf("time %q became %d", ts, pb.GetOccurredAtUnixMs())
		}
	})
}

// FuzzGenerate checks that any small configuration generates, and that the
// oracle runs over the result.
func FuzzGenerate(f *testing.F) {
	r := loadRules(f)
	f.Add(int64(1), uint8(5), uint8(2), uint8(3), uint8(4))
	f.Add(int64(-9), uint8(0), uint8(0), uint8(1), uint8(1))
	f.Fuzz(func(t *testing.T, seed int64, leads, visitors, devices, batch uint8) {
		cfg := DefaultConfig(seed)
		cfg.Leads, cfg.Visitors = int(leads%40), int(visitors%10)
		cfg.MaxDevices, cfg.MaxBatch = int(devices%5), int(batch%30)
		w, err := Generate(cfg)
		if err != nil {
			if cfg.Validate() == nil {
				t.Fatalf("generate: %v", err)
			}
			return
		}
		if _, err := Expect(r, w.Events()); err != nil {
			t.Fatalf("expect: %v", err)
		}
	})
}
