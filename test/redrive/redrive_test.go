// Package redrive tests RedriveExecution end to end with aws-sdk-go-v2: an execution
// and a Distributed Map's Map Run run again from where they failed, and AWS's
// documented refusals.
package redrive

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/test/testutil"
)

var ctx = context.Background()

// failsUntilRedriven is a Pass state that fails (States.Runtime from an intrinsic
// function) until the execution was redriven: it reads item shift+RedriveCount of a
// two-element array, so shift -1 fails the first time and succeeds once redriven, and
// shift 0 succeeds the first time and after one redrive.
const failsUntilRedriven = `{"Type":"Pass","Parameters":{"v.$":"States.ArrayGetItem(States.Array('ok','ok'), States.MathAdd($$.Execution.RedriveCount, $.shift))"}`

func count(hist []types.HistoryEvent, typ types.HistoryEventType) int {
	n := 0
	for _, ev := range hist {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

func listNames(t *testing.T, c *sfn.Client, in *sfn.ListExecutionsInput) map[string]bool {
	t.Helper()
	out, err := c.ListExecutions(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range out.Executions {
		names[aws.ToString(e.Name)] = true
	}
	return names
}

func TestRedriveExecution(t *testing.T) {
	c := testutil.Client(testutil.StartServer(t))
	sm := testutil.CreateStateMachine(t, c, "redrive", `{"StartAt":"First","States":{
	 "First":{"Type":"Pass","Result":{"shift":-1},"Next":"Flaky"},
	 "Flaky":`+failsUntilRedriven+`,"Next":"Done"},
	 "Done":{"Type":"Succeed"}}}`)
	exec := testutil.StartExecution(t, c, sm, `{}`)
	d := testutil.WaitDone(t, c, exec, 30*time.Second)
	if d.Status != types.ExecutionStatusFailed || d.RedriveStatus != types.ExecutionRedriveStatusRedrivable || d.RedriveCount == nil || *d.RedriveCount != 0 || d.RedriveDate != nil {
		t.Fatalf("failed execution: status %s redrive %s %v %v", d.Status, d.RedriveStatus, d.RedriveCount, d.RedriveDate)
	}
	other := testutil.StartExecution(t, c, sm, `{}`) // stays failed, never redriven
	testutil.WaitDone(t, c, other, 30*time.Second)
	name := exec[strings.LastIndex(exec, ":")+1:]
	otherName := other[strings.LastIndex(other, ":")+1:]

	out, err := c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(exec), ClientToken: aws.String("token-1")})
	if err != nil {
		t.Fatal(err)
	}
	if out.RedriveDate == nil || time.Since(*out.RedriveDate) > time.Minute {
		t.Fatalf("redriveDate %v", out.RedriveDate)
	}
	// The same request again (its clientToken) answers the same, and redrives nothing.
	again, err := c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(exec), ClientToken: aws.String("token-1")})
	if err != nil || !again.RedriveDate.Equal(*out.RedriveDate) {
		t.Fatalf("idempotent redrive: %v %v (first %v)", err, again, out.RedriveDate)
	}
	d = testutil.WaitDone(t, c, exec, 30*time.Second)
	if d.Status != types.ExecutionStatusSucceeded || aws.ToInt32(d.RedriveCount) != 1 || d.RedriveDate == nil ||
		!d.RedriveDate.Equal(*out.RedriveDate) || d.RedriveStatus != types.ExecutionRedriveStatusNotRedrivable ||
		aws.ToString(d.RedriveStatusReason) != "Execution is SUCCEEDED and cannot be redriven" {
		t.Fatalf("redriven execution: %s count %v date %v status %s %q", d.Status, d.RedriveCount, d.RedriveDate, d.RedriveStatus, aws.ToString(d.RedriveStatusReason))
	}
	hist := testutil.WantHistory(t, c, exec, "1:ExecutionStarted<0 2:PassStateEntered<0 3:PassStateExited<2 "+
		"4:PassStateEntered<3 5:ExecutionFailed<4 6:ExecutionRedriven<5 7:PassStateEntered<6 8:PassStateExited<7 "+
		"9:SucceedStateEntered<8 10:SucceedStateExited<9 11:ExecutionSucceeded<10")
	if r := hist[5].ExecutionRedrivenEventDetails; r == nil || r.RedriveCount == nil || *r.RedriveCount != 1 {
		t.Fatalf("ExecutionRedriven details %+v", hist[5].ExecutionRedrivenEventDetails)
	}
	if s := aws.ToString(d.Output); s != `{"v":"ok"}` {
		t.Fatalf("output %s", s)
	}

	// ListExecutions: redriveCount, redriveDate and the redriveFilter.
	lo, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm)})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range lo.Executions {
		want := int32(0)
		if aws.ToString(e.Name) == name {
			want = 1
		}
		if aws.ToInt32(e.RedriveCount) != want || (want == 1) != (e.RedriveDate != nil) {
			t.Fatalf("list item %s: redriveCount %v redriveDate %v", aws.ToString(e.Name), e.RedriveCount, e.RedriveDate)
		}
	}
	got := listNames(t, c, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), RedriveFilter: types.ExecutionRedriveFilterRedriven})
	if len(got) != 1 || !got[name] {
		t.Fatalf("REDRIVEN: %v", got)
	}
	got = listNames(t, c, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), RedriveFilter: types.ExecutionRedriveFilterNotRedriven})
	if len(got) != 1 || !got[otherName] {
		t.Fatalf("NOT_REDRIVEN: %v", got)
	}
	got = listNames(t, c, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), RedriveFilter: types.ExecutionRedriveFilterRedriven,
		StatusFilter: types.ExecutionStatusFailed})
	if len(got) != 0 {
		t.Fatalf("REDRIVEN and FAILED: %v", got)
	}

	// Refusals.
	_, err = c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(exec)})
	testutil.WantCodeContaining(t, err, "ExecutionNotRedrivable", "Execution is SUCCEEDED and cannot be redriven")
	_, err = c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(exec + "x")})
	testutil.WantCode(t, err, "ExecutionDoesNotExist")
	_, err = c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String("arn:aws:states:us-east-1:123456789012:nope")})
	testutil.WantCode(t, err, "InvalidArn")
	_, err = c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), RedriveFilter: "SOMETIMES"})
	testutil.WantCode(t, err, "ValidationException")

	waiting := testutil.CreateStateMachine(t, c, "waiting", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`)
	running := testutil.StartExecution(t, c, waiting, `{}`)
	_, err = c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(running)})
	testutil.WantCodeContaining(t, err, "ExecutionNotRedrivable", "Execution is RUNNING and cannot be redriven")
	// An aborted execution is redrivable: the Wait state is entered again.
	if _, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(running)}); err != nil {
		t.Fatal(err)
	}
	if d := testutil.WaitDone(t, c, running, 30*time.Second); d.Status != types.ExecutionStatusAborted || d.RedriveStatus != types.ExecutionRedriveStatusRedrivable {
		t.Fatalf("aborted: %s %s", d.Status, d.RedriveStatus)
	}
	if _, err := c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(running)}); err != nil {
		t.Fatal(err)
	}
	d, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(running)})
	if err != nil || d.Status != types.ExecutionStatusRunning || aws.ToInt32(d.RedriveCount) != 1 || d.StopDate != nil {
		t.Fatalf("redriven aborted execution: %v %+v", err, d)
	}
	testutil.WantHistory(t, c, running, "1:ExecutionStarted<0 2:WaitStateEntered<0 3:ExecutionAborted<0 4:ExecutionRedriven<3 5:WaitStateEntered<4")
}

// nodeWithRoot starts sfnd with a local S3 root.
func nodeWithRoot(t *testing.T) *sfn.Client {
	t.Helper()
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	return testutil.Client(testutil.Start(t, testutil.Options{S3LocalRoot: root}).Endpoint())
}

// Redriving a parent whose Map Run failed redrives the Map Run: only the children that
// failed and those never started run again; the Map Run and the children count it.
func TestRedriveMapRun(t *testing.T) {
	c := nodeWithRoot(t)
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":1,"End":true,
	 "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
	   "StartAt":"Flaky","States":{"Flaky":` + failsUntilRedriven + `,"End":true}}}}}}`
	sm := testutil.CreateStateMachine(t, c, "redrive-map", def)
	// Item 2 fails the first time; with MaxConcurrency 1 and no tolerated failure the
	// run fails there, items 3 and 4 never start.
	exec := testutil.StartExecution(t, c, sm, `[{"shift":0},{"shift":0},{"shift":-1},{"shift":0},{"shift":0}]`)
	d := testutil.WaitDone(t, c, exec, 60*time.Second)
	if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "States.ExceedToleratedFailureThreshold" {
		t.Fatalf("parent: %s %s", d.Status, aws.ToString(d.Error))
	}
	runs, err := c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: aws.String(exec)})
	if err != nil || len(runs.MapRuns) != 1 {
		t.Fatalf("ListMapRuns %v %v", err, runs)
	}
	mapRun := aws.ToString(runs.MapRuns[0].MapRunArn)
	mr, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mapRun)})
	if err != nil || mr.Status != types.MapRunStatusFailed || mr.RedriveCount == nil || *mr.RedriveCount != 0 {
		t.Fatalf("map run before: %v %+v", err, mr)
	}
	if mr.ExecutionCounts.Succeeded != 2 || mr.ExecutionCounts.Failed != 1 || mr.ExecutionCounts.Pending != 2 {
		t.Fatalf("execution counts before: %+v", *mr.ExecutionCounts)
	}

	if _, err := c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(exec)}); err != nil {
		t.Fatal(err)
	}
	d = testutil.WaitDone(t, c, exec, 60*time.Second)
	if d.Status != types.ExecutionStatusSucceeded || aws.ToInt32(d.RedriveCount) != 1 {
		t.Fatalf("parent after the redrive: %s %v; history %s", d.Status, d.RedriveCount, testutil.HistoryTypes(t, c, exec))
	}
	var items []map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(d.Output)), &items); err != nil || len(items) != 5 {
		t.Fatalf("output %s", aws.ToString(d.Output))
	}
	for i, it := range items {
		if it["v"] != "ok" {
			t.Fatalf("item %d: %v", i, it)
		}
	}
	hist := testutil.History(t, c, exec)
	if count(hist, types.HistoryEventTypeMapRunStarted) != 1 || count(hist, types.HistoryEventTypeMapRunRedriven) != 1 ||
		count(hist, types.HistoryEventTypeMapStateEntered) != 1 {
		t.Fatalf("parent history %s", testutil.HistoryTypes(t, c, exec))
	}
	for _, ev := range hist {
		if ev.Type == types.HistoryEventTypeMapRunRedriven {
			det := ev.MapRunRedrivenEventDetails
			if det == nil || aws.ToString(det.MapRunArn) != mapRun || aws.ToInt32(det.RedriveCount) != 1 {
				t.Fatalf("MapRunRedriven %+v", det)
			}
		}
	}
	mr, err = c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mapRun)})
	if err != nil || mr.Status != types.MapRunStatusSucceeded || aws.ToInt32(mr.RedriveCount) != 1 || mr.RedriveDate == nil ||
		mr.ExecutionCounts.Succeeded != 5 || mr.ExecutionCounts.Total != 5 || aws.ToInt64(mr.ExecutionCounts.PendingRedrive) != 0 {
		t.Fatalf("map run after: %v %+v %+v", err, mr, mr.ExecutionCounts)
	}
	// The children: the one that failed was redriven (same execution, its history
	// goes on), those that succeeded did not run again, those never started ran once.
	kids, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{MapRunArn: aws.String(mapRun)})
	if err != nil || len(kids.Executions) != 5 {
		t.Fatalf("children %v %d", err, len(kids.Executions))
	}
	redriven := 0
	for _, k := range kids.Executions {
		if k.Status != types.ExecutionStatusSucceeded {
			t.Fatalf("child %s %s", aws.ToString(k.Name), k.Status)
		}
		h := testutil.History(t, c, aws.ToString(k.ExecutionArn))
		if n := count(h, types.HistoryEventTypeExecutionStarted); n != 1 {
			t.Fatalf("child started %d times", n)
		}
		if aws.ToInt32(k.RedriveCount) == 1 {
			redriven++
			if count(h, types.HistoryEventTypeExecutionRedriven) != 1 {
				t.Fatalf("redriven child history %s", testutil.HistoryTypes(t, c, aws.ToString(k.ExecutionArn)))
			}
		}
	}
	if redriven != 1 {
		t.Fatalf("%d children redriven, want 1", redriven)
	}
	got := listNames(t, c, &sfn.ListExecutionsInput{MapRunArn: aws.String(mapRun), RedriveFilter: types.ExecutionRedriveFilterRedriven})
	if len(got) != 1 {
		t.Fatalf("REDRIVEN children: %v", got)
	}
}

