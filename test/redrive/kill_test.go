package redrive

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/test/testutil"
)

// kill -9 in the middle of a redriven Map Run: after the restart the redrive goes on;
// every child ends SUCCEEDED, none is started or redriven twice, and every stored
// history (ExecutionRedriven and MapRunRedriven included) replays to itself.
func TestKill9DuringRedrive(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	p := testutil.StartProc(t)
	dir := p.Dir
	c := testutil.Client(p.URL())
	// 90 children, 10 at a time, each waits 1 s; children 2, 5, 8, 11 and 14 fail until
	// redriven. The fifth failure exceeds the tolerated four: the run fails with
	// children still running (aborted) and most never started.
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":10,"ToleratedFailureCount":4,"End":true,
	 "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
	   "StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"Flaky"},"Flaky":` + failsUntilRedriven + `,"End":true}}}}}}`
	sm := testutil.CreateStateMachine(t, c, "kill-redrive", def)
	var in strings.Builder
	in.WriteByte('[')
	for i := range 90 {
		if i > 0 {
			in.WriteByte(',')
		}
		shift := 0
		if i%3 == 2 && i < 15 {
			shift = -1
		}
		fmt.Fprintf(&in, `{"shift":%d}`, shift)
	}
	in.WriteByte(']')
	ex := testutil.StartExecution(t, c, sm, in.String())
	if d := testutil.WaitDone(t, c, ex, 2*time.Minute); d.Status != types.ExecutionStatusFailed {
		t.Fatalf("first attempt: %s", d.Status)
	}
	runs, err := c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: aws.String(ex)})
	if err != nil || len(runs.MapRuns) != 1 {
		t.Fatalf("ListMapRuns %v %v", err, runs)
	}
	mr := aws.ToString(runs.MapRuns[0].MapRunArn)
	before, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mr)})
	if err != nil || before.ExecutionCounts.Pending == 0 || before.ExecutionCounts.Failed < 5 {
		t.Fatalf("map run after the first attempt: %v %+v", err, before.ExecutionCounts)
	}
	t.Logf("first attempt: %+v", *before.ExecutionCounts)
	// The children the first attempt did not finish: the failed ones, and the running
	// ones the failed run stopped (once they have ended).
	unsuccessful := 0
	for deadline := time.Now().Add(30 * time.Second); ; {
		kids, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{MapRunArn: aws.String(mr), MaxResults: 1000})
		if err != nil {
			t.Fatal(err)
		}
		running := 0
		unsuccessful = 0
		for _, k := range kids.Executions {
			switch k.Status {
			case types.ExecutionStatusRunning:
				running++
			case types.ExecutionStatusSucceeded:
			default:
				unsuccessful++
			}
		}
		if running == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d children still running after the run failed", running)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(ex)}); err != nil {
		t.Fatal(err)
	}
	// Kill once the redrive is under way: some children ended, others run.
	for deadline := time.Now().Add(60 * time.Second); ; {
		dm, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mr)})
		if err == nil && aws.ToInt32(dm.RedriveCount) == 1 && dm.ExecutionCounts.Running > 0 &&
			dm.ExecutionCounts.Succeeded > before.ExecutionCounts.Succeeded {
			t.Logf("kill -9 at %+v", *dm.ExecutionCounts)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the redriven map run never got going")
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.Kill9()
	p.Start()
	d := testutil.WaitDoneRetrying(t, c, ex, 3*time.Minute)
	if d.Status != types.ExecutionStatusSucceeded {
		kids, _ := c.ListExecutions(ctx, &sfn.ListExecutionsInput{MapRunArn: aws.String(mr), MaxResults: 1000})
		for _, k := range kids.Executions {
			if k.Status != types.ExecutionStatusSucceeded {
				t.Logf("child %s %s redriven %d: %s", aws.ToString(k.Name), k.Status, aws.ToInt32(k.RedriveCount), testutil.HistoryTypes(t, c, aws.ToString(k.ExecutionArn)))
			}
		}
	}
	if d.Status != types.ExecutionStatusSucceeded || aws.ToInt32(d.RedriveCount) != 1 {
		t.Fatalf("after kill -9: %s %s %s; history %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), testutil.HistoryTypes(t, c, ex))
	}
	kids, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{MapRunArn: aws.String(mr), MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	redriven := 0
	for _, k := range kids.Executions {
		names[aws.ToString(k.Name)] = true
		if k.Status != types.ExecutionStatusSucceeded || aws.ToInt32(k.RedriveCount) > 1 {
			t.Errorf("child %s: %s, redriven %d times", aws.ToString(k.Name), k.Status, aws.ToInt32(k.RedriveCount))
		}
		redriven += int(aws.ToInt32(k.RedriveCount))
	}
	if len(kids.Executions) != 90 || len(names) != 90 {
		t.Errorf("%d children listed, %d names: a child lost or started twice", len(kids.Executions), len(names))
	}
	if redriven != unsuccessful || unsuccessful < 5 {
		t.Errorf("%d children redriven, want %d (the unsuccessful ones)", redriven, unsuccessful)
	}
	dm, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mr)})
	if err != nil || dm.Status != types.MapRunStatusSucceeded || dm.ExecutionCounts.Succeeded != 90 || aws.ToInt32(dm.RedriveCount) != 1 {
		t.Errorf("map run after restart: %v %+v", err, dm)
	}
	p.Kill9()
	if out, err := exec.Command(testutil.SfndBinary(t), "history", "verify", "--all", "--quiet", "--data-dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("history verify: %v\n%s", err, out)
	}
}
