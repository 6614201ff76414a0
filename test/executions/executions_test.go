// Package executions tests the execution API end to end: a real node (in-process NATS,
// JetStream on a temp dir) driven by aws-sdk-go-v2.
package executions

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/events/jsstore"
	"github.com/sfnd/sfnd/test/testutil"
)

func historyTypes(t *testing.T, c *sfn.Client, arn string) []string {
	t.Helper()
	var out []string
	for i, ev := range testutil.History(t, c, arn) {
		if ev.Id != int64(i+1) {
			t.Fatalf("event %d has id %d", i, ev.Id)
		}
		out = append(out, string(ev.Type))
	}
	return out
}

const passWait = `{"StartAt":"P","States":{
  "P":{"Type":"Pass","Parameters":{"v.$":"$.v"},"Next":"W"},
  "W":{"Type":"Wait","Seconds":2,"Next":"Done"},
  "Done":{"Type":"Pass","End":true}}}`

func TestStartDescribeHistory(t *testing.T) {
	ctx := context.Background()
	c := testutil.Client(testutil.StartServer(t))
	sm := testutil.CreateStateMachine(t, c, "sm-basic", passWait)
	start, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("e1"), Input: aws.String(`{"v":42}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(*start.ExecutionArn, ":execution:sm-basic:e1") {
		t.Fatalf("execution arn %s", *start.ExecutionArn)
	}
	// Read-your-writes: the history has ExecutionStarted as soon as StartExecution answered.
	if types := historyTypes(t, c, *start.ExecutionArn); len(types) == 0 || types[0] != "ExecutionStarted" {
		t.Fatalf("history right after start: %v", types)
	}
	d := testutil.WaitDone(t, c, *start.ExecutionArn, 10*time.Second)
	if d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"v":42}` || aws.ToString(d.Input) != `{"v":42}` {
		t.Fatalf("describe: %s output %s", d.Status, aws.ToString(d.Output))
	}
	got := strings.Join(historyTypes(t, c, *start.ExecutionArn), ",")
	want := "ExecutionStarted,PassStateEntered,PassStateExited,WaitStateEntered,WaitStateExited,PassStateEntered,PassStateExited,ExecutionSucceeded"
	if got != want {
		t.Fatalf("history\n got %s\nwant %s", got, want)
	}
	// Same name, same input, finished: ExecutionAlreadyExists.
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("e1"), Input: aws.String(`{"v":42}`)})
	testutil.WantCode(t, err, "ExecutionAlreadyExists")
	// Reverse order, pages of 3, no data.
	var ids []int64
	var next *string
	for {
		h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{
			ExecutionArn: start.ExecutionArn, MaxResults: 3, ReverseOrder: true, NextToken: next,
			IncludeExecutionData: aws.Bool(false),
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range h.Events {
			ids = append(ids, ev.Id)
			if d := ev.StateEnteredEventDetails; d != nil && d.Input != nil {
				t.Fatalf("includeExecutionData=false returned input %q", *d.Input)
			}
		}
		if next = h.NextToken; next == nil {
			break
		}
	}
	if fmt.Sprint(ids) != "[8 7 6 5 4 3 2 1]" {
		t.Fatalf("reverse paged ids %v", ids)
	}
	dsm, err := c.DescribeStateMachineForExecution(ctx, &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: start.ExecutionArn})
	if err != nil || aws.ToString(dsm.Definition) != passWait {
		t.Fatalf("describe state machine for execution: %v", err)
	}
}

