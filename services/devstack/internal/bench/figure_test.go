package bench

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFigureMet(t *testing.T) {
	tests := []struct {
		name      string
		f         Figure
		met, has  bool
		wantRatio float64
	}{
		{"ratio met", Figure{Value: 70, Reference: 100, Target: &Target{Ratio: true, Bound: 0.7}},
			true, true, 0.7},
		{"ratio missed", Figure{Value: 69, Reference: 100,
			Target: &Target{Ratio: true, Bound: 0.7}}, false, true, 0.69},
		{"ratio without reference", Figure{Value: 5, Target: &Target{Ratio: true, Bound: 0.7}},
			false, false, 0},
		{"upper bound met", Figure{Value: 400, Target: &Target{AtMost: true, Bound: 400}},
			true, true, 0},
		{"upper bound missed", Figure{Value: 401, Target: &Target{AtMost: true, Bound: 400}},
			false, true, 0},
		{"no target", Figure{Value: 1, Reference: 2}, false, false, 0.5},
		{"missing", Figure{Missing: true, Reference: 2,
			Target: &Target{AtMost: true, Bound: 1}}, false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			met, has := tt.f.Met()
			if met != tt.met || has != tt.has {
				t.Errorf("Met() = %v, %v; want %v, %v", met, has, tt.met, tt.has)
			}
			if got := tt.f.Ratio(); got != tt.wantRatio {
				t.Errorf("Ratio() = %v, want %v", got, tt.wantRatio)
			}
		})
	}
}

func TestQuantile(t *testing.T) {
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(i + 1)
	}
	tests := []struct {
		name   string
		sorted []float64
		q      float64
		want   float64
	}{
		{"empty", nil, 0.5, 0},
		{"one", []float64{7}, 0.99, 7},
		{"median of 100", hundred, 0.5, 50},
		{"p99 of 100", hundred, 0.99, 99},
		{"max", hundred, 1, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quantile(tt.sorted, tt.q); got != tt.want {
				t.Errorf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func sampleReport() *Report {
	r := &Report{Machine: Machine{CPU: "test cpu", Cores: 2}}
	r.Add(Figure{Name: "tracker pixel", Value: 12000, Unit: "req/s", Reference: 20000,
		Target: &Target{Ratio: true, Bound: 0.6}},
		Figure{Name: "scorer", Value: 3000, Unit: "ev/s", Reference: 20000,
			Target: &Target{Ratio: true, Bound: 0.7}})
	r.Missing("notifier", "notifier deliveries", "not built")
	r.Latency = []LatencyStep{{Rate: 500, P50: 8, P99: 20, Max: 30},
		{Rate: 2000, P50: 12, P99: 60, Max: 90}, {Rate: 10000, P50: 300, P99: 900}}
	return r
}

func TestPrintTable(t *testing.T) {
	var buf bytes.Buffer
	if err := PrintTable(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"figure", "reference", "ratio", "met?",
		"tracker pixel", "0.60", "yes", "NO", "notifier deliveries", "n/a", "not built"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteChart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out", "chart.png")
	if err := WriteChart(path, sampleReport()); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode chart: %v", err)
	}
	if b := img.Bounds(); b.Dx() != chartW || b.Dy() != chartH {
		t.Errorf("chart is %v, want %dx%d", b, chartW, chartH)
	}
}

func TestWriteJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.json")
	if err := sampleReport().WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"name": "tracker pixel"`, `"missing": true`,
		`"p99_ms": 60`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("results lack %s", want)
		}
	}
}

func TestGlyphs(t *testing.T) {
	for r, g := range glyphs {
		if len(g) != 15 || strings.Trim(g, "#.") != "" {
			t.Errorf("glyph %q is %q, want 15 cells of # and .", r, g)
		}
	}
}
