// Package nested tests nested executions end to end (arn:aws:states:::states:startExecution
// fire and forget, .sync, .sync:2, .waitForTaskToken) with aws-sdk-go-v2 against a real
// in-process node: the parent's history as AWS records it, the child's result shapes,
// failures, stopping and restarts.
package nested

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/test/testutil"
)

var bg = context.Background()

// keys lists the top-level keys of a JSON object in their order.
func keys(t *testing.T, text string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(text))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", text)
	}
	var out []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func decode(t *testing.T, text string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		t.Fatalf("decode %s: %v", text, err)
	}
	return m
}

const childPass = `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"Arg1":"argument1"},"End":true}}}`

func parentDef(resource, childARN, extra string) string {
	return namedParentDef(resource, childARN, "TestStartTarget", extra)
}

func namedParentDef(resource, childARN, name, extra string) string {
	return `{"StartAt":"StartExecution","States":{"StartExecution":{"Type":"Task","Resource":"arn:aws:states:::states:` +
		resource + `","Parameters":{"StateMachineArn":"` + childARN + `","Input.$":"$.Input","Name":"` + name + `"}` +
		extra + `,"End":true}}}`
}

func TestStartExecutionFireAndForget(t *testing.T) {
	a := testutil.Start(t, testutil.Options{})
	c := testutil.Client(a.Endpoint())
	child := testutil.CreateStateMachine(t, c, "child", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	def := `{"StartAt":"StartExecution","States":{"StartExecution":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution",` +
		`"Parameters":{"StateMachineArn":"` + child + `","Input":{"Hello":"World","AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$":"$$.Execution.Id"}},"End":true}}}`
	parent := testutil.CreateStateMachine(t, c, "parent", def)
	exec := testutil.StartExecution(t, c, parent, `{}`)
	out := testutil.WaitDoneRetrying(t, c, exec, 5*time.Second)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("parent %s", out.Status)
	}
	h := testutil.WantHistory(t, c, exec, "1:ExecutionStarted<0 2:TaskStateEntered<0 3:TaskScheduled<2 4:TaskStarted<3 "+
		"5:TaskSucceeded<4 6:TaskStateExited<5 7:ExecutionSucceeded<6")
	if d := h[2].TaskScheduledEventDetails; aws.ToString(d.ResourceType) != "states" || aws.ToString(d.Resource) != "startExecution" ||
		aws.ToString(d.Region) != "us-east-1" {
		t.Fatalf("scheduled %+v", d)
	}
	res := aws.ToString(h[4].TaskSucceededEventDetails.Output)
	if got := strings.Join(keys(t, res), ","); got != "ExecutionArn,SdkHttpMetadata,SdkResponseMetadata,StartDate" {
		t.Fatalf("StartExecution response keys %s: %s", got, res)
	}
	m := decode(t, res)
	childExec, _ := m["ExecutionArn"].(string)
	if !strings.HasPrefix(childExec, "arn:aws:states:us-east-1:123456789012:execution:child:") {
		t.Fatalf("child ARN %q", childExec)
	}
	if _, ok := m["StartDate"].(float64); !ok {
		t.Fatalf("StartDate %v is not epoch milliseconds", m["StartDate"])
	}
	if md, _ := m["SdkHttpMetadata"].(map[string]any); md["HttpStatusCode"] != float64(200) {
		t.Fatalf("http metadata %v", m["SdkHttpMetadata"])
	}
	cout := testutil.WaitDoneRetrying(t, c, childExec, 5*time.Second)
	if cout.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("child %s", cout.Status)
	}
	in := decode(t, aws.ToString(cout.Input))
	if in["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] != exec || in["Hello"] != "World" {
		t.Fatalf("child input %s", aws.ToString(cout.Input))
	}
	// The generated name is a UUID derived from the parent's task (stable on re-dispatch).
	name := childExec[strings.LastIndexByte(childExec, ':')+1:]
	if len(name) != 36 {
		t.Fatalf("child name %q", name)
	}
}

