package rules

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

const (
	msPerHour = int64(time.Hour / time.Millisecond)
	msPerDay  = 24 * msPerHour
	// maxWindowDays bounds windows and half-lives so that the buckets a
	// lead store keeps stay small: ten years is longer than any campaign.
	maxWindowDays = 3660
)

// window is a look-back period of whole hours. A window of whole days is
// evaluated on local day buckets, any other on UTC hour buckets.
type window struct {
	hours int64
	text  string // as written, e.g. "14d"
}

// days returns the window in days and whether it is a whole number of days.
func (w window) days() (int64, bool) {
	return w.hours / 24, w.hours%24 == 0
}

// parseDuration reads "<n>d" or "<n>h" with n a positive whole number. It
// serves both windows and half-lives; the message says how to fix it.
func parseDuration(text string) (window, error) {
	t := strings.TrimSpace(text)
	if len(t) < 2 {
		return window{}, fmt.Errorf("%q is not a duration; write whole hours or days, "+
			"e.g. 12h or 14d", text)
	}
	unit := t[len(t)-1]
	n, err := strconv.ParseInt(t[:len(t)-1], 10, 64)
	if err != nil || t[0] == '+' || t[0] == '-' {
		return window{}, fmt.Errorf("%q is not a duration; write whole hours or days, "+
			"e.g. 12h or 14d (minutes and fractions are not supported)", text)
	}
	if n > maxWindowDays*24 {
		return window{}, fmt.Errorf("%q is longer than %d days; use a shorter one", text,
			maxWindowDays)
	}
	switch unit {
	case 'h':
	case 'd':
		n *= 24
	default:
		return window{}, fmt.Errorf("%q has unit %q; use h (hours) or d (days), the "+
			"shortest is 1h", text, string(unit))
	}
	if n < 1 {
		return window{}, fmt.Errorf("%q is shorter than an hour; the shortest is 1h", text)
	}
	if n > maxWindowDays*24 {
		return window{}, fmt.Errorf("%q is longer than %d days; use a shorter one", text,
			maxWindowDays)
	}
	return window{hours: n, text: t}, nil
}

// localDay returns the day index of atMs: days since 1970-01-01 in loc.
func localDay(atMs int64, loc *time.Location) int64 {
	if loc == time.UTC {
		return floorDiv(atMs, msPerDay)
	}
	y, m, d := time.UnixMilli(atMs).In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// unixHour returns the hour index of atMs: whole UTC hours since the epoch,
// rounded down also before 1970.
func unixHour(atMs int64) int64 {
	return floorDiv(atMs, msPerHour)
}

// floorDiv divides a by b > 0, rounding down also for a negative a.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}
