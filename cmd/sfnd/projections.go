package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go"

	"github.com/sfnd/sfnd/events/jsstore"
	"github.com/sfnd/sfnd/projections"
)

const projectionsUsage = `usage: sfnd projections <command> [flags]

commands:
  check     say whether a read model (state machines, versions, activities,
            executions, the execution list index) is missing or behind its streams
            (exit 1 if so)
  rebuild   rebuild the read models from the resource and history streams: every
            resource's newest event, every execution's record from its history, and
            the execution list index when it is missing or damaged

where the store is:
  --data-dir DIR   a stopped server's data directory (default ./data, SFND_DATA_DIR)
  --nats-url URL   a running deployment's NATS (SFND_NATS_URL); rebuild is safe while
                   it serves

sfnd serve runs the same check at start-up and rebuilds what is stale.
`

// projectionsCmd runs `sfnd projections ...` and returns the exit status.
func projectionsCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, projectionsUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd := args[0]
	if cmd != "check" && cmd != "rebuild" {
		fmt.Fprintf(stderr, "sfnd projections: unknown command %q\n\n%s", cmd, projectionsUsage)
		return exitUsage
	}
	fs := flag.NewFlagSet("projections "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", env("SFND_DATA_DIR", "./data"), "data directory of a stopped server (SFND_DATA_DIR)")
	natsURL := fs.String("nats-url", env("SFND_NATS_URL", ""), "NATS URL of a running deployment (SFND_NATS_URL)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sfnd projections %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	st, closeStore, err := openStore(ctx, *dataDir, *natsURL, log)
	if err != nil {
		fmt.Fprintf(stderr, "sfnd projections %s: %v\n", cmd, err)
		if hint := errors.FlattenHints(err); hint != "" {
			fmt.Fprintf(stderr, "hint: %s\n", hint)
		}
		return exitUsage
	}
	defer closeStore()
	stale, err := projections.Check(ctx, st)
	if err != nil {
		fmt.Fprintf(stderr, "sfnd projections %s: %v\n", cmd, err)
		return exitUsage
	}
	if cmd == "check" {
		if !stale.Any() {
			fmt.Fprintln(stdout, "read models up to date")
			return exitOK
		}
		fmt.Fprintf(stdout, "stale: %s\n", strings.Join(stale.Reasons, "; "))
		return exitFault
	}
	which := projections.Staleness{Resources: true, Executions: true, Index: stale.Index}
	stats, err := projections.Rebuild(ctx, st, which, 1, log)
	if err != nil {
		fmt.Fprintf(stderr, "sfnd projections rebuild: %v\n", err)
		return exitFault
	}
	fmt.Fprintf(stdout, "rebuilt in %v: %d resources; %d executions (%d records were missing, %d ends folded in) in %v; %d list index entries\n",
		stats.Took.Round(time.Millisecond), stats.Resources, stats.Histories, stats.Created, stats.Ended,
		stats.Executions.Round(time.Millisecond), stats.Indexed)
	return exitOK
}

// openStore opens the event store of a running deployment (natsURL) or, with an
// in-process NATS server, of a stopped server's data directory (locked meanwhile).
func openStore(ctx context.Context, dataDir, natsURL string, log *slog.Logger) (*jsstore.Store, func(), error) {
	var nc *nats.Conn
	var emb *jsstore.Embedded
	var err error
	if natsURL != "" {
		if nc, err = toolNATS(natsURL, "sfnd-projections"); err != nil {
			return nil, nil, err
		}
	} else {
		dir := filepath.Join(dataDir, "jetstream")
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, nil, errors.Newf("%s holds no sfnd store (no %s)", dataDir, dir)
		}
		emb, err = jsstore.StartEmbedded(jsstore.EmbeddedConfig{StoreDir: dir, Logger: log})
		if errors.Is(err, jsstore.ErrDataDirInUse) {
			return nil, nil, errors.WithHint(err, "stop that server first, or point --nats-url at its NATS")
		}
		if err != nil {
			return nil, nil, err
		}
		if nc, err = emb.Connect("sfnd-projections"); err != nil {
			emb.Shutdown()
			return nil, nil, err
		}
	}
	closeAll := func() {
		nc.Close()
		if emb != nil {
			emb.Shutdown()
		}
	}
	st, err := jsstore.Open(ctx, nc, jsstore.Options{})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return st, closeAll, nil
}
