package bench

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scriptMetric is the scorer's histogram of lead store calls, by script.
const scriptMetric = "leadstream_scorer_redis_script_duration_seconds"

// scriptCalls adds up, over procs, how often each lead store script (and
// plain command, such as forget) ran, as the scorers' metrics count them.
func scriptCalls(ctx context.Context, procs []*service) (map[string]uint64, error) {
	out := map[string]uint64{}
	for _, p := range procs {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/metrics", nil)
		if err != nil {
			return nil, fmt.Errorf("read scorer metrics: %w", err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("read scorer metrics: %w", err)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("parse metrics of %s: %w", p.url, err)
		}
		fam, ok := families[scriptMetric]
		if !ok {
			return nil, fmt.Errorf("metrics of %s: no %s", p.url, scriptMetric)
		}
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "script" {
					out[l.GetValue()] += m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return out, nil
}

// callsPerEvent tells calls per event of n, by script in name order.
func callsPerEvent(calls map[string]uint64, n int64) string {
	if n <= 0 {
		return "no events"
	}
	names := make([]string, 0, len(calls))
	for name := range calls {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%s %.3f", name, float64(calls[name])/float64(n))
	}
	return "lead store calls per event: " + strings.Join(parts, ", ")
}
