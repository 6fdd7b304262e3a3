package sinkfile_test

import (
	"strings"
	"testing"
	"time"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/leadstream/leadstream/services/notifier/internal/sinkfile"
)

func env(vars map[string]string) sinkfile.LookupEnv {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

var testEnv = env(map[string]string{
	"CRM_SECRET": "s3cret", "SLACK_URL": "https://hooks.slack.example/T/B/xyz",
	"SLACK_LOCAL": "http://127.0.0.1:9/hook",
})

const contractExample = `sinks:
  - name: crm
    type: webhook                 # webhook | slack | log
    url: https://crm.example.com/hooks/leadstream
    secret_env: CRM_SECRET
    stages: [sql]                 # which target stages it receives
  - name: sales-channel
    type: slack
    url_env: SLACK_URL
    stages: [mql, sql]
    link_template: "https://crm.example.com/leads/{{lead_id}}"
    timeout: 3s
    max_attempts: 4
  - name: audit
    type: log
    stages: [visitor, mql, sql, excluded]
`

func TestParseContractExample(t *testing.T) {
	f, err := sinkfile.Parse("sinks.yaml", []byte(contractExample), testEnv)
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	if len(f.Sinks) != 3 || f.AllowPrivateNetworks {
		t.Fatalf("got %d sinks, allow private %v", len(f.Sinks), f.AllowPrivateNetworks)
	}
	crm, slack := f.Sinks[0], f.Sinks[1]
	if string(crm.Secret) != "s3cret" || crm.Timeout != sinkfile.DefaultTimeout ||
		crm.MaxAttempts != sinkfile.DefaultMaxAttempts || crm.Line != 2 {
		t.Errorf("crm sink = %+v", crm)
	}
	if !crm.Wants(leadstreamv1.Stage_STAGE_SQL) || crm.Wants(leadstreamv1.Stage_STAGE_MQL) {
		t.Errorf("crm stages = %v, want [sql]", crm.Stages)
	}
	if slack.URL != "https://hooks.slack.example/T/B/xyz" || slack.Timeout != 3*time.Second ||
		slack.MaxAttempts != 4 || slack.LinkTemplate == "" {
		t.Errorf("slack sink = %+v", slack)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error, each must appear
	}{
		{"empty", ``, []string{"sinks.yaml:1: the file is empty"}},
		{"not yaml", "sinks: [", []string{"sinks.yaml: yaml"}},
		{"no sinks", "sinks: []", []string{"must list at least one sink"}},
		{"unknown top key", "sink: []\n", []string{`sinks.yaml:1: unknown key "sink"`}},
		{"unknown sink key", "sinks:\n  - name: a\n    type: log\n    stages: [sql]\n    urll: x\n",
			[]string{`sinks.yaml:5: unknown sink key "urll"`}},
		{"bad type", "sinks:\n  - name: a\n    type: email\n    stages: [sql]\n",
			[]string{`sinks.yaml:3: sink "a": unknown type "email"`}},
		{"bad stage", "sinks:\n  - name: a\n    type: log\n    stages: [sql, lead]\n",
			[]string{`sinks.yaml:4: sink "a": unknown stage "lead"`}},
		{"no stages", "sinks:\n  - name: a\n    type: log\n", []string{`list the stages`}},
		{"duplicate name", "sinks:\n  - {name: a, type: log, stages: [sql]}\n" +
			"  - {name: a, type: log, stages: [mql]}\n",
			[]string{`sinks.yaml:3: sink name "a" already used on line 2`}},
		{"webhook without secret",
			"sinks:\n  - {name: a, type: webhook, url: 'https://x.example', stages: [sql]}\n",
			[]string{"set secret_env"}},
		{"secret unset", "sinks:\n  - {name: a, type: webhook, url: 'https://x.example', " +
			"secret_env: NOPE, stages: [sql]}\n",
			[]string{"environment variable NOPE is not set"}},
		{"url and url_env", "sinks:\n  - {name: a, type: slack, url: 'https://x.example', " +
			"url_env: SLACK_URL, stages: [sql]}\n",
			[]string{"not both"}},
		{"ftp url", "sinks:\n  - {name: a, type: webhook, secret_env: CRM_SECRET, " +
			"url: 'ftp://x.example', stages: [sql]}\n",
			[]string{"use an http or https URL"}},
		{"loopback refused",
			"sinks:\n  - {name: a, type: webhook, secret_env: CRM_SECRET, " +
				"url: 'http://127.0.0.1:8080/x', stages: [sql]}\n",
			[]string{"address is not public", "allow_private_networks"}},
		{"metadata refused",
			"sinks:\n  - {name: a, type: webhook, secret_env: CRM_SECRET, " +
				"url: 'http://169.254.169.254/', stages: [sql]}\n",
			[]string{"address is not public"}},
		{"localhost refused",
			"sinks:\n  - {name: a, type: webhook, secret_env: CRM_SECRET, " +
				"url: 'http://localhost/', stages: [sql]}\n",
			[]string{"address is not public"}},
		{"env url refused without quoting it",
			"sinks:\n  - {name: a, type: slack, url_env: SLACK_LOCAL, stages: [sql]}\n",
			[]string{"url from SLACK_LOCAL", "address is not public"}},
		{"bad timeout", "sinks:\n  - {name: a, type: log, stages: [sql], timeout: forever}\n",
			[]string{`timeout "forever"`}},
		{"bad attempts", "sinks:\n  - {name: a, type: log, stages: [sql], max_attempts: 0}\n",
			[]string{`max_attempts "0"`}},
		{"link without placeholder",
			"sinks:\n  - {name: a, type: slack, url_env: SLACK_URL, " +
				"stages: [sql], link_template: 'https://crm'}\n",
			[]string{"must contain {{lead_id}}"}},
		{"link on webhook",
			"sinks:\n  - {name: a, type: log, stages: [sql], link_template: 'x{{lead_id}}'}\n",
			[]string{"slack sinks only"}},
		{"two errors reported", "sinks:\n  - {name: A, type: log, stages: [sql]}\n" +
			"  - {name: b, type: log, stages: [nope]}\n",
			[]string{"sinks.yaml:2:", "sinks.yaml:3:"}},
		{"bad allow flag",
			"allow_private_networks: maybe\nsinks:\n  - {name: a, type: log, stages: [sql]}\n",
			[]string{"sinks.yaml:1: allow_private_networks: want true or false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sinkfile.Parse("sinks.yaml", []byte(tt.yaml), testEnv)
			if err == nil {
				t.Fatal("Parse() succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "127.0.0.1:9/hook") {
				t.Errorf("error quotes a URL from the environment: %v", err)
			}
		})
	}
}

func TestParseAllowsPrivateNetworksWhenAsked(t *testing.T) {
	src := "allow_private_networks: true\nsinks:\n" +
		"  - {name: a, type: slack, url_env: SLACK_LOCAL, stages: [sql]}\n"
	f, err := sinkfile.Parse("sinks.yaml", []byte(src), testEnv)
	if err != nil || !f.AllowPrivateNetworks {
		t.Fatalf("Parse() = %+v, %v", f, err)
	}
}

func TestParseSlackNeedsURLEnv(t *testing.T) {
	const token = "T0000/B0000/XXXXsecretXXXX"
	src := "sinks:\n  - name: sales\n    type: slack\n" +
		"    url: https://hooks.slack.com/services/" + token + "\n    stages: [sql]\n"
	_, err := sinkfile.Parse("sinks.yaml", []byte(src), testEnv)
	if err == nil {
		t.Fatal("Parse() accepted a slack sink with a literal url")
	}
	for _, w := range []string{`sinks.yaml:4: sink "sales"`, "url_env", "environment variable"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("error quotes the webhook token: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(contractExample))
	f.Add([]byte("allow_private_networks: true\nsinks:\n  - {name: a, type: log, stages: [sql]}\n"))
	f.Add([]byte("sinks:\n  - [1, 2]\n  - name: {a: b}\n    stages: {x: y}\n"))
	f.Add([]byte("sinks: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := sinkfile.Parse("fuzz.yaml", data, testEnv)
		if err != nil {
			return
		}
		for _, s := range file.Sinks {
			if s.Name == "" || len(s.Stages) == 0 || s.MaxAttempts < 1 || s.Timeout <= 0 {
				t.Fatalf("accepted an incomplete sink %+v", s)
			}
			if s.Type != sinkfile.TypeLog && s.URL == "" {
				t.Fatalf("accepted sink %q without a URL", s.Name)
			}
		}
	})
}
