package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leadstream/leadstream/pkg/config"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestFlagsFallBackToEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		brokers string
		wait    time.Duration
	}{
		{"defaults", nil, nil, "127.0.0.1:9092", time.Second},
		{"env", map[string]string{"LEADSTREAM_KAFKA_BROKERS": "a:1, b:2", "LEADSTREAM_WAIT": "3s"},
			nil, "a:1,b:2", 3 * time.Second},
		{"flag beats env", map[string]string{"LEADSTREAM_KAFKA_BROKERS": "a:1"},
			[]string{"--kafka-brokers", "c:3", "--wait", "2s"}, "c:3", 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := config.NewFlagSetEnv("test", envOf(tc.env))
			var k config.Kafka
			var wait time.Duration
			k.Register(fs)
			fs.Duration(&wait, "wait", time.Second, "how long")
			if err := fs.Parse(tc.args); err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := strings.Join(k.Brokers, ","); got != tc.brokers {
				t.Errorf("brokers = %q, want %q", got, tc.brokers)
			}
			if wait != tc.wait {
				t.Errorf("wait = %v, want %v", wait, tc.wait)
			}
		})
	}
}

func TestMalformedEnvironmentIsReported(t *testing.T) {
	fs := config.NewFlagSetEnv("test", envOf(map[string]string{"LEADSTREAM_SCORERS": "two"}))
	var n int
	fs.Int(&n, "scorers", 2, "how many")
	err := fs.Parse(nil)
	if err == nil || !strings.Contains(err.Error(), "LEADSTREAM_SCORERS") {
		t.Fatalf("err = %v, want one naming LEADSTREAM_SCORERS", err)
	}
}

func TestValidateNamesFieldAndFix(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kafka config.Kafka
		redis config.Redis
		field string
	}{
		{"no brokers", config.Kafka{}, config.Redis{}, "kafka-brokers"},
		{"broker without port", config.Kafka{Brokers: []string{"kafka"}}, config.Redis{}, "kafka-brokers"},
		{"bad sasl", validKafka(func(k *config.Kafka) { k.SASLMechanism = "GSSAPI" }), config.Redis{},
			"kafka-sasl-mechanism"},
		{"sasl without user", validKafka(func(k *config.Kafka) { k.SASLMechanism = "PLAIN" }),
			config.Redis{}, "kafka-sasl-user"},
		{"no redis", validKafka(nil), config.Redis{}, "redis-addrs"},
		{"no prefix", validKafka(nil), config.Redis{Addrs: []string{"r:6379"}}, "redis-key-prefix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.kafka.Validate()
			if err == nil {
				err = tc.redis.Validate()
			}
			var fe *config.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || fe.Fix == "" {
				t.Fatalf("err = %v, want a FieldError for %s with a fix", err, tc.field)
			}
		})
	}
}

func validKafka(edit func(*config.Kafka)) config.Kafka {
	k := config.Kafka{Brokers: []string{"k:9092"}, EventsTopic: "e", TransitionsTopic: "t",
		DeadLetterTopic: "d"}
	if edit != nil {
		edit(&k)
	}
	return k
}

func TestClientOptionsBuildForEverySASLMechanism(t *testing.T) {
	for _, mech := range []string{"", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		k := validKafka(func(k *config.Kafka) { k.SASLMechanism, k.SASLUser = mech, "u" })
		if _, err := k.ClientOpts(); err != nil {
			t.Errorf("%q: franz-go options: %v", mech, err)
		}
		if _, err := k.Dialer(); err != nil {
			t.Errorf("%q: kafka-go dialer: %v", mech, err)
		}
	}
}
