package dispatch

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

func TestWatermarks(t *testing.T) {
	// Each step reads (r) or finishes (f) an offset of partition 0, or
	// reads one of partition 1 (p1); want is the offset due for
	// partition 0 after all steps, -1 for none.
	tests := []struct {
		name  string
		steps []string
		want  int64
	}{
		{"nothing finished", []string{"r0", "r1"}, -1},
		{"in order", []string{"r0", "r1", "f0", "f1"}, 1},
		{"gap holds", []string{"r0", "r1", "r2", "f0", "f2"}, 0},
		{"gap filled", []string{"r0", "r1", "r2", "f2", "f0", "f1"}, 2},
		{"head unfinished", []string{"r5", "r6", "f6"}, -1},
		{"starts mid log", []string{"r5", "r6", "f5"}, 5},
		{"other partition apart", []string{"r0", "p1", "f0"}, 0},
		{"reread starts afresh", []string{"r4", "r5", "f5", "r3", "f4", "f3"}, 3},
		{"reread ignores old tickets", []string{"r4", "r5", "r4", "f5"}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWatermarks()
			tickets := map[int64]ticket{}
			for _, s := range tt.steps {
				off := int64(s[1] - '0')
				switch s[0] {
				case 'r':
					tickets[off] = w.read(kafka.Message{Topic: "t", Offset: off})
				case 'p':
					w.read(kafka.Message{Topic: "t", Partition: 1, Offset: off})
				case 'f':
					w.finish(tickets[off])
				}
			}
			got := int64(-1)
			for _, m := range w.due() {
				if m.Partition == 0 {
					got = m.Offset
				}
			}
			if got != tt.want {
				t.Errorf("due offset = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestWatermarksCommitted(t *testing.T) {
	w := newWatermarks()
	a := w.read(kafka.Message{Topic: "t", Offset: 0})
	b := w.read(kafka.Message{Topic: "t", Offset: 1})
	w.finish(a)
	due := w.due()
	if len(due) != 1 || due[0].Offset != 0 {
		t.Fatalf("due = %v, want offset 0", due)
	}
	w.committed(due)
	if due := w.due(); len(due) != 0 {
		t.Fatalf("due after commit = %v, want none", due)
	}
	w.finish(b)
	if due := w.due(); len(due) != 1 || due[0].Offset != 1 {
		t.Fatalf("due = %v, want offset 1", due)
	}
}

func TestLanes(t *testing.T) {
	l := newLanes()
	mu := make(chan struct{}, 1)
	got := map[string][]int{}
	hold := make(chan struct{})
	for i := range 6 {
		key := []string{"a", "b"}[i%2]
		l.run(key, func() {
			if i == 0 {
				<-hold // a's first work blocks only a's lane
			}
			mu <- struct{}{}
			got[key] = append(got[key], i)
			<-mu
		})
	}
	waitLane := func() []int {
		mu <- struct{}{}
		defer func() { <-mu }()
		return slices.Clone(got["b"])
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(waitLane()) < 3 {
		if time.Now().After(deadline) {
			close(hold)
			t.Fatal("lane b waited for lane a's blocked work")
		}
		runtime.Gosched()
	}
	close(hold)
	l.wait()
	if want := []int{0, 2, 4}; !slices.Equal(got["a"], want) {
		t.Errorf("lane a ran %v, want %v", got["a"], want)
	}
	if want := []int{1, 3, 5}; !slices.Equal(got["b"], want) {
		t.Errorf("lane b ran %v, want %v", got["b"], want)
	}
	if len(l.queued) != 0 {
		t.Errorf("%d keys left after the work ended", len(l.queued))
	}
}
