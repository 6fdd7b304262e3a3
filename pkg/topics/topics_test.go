package topics_test

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/leadstream/leadstream/pkg/testenv"
	"github.com/leadstream/leadstream/pkg/topics"
)

func TestEnsureCreatesOnceAndKeepsExisting(t *testing.T) {
	k := testenv.StartKafka(t)
	cl := k.Client(t)
	name := testenv.Prefix(t) + "events"
	ctx := context.Background()

	if err := topics.Ensure(ctx, cl, topics.Spec{Name: name, Partitions: 6}); err != nil {
		t.Fatalf("first ensure: %v", err)
	}
	if err := topics.Ensure(ctx, cl, topics.Spec{Name: name, Partitions: 2}); err != nil {
		t.Fatalf("second ensure: %v", err)
	}

	details, err := kadm.NewClient(cl).ListTopics(ctx, name)
	if err != nil {
		t.Fatalf("list topics: %v", err)
	}
	if got := len(details[name].Partitions); got != 6 {
		t.Fatalf("partitions = %d, want 6 (the second call must not change it)", got)
	}
}