func TestStartErrors(t *testing.T) {
	ctx := context.Background()
	c := testutil.Client(testutil.StartServer(t))
	sm := testutil.CreateStateMachine(t, c, "sm-errors", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`)
	_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String("{not json")})
	testutil.WantCode(t, err, "InvalidExecutionInput")
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm + "x")})
	testutil.WantCode(t, err, "StateMachineDoesNotExist")
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String("nope")})
	testutil.WantCode(t, err, "InvalidArn")
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("bad name")})
	testutil.WantCode(t, err, "InvalidName")
	_, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(strings.Replace(sm, "stateMachine", "execution", 1) + ":missing")})
	testutil.WantCode(t, err, "ExecutionDoesNotExist")

	// Idempotent start while running; a different input is ExecutionAlreadyExists.
	a, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("long"), Input: aws.String(`{"a":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("long"), Input: aws.String(`{"a":1}`)})
	if err != nil || *a.ExecutionArn != *b.ExecutionArn || !a.StartDate.Equal(*b.StartDate) {
		t.Fatalf("idempotent start: %v", err)
	}
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("long"), Input: aws.String(`{"a":2}`)})
	testutil.WantCode(t, err, "ExecutionAlreadyExists")

	// Stop: ABORTED with the given error and cause, and an ExecutionAborted event.
	if _, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: a.ExecutionArn, Error: aws.String("Halt"), Cause: aws.String("by test")}); err != nil {
		t.Fatal(err)
	}
	d := testutil.WaitDone(t, c, *a.ExecutionArn, 5*time.Second)
	if d.Status != types.ExecutionStatusAborted || aws.ToString(d.Error) != "Halt" || aws.ToString(d.Cause) != "by test" {
		t.Fatalf("stopped execution: %s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	if h := historyTypes(t, c, *a.ExecutionArn); h[len(h)-1] != "ExecutionAborted" {
		t.Fatalf("history after stop: %v", h)
	}
}

func TestListExecutions(t *testing.T) {
	ctx := context.Background()
	c := testutil.Client(testutil.StartServer(t))
	sm := testutil.CreateStateMachine(t, c, "sm-list", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.wait","BooleanEquals":true,"Next":"W"}],"Default":"P"},"W":{"Type":"Wait","Seconds":100000,"End":true},"P":{"Type":"Pass","End":true}}}`)
	var started []string
	for i := range 7 {
		in := `{"wait":false}`
		if i%3 == 0 {
			in = `{"wait":true}`
		}
		out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String(fmt.Sprintf("e%d", i)), Input: aws.String(in)})
		if err != nil {
			t.Fatal(err)
		}
		started = append(started, *out.ExecutionArn)
		time.Sleep(2 * time.Millisecond) // distinct start dates
	}
	for i, arn := range started {
		if i%3 != 0 {
			testutil.WaitDone(t, c, arn, 5*time.Second)
		}
	}
	var names []string
	var next *string
	for {
		out, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), MaxResults: 2, NextToken: next})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Executions {
			names = append(names, *e.Name)
		}
		if next = out.NextToken; next == nil {
			break
		}
	}
	if fmt.Sprint(names) != "[e6 e5 e4 e3 e2 e1 e0]" {
		t.Fatalf("newest first, paged: %v", names)
	}
	running, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), StatusFilter: types.ExecutionStatusRunning})
	if err != nil {
		t.Fatal(err)
	}
	if len(running.Executions) != 3 {
		t.Fatalf("running: %d, want 3", len(running.Executions))
	}
	_, err = c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), NextToken: aws.String("garbage")})
	testutil.WantCode(t, err, "InvalidToken")
}

