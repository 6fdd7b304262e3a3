package rules

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := "testdata/" + name
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatalf("write golden: %v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update if intended):\n%s", path, got)
	}
}

func TestRunTestExample(t *testing.T) {
	r, err := Load("../../deploy/rules/example.yaml")
	if err != nil {
		t.Fatalf("load example rules: %v", err)
	}
	f, err := os.Open("../../deploy/rules/example-events.jsonl")
	if err != nil {
		t.Fatalf("open events: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	var out strings.Builder
	if err := RunTest(&out, r, f); err != nil {
		t.Fatalf("run test: %v", err)
	}
	golden(t, "example-run.golden", out.String())
}

func TestDescribeExample(t *testing.T) {
	r, err := Load("../../deploy/rules/example.yaml")
	if err != nil {
		t.Fatalf("load example rules: %v", err)
	}
	var out strings.Builder
	if err := Describe(&out, r); err != nil {
		t.Fatalf("describe: %v", err)
	}
	golden(t, "example-describe.golden", out.String())
}

func TestRunTestBadLines(t *testing.T) {
	r := mustParse(t, withStages("stages: {mql: \"page >= 1\"}\n"))
	good := `{"id":"1","type":"page_view","anonymous_id":"a","timestamp":"2026-12-01T00:00:00Z"}`
	tests := []struct {
		name, input, want string
	}{
		{"not json", good + "\n\n{oops\n", "line 3"},
		{"unknown field", good + "\n" + `{"type":"x","anonymous_id":"a","when":"now"}`,
			"line 2: decode event: json: unknown field \"when\""},
		{"no type", `{"anonymous_id":"a","timestamp":"2026-12-01T00:00:00Z"}`,
			"line 1: event has no type"},
		{"no ids", `{"type":"x","timestamp":"2026-12-01T00:00:00Z"}`,
			"line 1: event has neither anonymous_id nor lead_id"},
		{"bad time", `{"type":"x","lead_id":"L","timestamp":"yesterday"}`,
			"line 1: event timestamp \"yesterday\" is not RFC 3339"},
		{"two values", good + " " + good, "line 1: decode event: more than one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := RunTest(&strings.Builder{}, r, strings.NewReader(tt.input))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
