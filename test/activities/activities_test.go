// Package activities tests tasks that leave the engine end to end: activity workers
// (GetActivityTask, SendTask*), task tokens, heartbeats and timeouts, callbacks
// (.waitForTaskToken) and their survival across restarts, with aws-sdk-go-v2 against
// a real in-process node.
package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/actors/audit"
	"github.com/sfnd/sfnd/cmd/sfnd/app"
	"github.com/sfnd/sfnd/events/jsstore"
	"github.com/sfnd/sfnd/test/testutil"
)

var bg = context.Background()

// node starts a node; dir "" means a fresh one.
func node(t *testing.T, dir string, scale float64, integ map[string]actors.Integration) *app.App {
	t.Helper()
	return testutil.Start(t, testutil.Options{DataDir: dir, WaitTimeScale: scale, Integrations: integ})
}

func createActivity(t *testing.T, c *sfn.Client, name string) string {
	t.Helper()
	out, err := c.CreateActivity(bg, &sfn.CreateActivityInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("create activity: %v", err)
	}
	return *out.ActivityArn
}

// poll takes one task of the activity, failing the test when none comes in time.
func poll(t *testing.T, c *sfn.Client, act, worker string, within time.Duration) *sfn.GetActivityTaskOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(bg, within)
	defer cancel()
	in := &sfn.GetActivityTaskInput{ActivityArn: aws.String(act)}
	if worker != "" {
		in.WorkerName = aws.String(worker)
	}
	out, err := c.GetActivityTask(ctx, in)
	if err != nil {
		t.Fatalf("get activity task: %v", err)
	}
	if out.TaskToken == nil || *out.TaskToken == "" {
		t.Fatalf("no task for %s within %v", act, within)
	}
	return out
}

// pollNone checks that no task comes for a while (the client gives up first).
func pollNone(t *testing.T, c *sfn.Client, act string, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(bg, within)
	defer cancel()
	out, err := c.GetActivityTask(ctx, &sfn.GetActivityTaskInput{ActivityArn: aws.String(act)})
	if err == nil && out.TaskToken != nil {
		t.Fatalf("unexpected task %q", aws.ToString(out.Input))
	}
}

func activityDef(act, extra string) string {
	return `{"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"` + act + `"` + extra + `,"End":true}}}`
}

