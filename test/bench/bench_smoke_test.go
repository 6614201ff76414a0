package bench_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sfnd/sfnd/test/bench"
	"github.com/sfnd/sfnd/test/testutil"
)

// TestBenchSmoke runs every workload of `sfnd bench` at tiny sizes against a real
// node: no thresholds, only that each workload runs and the summary line is whole.
func TestBenchSmoke(t *testing.T) {
	a := testutil.Start(t, testutil.Options{WaitTimeScale: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var log strings.Builder
	// parked kills and restarts a server process of its own: the sfnd binary.
	bin := filepath.Join(t.TempDir(), "sfnd")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/sfnd/sfnd/cmd/sfnd").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	parked := &bench.ProcessNode{Bin: bin, Dir: t.TempDir()}
	rep, err := bench.Run(ctx, bench.Config{Endpoint: a.Endpoint(), Store: a.Store, Sizes: bench.Tiny(), Log: &log, Parked: parked})
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, log.String())
	}
	for name, why := range rep.Unavailable {
		t.Errorf("workload %s did not run: %s", name, why)
	}
	if t.Failed() {
		t.Logf("log:\n%s", log.String())
	}
	sz := bench.Tiny()
	if rep.PassChain.Count != sz.PassChainExecutions || rep.PassChain.Rate <= 0 || rep.PassChain.P99 < rep.PassChain.P50 {
		t.Errorf("passchain: %+v", rep.PassChain)
	}
	if rep.Activity.Count != sz.ActivityExecutions || rep.Activity.Rate <= 0 {
		t.Errorf("activity: %+v", rep.Activity)
	}
	if rep.Start.N == 0 || rep.Start.P99 <= 0 {
		t.Errorf("start: %+v", rep.Start)
	}
	if rep.ReplayN < sz.ReplayEvents-10 || rep.ReplayN > sz.ReplayEvents || rep.Replay <= 0 {
		t.Errorf("replay: %d events in %s", rep.ReplayN, rep.Replay)
	}
	if rep.ListN != sz.ListExecutions || rep.List.N != sz.ListQueries {
		t.Errorf("list: %d executions, %+v", rep.ListN, rep.List)
	}
	if rep.DistMap.Count != (sz.DistMapItems+sz.DistMapBatch-1)/sz.DistMapBatch || rep.DistMap.Rate <= 0 {
		t.Errorf("distmap: %+v", rep.DistMap)
	}
	if rep.Ceiling <= 0 || rep.Appends <= 0 {
		t.Errorf("ceiling %.0f, appends %.0f", rep.Ceiling, rep.Appends)
	}
	if rep.Parked != sz.ParkedExecutions || rep.ParkedRSS <= 0 || rep.Restart <= 0 || rep.Resume.N != sz.ParkedExecutions {
		t.Errorf("parked: %d executions, RSS %d, restart %s, resume %+v", rep.Parked, rep.ParkedRSS, rep.Restart, rep.Resume)
	}
	line := rep.Line()
	re := regexp.MustCompile(`^bench: passchain=\d+ activity=\d+ start_p99=[\d.]+ replay25k=[\d.]+ list_p99=[\d.]+ appends=\d+ ceiling=\d+ distmap=\d+ parked=\d+ parked_rss_mb=\d+ restart_s=[\d.]+ resume_p99_s=[\d.]+$`)
	if !re.MatchString(line) {
		t.Errorf("summary line %q", line)
	}
}

// TestReportLine checks the machine-readable line and the target check on fixed
// figures, including an unavailable workload.
func TestReportLine(t *testing.T) {
	rep := &bench.Report{
		PassChain: bench.Throughput{Rate: 26000}, Appends: 30000, Activity: bench.Throughput{Rate: 1500},
		Start: bench.Latency{P99: 4 * time.Millisecond}, Replay: 120 * time.Millisecond,
		List: bench.Latency{P99: 3500 * time.Microsecond}, Ceiling: 40000, DistMap: bench.Throughput{Rate: 2500},
		Unavailable: map[string]string{},
	}
	want := "bench: passchain=26000 activity=1500 start_p99=4.00 replay25k=120.00 list_p99=3.50 appends=30000 ceiling=40000 distmap=2500 parked=0 parked_rss_mb=0 restart_s=0.00 resume_p99_s=0.00"
	if got := rep.Line(); got != want {
		t.Errorf("line\n got %s\nwant %s", got, want)
	}
	if m := rep.Misses(); len(m) != 0 {
		t.Errorf("misses %v", m)
	}
	rep.Appends = 10000 // 25 % of the ceiling
	rep.Unavailable["activity"] = "not served"
	if m := rep.Misses(); len(m) != 2 || !strings.HasPrefix(m[0], "activity") || !strings.HasPrefix(m[1], "ceiling") {
		t.Errorf("misses %v", m)
	}
	if !strings.Contains(rep.Line(), "activity=unavailable") {
		t.Errorf("line %s", rep.Line())
	}
}