func TestStartExecutionSync(t *testing.T) {
	a := testutil.Start(t, testutil.Options{})
	c := testutil.Client(a.Endpoint())
	child := testutil.CreateStateMachine(t, c, "child", childPass)
	for _, tc := range []struct {
		resource string
		name     string
		output   string // the TaskSucceeded output's Output member as JSON
		input    string
	}{
		{"startExecution.sync", "TestStartTarget", `"{\"Arg1\":\"argument1\"}"`, `"{}"`},
		{"startExecution.sync:2", "TestStartTarget2", `{"Arg1":"argument1"}`, `{}`},
	} {
		t.Run(tc.resource, func(t *testing.T) {
			parent := testutil.CreateStateMachine(t, c, "parent-"+tc.name, namedParentDef(tc.resource, child, tc.name, ""))
			exec := testutil.StartExecution(t, c, parent, `{"Input":null}`)
			out := testutil.WaitDoneRetrying(t, c, exec, 5*time.Second)
			if out.Status != types.ExecutionStatusSucceeded {
				t.Fatalf("parent %s: %s", out.Status, testutil.HistoryTypes(t, c, exec))
			}
			h := testutil.WantHistory(t, c, exec, "1:ExecutionStarted<0 2:TaskStateEntered<0 3:TaskScheduled<2 4:TaskStarted<3 "+
				"5:TaskSubmitted<4 6:TaskSucceeded<5 7:TaskStateExited<6 8:ExecutionSucceeded<7")
			if d := h[4].TaskSubmittedEventDetails; aws.ToString(d.Resource) != tc.resource || aws.ToString(d.ResourceType) != "states" {
				t.Fatalf("submitted %+v", d)
			}
			sub := decode(t, aws.ToString(h[4].TaskSubmittedEventDetails.Output))
			childExec := "arn:aws:states:us-east-1:123456789012:execution:child:" + tc.name
			if sub["ExecutionArn"] != childExec {
				t.Fatalf("submitted output %v", sub)
			}
			res := aws.ToString(h[5].TaskSucceededEventDetails.Output)
			want := "ExecutionArn,Input,InputDetails,Name,Output,OutputDetails,StartDate,StateMachineArn,Status,StopDate"
			if got := strings.Join(keys(t, res), ","); got != want {
				t.Fatalf("DescribeExecution keys %s: %s", got, res)
			}
			var raw map[string]json.RawMessage
			_ = json.Unmarshal([]byte(res), &raw)
			if string(raw["Output"]) != tc.output || string(raw["Input"]) != tc.input {
				t.Fatalf("Output %s Input %s, want %s %s", raw["Output"], raw["Input"], tc.output, tc.input)
			}
			if string(raw["Status"]) != `"SUCCEEDED"` || string(raw["Name"]) != `"`+tc.name+`"` ||
				string(raw["InputDetails"]) != `{"Included":true}` || string(raw["StateMachineArn"]) != `"`+child+`"` {
				t.Fatalf("result %s", res)
			}
			if aws.ToString(out.Output) != res {
				t.Fatalf("parent output %s", aws.ToString(out.Output))
			}
		})
	}
}

