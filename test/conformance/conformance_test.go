package conformance_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sfnd/sfnd/cmd/sfnd/app"
	"github.com/sfnd/sfnd/test/conformance"
	"github.com/sfnd/sfnd/test/testutil"
)

var (
	flagFilter   = flag.String("conformance.filter", os.Getenv("SFND_CONFORMANCE_FILTER"), "run only cases whose id contains this substring (SFND_CONFORMANCE_FILTER)")
	flagKind     = flag.String("conformance.kind", os.Getenv("SFND_CONFORMANCE_KIND"), "run only cases of these kinds, comma separated (SFND_CONFORMANCE_KIND)")
	flagJobs     = flag.Int("conformance.jobs", envInt("SFND_CONFORMANCE_JOBS", 4), "cases run in parallel (SFND_CONFORMANCE_JOBS)")
	flagVerbose  = flag.Bool("conformance.v", os.Getenv("SFND_CONFORMANCE_VERBOSE") != "", "log every case as it finishes (SFND_CONFORMANCE_VERBOSE)")
	flagEndpoint = flag.String("conformance.endpoint", os.Getenv("SFND_CONFORMANCE_ENDPOINT"), "score this endpoint instead of an in-process sfnd (SFND_CONFORMANCE_ENDPOINT)")
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

const (
	corpusPath = "../testdata/conformance/aws-recorded.jsonl"
	floorPath  = "../testdata/conformance/floor.txt"
)

// TestConformance replays the AWS-recorded corpus against a real in-process sfnd
// and fails when fewer cases pass than test/testdata/conformance/floor.txt says (a
// ratchet: raise it as the engine improves). Set SFND_CONFORMANCE_REPORT to a path
// to get the JSON report; -conformance.filter / SFND_CONFORMANCE_FILTER runs a
// subset (the floor is then not enforced).
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance corpus takes about a minute; skipped with -short")
	}
	cases, err := conformance.LoadCorpus(corpusPath)
	if err != nil {
		t.Fatal(err)
	}
	opts := conformance.Options{Filter: *flagFilter, Kind: *flagKind, Jobs: *flagJobs, Verbose: *flagVerbose}
	selected := conformance.Select(cases, opts)
	if len(selected) == 0 {
		t.Fatalf("no case matches filter %q kind %q", opts.Filter, opts.Kind)
	}
	endpoint := *flagEndpoint
	var node *app.App
	if endpoint == "" {
		// Waits scaled by 0.01: a 60 s Wait takes 600 ms, long enough for a StopExecution
		// to arrive during it, as the corpus expects.
		node = testutil.Start(t, testutil.Options{WaitTimeScale: 0.01})
		endpoint = node.Endpoint()
		// Every history the corpus leaves must replay: re-run the decider over each.
		defer verifyStoredHistories(t, node)
	}
	if opts.Verbose {
		opts.Progress = testLogWriter{t}
	}
	rep := conformance.Run(context.Background(), endpoint, selected, opts)
	text := rep.String()
	t.Log("\n" + text)
	if !testing.Verbose() {
		// t.Log output shows only on failure or with -v; the report is always useful.
		os.Stdout.WriteString(text)
	}
	if path := os.Getenv("SFND_CONFORMANCE_REPORT"); path != "" {
		if !filepath.IsAbs(path) {
			if wd, err := os.Getwd(); err == nil {
				path = filepath.Join(wd, path)
			}
		}
		if err := rep.WriteJSON(path); err != nil {
			t.Errorf("writing report: %v", err)
		} else {
			t.Logf("report written to %s", path)
		}
	}
	if rep.Error != "" {
		t.Fatalf("run failed: %s", rep.Error)
	}
	if len(selected) != len(cases) {
		t.Logf("subset of %d/%d cases: floor not enforced", len(selected), len(cases))
		return
	}
	floor, err := readFloor(floorPath)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed() < floor {
		t.Errorf("conformance regressed: %d cases pass, the floor in %s is %d", rep.Passed(), floorPath, floor)
	} else if rep.Passed() > floor {
		t.Logf("%d cases pass, above the floor of %d: raise %s", rep.Passed(), floor, floorPath)
	}
}

func readFloor(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		return strconv.Atoi(line)
	}
	return 0, nil
}

type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
