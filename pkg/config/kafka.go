package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	segsasl "github.com/segmentio/kafka-go/sasl"
	segplain "github.com/segmentio/kafka-go/sasl/plain"
	segscram "github.com/segmentio/kafka-go/sasl/scram"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	kafkago "github.com/segmentio/kafka-go"
)

// Default topic names; each is configurable.
const (
	DefaultEventsTopic      = "leadstream.events.v1"
	DefaultTransitionsTopic = "leadstream.transitions.v1"
	DefaultDeadLetterTopic  = "leadstream.deadletter.v1"
)

// Kafka says how to reach the brokers and which topics to use.
type Kafka struct {
	Brokers       []string
	SASLMechanism string // "", PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
	SASLUser      string
	SASLPassword  string // from the environment only; never logged
	TLS           bool
	TLSCAFile     string
	TLSSkipVerify bool

	EventsTopic      string
	TransitionsTopic string
	DeadLetterTopic  string
}

// Register defines the Kafka flags on fs.
func (k *Kafka) Register(fs *FlagSet) {
	fs.List(&k.Brokers, "kafka-brokers", []string{"127.0.0.1:9092"},
		"Kafka seed brokers, comma-separated")
	fs.String(&k.SASLMechanism, "kafka-sasl-mechanism", "",
		"SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	fs.String(&k.SASLUser, "kafka-sasl-user", "", "SASL user name")
	k.SASLPassword, _ = fs.env("kafka-sasl-password")
	fs.Bool(&k.TLS, "kafka-tls", false, "connect to Kafka over TLS")
	fs.String(&k.TLSCAFile, "kafka-tls-ca", "", "PEM file of CAs to trust for Kafka TLS")
	fs.Bool(&k.TLSSkipVerify, "kafka-tls-insecure", false,
		"skip Kafka TLS certificate checks (testing only)")
	fs.String(&k.EventsTopic, "events-topic", DefaultEventsTopic, "topic of accepted events")
	fs.String(&k.TransitionsTopic, "transitions-topic", DefaultTransitionsTopic,
		"topic of stage transitions")
	fs.String(&k.DeadLetterTopic, "deadletter-topic", DefaultDeadLetterTopic,
		"topic of poison records")
}

// Validate reports the first setting that cannot work.
func (k *Kafka) Validate() error {
	if len(k.Brokers) == 0 {
		return fieldErr("kafka-brokers", "", "name at least one broker as host:port")
	}
	for _, b := range k.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			return fieldErr("kafka-brokers", b, "each broker must be host:port")
		}
	}
	switch strings.ToUpper(k.SASLMechanism) {
	case "":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if k.SASLUser == "" {
			return fieldErr("kafka-sasl-user", "",
				"set the SASL user (and LEADSTREAM_KAFKA_SASL_PASSWORD)")
		}
	default:
		return fieldErr("kafka-sasl-mechanism", k.SASLMechanism,
			"use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	}
	if k.TLSCAFile != "" {
		if _, err := os.Stat(k.TLSCAFile); err != nil {
			return fieldErr("kafka-tls-ca", k.TLSCAFile, "the CA file must exist and be readable")
		}
	}
	for field, topic := range map[string]string{
		"events-topic": k.EventsTopic, "transitions-topic": k.TransitionsTopic,
		"deadletter-topic": k.DeadLetterTopic,
	} {
		if topic == "" {
			return fieldErr(field, "", "name the topic")
		}
	}
	return nil
}

// tlsConfig builds the TLS settings, or nil when TLS is off.
func (k *Kafka) tlsConfig() (*tls.Config, error) {
	if !k.TLS {
		return nil, nil
	}
	// InsecureSkipVerify is an explicit opt-in, for test clusters only.
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: k.TLSSkipVerify}
	if k.TLSCAFile != "" {
		pem, err := os.ReadFile(k.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("read kafka CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("read kafka CA file %s: no PEM certificates", k.TLSCAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// ClientOpts returns the franz-go options for the seed brokers, SASL and
// TLS; callers add their own producer or consumer options.
func (k *Kafka) ClientOpts() ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(k.Brokers...)}
	tlsCfg, err := k.tlsConfig()
	if err != nil {
		return nil, err
	}
	if tlsCfg != nil {
		opts = append(opts, kgo.DialTLSConfig(tlsCfg))
	}
	user, pass := k.SASLUser, k.SASLPassword
	switch strings.ToUpper(k.SASLMechanism) {
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
	}
	return opts, nil
}

// Dialer returns a kafka-go dialer with the same SASL and TLS settings,
// for the clients built on segmentio/kafka-go.
func (k *Kafka) Dialer() (*kafkago.Dialer, error) {
	tlsCfg, err := k.tlsConfig()
	if err != nil {
		return nil, err
	}
	mech, err := k.segmentioSASL()
	if err != nil {
		return nil, err
	}
	return &kafkago.Dialer{Timeout: 10 * time.Second, DualStack: true, TLS: tlsCfg,
		SASLMechanism: mech}, nil
}

// Transport returns a kafka-go transport for writers, with the same SASL
// and TLS settings.
func (k *Kafka) Transport() (*kafkago.Transport, error) {
	tlsCfg, err := k.tlsConfig()
	if err != nil {
		return nil, err
	}
	mech, err := k.segmentioSASL()
	if err != nil {
		return nil, err
	}
	return &kafkago.Transport{TLS: tlsCfg, SASL: mech, DialTimeout: 10 * time.Second,
		Dial: (&net.Dialer{}).DialContext}, nil
}

func (k *Kafka) segmentioSASL() (segsasl.Mechanism, error) {
	switch strings.ToUpper(k.SASLMechanism) {
	case "PLAIN":
		return segplain.Mechanism{Username: k.SASLUser, Password: k.SASLPassword}, nil
	case "SCRAM-SHA-256":
		return segscram.Mechanism(segscram.SHA256, k.SASLUser, k.SASLPassword)
	case "SCRAM-SHA-512":
		return segscram.Mechanism(segscram.SHA512, k.SASLUser, k.SASLPassword)
	}
	return nil, nil
}
