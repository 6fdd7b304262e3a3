package supervise

import (
	"bytes"
	"io"
	"sync"
)

// Output is a shared destination for the lines of many children; it keeps
// lines from different children from interleaving mid-line.
type Output struct {
	mu sync.Mutex
	w  io.Writer // guarded by mu
}

// NewOutput returns an Output writing to w.
func NewOutput(w io.Writer) *Output { return &Output{w: w} }

func (o *Output) writeLine(prefix, line []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, _ = o.w.Write(append(append(append([]byte{}, prefix...), line...), '\n'))
}

// prefixWriter splits a byte stream into lines and writes each with a
// prefix such as "scorer-1 | ".
type prefixWriter struct {
	out    *Output
	prefix []byte
	buf    []byte
}

var _ io.Writer = (*prefixWriter)(nil)

func newPrefixWriter(out *Output, name string) *prefixWriter {
	return &prefixWriter{out: out, prefix: []byte(name + " | ")}
}

// Write implements io.Writer; exec calls it from a single goroutine.
func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		p.out.writeLine(p.prefix, bytes.TrimSuffix(p.buf[:i], []byte("\r")))
		p.buf = p.buf[i+1:]
	}
	// NOTE: a child that writes a very long line without a newline is
	// cut into 64 KiB pieces rather than buffered without bound.
	for len(p.buf) >= 64<<10 {
		p.out.writeLine(p.prefix, p.buf[:64<<10])
		p.buf = p.buf[64<<10:]
	}
	return len(b), nil
}

// flush writes a last line that had no newline.
func (p *prefixWriter) flush() {
	if len(p.buf) > 0 {
		p.out.writeLine(p.prefix, p.buf)
		p.buf = nil
	}
}

// Println writes one line of devstack's own, whole, between the children's.
func (o *Output) Println(line string) {
	o.writeLine(nil, []byte(line))
}
