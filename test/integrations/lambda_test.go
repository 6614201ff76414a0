package integrations

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
	"github.com/sfnd/sfnd/test/testutil"
)

func compact(s string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		panic(err)
	}
	return b.String()
}

// TestLambdaSuccess: lambda:invoke and a function ARN, histories as AWS records them.
func TestLambdaSuccess(t *testing.T) {
	l := newLambda(t, map[string]func(context.Context, fnCall) fnResult{
		"echo": echo,
		"py": func(context.Context, fnCall) fnResult {
			return fnResult{Payload: `{"Return":"HelloWorld"}`}
		},
	})
	a := node(t, "", l.URL, 0.001)
	c := client(a)

	// The optimised integration: Task* events, the Invoke result as output.
	arn, out := run(t, c, "invoke", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName":"echo","Payload":{"a":1,"s.$":"$.s"}},"End":true}}}`, `{"s":"x"}`)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s: %s %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	params := `{"FunctionName":"echo","Payload":{"a":1,"s":"x"}}`
	result := invokeOutput(`{"a":1,"s":"x"}`, 1)
	checkHistory(t, a.Endpoint(), arn,
		execStarted(`{"s":"x"}`),
		entered(2, 0, "Task", "T", `{"s":"x"}`),
		taskScheduled(3, 2, "lambda", "invoke", params, ""),
		taskStarted(4, 3, "lambda", "invoke"),
		taskSucceeded(5, 4, "lambda", "invoke", result),
		exited(6, 5, "Task", "T", result),
		execSucceeded(7, 6, result),
	)
	calls := l.Calls()
	if len(calls) != 1 || calls[0].Function != "echo" || calls[0].Payload != `{"a":1,"s":"x"}` ||
		(calls[0].InvocationType != "" && calls[0].InvocationType != "RequestResponse") {
		t.Fatalf("calls %+v", calls)
	}
	if auth := calls[0].Authorization; !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=") ||
		!strings.Contains(auth, "/us-east-1/lambda/aws4_request") || !strings.Contains(auth, "Signature=") {
		t.Fatalf("call not SigV4-signed for lambda: %q", auth)
	}

	// A function ARN: Lambda* events, the payload as the function returned it.
	arn, out = run(t, c, "legacy", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"`+fnPrefix+`py",
		"TimeoutSeconds":30,"End":true}}}`, `{"in":1}`)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s", out.Status)
	}
	checkHistory(t, a.Endpoint(), arn,
		execStarted(`{"in":1}`),
		entered(2, 0, "Task", "T", `{"in":1}`),
		ev(3, 2, "LambdaFunctionScheduled", `{"resource":"`+fnPrefix+`py","input":`+q(`{"in":1}`)+
			`,"inputDetails":{"truncated":false},"timeoutInSeconds":30}`),
		ev(4, 3, "LambdaFunctionStarted", ""),
		ev(5, 4, "LambdaFunctionSucceeded", `{"output":`+q(`{"Return":"HelloWorld"}`)+`,"outputDetails":{"truncated":false}}`),
		exited(6, 5, "Task", "T", `{"Return":"HelloWorld"}`),
		execSucceeded(7, 6, `{"Return":"HelloWorld"}`),
	)
	if calls = l.Calls(); len(calls) != 2 || calls[1].Function != fnPrefix+"py" || calls[1].Payload != `{"in":1}` {
		t.Fatalf("calls %+v", calls)
	}

	// A string Payload is sent as it is (here a JSON string), no Payload sends none;
	// the result's Payload is the answer parsed as JSON.
	_, out = run(t, c, "payloads", `{"StartAt":"S","States":{
		"S":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"echo","Payload.$":"$.p"},
			"ResultSelector":{"p.$":"$.Payload","code.$":"$.StatusCode"},"ResultPath":"$.s","Next":"N"},
		"N":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"echo"},
			"ResultSelector":{"p.$":"$.Payload"},"ResultPath":"$.n","End":true}}}`, `{"p":"\"HelloWorld\""}`)
	if want := `{"p":"\"HelloWorld\"","s":{"p":"HelloWorld","code":200},"n":{"p":{}}}`; aws.ToString(out.Output) != want {
		t.Fatalf("output %s, want %s", aws.ToString(out.Output), want)
	}
	if calls = l.Calls(); len(calls) != 4 || calls[2].Payload != `"HelloWorld"` || calls[3].Payload != "" {
		t.Fatalf("calls %+v", calls)
	}
}

// TestLambdaFunctionErrors: a function's error names the failure by its errorType;
// the cause is the payload (as returned for a function ARN, re-serialised compactly
// by lambda:invoke), and Catch matches it.
func TestLambdaFunctionErrors(t *testing.T) {
	raise := pyRaise("Exception", "Some exception was raised.")
	custom := pyRaise("CustomException", "Custom")
	l := newLambda(t, map[string]func(context.Context, fnCall) fnResult{
		"raise":  raise,
		"custom": custom,
		"handled": func(context.Context, fnCall) fnResult {
			return fnResult{FuncErr: "Handled", Payload: `{"errorType":"ValidationError","errorMessage":"bad <input> & more"}`}
		},
	})
	a := node(t, "", l.URL, 0.001)
	c := client(a)
	rawCause := raise(bg, fnCall{}).Payload

	arn, out := run(t, c, "legacy-raise", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"`+fnPrefix+`raise","End":true}}}`, `{}`)
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != "Exception" || aws.ToString(out.Cause) != rawCause {
		t.Fatalf("got %s %s %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	checkHistory(t, a.Endpoint(), arn,
		execStarted(`{}`),
		entered(2, 0, "Task", "T", `{}`),
		ev(3, 2, "LambdaFunctionScheduled", `{"resource":"`+fnPrefix+`raise","input":"{}","inputDetails":{"truncated":false}}`),
		ev(4, 3, "LambdaFunctionStarted", ""),
		ev(5, 4, "LambdaFunctionFailed", `{"error":"Exception","cause":`+q(rawCause)+`}`),
		execFailed(6, 5, "Exception", rawCause),
	)

	customCause := compact(custom(bg, fnCall{}).Payload)
	params := `{"FunctionName":"custom","Payload":{}}`
	arn, out = run(t, c, "invoke-catch", `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"custom","Payload":{}},
			"Catch":[{"ErrorEquals":["Other"],"Next":"Wrong"},{"ErrorEquals":["CustomException"],"Next":"Handled"}],"End":true},
		"Wrong":{"Type":"Fail","Error":"Wrong"},
		"Handled":{"Type":"Pass","End":true}}}`, `{}`)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s %s", out.Status, aws.ToString(out.Error))
	}
	caught := errorOutput("CustomException", customCause)
	checkHistory(t, a.Endpoint(), arn,
		execStarted(`{}`),
		entered(2, 0, "Task", "T", `{}`),
		taskScheduled(3, 2, "lambda", "invoke", params, ""),
		taskStarted(4, 3, "lambda", "invoke"),
		taskFailed(5, 4, "lambda", "invoke", "CustomException", customCause),
		exited(6, 5, "Task", "T", caught),
		entered(7, 6, "Pass", "Handled", caught),
		exited(8, 7, "Pass", "Handled", caught),
		execSucceeded(9, 8, caught),
	)

	// A handled error (X-Amz-Function-Error: Handled) fails the task the same way.
	_, out = run(t, c, "invoke-handled", `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"handled"},"End":true}}}`, `{}`)
	if aws.ToString(out.Error) != "ValidationError" ||
		aws.ToString(out.Cause) != `{"errorType":"ValidationError","errorMessage":"bad <input> & more"}` {
		t.Fatalf("got %s %s", aws.ToString(out.Error), aws.ToString(out.Cause))
	}
}

