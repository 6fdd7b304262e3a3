// Package topics creates the Kafka topics a service needs when they are
// missing, so a fresh cluster works without a manual step. Deployments
// whose ACLs forbid creating topics turn this off and create them ahead.
package topics

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Spec names a topic and the partitions it gets when created.
type Spec struct {
	Name       string
	Partitions int32
	// Configs are topic configs such as retention.ms; nil for defaults.
	Configs map[string]*string
}

// Ensure creates every topic in specs that does not exist yet, with the
// broker's default replication factor. Existing topics are left as they
// are, even when their partition count differs.
func Ensure(ctx context.Context, cl *kgo.Client, specs ...Spec) error {
	adm := kadm.NewClient(cl)
	for _, s := range specs {
		resp, err := adm.CreateTopic(ctx, s.Partitions, -1, s.Configs, s.Name)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", s.Name, err)
		}
	}
	return nil
}