// TestPassivatedExecutionResumesFromHistory: the actor is passivated while its
// execution waits; the timer's command spawns a new actor that rebuilds the execution
// from its stored history alone and finishes it.
func TestPassivatedExecutionResumesFromHistory(t *testing.T) {
	ctx := context.Background()
	a := testutil.Start(t, testutil.Options{IdleTimeout: 50 * time.Millisecond, WaitTimeScale: 0.5})
	c := testutil.Client(a.Endpoint())
	sm := testutil.CreateStateMachine(t, c, "sm-passivate", passWait) // Wait 2 s, scaled to 1 s: a durable JetStream timer
	out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(`{"v":"x"}`)})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for a.Engine.Resident() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("actor not passivated: %d resident", a.Engine.Resident())
		}
		time.Sleep(10 * time.Millisecond)
	}
	d := testutil.WaitDone(t, c, *out.ExecutionArn, 10*time.Second)
	if d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"v":"x"}` {
		t.Fatalf("after passivation: %s %s", d.Status, aws.ToString(d.Output))
	}
}

// TestExecutionSurvivesRestart: a node stops while an execution waits; a new node on
// the same data directory finishes it.
func TestExecutionSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := testutil.Start(t, testutil.Options{DataDir: dir, WaitTimeScale: 0.5})
	c := testutil.Client(a.Endpoint())
	sm := testutil.CreateStateMachine(t, c, "sm-restart", passWait)
	out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(`{"v":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	b := testutil.Start(t, testutil.Options{DataDir: dir, WaitTimeScale: 0.5})
	c = testutil.Client(b.Endpoint())
	d := testutil.WaitDone(t, c, *out.ExecutionArn, 15*time.Second)
	if d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("after restart: %s", d.Status)
	}
	if h := historyTypes(t, c, *out.ExecutionArn); len(h) != 8 {
		t.Fatalf("history after restart: %v", h)
	}
}

// TestDeleteWhileRunning: DeleteStateMachine with a running execution marks the state
// machine DELETING (no new executions); it disappears when the execution ends.
func TestDeleteWhileRunning(t *testing.T) {
	ctx := context.Background()
	c := testutil.Client(testutil.StartServer(t))
	sm := testutil.CreateStateMachine(t, c, "sm-deleting", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`)
	out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(sm)}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(sm)})
	if err != nil || d.Status != types.StateMachineStatusDeleting {
		t.Fatalf("after delete with a running execution: %v %v", d, err)
	}
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm)})
	testutil.WantCode(t, err, "StateMachineDeleting")
	if _, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: out.ExecutionArn}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(sm)})
		if err != nil {
			testutil.WantCode(t, err, "StateMachineDoesNotExist")
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("state machine still there after its last execution ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestParkedExecutionsAreNotResident: an execution that waits only for a durable
// timer is passivated at once (not after the idle timeout), and a restart does not
// wake it (its timer was armed before the decision was stored); its timer still
// finishes it.
func TestParkedExecutionsAreNotResident(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := testutil.Start(t, testutil.Options{DataDir: dir, WaitTimeScale: 1})
	c := testutil.Client(a.Endpoint())
	sm := testutil.CreateStateMachine(t, c, "sm-parked",
		`{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":6,"Next":"P"},"P":{"Type":"Pass","End":true}}}`)
	const n = 20
	var arns []string
	for i := range n {
		out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(fmt.Sprintf(`{"i":%d}`, i))})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, *out.ExecutionArn)
	}
	deadline := time.Now().Add(3 * time.Second) // the idle timeout is 30 s
	for a.Engine.Resident() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("parked executions still resident: %d", a.Engine.Resident())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := a.Engine.Parked(); got != n {
		t.Fatalf("parked: %d, want %d", got, n)
	}
	a.Close()
	b := testutil.Start(t, testutil.Options{DataDir: dir, WaitTimeScale: 1})
	c = testutil.Client(b.Endpoint())
	time.Sleep(500 * time.Millisecond) // recovery runs in the background
	if got := b.Engine.Parked(); got != 0 {
		t.Fatalf("recovery woke %d parked executions", got)
	}
	for i, arn := range arns {
		d := testutil.WaitDone(t, c, arn, 20*time.Second)
		if d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != fmt.Sprintf(`{"i":%d}`, i) {
			t.Fatalf("%s: %s %s", arn, d.Status, aws.ToString(d.Output))
		}
	}
}

