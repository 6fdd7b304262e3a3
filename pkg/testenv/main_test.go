package testenv_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/testcontainers/testcontainers-go.(*Reaper).connect.func1"),
		goleak.IgnoreTopFunction("github.com/Shopify/toxiproxy/v2.(*Proxy).server"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}
