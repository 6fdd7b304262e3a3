package netguard_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/leadstream/leadstream/services/notifier/internal/netguard"
)

func TestPublic(t *testing.T) {
	tests := []struct {
		ip   string
		want bool
	}{
		{"93.184.216.34", true},
		{"2606:4700::1111", true},
		{"127.0.0.1", false},
		{"::1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false},
		{"0.0.0.0", false},
		{"::", false},
		{"224.0.0.1", false},
		{"ff02::1", false},
		{"fd00::1", false},
		{"fe80::1", false},
		{"100.64.0.1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"2002:7f00:1::", false},
		{"255.255.255.255", false},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			if got := netguard.Public(netip.MustParseAddr(tt.ip)); got != tt.want {
				t.Errorf("Public(%s) = %v, want %v", tt.ip, got, tt.want)
			}
		})
	}
}

func TestCheckHost(t *testing.T) {
	tests := []struct {
		host    string
		refused bool
	}{
		{"crm.example.com", false},
		{"93.184.216.34", false},
		{"localhost", true},
		{"LOCALHOST.", true},
		{"api.localhost", true},
		{"127.0.0.1", true},
		{"[::1]", true},
		{"10.0.0.8", true},
		{"169.254.169.254", true},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			err := netguard.CheckHost(tt.host)
			if got := errors.Is(err, netguard.ErrForbiddenAddress); got != tt.refused {
				t.Errorf("CheckHost(%q) = %v, refused want %v", tt.host, err, tt.refused)
			}
		})
	}
}

func TestDialerRefusesLoopbackAtDialTime(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// "localhost" passes no literal check here: the refusal must come from
	// the address the name resolved to.
	_, err := netguard.Dialer(false).DialContext(ctx, "tcp", "localhost:9")
	if !errors.Is(err, netguard.ErrForbiddenAddress) {
		t.Fatalf("dial localhost = %v, want ErrForbiddenAddress", err)
	}
}
