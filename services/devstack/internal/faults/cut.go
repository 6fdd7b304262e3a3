package faults

import (
	"net"
	"sync"
)

// cutListener wraps a broker's listener so that a test can cut every
// client connection and refuse new ones for a while, as a network
// partition between the services and Kafka would. kfake advertises its
// own listen addresses, so a proxy in front of it would be bypassed; the
// cut has to happen at the listener the broker itself accepts on.
type cutListener struct {
	net.Listener
	sw *cutSwitch
}

// cutSwitch cuts and restores every listener created through it.
type cutSwitch struct {
	mu    sync.Mutex
	cut   bool                  // guarded by mu
	conns map[net.Conn]struct{} // guarded by mu
}

func newCutSwitch() *cutSwitch { return &cutSwitch{conns: map[net.Conn]struct{}{}} }

// listen is a kfake.ListenFn.
func (s *cutSwitch) listen(network, addr string) (net.Listener, error) {
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	return &cutListener{Listener: ln, sw: s}, nil
}

// Cut closes every open connection and makes new ones close at once. It
// returns how many connections it closed: none means that no client was
// connected, and the cut hit nothing.
func (s *cutSwitch) Cut() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cut = true
	n := len(s.conns)
	for c := range s.conns {
		c.Close()
	}
	clear(s.conns)
	return n
}

// Restore lets connections through again.
func (s *cutSwitch) Restore() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cut = false
}

// Accept hands the broker only connections made while not cut; during a
// cut it closes them, which the client sees as a reset.
func (l *cutListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.sw.track(c) {
			return &trackedConn{Conn: c, sw: l.sw}, nil
		}
		c.Close()
	}
}

// track records c unless the switch is cut.
func (s *cutSwitch) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cut {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

// trackedConn forgets itself on Close.
type trackedConn struct {
	net.Conn
	sw *cutSwitch
}

func (c *trackedConn) Close() error {
	c.sw.mu.Lock()
	delete(c.sw.conns, c.Conn)
	c.sw.mu.Unlock()
	return c.Conn.Close()
}

var _ net.Listener = (*cutListener)(nil)
