package integrations

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/test/testutil"
	"github.com/sfnd/sfnd/test/testutil/versitygw"
)

// SQS, EventBridge, ECS and Batch have no server installable here that speaks their
// current protocols (aws-sdk-go-v2 talks AWS JSON 1.0/1.1 to SQS, EventBridge and ECS,
// REST-JSON to Batch). These tests check sfnd's side of each call against the shapes
// the services' API references document: a recorder (a real HTTP server written for
// the test) captures the request aws-sdk-go-v2 sends and answers as the service would.

// recorder is an HTTP server answering AWS API calls with canned responses by
// operation (X-Amz-Target, or the REST path) and recording what it got.
type recorder struct {
	*httptest.Server
	mu     sync.Mutex
	calls  []recorded
	answer func(op string, body map[string]any, n int) (status int, errType, resp string)
}

type recorded struct {
	Op   string
	Body map[string]any
	Auth string
}

func newRecorder(t *testing.T, answer func(op string, body map[string]any, n int) (int, string, string)) *recorder {
	r := &recorder{answer: answer}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		op := req.Header.Get("X-Amz-Target")
		if op == "" {
			op = req.URL.Path
		}
		if i := strings.LastIndex(op, "."); i >= 0 {
			op = op[i+1:]
		}
		var body map[string]any
		raw, _ := io.ReadAll(req.Body)
		_ = json.Unmarshal(raw, &body)
		r.mu.Lock()
		r.calls = append(r.calls, recorded{Op: op, Body: body, Auth: req.Header.Get("Authorization")})
		n := 0
		for _, c := range r.calls {
			if c.Op == op {
				n++
			}
		}
		r.mu.Unlock()
		status, errType, resp := r.answer(op, body, n)
		w.Header().Set("x-amzn-RequestId", "req-"+op+"-"+strconv.Itoa(n))
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if errType != "" {
			w.Header().Set("X-Amzn-ErrorType", errType)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, resp)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) Calls(op string) []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recorded
	for _, c := range r.calls {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

func failed(t *testing.T, out *sfn.DescribeExecutionOutput) string {
	return string(out.Status) + " " + aws.ToString(out.Error) + " " + aws.ToString(out.Cause)
}

// TestSQS: sendMessage's request (a JSON MessageBody sent as its text), its output
// with the SDK metadata, SQS's error names for Catch, and .waitForTaskToken: the
// execution waits until the message's consumer answers with the token.
func TestSQS(t *testing.T) {
	rec := newRecorder(t, func(op string, body map[string]any, n int) (int, string, string) {
		if strings.HasSuffix(body["QueueUrl"].(string), "/missing") {
			return 400, "", `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}`
		}
		sum := md5.Sum([]byte(body["MessageBody"].(string))) // the SDK checks it, as SQS computes it
		return 200, "", `{"MD5OfMessageBody":"` + hex.EncodeToString(sum[:]) + `","MessageId":"msg-` + strconv.Itoa(n) + `"}`
	})
	a := testutil.Start(t, testutil.Options{Endpoints: map[string]string{"sqs": rec.URL}})
	c := client(a)
	queue := rec.URL + "/123456789012/orders"

	_, out := run(t, c, "send", `{"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage",
		"Parameters":{"QueueUrl":"`+queue+`","MessageBody":{"order.$":"$.id","n":1},"DelaySeconds":1,
			"MessageAttributes":{"kind":{"DataType":"String","StringValue":"new"}}},"End":true}}}`, `{"id":"o-1"}`)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatal(failed(t, out))
	}
	res := outputOf(t, aws.ToString(out.Output))
	if res["MessageId"] != "msg-1" || res["MD5OfMessageBody"] != "23fe88ab4c4c2fcc7c45c3cf238e0ed0" || res["SdkHttpMetadata"] == nil ||
		res["SdkResponseMetadata"].(map[string]any)["RequestId"] != "req-SendMessage-1" {
		t.Fatalf("output %s", aws.ToString(out.Output))
	}
	call := rec.Calls("SendMessage")[0]
	if call.Body["QueueUrl"] != queue || call.Body["MessageBody"] != `{"order":"o-1","n":1}` || call.Body["DelaySeconds"] != float64(1) ||
		!jsonEq(call.Body["MessageAttributes"], `{"kind":{"DataType":"String","StringValue":"new"}}`) {
		t.Fatalf("request %v", call.Body)
	}
	if !strings.Contains(call.Auth, "/us-east-1/sqs/aws4_request") {
		t.Fatalf("not signed for sqs: %s", call.Auth)
	}

	_, out = run(t, c, "missing", `{"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage",
		"Parameters":{"QueueUrl":"`+rec.URL+`/1/missing","MessageBody":"x"},
		"Catch":[{"ErrorEquals":["SQS.QueueDoesNotExistException"],"Next":"C"}],"End":true},"C":{"Type":"Pass","End":true}}}`, `{}`)
	if res := outputOf(t, aws.ToString(out.Output)); out.Status != types.ExecutionStatusSucceeded ||
		res["Error"] != "SQS.QueueDoesNotExistException" || !strings.HasPrefix(res["Cause"].(string), "The specified queue does not exist. (Service: AmazonSQS; Status Code: 400;") {
		t.Fatalf("caught: %s %s", failed(t, out), aws.ToString(out.Output))
	}

	// .waitForTaskToken: the token travels in the message; the consumer answers.
	sm := testutil.CreateStateMachine(t, c, "callback", `{"StartAt":"S","States":{"S":{"Type":"Task",
		"Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
		"Parameters":{"QueueUrl":"`+queue+`","MessageBody":{"token.$":"$$.Task.Token"}},"End":true}}}`)
	arn := testutil.StartExecution(t, c, sm, `{}`)
	var token string
	for deadline := time.Now().Add(20 * time.Second); token == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if calls := rec.Calls("SendMessage"); len(calls) == 3 {
			var m map[string]string
			_ = json.Unmarshal([]byte(calls[2].Body["MessageBody"].(string)), &m)
			token = m["token"]
		}
	}
	if token == "" {
		t.Fatal("no message with a task token")
	}
	if d, err := c.DescribeExecution(bg, &sfn.DescribeExecutionInput{ExecutionArn: &arn}); err != nil || d.Status != types.ExecutionStatusRunning {
		t.Fatalf("before the answer: %v %v", d.Status, err)
	}
	if _, err := c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: &token, Output: aws.String(`{"done":true}`)}); err != nil {
		t.Fatal(err)
	}
	if out := testutil.WaitDone(t, c, arn, 20*time.Second); aws.ToString(out.Output) != `{"done":true}` {
		t.Fatalf("callback: %s %s", failed(t, out), aws.ToString(out.Output))
	}
	testutil.WantHistory(t, c, arn, "1:ExecutionStarted<0 2:TaskStateEntered<0 3:TaskScheduled<2 4:TaskStarted<3 5:TaskSubmitted<4 6:TaskSucceeded<5 7:TaskStateExited<6 8:ExecutionSucceeded<7")
}

