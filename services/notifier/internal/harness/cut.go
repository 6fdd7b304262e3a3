package harness

import (
	"net"
	"sync"
)

// Switch cuts a broker off from its clients and lets them back in. A
// proxy in front of kfake would not do: the broker advertises its own
// listen addresses, and clients follow them past the proxy. Switch works
// at the listener itself instead; pass Listen to kfake.ListenFn.
type Switch struct {
	mu    sync.Mutex
	off   bool                  // mu must be held
	conns map[net.Conn]struct{} // open connections; mu must be held
}

// NewSwitch returns a switch that lets connections through.
func NewSwitch() *Switch { return &Switch{conns: map[net.Conn]struct{}{}} }

// Listen is a kfake.ListenFn whose listener obeys the switch.
func (s *Switch) Listen(network, addr string) (net.Listener, error) {
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	return &switchedListener{Listener: ln, s: s}, nil
}

// Cut closes every open connection and, until Restore, every new one as
// soon as it is accepted: clients see resets, as in a network partition.
func (s *Switch) Cut() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.off = true
	for c := range s.conns {
		_ = c.Close()
		delete(s.conns, c)
	}
}

// Restore lets new connections through again.
func (s *Switch) Restore() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.off = false
}

// admit remembers c and returns true, or returns false while cut.
func (s *Switch) admit(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.off {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Switch) forget(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

type switchedListener struct {
	net.Listener
	s *Switch
}

var _ net.Listener = (*switchedListener)(nil)

// Accept returns the next connection admitted by the switch.
func (l *switchedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.s.admit(c) {
			return &switchedConn{Conn: c, s: l.s}, nil
		}
		_ = c.Close()
	}
}

type switchedConn struct {
	net.Conn
	s *Switch
}

var _ net.Conn = (*switchedConn)(nil)

// Close forgets the connection before closing it.
func (c *switchedConn) Close() error {
	c.s.forget(c.Conn)
	return c.Conn.Close()
}
