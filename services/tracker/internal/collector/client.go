package collector

import (
	"net"
	"net/http"
	"regexp"
	"strings"
)

// botAgents matches user agents that announce themselves as automated.
// NOTE: only obvious self-declared bots are caught; a headless browser
// that pretends to be Chrome is counted like a person.
var botAgents = regexp.MustCompile(
	`(?i)bot\b|bot/|crawl|spider|slurp|headless|lighthouse|phantomjs|prerender|` +
		`facebookexternalhit|bingpreview|python-requests`)

// IsBot reports whether a user agent is an obvious bot.
func IsBot(userAgent string) bool {
	return botAgents.MatchString(userAgent)
}

// clientIP is the address the request came from: the peer, or with
// trustForwarded the last X-Forwarded-For hop, which the closest proxy
// appended and so cannot be forged by the client.
func clientIP(r *http.Request, trustForwarded bool) string {
	if trustForwarded {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			hops := strings.Split(xff[len(xff)-1], ",")
			if ip := strings.TrimSpace(hops[len(hops)-1]); ip != "" {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
