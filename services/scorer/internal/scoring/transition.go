package scoring

import (
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/leadstream/leadstream/pkg/rules"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// personalTraits are raw traits that never leave the scorer in a
// transition: an email address becomes its domain.
var personalTraits = map[string]bool{"email": true, "phone": true, "name": true,
	"first_name": true, "last_name": true}

var stages = map[rules.Stage]leadstreamv1.Stage{
	rules.Visitor:  leadstreamv1.Stage_STAGE_VISITOR,
	rules.MQL:      leadstreamv1.Stage_STAGE_MQL,
	rules.SQL:      leadstreamv1.Stage_STAGE_SQL,
	rules.Excluded: leadstreamv1.Stage_STAGE_EXCLUDED,
}

// Build fills the transition message for tr, the epoch-th stage change of
// leadID, decided at now on state st because of ev: with its reasons, the
// lifetime counters, the scores as of the event time and the traits
// without personal data.
func Build(r *rules.Rules, leadID string, st *rules.State, epoch int64, tr rules.Transition,
	ev *leadstreamv1.Event, now time.Time) *leadstreamv1.Transition {
	at := ev.GetOccurredAtUnixMs()
	t := &leadstreamv1.Transition{
		Id: rules.TransitionID(leadID, tr.To, epoch), LeadId: leadID,
		From: stages[tr.From], To: stages[tr.To], OccurredAtUnixMs: at,
		EventId: ev.GetId(), RulesVersion: r.Version(),
		Reasons:  append([]string(nil), tr.Reasons...),
		Counters: map[string]int64{}, Scores: map[string]float64{},
		Traits: SafeTraits(st.Traits), Epoch: epoch,
		DecidedAtUnixMs: now.UnixMilli(), ReceivedAtUnixMs: ev.GetReceivedAtUnixMs(),
	}
	for sig, n := range st.Counts {
		t.Counters[sig] = n
	}
	for name, sc := range st.Scores {
		t.Scores[name] = r.ScoreAt(name, sc, at)
	}
	return t
}

// SafeTraits copies traits without personal data: names, phone numbers
// and email addresses are dropped, and an email address is reduced to
// email_domain unless that is set already.
func SafeTraits(traits map[string]string) map[string]string {
	out := make(map[string]string, len(traits))
	for k, v := range traits {
		if !personalTraits[k] {
			out[k] = v
		}
	}
	if email := traits["email"]; email != "" && out["email_domain"] == "" {
		if _, domain, ok := strings.Cut(email, "@"); ok && domain != "" {
			out["email_domain"] = strings.ToLower(domain)
		}
	}
	return out
}

// Marshal encodes t deterministically.
func Marshal(t *leadstreamv1.Transition) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encode transition %s: %w", t.GetId(), err)
	}
	return b, nil
}

// Unmarshal decodes a transition record.
func Unmarshal(b []byte) (*leadstreamv1.Transition, error) {
	t := &leadstreamv1.Transition{}
	if err := proto.Unmarshal(b, t); err != nil {
		return nil, fmt.Errorf("decode transition record: %w", err)
	}
	return t, nil
}
