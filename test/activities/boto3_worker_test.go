package activities

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/test/testutil"
)

// boto3Worker is an activity worker as a Python user writes it: poll, heartbeat, then
// succeed with the input doubled, or fail inputs marked "fail".
const boto3Worker = `
import json, os, sys, boto3
from botocore.config import Config
c = boto3.client("stepfunctions", endpoint_url=os.environ["SFND_ENDPOINT"], region_name="us-east-1",
                 aws_access_key_id="x", aws_secret_access_key="x", config=Config(retries={"max_attempts": 1}))
arn = os.environ["SFND_ACTIVITY"]
done = 0
while done < int(os.environ["SFND_TASKS"]):
    t = c.get_activity_task(activityArn=arn, workerName="boto3-worker")
    if not t.get("taskToken"):
        continue
    c.send_task_heartbeat(taskToken=t["taskToken"])
    data = json.loads(t["input"])
    if data.get("fail"):
        c.send_task_failure(taskToken=t["taskToken"], error="Worker.Refused", cause="asked to fail")
    else:
        c.send_task_success(taskToken=t["taskToken"], output=json.dumps({"doubled": data["n"] * 2}))
    done += 1
    try:
        c.send_task_success(taskToken=t["taskToken"], output="{}")
        sys.exit("second SendTaskSuccess on a closed task was accepted")
    except c.exceptions.TaskTimedOut:
        pass
print("worker done", done)
`

// TestBoto3Worker drives activity tasks with a boto3 worker in a Python process.
func TestBoto3Worker(t *testing.T) {
	if testing.Short() {
		t.Skip("runs python3")
	}
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("python3 with boto3 not available")
	}
	ctx := context.Background()
	// Real time: at the default scale (0.001) HeartbeatSeconds 60 gives the worker 60 ms
	// between taking the task and its heartbeat, which a Python process on a loaded
	// machine misses (TaskTimedOut).
	a := testutil.Start(t, testutil.Options{WaitTimeScale: 1})
	c := testutil.Client(a.Endpoint())
	act, err := c.CreateActivity(ctx, &sfn.CreateActivityInput{Name: aws.String("boto3-activity")})
	if err != nil {
		t.Fatal(err)
	}
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + *act.ActivityArn + `","HeartbeatSeconds":60,` +
		`"Catch":[{"ErrorEquals":["Worker.Refused"],"ResultPath":"$.err","Next":"Caught"}],"End":true},"Caught":{"Type":"Pass","End":true}}}`
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("boto3-sm"), Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::123456789012:role/r")})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", "-c", boto3Worker)
	cmd.Env = append(os.Environ(), "SFND_ENDPOINT="+a.Endpoint(), "SFND_ACTIVITY="+*act.ActivityArn, "SFND_TASKS=2")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ok, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{"n":21}`)})
	if err != nil {
		t.Fatal(err)
	}
	bad, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{"n":1,"fail":true}`)})
	if err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("boto3 worker: %v\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("boto3 worker did not finish\n%s", out.String())
	}
	// The worker's output text is passed through as it sent it (json.dumps spacing).
	for arn, want := range map[string]string{*ok.ExecutionArn: `{"doubled": 42}`, *bad.ExecutionArn: `"err":{"Error":"Worker.Refused","Cause":"asked to fail"}`} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
			if err != nil {
				t.Fatal(err)
			}
			if d.Status == types.ExecutionStatusSucceeded && strings.Contains(aws.ToString(d.Output), want) {
				break
			}
			if d.Status != types.ExecutionStatusRunning || time.Now().After(deadline) {
				t.Fatalf("%s: %s %s", arn, d.Status, aws.ToString(d.Output))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: ok.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range h.Events {
		if ev.Type == types.HistoryEventTypeActivityStarted {
			found = aws.ToString(ev.ActivityStartedEventDetails.WorkerName) == "boto3-worker"
		}
	}
	if !found {
		t.Fatal("ActivityStarted does not name the boto3 worker")
	}
}
