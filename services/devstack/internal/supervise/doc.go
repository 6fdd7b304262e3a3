// Package supervise runs child processes the way an init system would,
// in miniature: it prefixes their output with their name, waits until
// they are ready, restarts one that dies with a growing backoff, and
// stops them gracefully, killing only what does not stop in time.
package supervise
