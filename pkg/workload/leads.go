package workload

import (
	"fmt"
	"strings"
)

// kind is the behaviour a generated lead follows. The rules decide its
// stage; the kind only makes every stage common.
type kind int

const (
	cold kind = iota
	nurtured
	contact
	decider
	competitor
)

// A competitor's activity never meets the MQL or SQL criteria of
// deploy/rules/faults.yaml: page views only. Otherwise whether it passed
// through mql before its identify arrived would depend on delivery order.
var (
	competitorDomains = []string{"rival-agency.com", "growthhackers.io"}
	buyerDomains      = []string{"buyer.example", "acme.example", "initech.example"}
	deciderTitles     = []string{"CEO", "VP Marketing", "Head of Sales", "Founder"}
	otherTitles       = []string{"Analyst", "Engineer", "Marketing Manager", ""}
	blogPaths         = []string{"/blog/lead-scoring", "/blog/mql-vs-sql", "/blog/a/b"}
)

// activity is one event a lead's profile asks for, before it is given an
// id, a device and a time.
type activity struct {
	typ   string
	url   string
	props map[string]string
	// server marks events a server sends with the lead id only.
	server bool
}

// lead returns every event of the i-th lead, including one identify per
// device.
func (g *gen) lead(i int) []Event {
	k := g.kind()
	leadID := fmt.Sprintf("%slead-%05d", g.cfg.Prefix, i)
	devices := make([]string, g.between(1, g.cfg.MaxDevices))
	for d := range devices {
		devices[d] = fmt.Sprintf("%sa-%05d-%d", g.cfg.Prefix, i, d)
	}
	start, traits := g.start(), g.traits(k, i)

	var out []Event
	for _, dev := range devices {
		out = append(out, Event{ID: g.id(), Type: "identify", AnonymousID: dev,
			LeadID: leadID, Timestamp: g.at(start), Traits: copyMap(traits)})
	}
	for _, a := range g.activities(k) {
		ev := Event{ID: g.id(), Type: a.typ, Timestamp: g.at(start), URL: a.url,
			Properties: copyMap(a.props)}
		switch {
		case a.server:
			ev.LeadID = leadID
		case g.rnd.Intn(10) == 0:
			// The snippet sends both ids once it knows the lead.
			ev.AnonymousID, ev.LeadID = g.pick(devices), leadID
		default:
			ev.AnonymousID = g.pick(devices)
		}
		out = append(out, ev)
	}
	for _, ev := range out {
		g.owners[ev.ID] = leadID
	}
	return out
}

// visitor returns the page views of an anonymous device that never
// identifies.
func (g *gen) visitor(i int) []Event {
	dev := fmt.Sprintf("%sv-%05d", g.cfg.Prefix, i)
	start := g.start()
	var out []Event
	for n := g.between(1, 4); n > 0; n-- {
		out = append(out, Event{ID: g.id(), Type: "page_view", AnonymousID: dev,
			Timestamp: g.at(start), URL: g.pageURL()})
	}
	return out
}

func (g *gen) kind() kind {
	if g.rnd.Float64() < g.cfg.ExcludedRate {
		return competitor
	}
	return kind(g.rnd.Intn(int(competitor)))
}

// traits are the same on every identify of a lead, so that which one
// arrives last does not matter.
func (g *gen) traits(k kind, i int) map[string]string {
	domain, title := g.pick(buyerDomains), g.pick(otherTitles)
	switch k {
	case competitor:
		domain = g.pick(competitorDomains)
	case decider:
		title = g.pick(deciderTitles)
	}
	// Mixed case on purpose: the tracker lower-cases emails.
	t := map[string]string{"email": fmt.Sprintf("Lead%d@%s", i, strings.ToUpper(domain[:1])+
		domain[1:]), "company": "Company " + domain}
	if title != "" {
		t["title"] = title
	}
	return t
}

// activities returns what a lead of kind k does, besides identifying.
func (g *gen) activities(k kind) []activity {
	var out []activity
	add := func(n int, a activity) {
		for ; n > 0; n-- {
			one := a
			one.url = g.expand(a.url)
			out = append(out, one)
		}
	}
	switch k {
	case cold:
		add(g.between(0, 3), activity{typ: "page_view", url: "blog"})
		add(g.between(0, 2), activity{typ: "page_view", url: "/pricing"})
		add(g.between(0, 1), activity{typ: "email_open", server: true})
	case nurtured:
		add(g.between(2, 5), activity{typ: "page_view", url: "blog"})
		add(g.between(1, 2), activity{typ: "download", url: "/guides/benchmark"})
		add(g.between(0, 2), activity{typ: "page_view", url: "/pricing"})
	case contact:
		add(g.between(0, 3), activity{typ: "page_view", url: "blog"})
		add(g.between(0, 1), activity{typ: "form_submit", url: "/contact",
			props: map[string]string{"contact_me": "no"}})
		add(1, activity{typ: "form_submit", url: "/contact", server: g.rnd.Intn(2) == 0,
			props: map[string]string{"contact_me": "yes"}})
	case decider:
		add(g.between(1, 4), activity{typ: "page_view", url: "blog"})
		add(g.between(1, 3), activity{typ: "download", url: "/guides/roi"})
		add(g.between(2, 5), activity{typ: "page_view", url: "/pricing"})
		add(g.between(0, 2), activity{typ: "email_open", server: true})
	case competitor:
		add(g.between(2, 8), activity{typ: "page_view", url: "blog"})
		add(g.between(0, 4), activity{typ: "page_view", url: "/pricing"})
	}
	add(g.between(0, 1), activity{typ: "video_play", url: "/webinar"})
	return out
}

// expand turns the placeholder "blog" into a blog post URL and a path
// into a full URL.
func (g *gen) expand(u string) string {
	if u == "blog" {
		u = g.pick(blogPaths)
	}
	if strings.HasPrefix(u, "/") {
		u = "https://example.com" + u
	}
	return u
}

// pageURL returns a blog post or the pricing page.
func (g *gen) pageURL() string {
	if g.rnd.Intn(3) == 0 {
		return g.expand("/pricing")
	}
	return g.expand("blog")
}

func (g *gen) pick(xs []string) string { return xs[g.rnd.Intn(len(xs))] }
