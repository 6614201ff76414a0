// Package mocks tests mocked integrations end to end: AWS Step Functions Local's mock
// configuration file, executions started on "<stateMachineArn>#<TestCase>", Return
// and Throw per invocation across retries, mocked activities and callbacks, and states
// a test case leaves to their real resource.
package mocks

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/cmd/sfnd/app"
	"github.com/sfnd/sfnd/test/testutil"
)

var bg = context.Background()

// mockConfig is AWS's documented example (sfn-local-mock-cfg-file), plus test cases
// for an activity, a callback and a missing invocation.
const mockConfig = `{
  "StateMachines": {
    "LambdaSQSIntegration": {
      "TestCases": {
        "HappyPath": {"LambdaState": "MockedLambdaSuccess", "SQSState": "MockedSQSSuccess"},
        "RetryPath": {"LambdaState": "MockedLambdaRetry", "SQSState": "MockedSQSSuccess"},
        "HybridPath": {"LambdaState": "MockedLambdaSuccess"},
        "CaughtPath": {"LambdaState": "MockedNotReadyAlways"},
        "ShortPath": {"LambdaState": "MockedLambdaOnce"}
      }
    },
    "Mixed": {
      "TestCases": {
        "Mocked": {"Work": "MockedActivity", "Callback": "MockedCallback"}
      }
    }
  },
  "MockedResponses": {
    "MockedLambdaSuccess": {"0": {"Return": {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}}},
    "LambdaMockedResourceNotReady": {"0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "Lambda resource is not ready."}}},
    "MockedSQSSuccess": {"0": {"Return": {"MD5OfMessageBody": "3bcb6e8e-7h85-4375-b0bc-1a59812c6e51", "MessageId": "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"}}},
    "MockedLambdaRetry": {
      "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "Lambda resource is not ready."}},
      "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "Lambda timed out."}},
      "3": {"Return": {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}}
    },
    "MockedNotReadyAlways": {"0-3": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "Lambda resource is not ready."}}},
    "MockedLambdaOnce": {"0": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "Lambda timed out."}}},
    "MockedActivity": {"0": {"Return": {"z": 1, "a": 2}}},
    "MockedCallback": {"0": {"Return": {"approved": true}}}
  }
}`

const lambdaSQS = `{
  "StartAt": "LambdaState",
  "States": {
    "LambdaState": {
      "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"Payload.$": "$", "FunctionName": "HelloWorldFunction"},
      "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2}],
      "Catch": [{"ErrorEquals": ["Lambda.ResourceNotReadyException"], "ResultPath": "$.error", "Next": "Caught"}],
      "Next": "SQSState"
    },
    "SQSState": {
      "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
      "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/myQueue", "MessageBody.$": "$"},
      "End": true
    },
    "Caught": {"Type": "Pass", "End": true}
  }
}`

func node(t *testing.T, config string) *app.App {
	t.Helper()
	dir := t.TempDir()
	path := ""
	if config != "" {
		path = filepath.Join(dir, "MockConfigFile.json")
		if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Unmocked service tasks call their real integration; here the services' endpoint
	// is a closed local port, so such a call fails at once (SdkClientException) and
	// never leaves the machine.
	closed := "http://127.0.0.1:" + strconv.Itoa(testutil.FreePort(t))
	return testutil.Start(t, testutil.Options{DataDir: dir, MockConfig: path,
		Endpoints: map[string]string{"sqs": closed, "sns": closed, "dynamodb": closed, "eventbridge": closed}})
}

func start(t *testing.T, c *sfn.Client, arn, name string) string {
	t.Helper()
	out, err := c.StartExecution(bg, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Name: aws.String(name),
		Input: aws.String(`{"n":1}`)})
	if err != nil {
		t.Fatalf("start %s: %v", arn, err)
	}
	return *out.ExecutionArn
}

