// Package netguard keeps outbound requests away from the network the
// notifier runs in: a sinks file, or a DNS answer, that points a sink at
// loopback, private, link-local, unspecified or multicast addresses is
// refused, so a webhook URL cannot be used to reach internal services.
package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
)

// ErrForbiddenAddress is wrapped by every refusal.
var ErrForbiddenAddress = errors.New("address is not public")

// Public reports whether ip is a globally routable unicast address.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid(), ip.IsLoopback(), ip.IsPrivate(), ip.IsUnspecified(),
		ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast(),
		ip.IsMulticast():
		return false
	}
	return !inSpecialRange(ip)
}

// specialRanges are non-public blocks that netip has no predicate for.
var specialRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),   // protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("fec0::/10"),      // deprecated site-local
	netip.MustParsePrefix("::ffff:0:0/96"),  // mapped, after Unmap only odd forms
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("2001::/32"),      // Teredo, embeds any IPv4
	netip.MustParsePrefix("2002::/16"),      // 6to4, embeds any IPv4
	netip.MustParsePrefix("192.88.99.0/24"), // 6to4 relay anycast
	netip.MustParsePrefix("169.254.0.0/16"), // link-local, for mapped forms
	netip.MustParsePrefix("255.255.255.255/32"),
}

func inSpecialRange(ip netip.Addr) bool {
	for _, p := range specialRanges {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// CheckHost refuses a URL host that is a literal non-public address or a
// name that always means this machine. Other names are checked when they
// are dialled, since DNS may answer differently later.
func CheckHost(host string) error {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return fmt.Errorf("host %s: %w", host, ErrForbiddenAddress)
	}
	ip, err := netip.ParseAddr(strings.Trim(h, "[]"))
	if err != nil {
		return nil
	}
	if !Public(ip) {
		return fmt.Errorf("host %s: %w", host, ErrForbiddenAddress)
	}
	return nil
}

// Control is a net.Dialer Control hook that refuses to connect to a
// non-public address. It runs after name resolution, on the address
// actually dialled, which defeats DNS rebinding.
func Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("parse dialled address %s: %w", address, ErrForbiddenAddress)
	}
	if !Public(ap.Addr()) {
		return fmt.Errorf("dial %s: %w", address, ErrForbiddenAddress)
	}
	return nil
}

// Dialer returns a dialer that applies Control unless allowPrivate.
func Dialer(allowPrivate bool) *net.Dialer {
	d := &net.Dialer{}
	if !allowPrivate {
		d.Control = Control
	}
	return d
}
