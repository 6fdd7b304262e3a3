package logging

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
)

// TestFormats writes one line in each format and reads it back: JSON
// that log pipelines can parse field by field, and console lines for
// people, both carrying the service name and no lines below the level.
func TestFormats(t *testing.T) {
	tests := []struct {
		format string
		check  func(t *testing.T, line string)
	}{
		{"json", func(t *testing.T, line string) {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("json line %q: %v", line, err)
			}
			want := map[string]any{"level": "info", "msg": "transition published",
				"service": "scorer", "lead_id": "crm-42"}
			for k, v := range want {
				if rec[k] != v {
					t.Errorf("%s = %v, want %v in %q", k, rec[k], v, line)
				}
			}
			if _, ok := rec["ts"].(string); !ok {
				t.Errorf("no ts in %q", line)
			}
		}},
		{"console", func(t *testing.T, line string) {
			if json.Valid([]byte(line)) {
				t.Errorf("console line is JSON: %q", line)
			}
			for _, want := range []string{"INFO", "transition published", `"lead_id": "crm-42"`,
				`"service": "scorer"`} {
				if !strings.Contains(line, want) {
					t.Errorf("console line %q lacks %q", line, want)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log")
			log, err := build("scorer", Config{Format: tt.format, Level: "info"}, path)
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			log.Debug("below the level")
			log.Info("transition published", zap.String("lead_id", "crm-42"))
			_ = log.Sync()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if len(lines) != 1 {
				t.Fatalf("got %d lines, want the info line only:\n%s", len(lines), b)
			}
			tt.check(t, lines[0])
		})
	}
}
