package rules

import "strings"

// plainPath reads the path of the URLs events usually carry without
// net/url, which allocates for every URL: "http(s)://host[:port]" followed
// by an optional path, query and fragment, or a path starting with one
// "/". It only takes URLs that net/url reads without decoding or refusing
// anything, and then returns exactly the path net/url would; for any other
// URL ok is false and the caller asks net/url.
func plainPath(raw string) (p string, ok bool) {
	rest, absolute := cutWebScheme(raw)
	switch {
	case absolute:
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		if !plainHost(rest[:end]) {
			return "", false
		}
		rest = rest[end:]
	case !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//"):
		return "", false
	}

	end := strings.IndexAny(rest, "?#")
	if end < 0 {
		end = len(rest)
	}
	if !plainText(rest[:end], false) || !plainTail(rest[end:]) {
		return "", false
	}
	return rest[:end], true
}

// cutWebScheme cuts a leading "http://" or "https://", in any case; it
// returns raw unchanged when there is none.
func cutWebScheme(raw string) (string, bool) {
	for _, scheme := range [...]string{"https://", "http://"} {
		if len(raw) >= len(scheme) && strings.EqualFold(raw[:len(scheme)], scheme) {
			return raw[len(scheme):], true
		}
	}
	return raw, false
}

// plainHost accepts a host name or IPv4 address with an optional port of
// digits; no user info, no IPv6 literal, nothing escaped.
func plainHost(h string) bool {
	name, port, hasPort := strings.Cut(h, ":")
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isAlnum(c) && c != '.' && c != '-' {
			return false
		}
	}
	if !hasPort {
		return true
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	return true
}

// plainTail accepts a query and fragment ("?a=b#top") that net/url keeps
// without complaint: printable ASCII, with escapes only in the query,
// since net/url refuses a fragment with a bad one.
func plainTail(tail string) bool {
	query, frag, _ := strings.Cut(tail, "#")
	return plainText(query, true) && plainText(frag, false)
}

// plainText reports whether s is printable ASCII without spaces, and
// without "%" unless escapes are allowed.
func plainText(s string, escapes bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '%' && !escapes {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
