// Package integrations tests Task states that call out of the engine — Lambda (the
// Invoke API, both the function-ARN resource and lambda:invoke) and HTTP tasks
// (http:invoke) — end to end: a real node, aws-sdk-go-v2 as the client, and real HTTP
// servers in the test standing in for Lambda and for third-party APIs. Histories are
// checked event by event against the shapes AWS records.
package integrations

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnd/sfnd/cmd/sfnd/app"
	"github.com/sfnd/sfnd/test/testutil"
)

const (
	role      = testutil.Role
	fnPrefix  = "arn:aws:lambda:us-east-1:123456789012:function:"
	fixedDate = "Thu, 28 Nov 2024 12:40:57 GMT"
	traceID   = "Root=1-6748644a-7d1b4a3c2f0e9d8c7b6a5948;Parent=1a2b3c4d5e6f7a8b;Sampled=0"
)

var bg = context.Background()

// node starts a node whose Lambda tasks call lambdaEndpoint.
func node(t *testing.T, dir, lambdaEndpoint string, scale float64) *app.App {
	t.Helper()
	return testutil.Start(t, testutil.Options{DataDir: dir, WaitTimeScale: scale, LambdaEndpoint: lambdaEndpoint})
}

// run starts an execution of def named name and waits for its end.
func run(t *testing.T, c *sfn.Client, name, def, input string) (string, *sfn.DescribeExecutionOutput) {
	t.Helper()
	arn := testutil.StartExecution(t, c, testutil.CreateStateMachine(t, c, name, def), input)
	return arn, testutil.WaitDone(t, c, arn, 20*time.Second)
}

// rawHistory reads an execution's history as the wire carries it (field presence
// matters), each event without its timestamp.
func rawHistory(t *testing.T, endpoint, arn string) []map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"executionArn": arn, "maxResults": 1000})
	req, _ := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AWSStepFunctions.GetExecutionHistory")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GetExecutionHistory: %d %v", resp.StatusCode, err)
	}
	for _, ev := range out.Events {
		if _, ok := ev["timestamp"]; !ok {
			t.Errorf("event %v has no timestamp", ev["id"])
		}
		delete(ev, "timestamp")
	}
	return out.Events
}

// checkHistory compares a history with the expected events (JSON, without
// timestamps), event by event and field by field; strings holding JSON (inputs,
// outputs, causes) must match character for character.
func checkHistory(t *testing.T, endpoint, arn string, want ...string) []map[string]any {
	t.Helper()
	got := rawHistory(t, endpoint, arn)
	for i := range max(len(got), len(want)) {
		if i >= len(got) {
			t.Fatalf("history has %d events, want %d; missing %s", len(got), len(want), want[i])
		}
		g, _ := json.Marshal(got[i])
		if i >= len(want) {
			t.Fatalf("history has %d events, want %d; extra %s", len(got), len(want), g)
		}
		var w map[string]any
		if err := json.Unmarshal([]byte(want[i]), &w); err != nil {
			t.Fatalf("bad expected event %d: %v\n%s", i+1, err, want[i])
		}
		if !reflect.DeepEqual(got[i], w) {
			wb, _ := json.Marshal(w)
			t.Fatalf("event %d differs\n got: %s\nwant: %s", i+1, g, wb)
		}
	}
	return got
}

// q quotes a JSON text as a JSON string (the way history details carry payloads).
func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// ---- the Lambda stand-in ----

// fnCall is one Invoke request the stand-in received.
type fnCall struct {
	Function, InvocationType, Authorization, Qualifier string
	Payload                                            string
}

// fnResult is a function's answer: status, payload and X-Amz-Function-Error.
type fnResult struct {
	Status   int
	Payload  string
	FuncErr  string
	ErrType  string // service error: X-Amzn-ErrorType
	Executed string // X-Amz-Executed-Version (default $LATEST on 200)
}

// lambdaStandIn is a real HTTP server speaking the Lambda Invoke API
// (POST /2015-03-31/functions/<name>/invocations) with the headers real Lambda sends.
type lambdaStandIn struct {
	*httptest.Server
	mu    sync.Mutex
	calls []fnCall
	fns   map[string]func(ctx context.Context, c fnCall) fnResult
}

