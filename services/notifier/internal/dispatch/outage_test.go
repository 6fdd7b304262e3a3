package dispatch

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/segmentio/kafka-go"
)

func TestFatalFetch(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		fatal bool
	}{
		{"refused connection", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, false},
		{"reset connection", fmt.Errorf("read: %w", syscall.ECONNRESET), false},
		{"closed by the broker", io.EOF, false},
		{"unexpected end", io.ErrUnexpectedEOF, false},
		{"coordinator moved", kafka.NotCoordinatorForGroup, false},
		{"group loading", fmt.Errorf("join: %w", kafka.GroupCoordinatorNotAvailable), false},
		{"rebalancing", kafka.RebalanceInProgress, false},
		{"bad password", fmt.Errorf("sasl: %w", kafka.SASLAuthenticationFailed), true},
		{"no read permission", kafka.TopicAuthorizationFailed, true},
		{"no group permission", kafka.GroupAuthorizationFailed, true},
		{"session timeout refused", kafka.InvalidSessionTimeout, true},
		{"unknown certificate authority",
			fmt.Errorf("tls: %w", x509.UnknownAuthorityError{}), true},
		{"wrong host in certificate", x509.HostnameError{Host: "kafka"}, true},
		{"joined", errors.Join(io.EOF, kafka.ClusterAuthorizationFailed), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fatalFetch(tt.err); got != tt.fatal {
				t.Errorf("fatalFetch(%v) = %v, want %v", tt.err, got, tt.fatal)
			}
		})
	}
}
