package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/sfnd/sfnd/cmd/sfnd/app"
	"github.com/sfnd/sfnd/events/jsstore"
	"github.com/sfnd/sfnd/test/bench"
)

// benchCmd is `sfnd bench`: start a node of its own (embedded NATS, file storage under
// --data-dir) or drive --endpoint, run the workloads and print the figures; the last
// line is machine-readable.
func benchCmd(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	quick := fs.Bool("quick", false, "run every workload in about a minute (100,000 listed executions instead of 1,000,000)")
	tiny := fs.Bool("tiny", false, "smoke sizes: a few executions per workload")
	endpoint := fs.String("endpoint", "", "bench a running sfnd at this URL instead of starting one (several comma-separated nodes of a cluster: requests go to each in turn)")
	natsURL := fs.String("nats-url", "", "with --endpoint: that server's NATS, for ceiling, replay25k and list seeding")
	dataDir := fs.String("data-dir", "", "data directory of the bench's own node (default: a temporary directory, removed afterwards)")
	only := fs.String("only", "", "comma-separated workloads to run: "+strings.Join(bench.Workloads, ","))
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (client and server) to this file")
	memProfile := fs.String("memprofile", "", "write an allocation profile at the end to this file")
	check := fs.Bool("check", false, "exit with status 3 when a target is missed")
	pprofListen := fs.String("pprof-listen", "", "serve net/http/pprof on this address while the bench runs (goroutine and block profiles of the run)")
	parkedN := fs.Int("parked-executions", 0, "parked: this many executions instead of the size's (20,000 in --quick, 100,000 in the full run)")
	_ = fs.Parse(args)

	sizes := bench.Full()
	switch {
	case *tiny:
		sizes = bench.Tiny()
	case *quick:
		sizes = bench.Quick()
	}
	if *parkedN > 0 {
		sizes.ParkedExecutions = *parkedN
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg := bench.Config{Sizes: sizes, Log: os.Stderr}
	if *only != "" {
		cfg.Only = strings.Split(*only, ",")
	}
	if *endpoint == "" {
		dir := *dataDir
		if dir == "" {
			tmp, err := os.MkdirTemp("", "sfnd-bench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			dir = tmp
		}
		a, err := app.Start(ctx, app.Config{
			Listen: "127.0.0.1:0", DataDir: dir,
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
		})
		if err != nil {
			return err
		}
		defer a.Close()
		cfg.Endpoint, cfg.Store = a.Endpoint(), a.Store
		// parked kills and restarts a server: a process of its own, on its own data.
		if exe, err := os.Executable(); err == nil {
			cfg.Parked = &bench.ProcessNode{Bin: exe, Dir: filepath.Join(dir, "parked")}
		}
		fmt.Fprintf(os.Stderr, "bench: own node at %s, file storage in %s, GOMAXPROCS=%d\n", a.Endpoint(), filepath.Join(dir, "jetstream"), runtime.GOMAXPROCS(0))
	} else {
		cfg.Endpoint = *endpoint
		if *natsURL != "" {
			nc, err := toolNATS(*natsURL, "sfnd-bench")
			if err != nil {
				return err
			}
			defer nc.Close()
			st, err := jsstore.Open(ctx, nc, jsstore.Options{})
			if err != nil {
				return err
			}
			cfg.Store = st
		}
	}
	servePprof(*pprofListen, slog.Default())
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	t0 := time.Now()
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *memProfile != "" {
		if err := writeHeapProfile(*memProfile); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stdout, "bench: %s in %s\n%s", sizeName(*quick, *tiny), time.Since(t0).Round(time.Second), rep.Summary())
	misses := rep.Misses()
	for _, m := range misses {
		fmt.Fprintln(os.Stdout, "  missed target:", m)
	}
	fmt.Fprintln(os.Stdout, rep.Line())
	if *check && len(misses) > 0 {
		os.Exit(3)
	}
	return nil
}

func sizeName(quick, tiny bool) string {
	switch {
	case tiny:
		return "tiny run"
	case quick:
		return "quick run"
	}
	return "full run"
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("allocs").WriteTo(f, 0)
}