func TestActivitySuccessAndFailure(t *testing.T) {
	a := testutil.Start(t, testutil.Options{})
	c := testutil.Client(a.Endpoint())
	act := createActivity(t, c, "work")
	sm := testutil.CreateStateMachine(t, c, "act", activityDef(act, ""))

	// Success: the worker's name and output land in the history.
	exec := testutil.StartExecution(t, c, sm, `{"Value1":"Hello","Value2":"World"}`)
	task := poll(t, c, act, "BASE_ID_ACTIVITY_CONSUMER", 5*time.Second)
	if got := aws.ToString(task.Input); got != `{"Value1":"Hello","Value2":"World"}` {
		t.Fatalf("input %s", got)
	}
	if _, err := c.SendTaskHeartbeat(bg, &sfn.SendTaskHeartbeatInput{TaskToken: task.TaskToken}); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	if _, err := c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{"ok":1}`)}); err != nil {
		t.Fatalf("send success: %v", err)
	}
	out := testutil.WaitDone(t, c, exec, 5*time.Second)
	if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Output) != `{"ok":1}` {
		t.Fatalf("status %s output %s", out.Status, aws.ToString(out.Output))
	}
	want := "1:ExecutionStarted<0 2:TaskStateEntered<0 3:ActivityScheduled<2 4:ActivityStarted<3 " +
		"5:ActivitySucceeded<4 6:TaskStateExited<5 7:ExecutionSucceeded<6"
	if got := testutil.HistoryTypes(t, c, exec); got != want {
		t.Fatalf("history\n got %s\nwant %s", got, want)
	}
	h := testutil.History(t, c, exec)
	if d := h[3].ActivityStartedEventDetails; d == nil || aws.ToString(d.WorkerName) != "BASE_ID_ACTIVITY_CONSUMER" {
		t.Fatalf("started details %+v", d)
	}
	if d := h[2].ActivityScheduledEventDetails; d == nil || aws.ToString(d.Resource) != act {
		t.Fatalf("scheduled details %+v", d)
	}
	// The task is closed: its token is stale now.
	_, err := c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{}`)})
	testutil.WantCode(t, err, "TaskTimedOut")
	_, err = c.SendTaskHeartbeat(bg, &sfn.SendTaskHeartbeatInput{TaskToken: task.TaskToken})
	testutil.WantCode(t, err, "TaskTimedOut")
	_, err = c.SendTaskFailure(bg, &sfn.SendTaskFailureInput{TaskToken: task.TaskToken})
	testutil.WantCode(t, err, "TaskTimedOut")

	// Failure without a worker name: ActivityFailed ends the execution.
	exec = testutil.StartExecution(t, c, sm, `{}`)
	task = poll(t, c, act, "", 5*time.Second)
	if _, err := c.SendTaskFailure(bg, &sfn.SendTaskFailureInput{TaskToken: task.TaskToken,
		Error: aws.String("Programmatic Error"), Cause: aws.String(`{"why":"test"}`)}); err != nil {
		t.Fatalf("send failure: %v", err)
	}
	out = testutil.WaitDone(t, c, exec, 5*time.Second)
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != "Programmatic Error" ||
		aws.ToString(out.Cause) != `{"why":"test"}` {
		t.Fatalf("status %s error %s cause %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	want = "1:ExecutionStarted<0 2:TaskStateEntered<0 3:ActivityScheduled<2 4:ActivityStarted<3 " +
		"5:ActivityFailed<4 6:ExecutionFailed<5"
	if got := testutil.HistoryTypes(t, c, exec); got != want {
		t.Fatalf("history\n got %s\nwant %s", got, want)
	}
	if d := testutil.History(t, c, exec)[3].ActivityStartedEventDetails; d == nil || d.WorkerName != nil {
		t.Fatalf("started details %+v", d)
	}
}

func TestActivityRetryAndCatch(t *testing.T) {
	a := testutil.Start(t, testutil.Options{})
	c := testutil.Client(a.Endpoint())
	act := createActivity(t, c, "flaky")
	def := `{"StartAt":"Work","States":{
	  "Work":{"Type":"Task","Resource":"` + act + `",
	    "Retry":[{"ErrorEquals":["Flaky"],"IntervalSeconds":2,"MaxAttempts":2,"BackoffRate":2}],
	    "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"Fallback"}],"End":true},
	  "Fallback":{"Type":"Pass","End":true}}}`
	sm := testutil.CreateStateMachine(t, c, "retry", def)
	exec := testutil.StartExecution(t, c, sm, `{"n":1}`)
	for i := range 3 {
		task := poll(t, c, act, fmt.Sprintf("w%d", i), 5*time.Second)
		if _, err := c.SendTaskFailure(bg, &sfn.SendTaskFailureInput{TaskToken: task.TaskToken,
			Error: aws.String("Flaky"), Cause: aws.String(fmt.Sprint("attempt ", i))}); err != nil {
			t.Fatalf("send failure %d: %v", i, err)
		}
	}
	out := testutil.WaitDone(t, c, exec, 5*time.Second)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s", out.Status)
	}
	var res struct {
		N   int `json:"n"`
		Err struct{ Error, Cause string }
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &res); err != nil || res.N != 1 ||
		res.Err.Error != "Flaky" || res.Err.Cause != "attempt 2" {
		t.Fatalf("output %s (%v)", aws.ToString(out.Output), err)
	}
	want := "1:ExecutionStarted<0 2:TaskStateEntered<0 3:ActivityScheduled<2 4:ActivityStarted<3 5:ActivityFailed<4 " +
		"6:ActivityScheduled<5 7:ActivityStarted<6 8:ActivityFailed<7 " +
		"9:ActivityScheduled<8 10:ActivityStarted<9 11:ActivityFailed<10 " +
		"12:TaskStateExited<11 13:PassStateEntered<12 14:PassStateExited<13 15:ExecutionSucceeded<14"
	if got := testutil.HistoryTypes(t, c, exec); got != want {
		t.Fatalf("history\n got %s\nwant %s", got, want)
	}
	// The back-off (2 s, then 4 s, scaled) shows between a failure and the next try.
	h := testutil.History(t, c, exec)
	if h[5].Timestamp.Sub(*h[4].Timestamp) < 0 {
		t.Fatalf("retry before failure")
	}
}

