package distmap

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/test/testutil"
)

func items(n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(i))
	}
	b.WriteByte(']')
	return b.String()
}

// 10,000 items, at most 100 children at a time.
func TestTenThousandItems(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	c, _ := node(t)
	def := mapDef(`"MaxConcurrency":100,"ItemSelector":{"n.$":"$$.Map.Item.Value"},"ResultWriter":{"WriterConfig":{"OutputType":"JSON","Transformation":"COMPACT"}},`,
		`{"StartAt":"P","States":{"P":{"Type":"Pass","OutputPath":"$.n","End":true}}}`)
	sm := testutil.CreateStateMachine(t, c, "tenk", def)
	start := time.Now()
	exec := testutil.StartExecution(t, c, sm, items(10000))
	mr := ""
	maxRunning := int64(0)
	for deadline := time.Now().Add(5 * time.Minute); ; {
		if mr == "" {
			if out, err := c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: aws.String(exec)}); err == nil && len(out.MapRuns) == 1 {
				mr = aws.ToString(out.MapRuns[0].MapRunArn)
			}
		}
		if mr != "" {
			if dm, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mr)}); err == nil {
				maxRunning = max(maxRunning, dm.ExecutionCounts.Running)
				if dm.Status != types.MapRunStatusRunning {
					break
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("map run did not end in 5 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	d := testutil.WaitDone(t, c, exec, time.Minute)
	t.Logf("10,000 items: %v, at most %d children running at once", time.Since(start), maxRunning)
	if d.Status != types.ExecutionStatusSucceeded || compact(aws.ToString(d.Output)) != items(10000) {
		t.Fatalf("%s %.200s (%s)", d.Status, aws.ToString(d.Output), aws.ToString(d.Cause))
	}
	if maxRunning > 100 || maxRunning == 0 {
		t.Errorf("running children peaked at %d (MaxConcurrency 100)", maxRunning)
	}
	dm, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mr)})
	if err != nil {
		t.Fatal(err)
	}
	if dm.ExecutionCounts.Succeeded != 10000 || dm.ItemCounts.Total != 10000 || dm.ExecutionCounts.Running != 0 {
		t.Errorf("counts %+v", dm.ExecutionCounts)
	}
	if kids := children(t, c, mr); len(kids) != 10000 {
		t.Errorf("%d children listed", len(kids))
	}
}

// UpdateMapRun takes effect on the running Map Run: more children at once.
func TestUpdateMapRunMidRun(t *testing.T) {
	c, _ := node(t)
	act, err := c.CreateActivity(ctx, &sfn.CreateActivityInput{Name: aws.String("hold")})
	if err != nil {
		t.Fatal(err)
	}
	proc := fmt.Sprintf(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":%q,"End":true}}}`, aws.ToString(act.ActivityArn))
	sm := testutil.CreateStateMachine(t, c, "upd", mapDef(`"MaxConcurrency":1,`, proc))
	exec := testutil.StartExecution(t, c, sm, `[1,2,3,4,5,6]`)
	var mr string
	waitCounts := func(what string, ok func(*sfn.DescribeMapRunOutput) bool) *sfn.DescribeMapRunOutput {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if mr == "" {
				if out, err := c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: aws.String(exec)}); err == nil && len(out.MapRuns) == 1 {
					mr = aws.ToString(out.MapRuns[0].MapRunArn)
				}
			}
			if mr != "" {
				dm, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mr)})
				if err == nil && ok(dm) {
					return dm
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("map run never reached: %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	answer := func() {
		t.Helper()
		task, err := c.GetActivityTask(ctx, &sfn.GetActivityTaskInput{ActivityArn: act.ActivityArn})
		if err != nil || task.TaskToken == nil {
			t.Fatalf("GetActivityTask: %v", err)
		}
		if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: task.Input}); err != nil {
			t.Fatal(err)
		}
	}
	waitCounts("1 running", func(d *sfn.DescribeMapRunOutput) bool { return d.ExecutionCounts.Running == 1 })
	time.Sleep(300 * time.Millisecond)
	if d := waitCounts("still 1", func(*sfn.DescribeMapRunOutput) bool { return true }); d.ExecutionCounts.Running != 1 {
		t.Fatalf("MaxConcurrency 1: %d running", d.ExecutionCounts.Running)
	}
	if _, err := c.UpdateMapRun(ctx, &sfn.UpdateMapRunInput{MapRunArn: aws.String(mr), MaxConcurrency: aws.Int32(3), ToleratedFailureCount: aws.Int64(2)}); err != nil {
		t.Fatal(err)
	}
	d := waitCounts("3 running", func(d *sfn.DescribeMapRunOutput) bool { return d.ExecutionCounts.Running == 3 })
	if d.MaxConcurrency != 3 || d.ToleratedFailureCount != 2 {
		t.Errorf("after UpdateMapRun: maxConcurrency %d toleratedFailureCount %d", d.MaxConcurrency, d.ToleratedFailureCount)
	}
	for range 6 {
		answer()
	}
	if out := testutil.WaitDone(t, c, exec, 30*time.Second); out.Status != types.ExecutionStatusSucceeded || compact(aws.ToString(out.Output)) != `[1,2,3,4,5,6]` {
		t.Fatalf("%s %s %s", out.Status, aws.ToString(out.Output), aws.ToString(out.Cause))
	}
	// A finished Map Run cannot be updated.
	_, err = c.UpdateMapRun(ctx, &sfn.UpdateMapRunInput{MapRunArn: aws.String(mr), MaxConcurrency: aws.Int32(5)})
	testutil.WantCode(t, err, "ValidationException")
}