// TestParkedExecutionWithLostScheduleIsWoken: a parked execution whose timer's
// scheduled message is gone when the node starts (lost with a node or a stream's
// leader) is woken by recovery and arms its timer again; the others stay parked.
func TestParkedExecutionWithLostScheduleIsWoken(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := testutil.Start(t, testutil.Options{DataDir: dir, WaitTimeScale: 1})
	c := testutil.Client(a.Endpoint())
	sm := testutil.CreateStateMachine(t, c, "sm-lost",
		`{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":8,"Next":"P"},"P":{"Type":"Pass","End":true}}}`)
	const n = 6
	var arns []string
	for i := range n {
		arns = append(arns, testutil.StartExecution(t, c, sm, fmt.Sprintf(`{"i":%d}`, i)))
	}
	deadline := time.Now().Add(3 * time.Second)
	for a.Engine.Parked() != n {
		if time.Now().After(deadline) {
			t.Fatalf("parked: %d, want %d", a.Engine.Parked(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Lose the schedules of the first two (a real deletion from the command stream).
	for _, arn := range arns[:2] {
		if err := a.Store.CommandStream().Purge(ctx, jetstream.WithPurgeSubject(jsstore.SchedulePrefix+jsstore.Token(arn)+".>")); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	b := testutil.Start(t, testutil.Options{DataDir: dir, WaitTimeScale: 1})
	c = testutil.Client(b.Endpoint())
	// Recovery wakes the two (a woken execution stays resident until its idle
	// timeout), not the others (their timers are due 8 s after their start).
	deadline = time.Now().Add(5 * time.Second)
	for b.Engine.Resident() != 2 {
		if r := b.Engine.Resident(); r > 2 || time.Now().After(deadline) {
			t.Fatalf("recovery woke %d executions, want the 2 whose schedule was lost", r)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i, arn := range arns {
		d := testutil.WaitDone(t, c, arn, 20*time.Second)
		if d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != fmt.Sprintf(`{"i":%d}`, i) {
			t.Fatalf("%s: %s %s", arn, d.Status, aws.ToString(d.Output))
		}
	}
}

// TestTimerArmedAgainAfterFailedAppend: a decision that parks its execution on a
// durable timer arms the timer before its append; when the append fails (the history
// stream answers nothing: here it stops taking the history subjects, as when its
// leader is being elected) for longer than the timer's delay, that first schedule
// fires into nothing, and the decision made again must arm the timer again (it used
// to be dropped as a repeat of the first schedule: the execution waited for ever).
func TestTimerArmedAgainAfterFailedAppend(t *testing.T) {
	ctx := context.Background()
	a := testutil.Start(t, testutil.Options{WaitTimeScale: 1})
	c := testutil.Client(a.Endpoint())
	sm := testutil.CreateStateMachine(t, c, "sm-rearm",
		`{"StartAt":"W1","States":{"W1":{"Type":"Wait","Seconds":3,"Next":"W2"},"W2":{"Type":"Wait","Seconds":2,"Next":"P"},"P":{"Type":"Pass","End":true}}}`)
	arn := testutil.StartExecution(t, c, sm, `{"v":1}`)
	deadline := time.Now().Add(2 * time.Second)
	for a.Engine.Parked() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("execution not parked on W1")
		}
		time.Sleep(10 * time.Millisecond)
	}
	hs := a.Store.HistoryStream()
	info, err := hs.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := info.Config
	subjects := cfg.Subjects
	cfg.Subjects = []string{"sfnd.test.nothing.>"}
	if _, err := a.Store.JS.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	// W1 fires about 3 s after the start: W2's decision arms its 2 s timer, its append
	// fails and is tried again every second or so; W2's first schedule fires into
	// nothing about 5 s after the start.
	time.Sleep(7 * time.Second)
	cfg.Subjects = subjects
	if _, err := a.Store.JS.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	d := testutil.WaitDone(t, c, arn, 15*time.Second)
	if d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("%s: %s", arn, d.Status)
	}
	if got, want := strings.Join(historyTypes(t, c, arn), ","), "ExecutionStarted,WaitStateEntered,WaitStateExited,WaitStateEntered,WaitStateExited,PassStateEntered,PassStateExited,ExecutionSucceeded"; got != want {
		t.Fatalf("history\n got %s\nwant %s", got, want)
	}
}
