package stack

import (
	"fmt"
	"net"
	"strconv"
)

// freePort returns a loopback port that was free a moment ago.
//
// NOTE: another process may take the port before the child binds it; the
// child then fails to start and is restarted on the same port, so such a
// collision shows up as a failed start rather than a wrong connection.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// freeAddr returns a free loopback host:port.
func freeAddr() (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
}

// resolveAddr replaces port 0 in addr by a free port.
func resolveAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("split %s: %w", addr, err)
	}
	if port != "0" {
		return addr, nil
	}
	p, err := freePort()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(p)), nil
}
