package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/leadstream/leadstream/pkg/subscribe"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

var _ Sender = (*Slack)(nil)

// Slack posts a message a sales rep can act on to an incoming webhook.
type Slack struct {
	URL string
	// LinkTemplate, when set, adds an "Open lead" button; "{{lead_id}}"
	// is replaced by the escaped lead id.
	LinkTemplate string
	Client       *http.Client
}

// Send makes one POST of the message.
func (s *Slack) Send(ctx context.Context, d Delivery) error {
	body, err := SlackMessage(d.Transition, s.LinkTemplate)
	if err != nil {
		return err
	}
	return post(ctx, s.Client, s.URL, body, http.Header{})
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type slackBlock struct {
	Type     string         `json:"type"`
	Text     *slackText     `json:"text,omitempty"`
	Fields   []slackText    `json:"fields,omitempty"`
	Elements []slackElement `json:"elements,omitempty"`
}

type slackElement struct {
	Type  string     `json:"type"`
	Text  *slackText `json:"text,omitempty"`
	URL   string     `json:"url,omitempty"`
	Style string     `json:"style,omitempty"`
}

// SlackMessage builds the incoming-webhook JSON for tr: who the lead is,
// the stage it reached, why, when, and a link to it.
func SlackMessage(tr *leadstreamv1.Transition, linkTemplate string) ([]byte, error) {
	headline := slackHeadline(tr)
	blocks := []slackBlock{
		{Type: "section", Text: &slackText{Type: "mrkdwn", Text: "*" + escape(headline) + "*"}},
		{Type: "section", Fields: slackFields(tr)},
	}
	if why := slackReasons(tr.GetReasons()); why != "" {
		blocks = append(blocks, slackBlock{
			Type: "section", Text: &slackText{Type: "mrkdwn", Text: why},
		})
	}
	if linkTemplate != "" {
		link := strings.ReplaceAll(linkTemplate, "{{lead_id}}", url.PathEscape(tr.GetLeadId()))
		blocks = append(blocks, slackBlock{Type: "actions", Elements: []slackElement{{
			Type: "button", Text: &slackText{Type: "plain_text", Text: "Open lead"},
			URL: link, Style: "primary",
		}}})
	}
	body, err := json.Marshal(map[string]any{"text": headline, "blocks": blocks})
	if err != nil {
		return nil, fmt.Errorf("encode slack message: %w", err)
	}
	return body, nil
}

func slackHeadline(tr *leadstreamv1.Transition) string {
	who := "Lead " + tr.GetLeadId()
	if desc := describeLead(tr.GetTraits()); desc != "" {
		who += " (" + desc + ")"
	}
	to := strings.ToUpper(subscribe.StageName(tr.GetTo()))
	if tr.GetTo() == leadstreamv1.Stage_STAGE_EXCLUDED {
		return who + " was excluded"
	}
	return who + " is now " + to
}

// describeLead names the lead's role and company from its traits, never
// its email address.
func describeLead(traits map[string]string) string {
	title, company := traits["title"], traits["company"]
	if company == "" {
		company = traits["email_domain"]
	}
	switch {
	case title != "" && company != "":
		return title + " at " + company
	case title != "":
		return title
	}
	return company
}

func slackFields(tr *leadstreamv1.Transition) []slackText {
	at := time.UnixMilli(tr.GetOccurredAtUnixMs()).UTC()
	fields := []slackText{
		{Type: "mrkdwn", Text: "*Lead*\n" + escape(tr.GetLeadId())},
		{Type: "mrkdwn", Text: "*Stage*\n" + strings.ToUpper(subscribe.StageName(tr.GetFrom())) +
			" → " + strings.ToUpper(subscribe.StageName(tr.GetTo()))},
		{Type: "mrkdwn", Text: "*When*\n" + at.Format("2006-01-02 15:04 UTC")},
	}
	for _, k := range []string{"company", "title", "industry", "employees"} {
		if v := tr.GetTraits()[k]; v != "" {
			fields = append(fields, slackText{
				Type: "mrkdwn", Text: "*" + titleCase(k) + "*\n" + escape(v),
			})
		}
	}
	return fields
}

func slackReasons(reasons []string) string {
	if len(reasons) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("*Why*")
	for _, r := range reasons {
		b.WriteString("\n• " + escape(r))
	}
	return b.String()
}

func titleCase(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// escape quotes the three characters Slack's mrkdwn treats as markup.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