// A Distributed Map whose ItemReader failed is retried after its back-off and reads
// its items then (the object appears meanwhile).
func TestItemReaderRetriedAfterBackoff(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := testutil.Client(testutil.Start(t, testutil.Options{S3LocalRoot: root, WaitTimeScale: 1}).Endpoint())
	sm := testutil.CreateStateMachine(t, c, "reader-retry", `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,
	 "ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"data","Key":"items.json"}},
	 "Retry":[{"ErrorEquals":["States.ItemReaderFailed"],"IntervalSeconds":2,"MaxAttempts":3}],
	 "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}}`)
	exec := testutil.StartExecution(t, c, sm, `{}`)
	deadline := time.Now().Add(20 * time.Second)
	for count(testutil.History(t, c, exec), types.HistoryEventTypeMapStateFailed) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no failed read: %s", testutil.HistoryTypes(t, c, exec))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := os.WriteFile(filepath.Join(root, "data", "items.json"), []byte(`[1,2,3]`), 0o644); err != nil {
		t.Fatal(err)
	}
	d := testutil.WaitDone(t, c, exec, 30*time.Second)
	if d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != `[1,2,3]` {
		t.Fatalf("%s %s %s; history %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), testutil.HistoryTypes(t, c, exec))
	}
	testutil.WantHistory(t, c, exec, "1:ExecutionStarted<0 2:MapStateEntered<0 3:MapStateFailed<2 4:MapStateStarted<3 "+
		"5:MapRunStarted<4 6:MapRunSucceeded<5 7:MapStateSucceeded<6 8:MapStateExited<5 9:ExecutionSucceeded<8")
}