// TestEventBridge: putEvents with a JSON Detail sent as its text, the output as
// EventBridge answers it.
func TestEventBridge(t *testing.T) {
	rec := newRecorder(t, func(op string, body map[string]any, n int) (int, string, string) {
		return 200, "", `{"Entries":[{"EventId":"ev-1"}],"FailedEntryCount":0}`
	})
	a := testutil.Start(t, testutil.Options{Endpoints: map[string]string{"eventbridge": rec.URL}})
	c := client(a)
	_, out := run(t, c, "put", `{"StartAt":"P","States":{"P":{"Type":"Task","Resource":"arn:aws:states:::events:putEvents",
		"Parameters":{"Entries":[{"Detail":{"order.$":"$.id"},"DetailType":"OrderPlaced","Source":"shop","EventBusName":"orders"}]},"End":true}}}`, `{"id":"o-7"}`)
	if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Output) != `{"Entries":[{"EventId":"ev-1"}],"FailedEntryCount":0}` {
		t.Fatal(failed(t, out), aws.ToString(out.Output))
	}
	got := rec.Calls("PutEvents")[0].Body
	if !jsonEq(got, `{"Entries":[{"Detail":"{\"order\":\"o-7\"}","DetailType":"OrderPlaced","EventBusName":"orders","Source":"shop"}]}`) {
		t.Fatalf("request %v", got)
	}
}