func newLambda(t *testing.T, fns map[string]func(ctx context.Context, c fnCall) fnResult) *lambdaStandIn {
	l := &lambdaStandIn{fns: fns}
	l.Server = httptest.NewServer(http.HandlerFunc(l.serve))
	t.Cleanup(l.Close)
	return l
}

// requestID is the request id of the n-th call (1-based).
func requestID(n int) string { return fmt.Sprintf("5f3a8c1e-0000-4000-8000-%012d", n) }

func (l *lambdaStandIn) serve(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/2015-03-31/functions/")
	name, ok2 := strings.CutSuffix(name, "/invocations")
	if r.Method != http.MethodPost || !ok || !ok2 {
		http.Error(w, "not the Invoke API: "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(r.Body)
	c := fnCall{Function: name, InvocationType: r.Header.Get("X-Amz-Invocation-Type"),
		Authorization: r.Header.Get("Authorization"), Qualifier: r.URL.Query().Get("Qualifier"), Payload: string(body)}
	l.mu.Lock()
	l.calls = append(l.calls, c)
	n := len(l.calls)
	l.mu.Unlock()
	short := name
	if i := strings.LastIndex(name, ":function:"); i >= 0 {
		short = name[i+len(":function:"):]
	}
	fn := l.fns[short]
	h := w.Header()
	h.Set("Date", fixedDate)
	h.Set("Content-Type", "application/json")
	h.Set("x-amzn-RequestId", requestID(n))
	h.Set("Connection", "keep-alive")
	if fn == nil {
		msg := `{"Message":"Function not found: ` + fnPrefix + short + `:$LATEST","Type":"User"}`
		h.Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		h.Set("Content-Length", strconv.Itoa(len(msg)))
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, msg)
		return
	}
	res := fn(r.Context(), c)
	if res.Status == 0 {
		res.Status = http.StatusOK
		if c.InvocationType == "Event" {
			res.Status = http.StatusAccepted
		}
	}
	switch {
	case res.ErrType != "":
		h.Set("X-Amzn-ErrorType", res.ErrType)
	case res.Status == http.StatusOK:
		if res.Executed == "" {
			res.Executed = "$LATEST"
		}
		h.Set("X-Amz-Executed-Version", res.Executed)
		h.Set("x-amzn-Remapped-Content-Length", "0")
		h.Set("X-Amzn-Trace-Id", traceID)
	}
	if res.FuncErr != "" {
		h.Set("X-Amz-Function-Error", res.FuncErr)
	}
	h.Set("Content-Length", strconv.Itoa(len(res.Payload)))
	w.WriteHeader(res.Status)
	_, _ = io.WriteString(w, res.Payload)
}

func (l *lambdaStandIn) Calls() []fnCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]fnCall(nil), l.calls...)
}

// echo answers the payload it got ({} for none, as Lambda gives a function).
func echo(_ context.Context, c fnCall) fnResult {
	if c.Payload == "" {
		return fnResult{Payload: "{}"}
	}
	return fnResult{Payload: c.Payload}
}

// pyRaise is a Python function raising Exception (payload as the Python runtime
// prints it: json.dumps with spaces).
func pyRaise(typ, msg string) func(context.Context, fnCall) fnResult {
	return func(context.Context, fnCall) fnResult {
		return fnResult{FuncErr: "Unhandled", Payload: `{"errorMessage": "` + msg + `", "errorType": "` + typ +
			`", "requestId": "0b5b5c1a-1111-4222-8333-444455556666", "stackTrace": ["  File \"/var/task/handler.py\", line 2, in handler\n    raise ` +
			typ + `(\"` + msg + `\")\n"]}`}
	}
}