// TestLambdaServiceErrors: Lambda's own errors are Lambda.<Exception> with the Java
// SDK's cause text; Retry and Catch see them.
func TestLambdaServiceErrors(t *testing.T) {
	var flaky atomic.Int32
	l := newLambda(t, map[string]func(context.Context, fnCall) fnResult{
		"flaky": func(_ context.Context, c fnCall) fnResult {
			if flaky.Add(1) <= 2 {
				return fnResult{Status: 500, ErrType: "ServiceException", Payload: `{"Message":"Lambda is unwell","Type":"Service"}`}
			}
			return echo(bg, c)
		},
		"unnamed": func(context.Context, fnCall) fnResult {
			return fnResult{Status: 502, Payload: `{"message":"bad gateway"}`}
		},
	})
	a := node(t, "", l.URL, 0.001)
	c := client(a)

	notFound := func(fn string, n int) string {
		return "Function not found: " + fnPrefix + fn + ":$LATEST (Service: AWSLambda; Status Code: 404; " +
			"Error Code: ResourceNotFoundException; Request ID: " + requestID(n) + "; Proxy: null)"
	}
	params := `{"FunctionName":"nosuch","Payload":{"x":1}}`
	arn, out := run(t, c, "nosuch", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName":"nosuch","Payload":{"x":1}},"End":true}}}`, `{}`)
	if out.Status != types.ExecutionStatusFailed {
		t.Fatalf("status %s", out.Status)
	}
	checkHistory(t, a.Endpoint(), arn,
		execStarted(`{}`),
		entered(2, 0, "Task", "T", `{}`),
		taskScheduled(3, 2, "lambda", "invoke", params, ""),
		taskStarted(4, 3, "lambda", "invoke"),
		taskFailed(5, 4, "lambda", "invoke", "Lambda.ResourceNotFoundException", notFound("nosuch", 1)),
		execFailed(6, 5, "Lambda.ResourceNotFoundException", notFound("nosuch", 1)),
	)

	arn, _ = run(t, c, "nosuch-legacy", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"`+fnPrefix+`gone","End":true}}}`, `{}`)
	checkHistory(t, a.Endpoint(), arn,
		execStarted(`{}`),
		entered(2, 0, "Task", "T", `{}`),
		ev(3, 2, "LambdaFunctionScheduled", `{"resource":"`+fnPrefix+`gone","input":"{}","inputDetails":{"truncated":false}}`),
		ev(4, 3, "LambdaFunctionStarted", ""),
		ev(5, 4, "LambdaFunctionFailed", `{"error":"Lambda.ResourceNotFoundException","cause":`+q(notFound("gone", 2))+`}`),
		execFailed(6, 5, "Lambda.ResourceNotFoundException", notFound("gone", 2)),
	)

	// Retry on Lambda.ServiceException: two failures, then the answer.
	params = `{"FunctionName":"flaky","Payload":{"n":1}}`
	arn, out = run(t, c, "retry", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName":"flaky","Payload":{"n":1}},"OutputPath":"$.Payload",
		"Retry":[{"ErrorEquals":["Lambda.ServiceException","Lambda.AWSLambdaException"],"IntervalSeconds":1,"MaxAttempts":3}],"End":true}}}`, `{}`)
	if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Output) != `{"n":1}` {
		t.Fatalf("got %s %s %s", out.Status, aws.ToString(out.Output), aws.ToString(out.Error))
	}
	unwell := func(n int) string {
		return "Lambda is unwell (Service: AWSLambda; Status Code: 500; Error Code: ServiceException; Request ID: " +
			requestID(n) + "; Proxy: null)"
	}
	checkHistory(t, a.Endpoint(), arn,
		execStarted(`{}`),
		entered(2, 0, "Task", "T", `{}`),
		taskScheduled(3, 2, "lambda", "invoke", params, ""),
		taskStarted(4, 3, "lambda", "invoke"),
		taskFailed(5, 4, "lambda", "invoke", "Lambda.ServiceException", unwell(3)),
		taskScheduled(6, 5, "lambda", "invoke", params, ""),
		taskStarted(7, 6, "lambda", "invoke"),
		taskFailed(8, 7, "lambda", "invoke", "Lambda.ServiceException", unwell(4)),
		taskScheduled(9, 8, "lambda", "invoke", params, ""),
		taskStarted(10, 9, "lambda", "invoke"),
		taskSucceeded(11, 10, "lambda", "invoke", invokeOutput(`{"n":1}`, 5)),
		exited(12, 11, "Task", "T", `{"n":1}`),
		execSucceeded(13, 12, `{"n":1}`),
	)

	// An error Lambda does not name is Lambda.AWSLambdaException.
	_, out = run(t, c, "unnamed", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName":"unnamed"},"Catch":[{"ErrorEquals":["Lambda.AWSLambdaException"],"Next":"C"}],"End":true},
		"C":{"Type":"Pass","End":true}}}`, `{}`)
	var caught struct{ Error, Cause string }
	_ = json.Unmarshal([]byte(aws.ToString(out.Output)), &caught)
	if out.Status != types.ExecutionStatusSucceeded || caught.Error != "Lambda.AWSLambdaException" ||
		!strings.Contains(caught.Cause, "(Service: AWSLambda; Status Code: 502; Error Code: AWSLambdaException; Request ID: "+requestID(6)+"; Proxy: null)") {
		t.Fatalf("got %s %s", out.Status, aws.ToString(out.Output))
	}

	// No Lambda at all: Lambda.SdkClientException.
	dead := node(t, "", "http://127.0.0.1:1", 0.001)
	_, out = run(t, client(dead), "dead", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"`+fnPrefix+`f",
		"Catch":[{"ErrorEquals":["Lambda.SdkClientException"],"Next":"C"}],"End":true},"C":{"Type":"Pass","End":true}}}`, `{}`)
	caught = struct{ Error, Cause string }{}
	_ = json.Unmarshal([]byte(aws.ToString(out.Output)), &caught)
	if out.Status != types.ExecutionStatusSucceeded || caught.Error != "Lambda.SdkClientException" ||
		!strings.HasPrefix(caught.Cause, "Unable to execute HTTP request: ") {
		t.Fatalf("got %s %s", out.Status, aws.ToString(out.Output))
	}
}