func TestStartExecutionSyncChildFailureCaught(t *testing.T) {
	a := testutil.Start(t, testutil.Options{})
	c := testutil.Client(a.Endpoint())
	child := testutil.CreateStateMachine(t, c, "child", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"SomeFailure","Cause":"This state machines raises a 'SomeFailure' failure."}}}`)
	parent := testutil.CreateStateMachine(t, c, "parent", `{"StartAt":"StartExecution","States":{"StartExecution":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync",`+
		`"Parameters":{"StateMachineArn":"`+child+`","Name":"TestStartTarget"},`+
		`"Catch":[{"ErrorEquals":["States.TaskFailed"],"ResultPath":"$.err","Next":"Caught"}],"End":true},`+
		`"Caught":{"Type":"Pass","End":true}}}`)
	exec := testutil.StartExecution(t, c, parent, `{}`)
	out := testutil.WaitDoneRetrying(t, c, exec, 5*time.Second)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("parent %s", out.Status)
	}
	h := testutil.WantHistory(t, c, exec, "1:ExecutionStarted<0 2:TaskStateEntered<0 3:TaskScheduled<2 4:TaskStarted<3 "+
		"5:TaskSubmitted<4 6:TaskFailed<5 7:TaskStateExited<6 8:PassStateEntered<7 9:PassStateExited<8 10:ExecutionSucceeded<9")
	d := h[5].TaskFailedEventDetails
	if aws.ToString(d.Error) != "States.TaskFailed" || aws.ToString(d.Resource) != "startExecution.sync" {
		t.Fatalf("failed %+v", d)
	}
	cause := aws.ToString(d.Cause)
	want := "Cause,Error,ExecutionArn,Input,InputDetails,Name,StartDate,StateMachineArn,Status,StopDate"
	if got := strings.Join(keys(t, cause), ","); got != want {
		t.Fatalf("cause keys %s: %s", got, cause)
	}
	m := decode(t, cause)
	if m["Error"] != "SomeFailure" || m["Status"] != "FAILED" || m["Input"] != "{}" {
		t.Fatalf("cause %s", cause)
	}
}

func TestStartExecutionErrors(t *testing.T) {
	a := testutil.Start(t, testutil.Options{})
	c := testutil.Client(a.Endpoint())
	missing := "arn:aws:states:us-east-1:123456789012:stateMachine:nope"
	parent := testutil.CreateStateMachine(t, c, "parent", parentDef("startExecution.sync", missing, ""))
	exec := testutil.StartExecution(t, c, parent, `{"Input":{}}`)
	out := testutil.WaitDoneRetrying(t, c, exec, 5*time.Second)
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != "StepFunctions.StateMachineDoesNotExistException" {
		t.Fatalf("parent %s %s", out.Status, aws.ToString(out.Error))
	}
	cause := aws.ToString(out.Cause)
	if !strings.HasPrefix(cause, "State Machine Does Not Exist: '"+missing+"' (Service: AWSStepFunctions; Status Code: 400; Error Code: StateMachineDoesNotExist; Request ID: ") {
		t.Fatalf("cause %s", cause)
	}
	testutil.WantHistory(t, c, exec, "1:ExecutionStarted<0 2:TaskStateEntered<0 3:TaskScheduled<2 4:TaskStarted<3 5:TaskFailed<4 6:ExecutionFailed<5")

	// A running execution holds the name: a .sync start of the same name fails.
	child := testutil.CreateStateMachine(t, c, "waiter", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`)
	if _, err := c.StartExecution(bg, &sfn.StartExecutionInput{StateMachineArn: aws.String(child), Name: aws.String("TestStartTarget")}); err != nil {
		t.Fatal(err)
	}
	p2 := testutil.CreateStateMachine(t, c, "parent2", parentDef("startExecution.sync", child, ""))
	exec = testutil.StartExecution(t, c, p2, `{"Input":{}}`)
	out = testutil.WaitDoneRetrying(t, c, exec, 5*time.Second)
	if aws.ToString(out.Error) != "StepFunctions.ExecutionAlreadyExistsException" {
		t.Fatalf("parent %s %s", out.Status, aws.ToString(out.Error))
	}
}

func TestStopParentStopsSyncChild(t *testing.T) {
	a := testutil.Start(t, testutil.Options{})
	c := testutil.Client(a.Endpoint())
	child := testutil.CreateStateMachine(t, c, "child", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`)
	parent := testutil.CreateStateMachine(t, c, "parent", parentDef("startExecution.sync:2", child, ""))
	exec := testutil.StartExecution(t, c, parent, `{"Input":{"a":1}}`)
	childExec := "arn:aws:states:us-east-1:123456789012:execution:child:TestStartTarget"
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := c.DescribeExecution(bg, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(childExec)})
		if err == nil && d.Status == types.ExecutionStatusRunning && strings.Contains(testutil.HistoryTypes(t, c, exec), "TaskSubmitted") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child not running: %v; parent %s", err, testutil.HistoryTypes(t, c, exec))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := c.StopExecution(bg, &sfn.StopExecutionInput{ExecutionArn: aws.String(exec)}); err != nil {
		t.Fatal(err)
	}
	if out := testutil.WaitDoneRetrying(t, c, exec, 5*time.Second); out.Status != types.ExecutionStatusAborted {
		t.Fatalf("parent %s", out.Status)
	}
	if out := testutil.WaitDoneRetrying(t, c, childExec, 5*time.Second); out.Status != types.ExecutionStatusAborted {
		t.Fatalf("child %s", out.Status)
	}
	testutil.WantHistory(t, c, childExec, "1:ExecutionStarted<0 2:WaitStateEntered<0 3:ExecutionAborted<0")
}

func TestSyncChildSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	a := testutil.Start(t, testutil.Options{DataDir: dir})
	c := testutil.Client(a.Endpoint())
	act, err := c.CreateActivity(bg, &sfn.CreateActivityInput{Name: aws.String("work")})
	if err != nil {
		t.Fatal(err)
	}
	child := testutil.CreateStateMachine(t, c, "child", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"`+*act.ActivityArn+`","End":true}}}`)
	parent := testutil.CreateStateMachine(t, c, "parent", parentDef("startExecution.sync", child, ""))
	exec := testutil.StartExecution(t, c, parent, `{"Input":{"n":1}}`)
	childExec := "arn:aws:states:us-east-1:123456789012:execution:child:TestStartTarget"
	// Wait until the child waits for its activity, then restart the node.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(testutil.HistoryTypes(t, c, exec), "TaskSubmitted") {
		if time.Now().After(deadline) {
			t.Fatalf("parent never submitted: %s", testutil.HistoryTypes(t, c, exec))
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.Close()
	a = testutil.Start(t, testutil.Options{DataDir: dir})
	c = testutil.Client(a.Endpoint())
	ctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	task, err := c.GetActivityTask(ctx, &sfn.GetActivityTaskInput{ActivityArn: act.ActivityArn})
	if err != nil || task.TaskToken == nil {
		t.Fatalf("get activity task: %v", err)
	}
	if _, err := c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{"done":true}`)}); err != nil {
		t.Fatal(err)
	}
	out := testutil.WaitDoneRetrying(t, c, exec, 10*time.Second)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("parent %s", out.Status)
	}
	h := testutil.WantHistory(t, c, exec, "1:ExecutionStarted<0 2:TaskStateEntered<0 3:TaskScheduled<2 4:TaskStarted<3 "+
		"5:TaskSubmitted<4 6:TaskSucceeded<5 7:TaskStateExited<6 8:ExecutionSucceeded<7")
	m := decode(t, aws.ToString(h[5].TaskSucceededEventDetails.Output))
	if m["Output"] != `{"done":true}` || m["ExecutionArn"] != childExec {
		t.Fatalf("result %v", m)
	}
}