// invokeOutput is the TaskSucceeded output of lambda:invoke as AWS records it: the
// Java SDK's InvokeResult, AllHttpHeaders in java.util.HashMap order, HttpHeaders
// sorted case-insensitively (key order copied from histories recorded on AWS).
func invokeOutput(payload string, n int) string {
	id := requestID(n)
	cl := strconv.Itoa(len(payload))
	return `{"ExecutedVersion":"$LATEST","Payload":` + payload + `,"SdkHttpMetadata":{"AllHttpHeaders":{` +
		`"X-Amz-Executed-Version":["$LATEST"],"x-amzn-Remapped-Content-Length":["0"],"Connection":["keep-alive"],` +
		`"x-amzn-RequestId":["` + id + `"],"Content-Length":["` + cl + `"],"Date":["` + fixedDate + `"],` +
		`"X-Amzn-Trace-Id":["` + traceID + `"],"Content-Type":["application/json"]},` +
		`"HttpHeaders":{"Connection":"keep-alive","Content-Length":"` + cl + `","Content-Type":"application/json",` +
		`"Date":"` + fixedDate + `","X-Amz-Executed-Version":"$LATEST","x-amzn-Remapped-Content-Length":"0",` +
		`"x-amzn-RequestId":"` + id + `","X-Amzn-Trace-Id":"` + traceID + `"},"HttpStatusCode":200},` +
		`"SdkResponseMetadata":{"RequestId":"` + id + `"},"StatusCode":200}`
}

func client(a *app.App) *sfn.Client { return testutil.Client(a.Endpoint()) }

// ---- expected events ----

// ev is one expected event: id, previous event id, type and its details (the
// details' field name comes from the type, as in the AWS API).
func ev(id, prev int, typ, details string) string {
	s := fmt.Sprintf(`{"id":%d,"previousEventId":%d,"type":%q`, id, prev, typ)
	if details != "" {
		s += fmt.Sprintf(`,%q:%s`, detailsField(typ), details)
	}
	return s + "}"
}

func detailsField(typ string) string {
	switch {
	case strings.HasSuffix(typ, "StateEntered"):
		return "stateEnteredEventDetails"
	case strings.HasSuffix(typ, "StateExited"):
		return "stateExitedEventDetails"
	}
	return strings.ToLower(typ[:1]) + typ[1:] + "EventDetails"
}

func execStarted(input string) string {
	return ev(1, 0, "ExecutionStarted", `{"input":`+q(input)+`,"inputDetails":{"truncated":false},"roleArn":"`+role+`"}`)
}

func entered(id, prev int, typ, name, input string) string {
	return ev(id, prev, typ+"StateEntered", `{"name":"`+name+`","input":`+q(input)+`,"inputDetails":{"truncated":false}}`)
}

func exited(id, prev int, typ, name, output string) string {
	return ev(id, prev, typ+"StateExited", `{"name":"`+name+`","output":`+q(output)+`,"outputDetails":{"truncated":false}}`)
}

func execSucceeded(id, prev int, output string) string {
	return ev(id, prev, "ExecutionSucceeded", `{"output":`+q(output)+`,"outputDetails":{"truncated":false}}`)
}

func execFailed(id, prev int, err, cause string) string {
	return ev(id, prev, "ExecutionFailed", `{"error":`+q(err)+`,"cause":`+q(cause)+`}`)
}

// task* are the Task* events of an optimised integration (resourceType/resource).
func taskScheduled(id, prev int, typ, res, params, extra string) string {
	return ev(id, prev, "TaskScheduled", `{"resourceType":"`+typ+`","resource":"`+res+`","region":"us-east-1","parameters":`+q(params)+extra+`}`)
}

func taskStarted(id, prev int, typ, res string) string {
	return ev(id, prev, "TaskStarted", `{"resourceType":"`+typ+`","resource":"`+res+`"}`)
}

func taskSucceeded(id, prev int, typ, res, output string) string {
	return ev(id, prev, "TaskSucceeded", `{"resourceType":"`+typ+`","resource":"`+res+`","output":`+q(output)+`,"outputDetails":{"truncated":false}}`)
}

func taskFailed(id, prev int, typ, res, err, cause string) string {
	return ev(id, prev, "TaskFailed", `{"resourceType":"`+typ+`","resource":"`+res+`","error":`+q(err)+`,"cause":`+q(cause)+`}`)
}

// errorOutput is the state output a Catch without ResultPath gives.
func errorOutput(err, cause string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct{ Error, Cause string }{err, cause})
	return strings.TrimSpace(b.String())
}
