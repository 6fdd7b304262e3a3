package tracking

import "strings"

// Trait names the tracker normalises.
const (
	TraitEmail       = "email"
	TraitEmailDomain = "email_domain"
)

// normalizeTraits trims and lower-cases the email and derives
// email_domain from it, so rules can match on the domain. It returns a
// copy and never changes the sender's map.
func normalizeTraits(c *checker, traits map[string]string) map[string]string {
	raw, ok := traits[TraitEmail]
	if !ok {
		return traits
	}
	out := make(map[string]string, len(traits)+1)
	for k, v := range traits {
		out[k] = v
	}

	email := strings.ToLower(strings.TrimSpace(raw))
	if email == "" {
		delete(out, TraitEmail)
		return out
	}
	domain, ok := EmailDomain(email)
	if !ok {
		// The detail names the field only: the value is personal data.
		c.add(ReasonInvalidEmail, "traits.email is not an email address")
		return out
	}
	out[TraitEmail] = email
	out[TraitEmailDomain] = domain
	return out
}

// EmailDomain returns the part of a normalised email after its last @,
// and whether email looks like an address at all: something before the
// @, a dotless-or-dotted host after it and no spaces.
func EmailDomain(email string) (string, bool) {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 || strings.ContainsAny(email, " \t") {
		return "", false
	}
	domain := email[at+1:]
	if strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", false
	}
	return domain, true
}
