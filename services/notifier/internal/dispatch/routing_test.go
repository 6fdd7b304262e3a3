package dispatch_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/leadstream/leadstream/services/notifier/internal/dispatch"
	"github.com/leadstream/leadstream/services/notifier/internal/sink"
	"github.com/leadstream/leadstream/services/notifier/internal/sinkfile"
)

// goldenSQL is the transition of the Slack golden file in the sink
// package.
func goldenSQL() *leadstreamv1.Transition {
	return &leadstreamv1.Transition{
		Id: "tr-crm-0042-3-2", LeadId: "crm-0042", From: leadstreamv1.Stage_STAGE_MQL,
		To: leadstreamv1.Stage_STAGE_SQL, OccurredAtUnixMs: 1796292900000, EventId: "9b2f",
		RulesVersion: "2026-q4",
		Reasons: []string{"distinct_days(pricing_view, 30d) = 3 >= 2", "content_download = 3 >= 3",
			"trait decision_maker"},
		Counters: map[string]int64{"pricing_view": 4, "content_download": 3},
		Scores:   map[string]float64{"engagement": 85},
		Traits: map[string]string{"title": "VP Marketing", "company": "Buyer & Sons",
			"email_domain": "buyer.example", "industry": "Retail"},
	}
}

// routesFrom checks a sinks file as the notifier does and builds its
// senders, the log sink writing to logs.
func routesFrom(t *testing.T, src string, vars map[string]string, logs *zap.Logger,
) []dispatch.Route {
	t.Helper()
	f, err := sinkfile.Parse("sinks.yaml", []byte(src), func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	})
	if err != nil {
		t.Fatalf("parse sinks file: %v", err)
	}
	client := sink.NewHTTPClient(f.AllowPrivateNetworks)
	var routes []dispatch.Route
	for _, s := range f.Sinks {
		sender, err := sink.New(s, client, logs)
		if err != nil {
			t.Fatalf("build sink %s: %v", s.Name, err)
		}
		routes = append(routes, dispatch.Route{Sink: s, Sender: sender})
	}
	return routes
}

// TestRoutesByStage runs webhook, Slack and log sinks through the
// dispatcher, each listing some stages, and checks that each receives
// exactly the transitions to its stages, with the Slack message as in
// the golden file.
func TestRoutesByStage(t *testing.T) {
	e := newEnv(t)
	mqlHook := newReceiver(t, always(http.StatusOK))
	sqlHook := newReceiver(t, always(http.StatusOK))
	slack := newReceiver(t, always(http.StatusOK))
	core, logs := observer.New(zap.InfoLevel)
	routes := routesFrom(t, fmt.Sprintf(`allow_private_networks: true
sinks:
  - {name: hook-mql, type: webhook, url: %q, secret_env: HOOK_SECRET, stages: [mql]}
  - {name: hook-sql, type: webhook, url: %q, secret_env: HOOK_SECRET, stages: [sql]}
  - name: sales
    type: slack
    url_env: SLACK_URL
    stages: [mql, sql]
    link_template: "https://crm.example.com/leads/{{lead_id}}"
  - {name: audit, type: log, stages: [sql, excluded]}
`, mqlHook.srv.URL, sqlHook.srv.URL),
		map[string]string{"HOOK_SECRET": secret, "SLACK_URL": slack.srv.URL + "/services/T/B/x"},
		zap.New(core))
	stop := e.start(t, "g", routes...)

	sql := goldenSQL()
	mql := &leadstreamv1.Transition{Id: "lead-b-mql-1", LeadId: "lead-b",
		From: leadstreamv1.Stage_STAGE_VISITOR, To: leadstreamv1.Stage_STAGE_MQL}
	excluded := &leadstreamv1.Transition{Id: "lead-c-excluded-1", LeadId: "lead-c",
		From: leadstreamv1.Stage_STAGE_VISITOR, To: leadstreamv1.Stage_STAGE_EXCLUDED}
	e.publish(t, sql, mql, excluded)

	logged := func() []string {
		var ids []string
		for _, en := range logs.FilterMessage("lead stage changed").All() {
			ids = append(ids, en.ContextMap()["transition_id"].(string))
		}
		slices.Sort(ids)
		return ids
	}
	waitFor(t, 20*time.Second, "every routed delivery", func() bool {
		_, m := mqlHook.snapshot()
		_, s := sqlHook.snapshot()
		_, sl := slack.snapshot()
		return len(m) >= 1 && len(s) >= 1 && len(sl) >= 2 && len(logged()) >= 2
	})
	// Once stopped, nothing is left in flight: a wrongly routed
	// delivery would have been attempted or counted by now.
	stop()

	checkOnceEach(t, mqlHook, []string{mql.Id})
	checkOnceEach(t, sqlHook, []string{sql.Id})
	for name, rc := range map[string]*receiver{"hook-mql": mqlHook, "hook-sql": sqlHook} {
		if all, _ := rc.snapshot(); len(all) != 1 {
			t.Errorf("%s received %d requests, want 1", name, len(all))
		}
	}
	if got, want := logged(), []string{excluded.Id, sql.Id}; !slices.Equal(got, want) {
		t.Errorf("log sink wrote %v, want %v", got, want)
	}
	checkSlack(t, slack, sql, sql, mql)
	for sink, want := range map[string]float64{"hook-mql": 1, "hook-sql": 1, "sales": 2,
		"audit": 2} {
		if got := e.metric(t, deliveriesTotal, "sink", sink); got != want {
			t.Errorf("%s counted %v deliveries, want %v", sink, got, want)
		}
		if got := e.metric(t, deliveriesTotal, "sink", sink, "outcome", "delivered"); got != want {
			t.Errorf("%s counted %v delivered, want %v", sink, got, want)
		}
	}
}

// checkSlack checks that the Slack receiver got one message for each of
// trs and nothing else, and that the one for sql is the golden message.
func checkSlack(t *testing.T, rc *receiver, sql *leadstreamv1.Transition,
	trs ...*leadstreamv1.Transition,
) {
	t.Helper()
	want, err := os.ReadFile(filepath.Join("..", "sink", "testdata", "slack_sql.golden.json"))
	if err != nil {
		t.Fatalf("read the slack golden file: %v", err)
	}
	all, _ := rc.snapshot()
	if len(all) != len(trs) {
		t.Errorf("slack received %d messages, want %d", len(all), len(trs))
	}
	for _, tr := range trs {
		var found []request
		for _, r := range all {
			if strings.Contains(string(r.body), "Lead "+tr.GetLeadId()+" ") {
				found = append(found, r)
			}
		}
		if len(found) != 1 {
			t.Errorf("slack received %d messages about %s, want 1", len(found), tr.GetLeadId())
			continue
		}
		if tr != sql {
			continue
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, found[0].body, "", "  "); err != nil {
			t.Fatalf("slack body is not JSON: %v", err)
		}
		if !bytes.Equal(pretty.Bytes(), want) {
			t.Errorf("slack message differs from the golden file:\n%s", pretty.Bytes())
		}
	}
}