// While a redriven Map Run works through its unsuccessful children one at a time, those
// waiting are PENDING_REDRIVE (ListExecutions statusFilter with the mapRunArn) and
// counted in DescribeMapRun's pendingRedrive.
func TestPendingRedrive(t *testing.T) {
	c := testutil.Client(testutil.Start(t, testutil.Options{WaitTimeScale: 1}).Endpoint())
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":1,"ToleratedFailureCount":2,"End":true,
	 "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
	   "StartAt":"Flaky","States":{"Flaky":` + failsUntilRedriven + `,"Next":"W"},"W":{"Type":"Wait","Seconds":1,"End":true}}}}}}`
	sm := testutil.CreateStateMachine(t, c, "pending-redrive", def)
	exec := testutil.StartExecution(t, c, sm, `[{"shift":-1},{"shift":-1},{"shift":-1},{"shift":0}]`)
	if d := testutil.WaitDone(t, c, exec, time.Minute); d.Status != types.ExecutionStatusFailed {
		t.Fatalf("first attempt %s", d.Status)
	}
	runs, err := c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: aws.String(exec)})
	if err != nil || len(runs.MapRuns) != 1 {
		t.Fatalf("ListMapRuns %v %v", err, runs)
	}
	mapRun := runs.MapRuns[0].MapRunArn
	_, err = c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), StatusFilter: types.ExecutionStatusPendingRedrive})
	testutil.WantCode(t, err, "ValidationException")
	if _, err := c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(exec)}); err != nil {
		t.Fatal(err)
	}
	seen := false
	for deadline := time.Now().Add(30 * time.Second); !seen && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		out, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{MapRunArn: mapRun, StatusFilter: types.ExecutionStatusPendingRedrive})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Executions) > 0 {
			mr, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: mapRun})
			if err != nil {
				t.Fatal(err)
			}
			seen = aws.ToInt64(mr.ExecutionCounts.PendingRedrive) > 0
			if !seen {
				t.Logf("listed %d PENDING_REDRIVE, counts %+v", len(out.Executions), *mr.ExecutionCounts)
			}
		}
	}
	if !seen {
		kids, _ := c.ListExecutions(ctx, &sfn.ListExecutionsInput{MapRunArn: mapRun})
		for _, k := range kids.Executions {
			t.Logf("child %s %s: %s", aws.ToString(k.Name), k.Status, testutil.HistoryTypes(t, c, aws.ToString(k.ExecutionArn)))
		}
		t.Logf("parent: %s", testutil.HistoryTypes(t, c, exec))
		t.Fatal("no child was PENDING_REDRIVE while the Map Run was redriven")
	}
	if d := testutil.WaitDone(t, c, exec, time.Minute); d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("after the redrive: %s", d.Status)
	}
	out, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{MapRunArn: mapRun, StatusFilter: types.ExecutionStatusPendingRedrive})
	if err != nil || len(out.Executions) != 0 {
		t.Fatalf("PENDING_REDRIVE after the run: %v %d", err, len(out.Executions))
	}
}
