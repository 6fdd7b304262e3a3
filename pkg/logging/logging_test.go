package logging_test

import (
	"testing"

	"github.com/leadstream/leadstream/pkg/logging"
)

func TestValidateAndBuild(t *testing.T) {
	for _, tc := range []struct {
		cfg logging.Config
		ok  bool
	}{
		{logging.Config{Format: "json", Level: "info"}, true},
		{logging.Config{Format: "console", Level: "debug"}, true},
		{logging.Config{Format: "xml", Level: "info"}, false},
		{logging.Config{Format: "json", Level: "loud"}, false},
	} {
		err := tc.cfg.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%+v: validate = %v, want ok=%v", tc.cfg, err, tc.ok)
		}
		if tc.ok {
			if _, err := logging.New("test", tc.cfg); err != nil {
				t.Errorf("%+v: new: %v", tc.cfg, err)
			}
		}
	}
}
