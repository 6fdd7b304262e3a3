package rules

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestMatchCache checks that cached results always equal the expression's
// own, for more values than the cache has slots, from several goroutines
// at once, and for values too long to keep.
func TestMatchCache(t *testing.T) {
	re := regexp.MustCompile(`(?i)\bvp\b`)
	values := []string{"VP Sales", "Analyst", "Head of Growth", "vpn admin",
		strings.Repeat("x", maxCachedLen) + " vp"}
	for i := 0; i < matchSlots+512; i++ {
		values = append(values, "title "+strconv.Itoa(i)+[]string{"", " vp"}[i%2])
	}
	want := make([]bool, len(values))
	for i, v := range values {
		want[i] = re.MatchString(v)
	}
	tests := []struct {
		name  string
		cache *matchCache
	}{
		{"cache", newMatchCache()},
		{"no cache", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wg sync.WaitGroup
			for g := 0; g < 2; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for round := 0; round < 2; round++ {
						checkMatches(t, tt.cache, re, values, want)
					}
				}()
			}
			wg.Wait()
		})
	}
}

func checkMatches(t *testing.T, c *matchCache, re *regexp.Regexp, values []string,
	want []bool) {
	t.Helper()
	for i, v := range values {
		if got := c.match(re, v); got != want[i] {
			t.Errorf("match %q: got %v, want %v", v, got, want[i])
			return
		}
	}
}

func TestTraitInList(t *testing.T) {
	tr := &trait{field: "email_domain", in: []string{"rival.com", "straße.de"}}
	tests := []struct {
		value string
		want  bool
	}{
		{"rival.com", true},
		{"RIVAL.Com", true},
		{" rival.com ", true},
		{"rival.co", false},
		{"STRASSE.de", false},
		{"STRAßE.DE", true},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			if got := tr.holds(map[string]string{"email_domain": tt.value}); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
