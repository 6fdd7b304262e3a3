// Package e2e tests devstack end to end with the real service binaries:
// start, accept events, publish transitions, deliver a webhook, stop
// every process cleanly on SIGTERM, and resume from the same data
// directory with every lead's state and the scorers' offsets; play the
// demo's traffic and get exactly the transitions the example promises;
// and pass the Compose file's health check on every service.
package e2e
