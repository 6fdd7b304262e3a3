package sink

import (
	"context"

	"go.uber.org/zap"

	"github.com/leadstream/leadstream/pkg/subscribe"
)

var _ Sender = (*Log)(nil)

// Log writes one line per transition; useful to watch a pipeline or as
// an audit trail. It never fails.
type Log struct {
	Logger *zap.Logger
}

// Send logs the transition at info level.
func (l *Log) Send(_ context.Context, d Delivery) error {
	tr := d.Transition
	l.Logger.Info("lead stage changed",
		zap.String("lead_id", tr.GetLeadId()), zap.String("event_id", tr.GetEventId()),
		zap.String("transition_id", tr.GetId()),
		zap.String("from", subscribe.StageName(tr.GetFrom())),
		zap.String("to", subscribe.StageName(tr.GetTo())),
		zap.Strings("reasons", tr.GetReasons()), zap.String("rules_version", tr.GetRulesVersion()))
	return nil
}