func TestActivityTimeouts(t *testing.T) {
	a := testutil.Start(t, testutil.Options{WaitTimeScale: 1})
	c := testutil.Client(a.Endpoint())
	act := createActivity(t, c, "slow")

	// TimeoutSeconds runs from scheduling: nobody polls, the task times out in its
	// queue, and the queued task is gone afterwards.
	sm := testutil.CreateStateMachine(t, c, "timeout", activityDef(act, `,"TimeoutSeconds":1`))
	exec := testutil.StartExecution(t, c, sm, `{}`)
	out := testutil.WaitDone(t, c, exec, 5*time.Second)
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != "States.Timeout" {
		t.Fatalf("status %s error %s", out.Status, aws.ToString(out.Error))
	}
	want := "1:ExecutionStarted<0 2:TaskStateEntered<0 3:ActivityScheduled<2 4:ActivityTimedOut<3 5:ExecutionFailed<4"
	if got := testutil.HistoryTypes(t, c, exec); got != want {
		t.Fatalf("history\n got %s\nwant %s", got, want)
	}
	pollNone(t, c, act, 300*time.Millisecond)

	// HeartbeatSeconds: heartbeats keep the task alive past its heartbeat interval;
	// when they stop, the task times out with States.HeartbeatTimeout, which Catch
	// takes.
	def := `{"StartAt":"Work","States":{
	  "Work":{"Type":"Task","Resource":"` + act + `","HeartbeatSeconds":1,"TimeoutSeconds":30,
	    "Catch":[{"ErrorEquals":["States.HeartbeatTimeout"],"Next":"Caught"}],"End":true},
	  "Caught":{"Type":"Pass","End":true}}}`
	sm = testutil.CreateStateMachine(t, c, "heartbeat", def)
	exec = testutil.StartExecution(t, c, sm, `{}`)
	task := poll(t, c, act, "hb", 5*time.Second)
	began := time.Now()
	for time.Since(began) < 2200*time.Millisecond {
		time.Sleep(300 * time.Millisecond)
		if _, err := c.SendTaskHeartbeat(bg, &sfn.SendTaskHeartbeatInput{TaskToken: task.TaskToken}); err != nil {
			t.Fatalf("heartbeat after %v: %v (history %s)", time.Since(began), err, testutil.HistoryTypes(t, c, exec))
		}
	}
	stopped := time.Now()
	out = testutil.WaitDone(t, c, exec, 5*time.Second)
	if lag := time.Since(stopped); lag < 700*time.Millisecond || lag > 3*time.Second {
		t.Fatalf("heartbeat timeout fired %v after the last heartbeat", lag)
	}
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s", out.Status)
	}
	h := testutil.History(t, c, exec)
	var timedOut *types.ActivityTimedOutEventDetails
	for _, ev := range h {
		if ev.Type == types.HistoryEventTypeActivityTimedOut {
			timedOut = ev.ActivityTimedOutEventDetails
		}
	}
	if timedOut == nil || aws.ToString(timedOut.Error) != "States.HeartbeatTimeout" {
		t.Fatalf("timed out details %+v; history %s", timedOut, testutil.HistoryTypes(t, c, exec))
	}
	if d := h[2].ActivityScheduledEventDetails; aws.ToInt64(d.HeartbeatInSeconds) != 1 || aws.ToInt64(d.TimeoutInSeconds) != 30 {
		t.Fatalf("scheduled details %+v", d)
	}
	_, err := c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{}`)})
	testutil.WantCode(t, err, "TaskTimedOut")
}

func TestTaskAPIErrors(t *testing.T) {
	a := testutil.Start(t, testutil.Options{})
	c := testutil.Client(a.Endpoint())
	act := createActivity(t, c, "errs")
	sm := testutil.CreateStateMachine(t, c, "errs", activityDef(act, ""))
	exec := testutil.StartExecution(t, c, sm, `{}`)
	task := poll(t, c, act, "w", 5*time.Second)
	tok := *task.TaskToken

	for _, bad := range []string{"garbage", tok[:len(tok)-2] + "AA", "x" + tok, strings.ToUpper(tok)} {
		_, err := c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: aws.String(bad), Output: aws.String(`{}`)})
		testutil.WantCode(t, err, "InvalidToken")
		_, err = c.SendTaskHeartbeat(bg, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(bad)})
		testutil.WantCode(t, err, "InvalidToken")
		_, err = c.SendTaskFailure(bg, &sfn.SendTaskFailureInput{TaskToken: aws.String(bad)})
		testutil.WantCode(t, err, "InvalidToken")
	}
	// A genuine token of a task that never existed.
	ghost := a.Tasks.Token(exec, 99)
	_, err := c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: aws.String(ghost), Output: aws.String(`{}`)})
	testutil.WantCode(t, err, "TaskDoesNotExist")
	_, err = c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{not json`)})
	testutil.WantCode(t, err, "InvalidOutput")
	_, err = c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok),
		Output: aws.String(`"` + strings.Repeat("x", 256*1024) + `"`)})
	testutil.WantCode(t, err, "ValidationException")
	_, err = c.GetActivityTask(bg, &sfn.GetActivityTaskInput{ActivityArn: aws.String("no_an_activity_arn")})
	testutil.WantCode(t, err, "InvalidArn")
	_, err = c.GetActivityTask(bg, &sfn.GetActivityTaskInput{ActivityArn: aws.String(act + "-nope")})
	testutil.WantCode(t, err, "ActivityDoesNotExist")

	// StopExecution closes the task: its token is stale.
	if _, err := c.StopExecution(bg, &sfn.StopExecutionInput{ExecutionArn: aws.String(exec)}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitDone(t, c, exec, 5*time.Second)
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, err = c.SendTaskHeartbeat(bg, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(tok)})
		if err != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	testutil.WantCode(t, err, "TaskTimedOut")

	// A Task state on a deleted activity fails the execution with States.Runtime;
	// workers of the deleted activity get ActivityDoesNotExist.
	if _, err := c.DeleteActivity(bg, &sfn.DeleteActivityInput{ActivityArn: aws.String(act)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetActivityTask(bg, &sfn.GetActivityTaskInput{ActivityArn: aws.String(act)})
	testutil.WantCode(t, err, "ActivityDoesNotExist")
	exec = testutil.StartExecution(t, c, sm, `{}`)
	out := testutil.WaitDone(t, c, exec, 5*time.Second)
	wantCause := "An error occurred while executing the state 'Work' (entered at the event id #2). The activity " + act + " does not exist."
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != "States.Runtime" || aws.ToString(out.Cause) != wantCause {
		t.Fatalf("status %s error %s cause %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	if got, want := testutil.HistoryTypes(t, c, exec), "1:ExecutionStarted<0 2:TaskStateEntered<0 3:ExecutionFailed<2"; got != want {
		t.Fatalf("history\n got %s\nwant %s", got, want)
	}
}

// fakeQueue is a stand-in for SQS in tests: it keeps the messages it is sent.
type fakeQueue struct {
	mu    sync.Mutex
	calls []actors.IntegrationCall
	sent  chan string
}

func (q *fakeQueue) Invoke(_ context.Context, call actors.IntegrationCall) (string, error) {
	q.mu.Lock()
	q.calls = append(q.calls, call)
	q.mu.Unlock()
	q.sent <- call.Task.Parameters
	return `{"MessageId":"m-1"}`, nil
}

func TestWaitForTaskToken(t *testing.T) {
	q := &fakeQueue{sent: make(chan string, 10)}
	a := node(t, "", 1, map[string]actors.Integration{"sqs": q})
	c := testutil.Client(a.Endpoint())
	def := `{"StartAt":"Send","States":{"Send":{"Type":"Task",
	  "Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
	  "Parameters":{"QueueUrl":"q","MessageBody":{"Message.$":"$.m","TaskToken.$":"$$.Task.Token"}},"End":true}}}`
	sm := testutil.CreateStateMachine(t, c, "cb", def)
	exec := testutil.StartExecution(t, c, sm, `{"m":"hi"}`)
	var params struct {
		MessageBody struct{ Message, TaskToken string }
	}
	select {
	case p := <-q.sent:
		if err := json.Unmarshal([]byte(p), &params); err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the integration was not called")
	}
	if params.MessageBody.Message != "hi" || params.MessageBody.TaskToken == "" ||
		params.MessageBody.TaskToken != q.calls[0].Token || q.calls[0].Action != "sendMessage" ||
		q.calls[0].Pattern != "waitForTaskToken" {
		t.Fatalf("params %+v call %+v", params, q.calls[0])
	}
	// The execution waits for the token's holder.
	time.Sleep(200 * time.Millisecond)
	if d, _ := c.DescribeExecution(bg, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(exec)}); d.Status != types.ExecutionStatusRunning {
		t.Fatalf("status %s before the callback", d.Status)
	}
	tok := aws.String(params.MessageBody.TaskToken)
	if _, err := c.SendTaskHeartbeat(bg, &sfn.SendTaskHeartbeatInput{TaskToken: tok}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: tok, Output: aws.String(`"done"`)}); err != nil {
		t.Fatal(err)
	}
	out := testutil.WaitDone(t, c, exec, 5*time.Second)
	if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Output) != `"done"` {
		t.Fatalf("status %s output %s", out.Status, aws.ToString(out.Output))
	}
	want := "1:ExecutionStarted<0 2:TaskStateEntered<0 3:TaskScheduled<2 4:TaskStarted<3 5:TaskSubmitted<4 " +
		"6:TaskSucceeded<5 7:TaskStateExited<6 8:ExecutionSucceeded<7"
	if got := testutil.HistoryTypes(t, c, exec); got != want {
		t.Fatalf("history\n got %s\nwant %s", got, want)
	}
	h := testutil.History(t, c, exec)
	if d := h[2].TaskScheduledEventDetails; d == nil || aws.ToString(d.Resource) != "sendMessage.waitForTaskToken" ||
		aws.ToString(d.ResourceType) != "sqs" || !strings.Contains(aws.ToString(d.Parameters), params.MessageBody.TaskToken) {
		t.Fatalf("scheduled %+v", d)
	}
	if d := h[4].TaskSubmittedEventDetails; d == nil || aws.ToString(d.Output) != `{"MessageId":"m-1"}` {
		t.Fatalf("submitted %+v", d)
	}
	_, err := c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: tok, Output: aws.String(`{}`)})
	testutil.WantCode(t, err, "TaskTimedOut")

	// A callback whose heartbeat stops: TaskTimedOut with States.Timeout, as AWS
	// records it for service integrations.
	def = `{"StartAt":"Send","States":{"Send":{"Type":"Task",
	  "Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","HeartbeatSeconds":1,
	  "Parameters":{"MessageBody":{"TaskToken.$":"$$.Task.Token"}},"End":true}}}`
	sm = testutil.CreateStateMachine(t, c, "cbhb", def)
	exec = testutil.StartExecution(t, c, sm, `{}`)
	<-q.sent
	out = testutil.WaitDone(t, c, exec, 5*time.Second)
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != "States.Timeout" {
		t.Fatalf("status %s error %s", out.Status, aws.ToString(out.Error))
	}
	want = "1:ExecutionStarted<0 2:TaskStateEntered<0 3:TaskScheduled<2 4:TaskStarted<3 5:TaskSubmitted<4 " +
		"6:TaskTimedOut<5 7:ExecutionFailed<6"
	if got := testutil.HistoryTypes(t, c, exec); got != want {
		t.Fatalf("history\n got %s\nwant %s", got, want)
	}

	// A service sfnd does not implement: the task fails, no result is made up.
	def = `{"StartAt":"Send","States":{"Send":{"Type":"Task",
	  "Resource":"arn:aws:states:::sagemaker:createTransformJob.waitForTaskToken",
	  "Parameters":{"TransformJobName.$":"$$.Task.Token"},"End":true}}}`
	sm = testutil.CreateStateMachine(t, c, "cbnone", def)
	exec = testutil.StartExecution(t, c, sm, `{}`)
	out = testutil.WaitDone(t, c, exec, 5*time.Second)
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != "States.Runtime" {
		t.Fatalf("status %s error %s", out.Status, aws.ToString(out.Error))
	}
	want = "1:ExecutionStarted<0 2:TaskStateEntered<0 3:TaskScheduled<2 4:TaskFailed<3 5:ExecutionFailed<4"
	if got := testutil.HistoryTypes(t, c, exec); got != want {
		t.Fatalf("history\n got %s\nwant %s", got, want)
	}
}

func TestTasksSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	a := node(t, dir, 0.001, nil)
	c := testutil.Client(a.Endpoint())
	queued := createActivity(t, c, "queued")
	handed := createActivity(t, c, "handed")
	lost := createActivity(t, c, "lost")
	execQ := testutil.StartExecution(t, c, testutil.CreateStateMachine(t, c, "q", activityDef(queued, "")), `{"q":1}`)
	execH := testutil.StartExecution(t, c, testutil.CreateStateMachine(t, c, "h", activityDef(handed, "")), `{"h":1}`)
	task := poll(t, c, handed, "before", 5*time.Second)
	execL := testutil.StartExecution(t, c, testutil.CreateStateMachine(t, c, "l", activityDef(lost, "")), `{"l":1}`)
	// Simulate a crash between the append of ActivityScheduled and the dispatch: the
	// task of execL is neither queued nor recorded.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(testutil.HistoryTypes(t, c, execL), "ActivityScheduled") {
		if time.Now().After(deadline) {
			t.Fatal("execL never scheduled its task")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	st, err := a.Store.JS.Stream(bg, actors.ActivityStream)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Purge(bg, jetstreamFilter(actors.ActivitySubject(lost))); err != nil {
		t.Fatal(err)
	}
	kv, err := a.Store.JS.KeyValue(bg, actors.TaskBucket)
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Purge(bg, taskKey(execL, 3)); err != nil {
		t.Fatal(err)
	}
	a.Close()

	b := node(t, dir, 0.001, nil)
	c = testutil.Client(b.Endpoint())
	// The handed-out token still works on the new node.
	if _, err := c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`"h"`)}); err != nil {
		t.Fatalf("send success after restart: %v", err)
	}
	// The queued task is still queued; the lost one was dispatched again.
	tq := poll(t, c, queued, "after", 5*time.Second)
	if aws.ToString(tq.Input) != `{"q":1}` {
		t.Fatalf("queued input %s", aws.ToString(tq.Input))
	}
	tl := poll(t, c, lost, "after", 5*time.Second)
	for _, tok := range []*string{tq.TaskToken, tl.TaskToken} {
		if _, err := c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: tok, Output: aws.String(`"ok"`)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range []string{execQ, execH, execL} {
		if out := testutil.WaitDone(t, c, e, 5*time.Second); out.Status != types.ExecutionStatusSucceeded {
			t.Fatalf("%s: %s", e, out.Status)
		}
	}
	want := "1:ExecutionStarted<0 2:TaskStateEntered<0 3:ActivityScheduled<2 4:ActivityStarted<3 " +
		"5:ActivitySucceeded<4 6:TaskStateExited<5 7:ExecutionSucceeded<6"
	if got := testutil.HistoryTypes(t, c, execL); got != want {
		t.Fatalf("history\n got %s\nwant %s", got, want)
	}
	// Each task was handed out once.
	pollNone(t, c, queued, 200*time.Millisecond)
	pollNone(t, c, lost, 200*time.Millisecond)
}

