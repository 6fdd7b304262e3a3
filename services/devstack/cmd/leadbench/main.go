// Command leadbench measures leadstream's throughput, latency and memory
// on this machine, each figure beside a reference measured in the same
// run, and prints a summary table. make bench runs it; run it with --help
// for its flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/lifecycle"
	"github.com/leadstream/leadstream/pkg/logging"

	"github.com/leadstream/leadstream/services/devstack/internal/bench"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve-pixel" {
		os.Exit(servePixel(os.Args[2:]))
	}
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	var cfg bench.Config
	var logCfg logging.Config
	var commit string
	fs := config.NewFlagSet("leadbench")
	cfg.Register(fs)
	logCfg.Register(fs)
	fs.String(&commit, "commit", "", "git commit being measured, recorded in the results")
	if code, done := parse(fs, args); done {
		return code
	}
	if err := errors.Join(cfg.Validate(), logCfg.Validate()); err != nil {
		fmt.Fprintln(os.Stderr, "leadbench: invalid configuration:", err)
		return 2
	}
	log, err := logging.New("leadbench", logCfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "leadbench:", err)
		return 2
	}
	defer func() { _ = log.Sync() }()
	if cfg.Self, err = os.Executable(); err != nil {
		fmt.Fprintln(os.Stderr, "leadbench: find own binary:", err)
		return 1
	}

	ctx, stop := lifecycle.SignalContext()
	defer stop()
	report, err := bench.Run(ctx, cfg, log)
	if report == nil {
		fmt.Fprintln(os.Stderr, "leadbench:", err)
		return 1
	}
	report.Commit = commit
	return write(report, cfg.OutDir, err)
}

// write prints the table and writes the JSON and the chart.
func write(report *bench.Report, dir string, runErr error) int {
	if err := bench.PrintTable(os.Stdout, report); err != nil {
		fmt.Fprintln(os.Stderr, "leadbench:", err)
		return 1
	}
	err := errors.Join(runErr, report.WriteJSON(filepath.Join(dir, "results.json")),
		bench.WriteChart(filepath.Join(dir, "chart.png"), report))
	if err != nil {
		fmt.Fprintln(os.Stderr, "leadbench:", err)
		return 1
	}
	fmt.Printf("\nresults: %s, chart: %s\n", filepath.Join(dir, "results.json"),
		filepath.Join(dir, "chart.png"))
	return 0
}

func servePixel(args []string) int {
	var addr string
	fs := config.NewFlagSet("leadbench serve-pixel")
	fs.String(&addr, "http-addr", "127.0.0.1:0", "address of the bare pixel")
	if code, done := parse(fs, args); done {
		return code
	}
	ctx, stop := lifecycle.SignalContext()
	defer stop()
	if err := bench.ServePixel(ctx, addr); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "leadbench:", err)
		return 1
	}
	return 0
}

// parse parses args and says whether to exit with code.
func parse(fs *config.FlagSet, args []string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0, true
	case err != nil:
		fmt.Fprintln(os.Stderr, "leadbench:", err)
		return 2, true
	}
	return 0, false
}