// TestECSSync: runTask.sync starts the task, polls DescribeTasks until it stops and
// answers its description; a non-zero exit fails the task; stopping the execution
// stops the ECS task.
func TestECSSync(t *testing.T) {
	var mu sync.Mutex
	exit := map[string]int{}
	rec := newRecorder(t, func(op string, body map[string]any, n int) (int, string, string) {
		mu.Lock()
		defer mu.Unlock()
		switch op {
		case "RunTask":
			id := "arn:aws:ecs:us-east-1:123456789012:task/c/" + strconv.Itoa(n)
			exit[id] = 0
			if ov, ok := body["overrides"]; ok && strings.Contains(mustJSON(ov), "fail") {
				exit[id] = 3
			}
			if ov, ok := body["overrides"]; ok && strings.Contains(mustJSON(ov), "forever") {
				exit[id] = -1
			}
			return 200, "", `{"tasks":[{"taskArn":"` + id + `","clusterArn":"arn:aws:ecs:us-east-1:123456789012:cluster/c","lastStatus":"PROVISIONING"}],"failures":[]}`
		case "DescribeTasks":
			id := body["tasks"].([]any)[0].(string)
			if exit[id] == -1 || n%3 != 0 { // still running on most polls
				return 200, "", `{"tasks":[{"taskArn":"` + id + `","lastStatus":"RUNNING"}],"failures":[]}`
			}
			return 200, "", `{"tasks":[{"taskArn":"` + id + `","lastStatus":"STOPPED","stopCode":"EssentialContainerExited",` +
				`"containers":[{"name":"app","exitCode":` + strconv.Itoa(exit[id]) + `}]}],"failures":[]}`
		case "StopTask":
			return 200, "", `{"task":{"taskArn":"` + body["task"].(string) + `","lastStatus":"STOPPED"}}`
		}
		return 400, "", `{"__type":"InvalidParameterException","message":"unknown"}`
	})
	a := testutil.Start(t, testutil.Options{Endpoints: map[string]string{"ecs": rec.URL}})
	c := client(a)
	def := func(cmd string) string {
		return `{"StartAt":"R","States":{"R":{"Type":"Task","Resource":"arn:aws:states:::ecs:runTask.sync",
			"Parameters":{"Cluster":"c","TaskDefinition":"td:1","LaunchType":"FARGATE",
				"Overrides":{"ContainerOverrides":[{"Name":"app","Command":["` + cmd + `"]}]}},"End":true}}}`
	}
	arn, out := run(t, c, "ok", def("ok"), `{}`)
	if out.Status != types.ExecutionStatusSucceeded || !strings.Contains(aws.ToString(out.Output), `"LastStatus":"STOPPED"`) {
		t.Fatal(failed(t, out), aws.ToString(out.Output))
	}
	testutil.WantHistory(t, c, arn, "1:ExecutionStarted<0 2:TaskStateEntered<0 3:TaskScheduled<2 4:TaskStarted<3 5:TaskSubmitted<4 6:TaskSucceeded<5 7:TaskStateExited<6 8:ExecutionSucceeded<7")
	if run := rec.Calls("RunTask")[0].Body; run["cluster"] != "c" || run["launchType"] != "FARGATE" {
		t.Fatalf("RunTask request %v", run)
	}
	_, out = run(t, c, "fail", def("fail"), `{}`)
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != "States.TaskFailed" ||
		!strings.Contains(aws.ToString(out.Cause), `"ExitCode":3`) {
		t.Fatal(failed(t, out))
	}
	// Stopping the execution stops the ECS task.
	sm := testutil.CreateStateMachine(t, c, "forever", def("forever"))
	arn = testutil.StartExecution(t, c, sm, `{}`)
	for deadline := time.Now().Add(20 * time.Second); len(rec.Calls("RunTask")) < 3 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // the task submitted and recorded on the execution
	if _, err := c.StopExecution(bg, &sfn.StopExecutionInput{ExecutionArn: &arn}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); len(rec.Calls("StopTask")) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the stopped execution did not stop its ECS task")
		}
	}
}