func TestIdlePollersDoNotStall(t *testing.T) {
	a := testutil.Start(t, testutil.Options{})
	c := testutil.Client(a.Endpoint())
	idle := createActivity(t, c, "idle")
	busy := createActivity(t, c, "busy")
	sm := testutil.CreateStateMachine(t, c, "busy", activityDef(busy, ""))

	const pollers = 1000
	pc := testutil.Client(a.Endpoint())
	ctx, cancel := context.WithTimeout(bg, 90*time.Second) // cancelled below, once checked
	defer cancel()
	var wg sync.WaitGroup
	var got, failed atomic.Int64
	for range pollers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := pc.GetActivityTask(ctx, &sfn.GetActivityTaskInput{ActivityArn: aws.String(idle)})
			switch {
			case err == nil && out.TaskToken != nil:
				got.Add(1)
			case err != nil && ctx.Err() == nil:
				failed.Add(1)
			}
		}()
	}
	// The consumer info request queues behind the 1000 pull requests: give it time
	// (a loaded machine exceeds the client's default 5 s) and ask again on a timeout.
	waiting := func() int {
		for try := 0; ; try++ {
			ictx, icancel := context.WithTimeout(bg, 20*time.Second)
			n, err := a.Tasks.Pollers(ictx, idle)
			icancel()
			if err == nil {
				return n
			}
			if try == 2 || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatal(err)
			}
			t.Logf("poller count: %v (asking again)", err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for waiting() < pollers {
		if time.Now().After(deadline) || failed.Load() > 0 {
			t.Fatalf("only %d of %d polls parked (%d failed)", waiting(), pollers, failed.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Every idle poll waits on the server; another activity's traffic flows.
	began := time.Now()
	const n = 20
	var execs []string
	for i := range n {
		execs = append(execs, testutil.StartExecution(t, c, sm, fmt.Sprintf(`{"i":%d}`, i)))
	}
	for range n {
		task := poll(t, c, busy, "w", 5*time.Second)
		if _, err := c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: task.Input}); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range execs {
		if out := testutil.WaitDone(t, c, e, 5*time.Second); out.Status != types.ExecutionStatusSucceeded {
			t.Fatalf("%s", out.Status)
		}
	}
	took := time.Since(began)
	if w := waiting(); w < pollers || took > 10*time.Second {
		t.Fatalf("%d round trips took %v; %d polls still parked", n, took, w)
	}
	t.Logf("%d activity round trips in %v beside %d parked polls", n, took, pollers)
	cancel()
	wg.Wait()
	if got.Load() != 0 || failed.Load() != 0 {
		t.Fatalf("idle pollers: %d got tasks, %d failed", got.Load(), failed.Load())
	}
	// The idle polls are gone: a task queued now goes to the next poller, not to a
	// ghost of an abandoned poll.
	exec := testutil.StartExecution(t, c, testutil.CreateStateMachine(t, c, "idle", activityDef(idle, "")), `{}`)
	task := poll(t, c, idle, "late", 5*time.Second)
	if _, err := c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`1`)}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitDone(t, c, exec, 5*time.Second)
}

func jetstreamFilter(subject string) jetstream.StreamPurgeOpt {
	return jetstream.WithPurgeSubject(subject)
}

// taskKey is the task table's key of a task (see actors/tasks.go).
func taskKey(execARN string, scheduled int64) string {
	return jsstore.Token(execARN) + "." + fmt.Sprint(scheduled)
}

// TestActivityStartHeldForResult: a worker that answers within the engine's start
// hold gets its ActivityStarted recorded in the result's decision (one history
// message fewer), at the time it took the task and with its name; a worker slower
// than the hold sees ActivityStarted recorded on its own first. Both histories
// verify (the trigger carries the start).
func TestActivityStartHeldForResult(t *testing.T) {
	for _, slow := range []bool{false, true} {
		a := testutil.Start(t, testutil.Options{StartHold: 300 * time.Millisecond})
		c := testutil.Client(a.Endpoint())
		act := createActivity(t, c, "held")
		sm := testutil.CreateStateMachine(t, c, "held", activityDef(act, ""))
		exec := testutil.StartExecution(t, c, sm, `{}`)
		task := poll(t, c, act, "quick-worker", 5*time.Second)
		took := time.Now()
		if slow {
			// The hold ends: ActivityStarted is stored while the worker still works.
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(testutil.HistoryTypes(t, c, exec), "ActivityStarted") {
				if time.Now().After(deadline) {
					t.Fatal("ActivityStarted not recorded after the hold")
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		if _, err := c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{"ok":1}`)}); err != nil {
			t.Fatal(err)
		}
		testutil.WaitDone(t, c, exec, 5*time.Second)
		want := "1:ExecutionStarted<0 2:TaskStateEntered<0 3:ActivityScheduled<2 4:ActivityStarted<3 " +
			"5:ActivitySucceeded<4 6:TaskStateExited<5 7:ExecutionSucceeded<6"
		if got := testutil.HistoryTypes(t, c, exec); got != want {
			t.Fatalf("slow=%v history\n got %s\nwant %s", slow, got, want)
		}
		h := testutil.History(t, c, exec)
		if d := h[3].ActivityStartedEventDetails; d == nil || aws.ToString(d.WorkerName) != "quick-worker" {
			t.Fatalf("slow=%v started details %+v", slow, d)
		}
		if started, done := aws.ToTime(h[3].Timestamp), aws.ToTime(h[4].Timestamp); started.After(done) || started.After(took) {
			t.Fatalf("slow=%v ActivityStarted at %s, taken by %s, succeeded at %s", slow, started, took, done)
		}
		stored, _, err := a.Store.ReadHistory(bg, exec)
		if err != nil {
			t.Fatal(err)
		}
		res, err := audit.Verify(stored, audit.VerifyOptions{})
		if err != nil || res.Fault != nil {
			t.Fatalf("slow=%v verify: %v %+v", slow, err, res.Fault)
		}
		hs, err := a.Store.JS.Stream(bg, jsstore.HistoryStream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := hs.Info(bg, jetstream.WithSubjectFilter(jsstore.HistorySubject(exec)))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := info.State.Subjects[jsstore.HistorySubject(exec)], map[bool]uint64{false: 2, true: 3}[slow]; got != want {
			t.Fatalf("slow=%v: %d history messages, want %d", slow, got, want)
		}
		a.Close()
	}
}

// TestResultDecidedBeforeAnswer: a result sent to the node whose engine holds the
// execution is decided before SendTaskSuccess answers (Engine.Answer): a
// DescribeExecution right after the answer sees what the result caused, and of
// several answers sent at once for the same task exactly one is taken, the others
// get TaskTimedOut; none of them went through the command stream.
func TestResultDecidedBeforeAnswer(t *testing.T) {
	a := testutil.Start(t, testutil.Options{})
	c := testutil.Client(a.Endpoint())
	act := createActivity(t, c, "answered")
	sm := testutil.CreateStateMachine(t, c, "answered", activityDef(act, ""))
	for i := range 20 {
		exec := testutil.StartExecution(t, c, sm, `{}`)
		task := poll(t, c, act, "w", 5*time.Second)
		cmds, err := a.Store.JS.Stream(bg, jsstore.CommandStream)
		if err != nil {
			t.Fatal(err)
		}
		before, err := cmds.Info(bg)
		if err != nil {
			t.Fatal(err)
		}
		const answers = 4
		errs := make([]error, answers)
		var wg sync.WaitGroup
		for j := range answers {
			wg.Go(func() {
				_, errs[j] = c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken,
					Output: aws.String(`{"answer":` + strconv.Itoa(j) + `}`)})
			})
		}
		wg.Wait()
		taken := -1
		for j, err := range errs {
			if err == nil {
				if taken >= 0 {
					t.Fatalf("execution %d: answers %d and %d both taken", i, taken, j)
				}
				taken = j
				continue
			}
			testutil.WantCode(t, err, "TaskTimedOut")
		}
		if taken < 0 {
			t.Fatalf("execution %d: no answer taken: %v", i, errs)
		}
		after, err := cmds.Info(bg)
		if err != nil {
			t.Fatal(err)
		}
		if after.State.LastSeq != before.State.LastSeq {
			t.Fatalf("execution %d: %d commands published for its answers, want none (the resident actor decides them)",
				i, after.State.LastSeq-before.State.LastSeq)
		}
		out, err := c.DescribeExecution(bg, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(exec)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Output) != `{"answer":`+strconv.Itoa(taken)+`}` {
			t.Fatalf("execution %d right after the answer: %s %s, want SUCCEEDED with answer %d", i, out.Status, aws.ToString(out.Output), taken)
		}
	}
}