func TestHappyAndRetryPaths(t *testing.T) {
	a := node(t, mockConfig)
	c := testutil.Client(a.Endpoint())
	sm := testutil.CreateStateMachine(t, c, "LambdaSQSIntegration", lambdaSQS)

	exec := start(t, c, sm+"#HappyPath", "happy")
	if exec != "arn:aws:states:us-east-1:123456789012:execution:LambdaSQSIntegration:happy" {
		t.Fatalf("execution ARN %s", exec)
	}
	out := testutil.WaitDone(t, c, exec, 5*time.Second)
	if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.StateMachineArn) != sm {
		t.Fatalf("happy: %s %s", out.Status, aws.ToString(out.StateMachineArn))
	}
	want := `{"MD5OfMessageBody":"3bcb6e8e-7h85-4375-b0bc-1a59812c6e51","MessageId":"3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"}`
	if got := aws.ToString(out.Output); got != want {
		t.Fatalf("output %s", got)
	}
	h := testutil.WantHistory(t, c, exec, "1:ExecutionStarted<0 2:TaskStateEntered<0 3:TaskScheduled<2 4:TaskStarted<3 5:TaskSucceeded<4 "+
		"6:TaskStateExited<5 7:TaskStateEntered<6 8:TaskScheduled<7 9:TaskStarted<8 10:TaskSucceeded<9 11:TaskStateExited<10 "+
		"12:ExecutionSucceeded<11")
	if got := aws.ToString(h[4].TaskSucceededEventDetails.Output); got != `{"StatusCode":200,"Payload":{"StatusCode":200,"body":"Hello from Lambda!"}}` {
		t.Fatalf("lambda result %s", got)
	}
	if d := h[2].TaskScheduledEventDetails; aws.ToString(d.ResourceType) != "lambda" || aws.ToString(d.Resource) != "invoke" {
		t.Fatalf("scheduled %+v", d)
	}

	// Retries take the responses "0", "1-2", "3" in turn.
	exec = start(t, c, sm+"#RetryPath", "retry")
	out = testutil.WaitDone(t, c, exec, 5*time.Second)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("retry: %s", out.Status)
	}
	h = testutil.WantHistory(t, c, exec, "1:ExecutionStarted<0 2:TaskStateEntered<0 "+
		"3:TaskScheduled<2 4:TaskStarted<3 5:TaskFailed<4 6:TaskScheduled<5 7:TaskStarted<6 8:TaskFailed<7 "+
		"9:TaskScheduled<8 10:TaskStarted<9 11:TaskFailed<10 12:TaskScheduled<11 13:TaskStarted<12 14:TaskSucceeded<13 "+
		"15:TaskStateExited<14 16:TaskStateEntered<15 17:TaskScheduled<16 18:TaskStarted<17 19:TaskSucceeded<18 "+
		"20:TaskStateExited<19 21:ExecutionSucceeded<20")
	for i, wantErr := range map[int]string{4: "Lambda.ResourceNotReadyException", 7: "Lambda.TimeoutException", 10: "Lambda.TimeoutException"} {
		d := h[i].TaskFailedEventDetails
		if aws.ToString(d.Error) != wantErr || aws.ToString(d.Resource) != "invoke" {
			t.Fatalf("event %d: %+v", i+1, d)
		}
	}

	// A Throw caught by the state's Catch once the retries are spent.
	exec = start(t, c, sm+"#CaughtPath", "caught")
	if out = testutil.WaitDone(t, c, exec, 5*time.Second); out.Status != types.ExecutionStatusSucceeded ||
		!strings.Contains(aws.ToString(out.Output), `"error":{"Error":"Lambda.ResourceNotReadyException","Cause":"Lambda resource is not ready."}`) {
		t.Fatalf("caught: %s %s", out.Status, aws.ToString(out.Output))
	}

	// A retry with no response defined for its invocation fails the task.
	exec = start(t, c, sm+"#ShortPath", "short")
	if out = testutil.WaitDone(t, c, exec, 5*time.Second); out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != "States.Runtime" {
		t.Fatalf("short: %s %s", out.Status, aws.ToString(out.Error))
	}
}

