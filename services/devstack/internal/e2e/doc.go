// Package e2e tests devstack end to end with the real service binaries:
// start, accept events, publish transitions, deliver a webhook, stop
// every process cleanly on SIGTERM, and resume from the same data
// directory.
package e2e
