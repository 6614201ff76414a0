package glue

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/test/testutil"
)

// TestStepFunctionsRunGlueJobs: arn:aws:states:::glue:startJobRun and .sync run this
// node's own Glue jobs (the Glue endpoint of Task states defaults to the node).
func TestStepFunctionsRunGlueJobs(t *testing.T) {
	a, c := start(t)
	s := testutil.Client(a.Endpoint())
	dir := scripts(t)
	createJob(t, c, "sfn-ok", "file://"+filepath.Join(dir, "ok.py"), nil)
	createJob(t, c, "sfn-fail", "file://"+filepath.Join(dir, "fail.py"), nil)

	def := func(resource, job string) string {
		return `{"StartAt":"Run","States":{"Run":{"Type":"Task","Resource":"` + resource +
			`","Parameters":{"JobName":"` + job + `","Arguments":{"--from":"sfn"}},"End":true}}}`
	}
	histories := map[string]string{}
	run := func(name, resource, job string) (*sfntypes.ExecutionStatus, string, string, string) {
		t.Helper()
		sm := testutil.CreateStateMachine(t, s, name, def(resource, job))
		exec := testutil.StartExecution(t, s, sm, "{}")
		out := testutil.WaitDone(t, s, exec, 90*time.Second)
		histories[name] = testutil.HistoryTypes(t, s, exec)
		return &out.Status, aws.ToString(out.Output), aws.ToString(out.Error), aws.ToString(out.Cause)
	}

	// .sync: the task ends with the job run, its output is the JobRun.
	status, output, _, _ := run("glue-sync", "arn:aws:states:::glue:startJobRun.sync", "sfn-ok")
	if *status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("sync execution %s", *status)
	}
	var jr struct {
		Id, JobName, JobRunState string
		Arguments                map[string]string
	}
	if err := json.Unmarshal([]byte(output), &jr); err != nil || jr.JobRunState != "SUCCEEDED" || jr.JobName != "sfn-ok" ||
		!strings.HasPrefix(jr.Id, "jr_") || jr.Arguments["--from"] != "sfn" {
		t.Fatalf("sync output %s (%v)", output, err)
	}
	got := do(c.GetJobRun(ctx, &glue.GetJobRunInput{JobName: aws.String("sfn-ok"), RunId: aws.String(jr.Id)})).ok(t)
	if got.JobRun.JobRunState != "SUCCEEDED" {
		t.Fatalf("job run %s", got.JobRun.JobRunState)
	}

	// .sync of a failing job: States.TaskFailed with the JobRun as the cause.
	status, _, errName, cause := run("glue-sync-fail", "arn:aws:states:::glue:startJobRun.sync", "sfn-fail")
	if *status != sfntypes.ExecutionStatusFailed || errName != "States.TaskFailed" ||
		!strings.Contains(cause, `"JobRunState":"FAILED"`) || !strings.Contains(cause, "failing on purpose") {
		t.Fatalf("failing sync: %s %s %s", *status, errName, cause)
	}

	// Request-response: the task ends at once with StartJobRun's output.
	status, output, _, _ = run("glue-rr", "arn:aws:states:::glue:startJobRun", "sfn-ok")
	var rr struct{ JobRunId string }
	if *status != sfntypes.ExecutionStatusSucceeded || json.Unmarshal([]byte(output), &rr) != nil || !strings.HasPrefix(rr.JobRunId, "jr_") {
		t.Fatalf("request-response: %s %s", *status, output)
	}

	// An unknown job: Glue's error, named Glue.<Code>.
	status, _, errName, _ = run("glue-missing", "arn:aws:states:::glue:startJobRun", "no-such-job")
	if *status != sfntypes.ExecutionStatusFailed || errName != "Glue.EntityNotFoundException" {
		t.Fatalf("unknown job: %s %s", *status, errName)
	}
	for name, want := range map[string]string{
		"glue-sync":      "1:ExecutionStarted<0 2:TaskStateEntered<0 3:TaskScheduled<2 4:TaskStarted<3 5:TaskSubmitted<4 6:TaskSucceeded<5 7:TaskStateExited<6 8:ExecutionSucceeded<7",
		"glue-sync-fail": "1:ExecutionStarted<0 2:TaskStateEntered<0 3:TaskScheduled<2 4:TaskStarted<3 5:TaskSubmitted<4 6:TaskFailed<5 7:ExecutionFailed<6",
		"glue-rr":        "1:ExecutionStarted<0 2:TaskStateEntered<0 3:TaskScheduled<2 4:TaskStarted<3 5:TaskSucceeded<4 6:TaskStateExited<5 7:ExecutionSucceeded<6",
	} {
		if histories[name] != want {
			t.Errorf("%s history:\n got %s\nwant %s", name, histories[name], want)
		}
	}
}