// TestBatchSync: submitJob.sync polls DescribeJobs (Batch's REST-JSON API) until the
// job ends; FAILED fails the task with the job's detail.
func TestBatchSync(t *testing.T) {
	rec := newRecorder(t, func(op string, body map[string]any, n int) (int, string, string) {
		switch op {
		case "/v1/submitjob":
			return 200, "", `{"jobArn":"arn:aws:batch:us-east-1:123456789012:job/j` + strconv.Itoa(n) + `","jobId":"j` + strconv.Itoa(n) + `","jobName":"` + body["jobName"].(string) + `"}`
		case "/v1/describejobs":
			id := body["jobs"].([]any)[0].(string)
			status := "RUNNING"
			if n%2 == 0 {
				status = "SUCCEEDED"
				if id == "j2" {
					status = "FAILED"
				}
			}
			return 200, "", `{"jobs":[{"jobId":"` + id + `","jobName":"n","jobQueue":"q","jobDefinition":"d","status":"` + status + `","startedAt":1}]}`
		}
		return 400, "", `{"message":"unknown"}`
	})
	a := testutil.Start(t, testutil.Options{Endpoints: map[string]string{"batch": rec.URL}})
	c := client(a)
	def := `{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"arn:aws:states:::batch:submitJob.sync",
		"Parameters":{"JobName":"n","JobQueue":"q","JobDefinition":"d","Parameters":{"k":"v"}},"End":true}}}`
	_, out := run(t, c, "ok", def, `{}`)
	if out.Status != types.ExecutionStatusSucceeded || !strings.Contains(aws.ToString(out.Output), `"Status":"SUCCEEDED"`) {
		t.Fatal(failed(t, out), aws.ToString(out.Output))
	}
	if sub := rec.Calls("/v1/submitjob")[0].Body; !jsonEq(sub, `{"jobDefinition":"d","jobName":"n","jobQueue":"q","parameters":{"k":"v"}}`) {
		t.Fatalf("SubmitJob request %v", sub)
	}
	_, out = run(t, c, "bad", def, `{}`)
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != "States.TaskFailed" ||
		!strings.Contains(aws.ToString(out.Cause), `"Status":"FAILED"`) {
		t.Fatal(failed(t, out))
	}
}

// TestS3SDK: aws-sdk:s3 against versitygw, a real S3-compatible server: putObject
// with a JSON body, getObject reading it back as text, S3's errors named the SDK way.
func TestS3SDK(t *testing.T) {
	gw := versitygw.Start(t)
	gw.MakeBucket(t, "data")
	t.Setenv("AWS_ACCESS_KEY_ID", versitygw.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", versitygw.SecretKey)
	a := testutil.Start(t, testutil.Options{Endpoints: map[string]string{"s3": gw.Endpoint}})
	c := client(a)
	_, out := run(t, c, "s3", `{"StartAt":"Put","States":{
		"Put":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:putObject",
			"Parameters":{"Bucket":"data","Key":"orders/o-1.json","Body.$":"$","ContentType":"application/json"},"ResultPath":null,"Next":"Get"},
		"Get":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:getObject","Parameters":{"Bucket":"data","Key":"orders/o-1.json"},
			"ResultSelector":{"Body.$":"$.Body","Type.$":"$.ContentType"},"Next":"Missing"},
		"Missing":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:getObject","Parameters":{"Bucket":"data","Key":"nope"},
			"Catch":[{"ErrorEquals":["S3.NoSuchKeyException"],"ResultPath":"$.err","Next":"Done"}],"End":true},
		"Done":{"Type":"Pass","End":true}}}`, `{"id":"o-1","qty":2}`)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatal(failed(t, out))
	}
	res := outputOf(t, aws.ToString(out.Output))
	if res["Body"] != `{"id":"o-1","qty":2}` || res["Type"] != "application/json" ||
		res["err"].(map[string]any)["Error"] != "S3.NoSuchKeyException" {
		t.Fatalf("output %s", aws.ToString(out.Output))
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
