package faults

import (
	"io"
	"net"
	"testing"
	"time"
)

func TestCutSwitch(t *testing.T) {
	sw := newCutSwitch()
	ln, err := sw.listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go echo(ln)

	tests := []struct {
		name   string
		before func()
		works  bool
	}{
		{"open", func() {}, true},
		{"cut", func() { sw.Cut() }, false},
		{"restored", sw.Restore, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.before()
			if got := roundTrip(t, ln.Addr().String()); got != tt.works {
				t.Fatalf("round trip works = %v, want %v", got, tt.works)
			}
		})
	}

	t.Run("cut closes open connections", func(t *testing.T) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1)
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		sw.Cut()
		defer sw.Restore()
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Read(buf); err == nil {
			t.Fatal("connection still open after the cut")
		}
	})
}

// echo answers every connection by echoing what it reads.
func echo(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_, _ = io.Copy(c, c)
		}()
	}
}

// roundTrip reports whether one byte goes to addr and back.
func roundTrip(t *testing.T, addr string) bool {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("x")); err != nil {
		return false
	}
	buf := make([]byte, 1)
	_, err = io.ReadFull(c, buf)
	return err == nil && buf[0] == 'x'
}
