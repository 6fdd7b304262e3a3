package supervise

import (
	"bytes"
	"strings"
	"testing"
)

func TestPrefixWriter(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"one line", []string{"a\n"}, "p | a\n"},
		{"split line", []string{"ab", "c\nd", "e\n"}, "p | abc\np | de\n"},
		{"crlf", []string{"x\r\n"}, "p | x\n"},
		{"tail flushed", []string{"a\nb"}, "p | a\np | b\n"},
		{"empty line", []string{"\n"}, "p | \n"},
		{"long line cut", []string{strings.Repeat("z", 64<<10+1)},
			"p | " + strings.Repeat("z", 64<<10) + "\np | z\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			pw := newPrefixWriter(NewOutput(&buf), "p")
			for _, w := range tt.writes {
				if n, err := pw.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			pw.flush()
			if buf.String() != tt.want {
				t.Errorf("got %q, want %q", buf.String(), tt.want)
			}
		})
	}
}
