package bench

import (
	"slices"
	"testing"

	"github.com/leadstream/leadstream/pkg/config"
)

func TestLeadsFlag(t *testing.T) {
	tests := []struct {
		args []string
		want []int
		ok   bool
	}{
		{nil, []int{10000, 100000}, true},
		{[]string{"--leads", "1000000"}, []int{1000000}, true},
		{[]string{"--leads", "10000,1000000"}, []int{10000, 1000000}, true},
		{[]string{"--leads", "lots"}, nil, false},
		{[]string{"--leads", "0"}, nil, false},
	}
	for _, tt := range tests {
		var c Config
		fs := config.NewFlagSet("leadbench")
		c.Register(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatalf("parse %v: %v", tt.args, err)
		}
		err := c.Validate()
		c.Defaults()
		if (err == nil) != tt.ok || (tt.ok && !slices.Equal(c.Leads, tt.want)) {
			t.Errorf("%v: leads %v, error %v; want %v, ok %v", tt.args, c.Leads, err,
				tt.want, tt.ok)
		}
	}
}