func TestUnmockedStatesCallTheirResource(t *testing.T) {
	a := node(t, mockConfig)
	c := testutil.Client(a.Endpoint())
	sm := testutil.CreateStateMachine(t, c, "LambdaSQSIntegration", lambdaSQS)
	// HybridPath mocks only the Lambda state: the SQS state reaches the real SQS
	// integration, whose endpoint does not answer: the task fails with SQS's client
	// error, not with a mocked result.
	exec := start(t, c, sm+"#HybridPath", "hybrid")
	out := testutil.WaitDone(t, c, exec, 30*time.Second)
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != "SQS.SdkClientException" {
		t.Fatalf("hybrid: %s %s %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	// Without a test case nothing is mocked.
	exec = start(t, c, sm, "plain")
	if out = testutil.WaitDone(t, c, exec, 5*time.Second); out.Status != types.ExecutionStatusFailed {
		t.Fatalf("plain: %s", out.Status)
	}
}

func TestMockedActivityAndCallback(t *testing.T) {
	a := node(t, mockConfig)
	c := testutil.Client(a.Endpoint())
	act, err := c.CreateActivity(bg, &sfn.CreateActivityInput{Name: aws.String("work")})
	if err != nil {
		t.Fatal(err)
	}
	def := `{"StartAt":"Work","States":{
	  "Work":{"Type":"Task","Resource":"` + *act.ActivityArn + `","ResultPath":"$.work","Next":"Callback"},
	  "Callback":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
	    "Parameters":{"QueueUrl":"q","MessageBody":{"token.$":"$$.Task.Token"}},"ResultPath":"$.cb","End":true}}}`
	sm := testutil.CreateStateMachine(t, c, "Mixed", def)
	exec := start(t, c, sm+"#Mocked", "m1")
	out := testutil.WaitDone(t, c, exec, 5*time.Second)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("mixed: %s %s", out.Status, testutil.HistoryTypes(t, c, exec))
	}
	if got := aws.ToString(out.Output); got != `{"n":1,"work":{"z":1,"a":2},"cb":{"approved":true}}` {
		t.Fatalf("output %s", got)
	}
	h := testutil.WantHistory(t, c, exec, "1:ExecutionStarted<0 2:TaskStateEntered<0 3:ActivityScheduled<2 4:ActivityStarted<3 "+
		"5:ActivitySucceeded<4 6:TaskStateExited<5 7:TaskStateEntered<6 8:TaskScheduled<7 9:TaskStarted<8 "+
		"10:TaskSubmitted<9 11:TaskSucceeded<10 12:TaskStateExited<11 13:ExecutionSucceeded<12")
	if got := aws.ToString(h[9].TaskSubmittedEventDetails.Output); got != `{"approved":true}` {
		t.Fatalf("submitted %s", got)
	}
	// No activity task was ever queued.
	ctx, cancel := context.WithTimeout(bg, 300*time.Millisecond)
	defer cancel()
	if task, err := c.GetActivityTask(ctx, &sfn.GetActivityTaskInput{ActivityArn: act.ActivityArn}); err == nil && task.TaskToken != nil {
		t.Fatalf("a mocked activity queued a task: %s", aws.ToString(task.Input))
	}
}

func TestTestCaseARN(t *testing.T) {
	a := node(t, mockConfig)
	c := testutil.Client(a.Endpoint())
	sm := testutil.CreateStateMachine(t, c, "LambdaSQSIntegration", lambdaSQS)
	_, err := c.StartExecution(bg, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm + "#NoSuchCase")})
	testutil.WantCode(t, err, "ValidationException")
	other := testutil.CreateStateMachine(t, c, "Other", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	_, err = c.StartExecution(bg, &sfn.StartExecutionInput{StateMachineArn: aws.String(other + "#HappyPath")})
	testutil.WantCode(t, err, "ValidationException")
	_, err = c.StartExecution(bg, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm + "x#HappyPath")})
	testutil.WantCode(t, err, "StateMachineDoesNotExist")

	// Without a mock configuration the ARN form is refused as AWS refuses it.
	b := node(t, "")
	cb := testutil.Client(b.Endpoint())
	sm = testutil.CreateStateMachine(t, cb, "LambdaSQSIntegration", lambdaSQS)
	_, err = cb.StartExecution(bg, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm + "#HappyPath")})
	if err == nil {
		t.Fatal("a #TestCase ARN was accepted without a mock configuration")
	}
}

func TestParseMockConfig(t *testing.T) {
	if _, err := actors.ParseMockConfig([]byte(mockConfig)); err != nil {
		t.Fatalf("documented example: %v", err)
	}
	for name, bad := range map[string]string{
		"unknown response": `{"StateMachines":{"S":{"TestCases":{"T":{"A":"Nope"}}}},"MockedResponses":{}}`,
		"gap":              `{"StateMachines":{},"MockedResponses":{"R":{"0":{"Return":1},"2":{"Return":2}}}}`,
		"not from zero":    `{"StateMachines":{},"MockedResponses":{"R":{"1":{"Return":1}}}}`,
		"both":             `{"StateMachines":{},"MockedResponses":{"R":{"0":{"Return":1,"Throw":{"Error":"E","Cause":"C"}}}}}`,
		"neither":          `{"StateMachines":{},"MockedResponses":{"R":{"0":{}}}}`,
		"bad key":          `{"StateMachines":{},"MockedResponses":{"R":{"zero":{"Return":1}}}}`,
		"reversed range":   `{"StateMachines":{},"MockedResponses":{"R":{"0":{"Return":1},"3-1":{"Return":1}}}}`,
		"throw no error":   `{"StateMachines":{},"MockedResponses":{"R":{"0":{"Throw":{"Cause":"C"}}}}}`,
		"not json":         `{"StateMachines":`,
	} {
		if _, err := actors.ParseMockConfig([]byte(bad)); err == nil {
			t.Errorf("%s: accepted %s", name, bad)
		}
	}
	c, _ := actors.ParseMockConfig([]byte(mockConfig))
	tc, ok := c.TestCase("LambdaSQSIntegration", "RetryPath")
	if !ok {
		t.Fatal("no RetryPath")
	}
	for inv, want := range []string{"Lambda.ResourceNotReadyException", "Lambda.TimeoutException", "Lambda.TimeoutException", ""} {
		r, ok := tc.Response("LambdaState", inv)
		if !ok || r.Error != want || r.Throws() != (want != "") {
			t.Fatalf("invocation %d: %+v %v", inv, r, ok)
		}
	}
	if _, ok := tc.Response("LambdaState", 4); ok {
		t.Fatal("invocation 4 has a response")
	}
}