// TestLambdaTimeout: TimeoutSeconds ends a call that does not answer in time.
func TestLambdaTimeout(t *testing.T) {
	release := make(chan struct{})
	l := newLambda(t, map[string]func(context.Context, fnCall) fnResult{
		"slow": func(ctx context.Context, c fnCall) fnResult {
			select {
			case <-ctx.Done():
			case <-release:
			}
			return echo(ctx, c)
		},
	})
	t.Cleanup(func() { close(release) })
	a := node(t, "", l.URL, 0.2) // TimeoutSeconds 1 -> 200 ms
	c := client(a)

	arn, out := run(t, c, "invoke-timeout", `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"slow"},"TimeoutSeconds":1,
			"Catch":[{"ErrorEquals":["States.Timeout"],"Next":"C"}],"End":true},
		"C":{"Type":"Pass","End":true}}}`, `{}`)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s", out.Status)
	}
	caught := errorOutput("States.Timeout", "")
	checkHistory(t, a.Endpoint(), arn,
		execStarted(`{}`),
		entered(2, 0, "Task", "T", `{}`),
		taskScheduled(3, 2, "lambda", "invoke", `{"FunctionName":"slow"}`, `,"timeoutInSeconds":1`),
		taskStarted(4, 3, "lambda", "invoke"),
		ev(5, 4, "TaskTimedOut", `{"resourceType":"lambda","resource":"invoke","error":"States.Timeout"}`),
		exited(6, 5, "Task", "T", caught),
		entered(7, 6, "Pass", "C", caught),
		exited(8, 7, "Pass", "C", caught),
		execSucceeded(9, 8, caught),
	)

	arn, out = run(t, c, "legacy-timeout", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"`+fnPrefix+`slow",
		"TimeoutSeconds":1,"End":true}}}`, `{}`)
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != "States.Timeout" {
		t.Fatalf("got %s %s", out.Status, aws.ToString(out.Error))
	}
	checkHistory(t, a.Endpoint(), arn,
		execStarted(`{}`),
		entered(2, 0, "Task", "T", `{}`),
		ev(3, 2, "LambdaFunctionScheduled", `{"resource":"`+fnPrefix+`slow","input":"{}","inputDetails":{"truncated":false},"timeoutInSeconds":1}`),
		ev(4, 3, "LambdaFunctionStarted", ""),
		ev(5, 4, "LambdaFunctionTimedOut", `{"error":"States.Timeout"}`),
		ev(6, 5, "ExecutionFailed", `{"error":"States.Timeout"}`),
	)
}

// TestLambdaWaitForTaskToken: lambda:invoke.waitForTaskToken invokes the function
// asynchronously, records TaskSubmitted with the Invoke result, then waits for the
// token's answer.
func TestLambdaWaitForTaskToken(t *testing.T) {
	tokens := make(chan string, 1)
	l := newLambda(t, map[string]func(context.Context, fnCall) fnResult{
		"worker": func(_ context.Context, c fnCall) fnResult {
			var p struct{ Token string }
			_ = json.Unmarshal([]byte(c.Payload), &p)
			tokens <- p.Token
			return fnResult{} // 202, no payload
		},
	})
	a := node(t, "", l.URL, 0.001)
	c := client(a)
	sm := testutil.CreateStateMachine(t, c, "callback", `{"StartAt":"T","States":{"T":{"Type":"Task",
		"Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
		"Parameters":{"FunctionName":"worker","Payload":{"Token.$":"$$.Task.Token","in.$":"$"}},"End":true}}}`)
	st, err := c.StartExecution(bg, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(`{"k":"v"}`)})
	if err != nil {
		t.Fatal(err)
	}
	var token string
	select {
	case token = <-tokens:
	case <-time.After(10 * time.Second):
		t.Fatal("the function was not invoked")
	}
	if calls := l.Calls(); len(calls) != 1 || calls[0].InvocationType != "Event" {
		t.Fatalf("calls %+v", calls)
	}
	// TaskSubmitted is recorded before the answer is accepted.
	deadline := time.Now().Add(10 * time.Second)
	for len(rawHistory(t, a.Endpoint(), *st.ExecutionArn)) < 5 {
		if time.Now().After(deadline) {
			t.Fatal("no TaskSubmitted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"done":true}`)}); err != nil {
		t.Fatal(err)
	}
	out := testutil.WaitDone(t, c, *st.ExecutionArn, 10*time.Second)
	if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Output) != `{"done":true}` {
		t.Fatalf("got %s %s", out.Status, aws.ToString(out.Output))
	}
	h := rawHistory(t, a.Endpoint(), *st.ExecutionArn)
	var seq []string
	for _, e := range h {
		seq = append(seq, e["type"].(string))
	}
	want := "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskSubmitted TaskSucceeded TaskStateExited ExecutionSucceeded"
	if strings.Join(seq, " ") != want {
		t.Fatalf("history %v", seq)
	}
	sub := h[4]["taskSubmittedEventDetails"].(map[string]any)
	if sub["resourceType"] != "lambda" || sub["resource"] != "invoke.waitForTaskToken" {
		t.Fatalf("TaskSubmitted %v", sub)
	}
	var res struct {
		Payload         *string
		StatusCode      int
		SdkHttpMetadata struct {
			AllHttpHeaders map[string][]string
			HttpHeaders    map[string]string
			HttpStatusCode int
		}
		SdkResponseMetadata struct{ RequestId string }
	}
	if err := json.Unmarshal([]byte(sub["output"].(string)), &res); err != nil {
		t.Fatal(err)
	}
	md := res.SdkHttpMetadata
	if res.Payload == nil || *res.Payload != "" || res.StatusCode != 202 || md.HttpStatusCode != 202 ||
		res.SdkResponseMetadata.RequestId != requestID(1) || md.HttpHeaders["x-amzn-RequestId"] != requestID(1) ||
		len(md.AllHttpHeaders["x-amzn-RequestId"]) != 1 || md.HttpHeaders["Date"] != fixedDate {
		t.Fatalf("TaskSubmitted output %s", sub["output"])
	}
	if !strings.HasPrefix(sub["output"].(string), `{"Payload":"","SdkHttpMetadata":{"AllHttpHeaders":{`) {
		t.Fatalf("TaskSubmitted output %s", sub["output"])
	}
}

