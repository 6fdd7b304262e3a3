// Package config holds the settings every leadstream service shares:
// Kafka and Redis connections and topic names, read from flags with
// environment fallbacks and checked before anything starts.
package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix starts the name of every environment variable a service reads.
const EnvPrefix = "LEADSTREAM_"

// FlagSet wraps a flag.FlagSet so that every flag also reads its default
// from an environment variable named after it: --kafka-brokers falls back
// to LEADSTREAM_KAFKA_BROKERS.
type FlagSet struct {
	*flag.FlagSet
	lookup func(string) (string, bool)
	errs   []error
}

// NewFlagSet returns a FlagSet reading the process environment.
func NewFlagSet(name string) *FlagSet {
	return NewFlagSetEnv(name, os.LookupEnv)
}

// NewFlagSetEnv returns a FlagSet reading the environment through lookup,
// so tests can supply their own.
func NewFlagSetEnv(name string, lookup func(string) (string, bool)) *FlagSet {
	return &FlagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), lookup: lookup}
}

// EnvName is the environment variable that backs the flag name.
func EnvName(name string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

func (fs *FlagSet) env(name string) (string, bool) {
	return fs.lookup(EnvName(name))
}

func (fs *FlagSet) usage(name, usage string) string {
	return fmt.Sprintf("%s (env %s)", usage, EnvName(name))
}

// String defines a string flag with an environment fallback.
func (fs *FlagSet) String(p *string, name, def, usage string) {
	if v, ok := fs.env(name); ok {
		def = v
	}
	fs.StringVar(p, name, def, fs.usage(name, usage))
}

// List defines a comma-separated list flag with an environment fallback.
func (fs *FlagSet) List(p *[]string, name string, def []string, usage string) {
	if v, ok := fs.env(name); ok {
		def = SplitList(v)
	}
	*p = def
	fs.Func(name, fs.usage(name, usage)+fmt.Sprintf(" (default %q)", strings.Join(def, ",")),
		func(s string) error {
			*p = SplitList(s)
			return nil
		})
}

// Int defines an int flag with an environment fallback.
func (fs *FlagSet) Int(p *int, name string, def int, usage string) {
	if v, ok := fs.env(name); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			fs.errs = append(fs.errs, fmt.Errorf("%s=%q: want an integer", EnvName(name), v))
		} else {
			def = n
		}
	}
	fs.IntVar(p, name, def, fs.usage(name, usage))
}

// Bool defines a bool flag with an environment fallback.
func (fs *FlagSet) Bool(p *bool, name string, def bool, usage string) {
	if v, ok := fs.env(name); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fs.errs = append(fs.errs, fmt.Errorf("%s=%q: want true or false", EnvName(name), v))
		} else {
			def = b
		}
	}
	fs.BoolVar(p, name, def, fs.usage(name, usage))
}

// Duration defines a duration flag with an environment fallback.
func (fs *FlagSet) Duration(p *time.Duration, name string, def time.Duration, usage string) {
	if v, ok := fs.env(name); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			fs.errs = append(fs.errs,
				fmt.Errorf("%s=%q: want a duration such as 5s", EnvName(name), v))
		} else {
			def = d
		}
	}
	fs.DurationVar(p, name, def, fs.usage(name, usage))
}

// Parse parses args and reports every malformed environment variable too.
func (fs *FlagSet) Parse(args []string) error {
	if err := fs.FlagSet.Parse(args); err != nil {
		return err
	}
	return errors.Join(fs.errs...)
}

// SplitList splits a comma-separated list, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
