package demo

import (
	"strings"
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("# only a title\n")
	f.Add(`{"id":"e","type":"x","lead_id":"l","timestamp":"2026-01-01T00:00:00Z"}`)
	f.Add(`{"type":"x","lead_id":"l","timestamp":"0001-01-01T00:00:00Z","properties":{"a":"b"}}`)
	f.Fuzz(func(t *testing.T, in string) {
		sits, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, s := range sits {
			if len(s.Events) == 0 {
				t.Fatal("Parse returned a situation without events")
			}
		}
		// Whatever parses must shift without panicking.
		_ = Shift(sits, time.Now(), time.Minute)
	})
}
