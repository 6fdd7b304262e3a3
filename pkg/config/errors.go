package config

import "fmt"

// FieldError names a setting that is wrong and how to fix it.
type FieldError struct {
	Field string // the flag name, e.g. "kafka-brokers"
	Value string // the offending value, never a secret
	Fix   string // what to do about it
}

// Error implements error.
func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("--%s (env %s): %s", e.Field, EnvName(e.Field), e.Fix)
	}
	return fmt.Sprintf("--%s (env %s) = %q: %s", e.Field, EnvName(e.Field), e.Value, e.Fix)
}

func fieldErr(field, value, fix string) error {
	return &FieldError{Field: field, Value: value, Fix: fix}
}