// TestChildResultResumed loses the child's report to its parent (as a crash between
// the parent's task start and its TaskSubmitted would) and checks that the
// re-dispatched task finds the finished child and takes its result.
func TestChildResultResumed(t *testing.T) {
	a := testutil.Start(t, testutil.Options{})
	c := testutil.Client(a.Endpoint())
	child := testutil.CreateStateMachine(t, c, "child", childPass)
	// A parent task whose child ended while nobody reported: reserve and run a child
	// by hand, naming a parent task that is not waiting yet.
	parent := testutil.CreateStateMachine(t, c, "parent", parentDef("startExecution.sync:2", child, ""))
	parentExec := "arn:aws:states:us-east-1:123456789012:execution:parent:p1"
	res, err := a.API.StartChild(bg, actors.ChildStart{StateMachineARN: aws.String(child), Name: aws.String("TestStartTarget"),
		Parent: events.ParentTask{ExecARN: parentExec, ScheduledEventID: 3, Pattern: "sync:2"}})
	if err != nil || res.Start == nil {
		t.Fatalf("start child: %+v %v", res, err)
	}
	// Re-dispatch of the same task finds the same child.
	again, err := a.API.StartChild(bg, actors.ChildStart{StateMachineARN: aws.String(child), Name: aws.String("TestStartTarget"),
		Parent: events.ParentTask{ExecARN: parentExec, ScheduledEventID: 3, Pattern: "sync:2"}})
	if err != nil || again.Start != nil || again.ExecutionARN != res.ExecutionARN {
		t.Fatalf("re-dispatch: %+v %v", again, err)
	}
	a.Engine.Deliver(events.Command{Kind: events.CmdStart, ExecARN: res.ExecutionARN, Time: res.StartDate, Start: res.Start}, nil)
	if out := testutil.WaitDoneRetrying(t, c, res.ExecutionARN, 5*time.Second); out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("child %s", out.Status)
	}
	// Its report went to a parent that did not exist yet: now the parent starts, and
	// its task's start finds the finished child (same name, same parent task) and
	// takes its result.
	_, err = c.StartExecution(bg, &sfn.StartExecutionInput{StateMachineArn: aws.String(parent), Name: aws.String("p1"),
		Input: aws.String(`{"Input":{}}`)})
	if err != nil {
		t.Fatal(err)
	}
	// The first report was made before the parent existed and was dropped by it.
	out := testutil.WaitDoneRetrying(t, c, parentExec, 10*time.Second)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("parent %s: %s", out.Status, testutil.HistoryTypes(t, c, parentExec))
	}
	m := decode(t, aws.ToString(out.Output))
	if o, _ := m["Output"].(map[string]any); o["Arg1"] != "argument1" {
		t.Fatalf("parent output %s", aws.ToString(out.Output))
	}
}

// TestReservedChildLaunched: a child reserved for a parent task and never launched (the
// reservation was written but its answer lost, e.g. a timeout while a stream elected a
// leader, and the task's submit was tried again) is launched by the submit that finds
// it, not left for the next recovery.
func TestReservedChildLaunched(t *testing.T) {
	a := testutil.Start(t, testutil.Options{})
	c := testutil.Client(a.Endpoint())
	child := testutil.CreateStateMachine(t, c, "child", childPass)
	parent := testutil.CreateStateMachine(t, c, "parent", parentDef("startExecution.sync:2", child, ""))
	parentExec := "arn:aws:states:us-east-1:123456789012:execution:parent:p1"
	res, err := a.API.StartChild(bg, actors.ChildStart{StateMachineARN: aws.String(child), Name: aws.String("TestStartTarget"),
		Parent: events.ParentTask{ExecARN: parentExec, ScheduledEventID: 3, Pattern: "sync:2"}})
	if err != nil || res.Start == nil {
		t.Fatalf("start child: %+v %v", res, err)
	}
	// Not launched. The parent's task finds the reservation and launches it.
	_, err = c.StartExecution(bg, &sfn.StartExecutionInput{StateMachineArn: aws.String(parent), Name: aws.String("p1"),
		Input: aws.String(`{"Input":{}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if out := testutil.WaitDoneRetrying(t, c, res.ExecutionARN, 10*time.Second); out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("child %s", out.Status)
	}
	if out := testutil.WaitDoneRetrying(t, c, parentExec, 10*time.Second); out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("parent %s: %s", out.Status, testutil.HistoryTypes(t, c, parentExec))
	}
}