// The Map Run operations' documented errors.
func TestMapRunAPIErrors(t *testing.T) {
	c, _ := node(t)
	_, exec := run(t, c, mapDef(``, ""), `[1]`)
	mr := mapRunOf(t, c, exec)
	missing := strings.Replace(mr, "/", "/x", 1)

	_, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String("arn:aws:states:us-east-1:123456789012:execution:a:b")})
	testutil.WantCode(t, err, "InvalidArn")
	_, err = c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String("not-an-arn")})
	testutil.WantCode(t, err, "InvalidArn")
	_, err = c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(missing)})
	testutil.WantCode(t, err, "ResourceNotFound")

	_, err = c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: aws.String(exec + "x")})
	testutil.WantCode(t, err, "ExecutionDoesNotExist")
	_, err = c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: aws.String(mr)})
	testutil.WantCode(t, err, "InvalidArn")
	_, err = c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: aws.String(exec), NextToken: aws.String("bogus")})
	testutil.WantCode(t, err, "InvalidToken")

	_, err = c.UpdateMapRun(ctx, &sfn.UpdateMapRunInput{MapRunArn: aws.String(missing), MaxConcurrency: aws.Int32(2)})
	testutil.WantCode(t, err, "ResourceNotFound")
	_, err = c.UpdateMapRun(ctx, &sfn.UpdateMapRunInput{MapRunArn: aws.String("arn:aws:states:us-east-1:123456789012:stateMachine:x")})
	testutil.WantCode(t, err, "InvalidArn")
	_, err = c.UpdateMapRun(ctx, &sfn.UpdateMapRunInput{MapRunArn: aws.String(mr)})
	testutil.WantCode(t, err, "ValidationException")
	_, err = c.UpdateMapRun(ctx, &sfn.UpdateMapRunInput{MapRunArn: aws.String(mr), ToleratedFailurePercentage: aws.Float32(101)})
	testutil.WantCode(t, err, "ValidationException")
	_, err = c.UpdateMapRun(ctx, &sfn.UpdateMapRunInput{MapRunArn: aws.String(mr), ToleratedFailureCount: aws.Int64(-1)})
	testutil.WantCode(t, err, "ValidationException")

	_, err = c.ListExecutions(ctx, &sfn.ListExecutionsInput{MapRunArn: aws.String(missing)})
	testutil.WantCode(t, err, "ResourceNotFound")
	_, err = c.ListExecutions(ctx, &sfn.ListExecutionsInput{})
	testutil.WantCode(t, err, "ValidationException")
	// Nothing of that changed the run.
	dm, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mr)})
	if err != nil || dm.MaxConcurrency != 0 || dm.Status != types.MapRunStatusSucceeded {
		t.Errorf("after refused calls: %+v %v", dm, err)
	}
}

// ---- kill -9 in the middle of a Map Run ----

