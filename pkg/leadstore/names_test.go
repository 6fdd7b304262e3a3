package leadstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/pkg/testenv"
)

// TestCodebookShared runs two stores on one key prefix, as two scorer
// processes during a rules reload: the second's rules count a signal and
// a score the first never heard of. Both must read every count the other
// wrote, each name keeping the code it was given first.
func TestCodebookShared(t *testing.T) {
	for _, d := range []deployment{
		{"single", testenv.StartRedis(t)},
		{"cluster", testenv.StartRedisCluster(t)},
	} {
		t.Run(d.name, func(t *testing.T) {
			rdb := d.redis.Client(t)
			prefix := testenv.Prefix(t) + "ls"
			old := storeAt(t, rdb, prefix)
			r1 := mustRules(t)
			v2 := strings.Replace(testRules, "  download: {event: download}\n",
				"  download: {event: download}\n  webinar: {event: webinar}\n", 1)
			v2 = strings.Replace(v2, `"count(download, 6h) >= 3"]`,
				`"count(download, 6h) >= 3", "webinar >= 3"]`, 1)
			r2, err := rules.Parse("v2.yaml", []byte(v2))
			if err != nil {
				t.Fatalf("parse rules v2: %v", err)
			}
			lead := leadstore.Lead("C1")
			apply(t, old, lead, r1, ev("c1", "page_view", "https://x.example/blog/a", t0))

			// A process that starts later reads the codes the first gave out.
			next := storeAt(t, rdb, prefix)
			apply(t, next, lead, r2, ev("c2", "webinar", "", t0+1000))
			apply(t, next, lead, r2, ev("c3", "page_view", "https://x.example/blog/b", t0+2000))

			st, _, err := old.Read(context.Background(), lead)
			if err != nil {
				t.Fatalf("read with the first store: %v", err)
			}
			if st.Counts["blog"] != 2 || st.Counts["webinar"] != 1 {
				t.Fatalf("first store reads counts %v, want blog 2 and webinar 1", st.Counts)
			}
			if st.Scores["eng"].Value <= 5 {
				t.Errorf("first store reads score eng %v, want both blog views in it",
					st.Scores["eng"])
			}
		})
	}
}

func storeAt(t *testing.T, rdb redis.UniversalClient, prefix string) *leadstore.Store {
	t.Helper()
	s, err := leadstore.New(rdb, prefix)
	if err != nil {
		t.Fatalf("new store: %v", err)
	}
	if err := s.Load(context.Background()); err != nil {
		t.Fatalf("load: %v", err)
	}
	return s
}
