package rules

import "time"

// LocalDay returns the index of the day bucket that atMs falls in, as the
// engine cuts day windows: whole days since 1970-01-01 in loc. Stores that
// keep the buckets themselves must cut them the same way.
func LocalDay(atMs int64, loc *time.Location) int64 { return localDay(atMs, loc) }

// UnixHour returns the index of the hour bucket that atMs falls in: whole
// UTC hours since the epoch, rounded down also before 1970.
func UnixHour(atMs int64) int64 { return unixHour(atMs) }