func TestKill9DuringMapRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	p := testutil.StartProc(t)
	dir := p.Dir
	c := testutil.Client(p.URL())
	// 300 children of about 0.3 s each, 30 at a time: about 3 s of Map Run.
	proc := `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":0.3,"Next":"P"},"P":{"Type":"Pass","End":true}}}`
	proc = strings.Replace(proc, `"Seconds":0.3`, `"SecondsPath":"$.w"`, 1)
	def := mapDef(`"MaxConcurrency":30,"ItemSelector":{"n.$":"$$.Map.Item.Value","w":1},`, proc)
	sm := testutil.CreateStateMachine(t, c, "killme", def)
	ex := testutil.StartExecution(t, c, sm, items(300))
	var mr string
	for deadline := time.Now().Add(30 * time.Second); mr == ""; {
		if out, err := c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: aws.String(ex)}); err == nil && len(out.MapRuns) == 1 {
			mr = aws.ToString(out.MapRuns[0].MapRunArn)
		}
		if time.Now().After(deadline) {
			t.Fatal("no map run")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Kill once some children ended and others run.
	for deadline := time.Now().Add(60 * time.Second); ; {
		dm, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mr)})
		if err == nil && dm.ExecutionCounts.Succeeded >= 30 && dm.ExecutionCounts.Running > 0 {
			t.Logf("kill -9 at %+v", *dm.ExecutionCounts)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("map run never got going")
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.Kill9()
	p.Start()
	d := testutil.WaitDoneRetrying(t, c, ex, 3*time.Minute)
	if d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("after kill -9: %s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	var want strings.Builder
	want.WriteByte('[')
	for i := range 300 {
		if i > 0 {
			want.WriteByte(',')
		}
		fmt.Fprintf(&want, `{"n":%d,"w":1}`, i)
	}
	want.WriteByte(']')
	if compact(aws.ToString(d.Output)) != want.String() {
		t.Fatalf("output %.300s", aws.ToString(d.Output))
	}
	kids := children(t, c, mr)
	names := map[string]bool{}
	for _, k := range kids {
		names[aws.ToString(k.Name)] = true
		if k.Status != types.ExecutionStatusSucceeded {
			t.Errorf("child %s %s", aws.ToString(k.Name), k.Status)
		}
	}
	if len(kids) != 300 || len(names) != 300 {
		t.Errorf("%d children listed, %d names: a child lost or started twice", len(kids), len(names))
	}
	dm, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mr)})
	if err != nil || dm.ExecutionCounts.Succeeded != 300 || dm.Status != types.MapRunStatusSucceeded {
		t.Errorf("map run after restart: %+v %v", dm, err)
	}
	wantTypes(t, c, ex, "1:ExecutionStarted<0 2:MapStateEntered<0 3:MapStateStarted<2 4:MapRunStarted<3 5:MapRunSucceeded<4 6:MapStateSucceeded<5 7:MapStateExited<4 8:ExecutionSucceeded<7")
	// Every stored history replays to the same decisions.
	p.Kill9()
	if out, err := exec.Command(testutil.SfndBinary(t), "history", "verify", "--all", "--quiet", "--data-dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("history verify: %v\n%s", err, out)
	}
}

// Stopping the parent aborts its Map Run and stops the running children.
func TestStopParentAbortsMapRun(t *testing.T) {
	c, _ := node(t)
	act, err := c.CreateActivity(ctx, &sfn.CreateActivityInput{Name: aws.String("never")})
	if err != nil {
		t.Fatal(err)
	}
	proc := fmt.Sprintf(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":%q,"End":true}}}`, aws.ToString(act.ActivityArn))
	sm := testutil.CreateStateMachine(t, c, "stopme", mapDef(`"MaxConcurrency":2,`, proc))
	exec := testutil.StartExecution(t, c, sm, `[1,2,3,4]`)
	var mr string
	for deadline := time.Now().Add(30 * time.Second); ; {
		if mr == "" {
			if out, err := c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: aws.String(exec)}); err == nil && len(out.MapRuns) == 1 {
				mr = aws.ToString(out.MapRuns[0].MapRunArn)
			}
		}
		if mr != "" {
			if dm, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mr)}); err == nil && dm.ExecutionCounts.Running == 2 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("children never ran")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(exec)}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		dm, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mr)})
		kids := children(t, c, mr)
		aborted := 0
		for _, k := range kids {
			if k.Status == types.ExecutionStatusAborted {
				aborted++
			}
		}
		if err == nil && dm.Status == types.MapRunStatusAborted && dm.StopDate != nil && aborted == 2 && len(kids) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after StopExecution: map run %v %v, children %d (%d aborted)", dm.Status, err, len(kids), aborted)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if d := testutil.WaitDone(t, c, exec, 10*time.Second); d.Status != types.ExecutionStatusAborted {
		t.Errorf("parent %s", d.Status)
	}
}
