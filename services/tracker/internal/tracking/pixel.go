package tracking

import (
	"net/url"
	"strconv"
	"strings"
)

// TypePageView is the event type a pixel reports when it names none.
const TypePageView = "page_view"

// Pixel query parameters; p.<name> and t.<name> carry properties and
// traits.
const (
	paramKey       = "k"
	paramType      = "e"
	paramAnonymous = "aid"
	paramLead      = "lid"
	paramID        = "eid"
	paramURL       = "url"
	paramReferrer  = "ref"
	paramTime      = "ts"
	prefixProperty = "p."
	prefixTrait    = "t."
)

// ParsePixel reads the write key and the event from a pixel query. The
// first value of a repeated parameter wins and unknown parameters (cache
// busters) are ignored. The problems are about the query's syntax; Build
// checks the event itself.
func ParsePixel(q url.Values) (key string, raw Raw, problems Problems) {
	c := checker{}
	raw = Raw{
		Type: q.Get(paramType), AnonymousID: q.Get(paramAnonymous), LeadID: q.Get(paramLead),
		ID: q.Get(paramID), URL: q.Get(paramURL), Referrer: q.Get(paramReferrer),
	}
	if raw.Type == "" {
		raw.Type = TypePageView
	}
	if ts := q.Get(paramTime); ts != "" {
		ms, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || ms <= 0 {
			c.add(ReasonInvalidTimestamp, "ts must be unix milliseconds")
		}
		raw.ClientMs = ms
	}
	raw.Properties = prefixed(&c, q, prefixProperty)
	raw.Traits = prefixed(&c, q, prefixTrait)
	return q.Get(paramKey), raw, c.problems
}

// prefixed collects the parameters starting with prefix into a map keyed
// by the rest of their name.
func prefixed(c *checker, q url.Values, prefix string) map[string]string {
	var m map[string]string
	for name, values := range q {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok || len(values) == 0 {
			continue
		}
		if rest == "" {
			c.add(ReasonInvalidKey, "parameter "+prefix+" needs a name after the dot")
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		m[rest] = values[0]
	}
	return m
}
