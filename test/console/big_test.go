package console_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/test/testutil"
)

// TestLargeHistoryRendersFast opens an execution of 24,806 events (a Map of 6,200
// iterations, next to the 25,000-event quota) and a large input: the page shows the
// graph, the event table and the iteration picker within 2 s of navigating.
func TestLargeHistoryRendersFast(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	e := start(t)
	const items = 6200
	sm := testutil.CreateStateMachine(t, e.c, "big", `{"StartAt":"Fan","States":{
	 "Fan":{"Type":"Map","ItemsPath":"$.items","ResultPath":null,"End":true,
	  "ItemProcessor":{"StartAt":"One","States":{"One":{"Type":"Pass","End":true}}}}}}`)
	nums := make([]string, items)
	for i := range nums {
		nums[i] = fmt.Sprint(i)
	}
	// A large input too (about 200 KB): shown cut, with an expand button.
	input := `{"items":[` + strings.Join(nums, ",") + `],"blob":"` + strings.Repeat("x", 170_000) + `"}`
	t0 := time.Now()
	x := testutil.StartExecution(t, e.c, sm, input)
	d := testutil.WaitDone(t, e.c, x, 5*time.Minute)
	if d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("execution %s", d.Status)
	}
	want := 6 + 4*items
	out, err := e.c.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(x), ReverseOrder: true, MaxResults: 1})
	if err != nil || len(out.Events) != 1 || out.Events[0].Id != int64(want) {
		t.Fatalf("history: %v %+v, want %d events", err, out, want)
	}
	t.Logf("the execution ran in %v", time.Since(t0))

	p := newPage(t, e.url)
	p.open("/") // warm the page's assets as a user's browser has them
	// The page records when it first showed the whole execution (ms since navigation
	// began) and how long sfnd took to read the stored history; the console's own
	// part is the difference: fetching, parsing, deriving and drawing. On a machine
	// busy with other tests a load can be slow: up to six loads, and the best counts.
	best := time.Hour
	for i := 0; i < 6 && best > 2*time.Second; i++ {
		start := time.Now()
		p.open(execPath(x))
		p.waitJS(30*time.Second, fmt.Sprintf(`document.querySelector('section.exec[data-events="%d"][data-shown-ms]') && document.querySelector('g.node[data-state="Fan"]') && document.querySelectorAll('.erow').length > 10`, want))
		wall := time.Since(start)
		shown := time.Duration(eval[float64](p, `Number(document.querySelector('section.exec').dataset.shownMs)`)) * time.Millisecond
		read := time.Duration(eval[float64](p, `Number(document.querySelector('section.exec').dataset.readMs)`)) * time.Millisecond
		t.Logf("%d events: shown %v after navigation (wall %v); sfnd's read of the stored history %v; the console's part %v", want, shown, wall, read, shown-read)
		best = min(best, shown-read)
	}
	if best > 2*time.Second {
		// Wall-clock budgets mean nothing on a machine running many times more
		// runnable threads than it has cores: there the figures are reported, not judged.
		if load, cores := loadAverage(), runtime.NumCPU(); load > 4*float64(cores) {
			t.Logf("NOT JUDGED: the console took %v to render a %d-event history, but the load average is %.1f on %d cores", best, want, load, cores)
		} else {
			t.Errorf("the console took %v to render a %d-event history, want < 2 s (load average %.1f on %d cores)", best, want, load, cores)
		}
	}
	p.screenshot("execution-large")

	// The event table scrolls through all of it (virtualised: few rows in the DOM).
	if n := eval[int](p, `document.querySelectorAll('.erow').length`); n > 200 {
		t.Errorf("%d event rows in the DOM: the table is not virtualised", n)
	}
	eval[bool](p, `(() => { const b = document.querySelector('.etable'); b.scrollTop = b.scrollHeight; b.dispatchEvent(new Event('scroll')); return true })()`)
	p.waitJS(5*time.Second, fmt.Sprintf(`document.querySelector('.erow[data-id="%d"]')`, want))

	// Map iterations: pick the last one.
	p.click(`g.node[data-state="Fan"]`)
	p.click(`#open-map`)
	p.waitJS(10*time.Second, fmt.Sprintf(`document.querySelector('#iteration') && document.querySelector('.picker').innerText.includes('%s iterations')`, "6,200"))
	p.selectValue("#iteration", "4999")
	p.click(`g.node[data-state="One"]`)
	p.waitJS(5*time.Second, `document.querySelector('#state-details').innerText.includes('4999')`)

	// The large input is cut, and expands.
	p.click(`button[data-tab="io"]`)
	p.waitJS(5*time.Second, `document.querySelector('#io button.expand')`)
	before := eval[int](p, `document.querySelector('#io .json pre').innerText.length`)
	p.click(`#io button.expand`)
	p.waitJS(5*time.Second, fmt.Sprintf(`document.querySelector('#io .json pre').innerText.length > %d`, before+100_000))
}

// loadAverage is the one-minute load average (0 where /proc/loadavg is missing).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return f
}
