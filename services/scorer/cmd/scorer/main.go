// Command scorer runs a scorer worker of the leadstream pipeline and the
// operator commands around it:
//
//	scorer [run] [flags]                 run a worker in the consumer group
//	scorer rules check FILE              validate and describe a rules file
//	scorer rules test FILE EVENTS.jsonl  run sample events through rules
//	scorer lead show [flags] LEAD_ID     show a lead's state in Redis
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/lifecycle"
	"github.com/leadstream/leadstream/pkg/logging"
	"github.com/leadstream/leadstream/services/scorer/internal/cli"
)

const usage = `usage:
  scorer [run] [flags]                 run a worker in the consumer group
  scorer rules check FILE              validate and describe a rules file
  scorer rules test FILE EVENTS.jsonl  run sample events through rules
  scorer lead show [flags] LEAD_ID     show a lead's state (anon:<id> for a visitor)
run "scorer run -h" or "scorer lead show -h" for the flags`

func main() {
	err := dispatch(os.Args[1:])
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "scorer:", err)
		os.Exit(1)
	}
}

func dispatch(args []string) error {
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch {
	case cmd == "run":
		return run(args)
	case cmd == "rules" && len(args) == 2 && args[0] == "check":
		return cli.RulesCheck(os.Stdout, args[1])
	case cmd == "rules" && len(args) == 3 && args[0] == "test":
		return cli.RulesTest(os.Stdout, args[1], args[2])
	case cmd == "lead" && len(args) > 0 && args[0] == "show":
		return leadShow(args[1:])
	}
	fmt.Fprintln(os.Stderr, usage)
	return flag.ErrHelp
}

func run(args []string) error {
	fs := config.NewFlagSet("scorer run")
	var c cli.RunConfig
	c.Register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	log, err := logging.New("scorer", c.Log)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()

	ctx, stop := lifecycle.SignalContext()
	defer stop()
	if err := cli.Run(ctx, c, log); err != nil {
		return err
	}
	log.Info("scorer stopped")
	return nil
}

func leadShow(args []string) error {
	fs := config.NewFlagSet("scorer lead show")
	var r config.Redis
	r.Register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("lead show: name one lead id, or anon:<id> for a visitor")
	}
	if err := r.Validate(); err != nil {
		return err
	}
	return cli.LeadShow(context.Background(), os.Stdout, r, fs.Arg(0))
}
