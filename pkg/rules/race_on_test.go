//go:build race

package rules

// raceEnabled is true under the race detector, which makes sync.Pool drop
// items on purpose (regexp keeps its matchers in one), so allocation
// counts are not meaningful there.
const raceEnabled = true