// TestLambdaReissueAfterRestart: a call in flight when its node stops is made again
// by the node that recovers the execution (at least once), and late or repeated
// results of the same task add no events.
func TestLambdaReissueAfterRestart(t *testing.T) {
	var n atomic.Int32
	inFlight := make(chan struct{}, 4)
	release := make(chan struct{})
	l := newLambda(t, map[string]func(context.Context, fnCall) fnResult{
		"once": func(ctx context.Context, c fnCall) fnResult {
			if n.Add(1) == 1 {
				inFlight <- struct{}{}
				<-release // the first node dies while this call is in flight
			}
			return echo(ctx, c)
		},
	})
	dir := t.TempDir()
	a := node(t, dir, l.URL, 0.1)
	c := client(a)
	sm := testutil.CreateStateMachine(t, c, "reissue", `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"once","Payload.$":"$"},
			"OutputPath":"$.Payload","Next":"W"},
		"W":{"Type":"Wait","Seconds":5,"End":true}}}`)
	st, err := c.StartExecution(bg, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(`{"v":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	arn := *st.ExecutionArn
	select {
	case <-inFlight:
	case <-time.After(10 * time.Second):
		t.Fatal("the function was not invoked")
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(rawHistory(t, a.Endpoint(), arn)) < 4 { // TaskStarted recorded
		if time.Now().After(deadline) {
			t.Fatal("no TaskStarted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.Close()
	close(release) // the first call answers into a dead node

	b := node(t, dir, l.URL, 0.1)
	c = client(b)
	// While the execution waits, results of the same task arrive again (a late answer
	// of the first call, a repeated start): the decider must ignore them.
	for len(rawHistory(t, b.Endpoint(), arn)) < 7 { // ... TaskSucceeded, TaskStateExited, WaitStateEntered
		if time.Now().After(deadline) {
			t.Fatalf("the re-issued call did not complete: %v", rawHistory(t, b.Endpoint(), arn))
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i, r := range []events.TaskResult{
		{ScheduledEventID: 3, Status: "Started"},
		{ScheduledEventID: 3, Status: "Succeeded", Output: `{"Payload":{"late":true}}`},
		{ScheduledEventID: 3, Status: "Failed", Error: "Lambda.ServiceException", Cause: "late"},
	} {
		data, _ := json.Marshal(events.Command{Kind: events.CmdTaskResult, ExecARN: arn, Time: time.Now().UTC(), Task: &r})
		if _, err := b.Store.JS.Publish(bg, jsstore.CommandSubject(arn), data,
			jetstream.WithMsgID("stale-"+string(rune('a'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	out := testutil.WaitDone(t, c, arn, 20*time.Second)
	if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Output) != `{"v":1}` {
		t.Fatalf("got %s %s", out.Status, aws.ToString(out.Output))
	}
	params := `{"FunctionName":"once","Payload":{"v":1}}`
	checkHistory(t, b.Endpoint(), arn,
		execStarted(`{"v":1}`),
		entered(2, 0, "Task", "T", `{"v":1}`),
		taskScheduled(3, 2, "lambda", "invoke", params, ""),
		taskStarted(4, 3, "lambda", "invoke"),
		taskSucceeded(5, 4, "lambda", "invoke", invokeOutput(`{"v":1}`, 2)),
		exited(6, 5, "Task", "T", `{"v":1}`),
		entered(7, 6, "Wait", "W", `{"v":1}`),
		exited(8, 7, "Wait", "W", `{"v":1}`),
		execSucceeded(9, 8, `{"v":1}`),
	)
	if got := n.Load(); got != 2 {
		t.Fatalf("the function ran %d times, want 2 (the re-issued call)", got)
	}
}
