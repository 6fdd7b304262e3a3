package tracking

import (
	"reflect"
	"testing"
)

// fastBodies are bodies the single-pass decoder must take itself, since
// they are what clients send; were it to decline them, every batch would
// pay for both decoders.
func fastBodies() []string {
	return []string{
		`{"write_key":"wk","events":[{"id":"e1","type":"page_view","anonymous_id":"a",` +
			`"timestamp":"2026-12-03T10:15:00.123Z","url":"https://x.io/a?b=1\u0026c=2"}]}`,
		` { "events" : [ {"type":"x","lead_id":"l","timestamp":1796292900000,` +
			`"properties":{"n":1.5e3,"b":true,"f":false,"z":null,"s":"\"q\"\n"},` +
			`"traits":{}} ] , "source" : "snippet" } `,
		`{"events":[{"type":"x","lead_id":"l","context":{"ip":[1,{"a":null}]},` +
			`"timestamp":null,"referrer":null}],"sent_at":"now"}`,
		`{"events":[{"type":"x","lead_id":"\u00e9\ud83d\ude00","traits":{"a":null}},` +
			`{"type":"y","anonymous_id":"a","timestamp":""}]}`,
	}
}

// declinedBodies are bodies the single-pass decoder must leave to the
// strict one: errors, problems, and what encoding/json decides in ways
// the single pass does not copy.
func declinedBodies() []string {
	return []string{
		``, `null`, `[]`, `{}`, `{"events":[]}`, `{"events":null}`, `{"events":[null]}`,
		`{"events":[{"type":"x"}]} x`, `{"events":[{"type":"x",}]}`,
		`{"events":[{"type":"x","id":"a","id":"b"}]}`,
		`{"events":[{"type":"x","Lead_ID":"l"}]}`,
		`{"events":[{"type":"x","lead_\u0131d":"l"}]}`,
		"{\"events\":[{\"type\":\"x\",\"lead_id\":\"\xff\"}]}",
		`{"events":[{"type":"x","lead_id":"\ud800"}]}`,
		`{"events":[{"type":"x","lead_id":5}]}`,
		`{"events":[{"type":"x","timestamp":"yesterday"}]}`,
		`{"events":[{"type":"x","timestamp":1.5}]}`,
		`{"events":[{"type":"x","timestamp":-1}]}`,
		`{"events":[{"type":"x","properties":{"a":{"b":1}}}]}`,
		`{"events":[{"type":"x","properties":{"a":01}}]}`,
		`{"events":[{},{},{},{}]}`,
		`{"write_key":"a","write_key":"b","events":[{}]}`,
		`{"events":[{"type":"x","deep":` + deep(100) + `}]}`,
	}
}

func deep(n int) string {
	s := "1"
	for range n {
		s = "[" + s + "]"
	}
	return s
}

func TestDecodeFastTakesCommonBodies(t *testing.T) {
	limits := Limits{MaxEvents: 3, MaxProps: 50, MaxKeyLen: 64, MaxValueLen: 1024}
	for _, body := range fastBodies() {
		t.Run(body[:20], func(t *testing.T) {
			fast, ok := decodeFast([]byte(body), limits)
			if !ok {
				t.Fatal("declined")
			}
			strict, problems, err := decodeStrict([]byte(body), limits)
			if err != nil || len(problems) > 0 || !reflect.DeepEqual(fast, strict) {
				t.Errorf("fast %+v\nstrict %+v (%v %v)", fast, strict, problems, err)
			}
		})
	}
}

func TestDecodeFastDeclines(t *testing.T) {
	limits := Limits{MaxEvents: 3, MaxProps: 50, MaxKeyLen: 64, MaxValueLen: 1024}
	for _, body := range declinedBodies() {
		t.Run(body, func(t *testing.T) {
			if b, ok := decodeFast([]byte(body), limits); ok {
				t.Errorf("accepted as %+v", b)
			}
		})
	}
}
