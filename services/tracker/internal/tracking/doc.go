// Package tracking turns what browsers and servers send into events fit
// for the events topic: it parses the pixel query and the batch JSON,
// checks every field against the limits, decides how far to trust the
// sender's clock, normalises identify traits and assigns missing ids.
// It does no I/O, so everything here is cheap to test and fuzz.
package tracking
