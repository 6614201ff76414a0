package crash

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gtypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
)

// interruptible is a pythonshell job: its first attempt records its pid and sleeps
// (the node is killed under it); later attempts succeed at once.
const interruptible = `import os, sys, time
from awsglue.utils import getResolvedOptions
a = getResolvedOptions(sys.argv, ["marker", "pidfile"])
if not os.path.exists(a["marker"]):
    open(a["marker"], "w").close()
    with open(a["pidfile"], "w") as f:
        f.write(str(os.getpid()))
    time.sleep(120)
    sys.exit("not interrupted")
print("second attempt")
`

// TestKill9GlueWorkflowRun kills sfnd with SIGKILL while a workflow run's job process
// runs: the job process dies with the node; after the restart the interrupted job run
// ends FAILED ("interrupted"), MaxRetries starts a second attempt, and the workflow
// run completes with the rest of its graph.
func TestKill9GlueWorkflowRun(t *testing.T) {
	skipProcs(t)
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	dir := t.TempDir()
	srv := server(t, filepath.Join(dir, "data"), 0, "--glue-job-lease", "2s")
	if err := os.MkdirAll(srv.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	srv.Start()
	c := glue.New(glue.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()),
		Credentials: aws.NewCredentialsCache(staticCreds{})})
	ctx := context.Background()
	script := filepath.Join(dir, "interruptible.py")
	ok := filepath.Join(dir, "ok.py")
	for p, body := range map[string]string{script: interruptible, ok: "print('ok')\n"} {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pidfile := filepath.Join(dir, "j1.pid")
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	role := aws.String("arn:aws:iam::123456789012:role/glue")
	must(c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String("wf")}))
	must(c.CreateJob(ctx, &glue.CreateJobInput{Name: aws.String("J1"), Role: role, MaxRetries: 1,
		Command:          &gtypes.JobCommand{Name: aws.String("pythonshell"), ScriptLocation: aws.String("file://" + script)},
		DefaultArguments: map[string]string{"--marker": filepath.Join(dir, "j1.marker"), "--pidfile": pidfile}}))
	must(c.CreateJob(ctx, &glue.CreateJobInput{Name: aws.String("J2"), Role: role,
		Command: &gtypes.JobCommand{Name: aws.String("pythonshell"), ScriptLocation: aws.String("file://" + ok)}}))
	must(c.CreateTrigger(ctx, &glue.CreateTriggerInput{Name: aws.String("T0"), WorkflowName: aws.String("wf"),
		Type: gtypes.TriggerTypeOnDemand, Actions: []gtypes.Action{{JobName: aws.String("J1")}}}))
	must(c.CreateTrigger(ctx, &glue.CreateTriggerInput{Name: aws.String("T1"), WorkflowName: aws.String("wf"),
		Type: gtypes.TriggerTypeConditional, StartOnCreation: true, Actions: []gtypes.Action{{JobName: aws.String("J2")}},
		Predicate: &gtypes.Predicate{Conditions: []gtypes.Condition{{LogicalOperator: gtypes.LogicalOperatorEquals,
			JobName: aws.String("J1"), State: gtypes.JobRunStateSucceeded}}}}))
	start, err := c.StartWorkflowRun(ctx, &glue.StartWorkflowRunInput{Name: aws.String("wf")})
	if err != nil {
		t.Fatal(err)
	}
	runID := aws.ToString(start.RunId)

	var pid int
	for deadline := time.Now().Add(60 * time.Second); pid == 0; time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(pidfile); err == nil && len(b) > 0 {
			pid, _ = strconv.Atoi(string(b))
		}
		if time.Now().After(deadline) {
			t.Fatal("J1's process never started")
		}
	}
	srv.Kill9()
	for i := 0; processAlive(pid); i++ {
		if i > 100 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatal("J1's process outlived the killed node")
		}
		time.Sleep(50 * time.Millisecond)
	}
	srv.Start()
	c = glue.New(glue.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()),
		Credentials: aws.NewCredentialsCache(staticCreds{})})

	var run *gtypes.WorkflowRun
	for deadline := time.Now().Add(120 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		out, err := c.GetWorkflowRun(ctx, &glue.GetWorkflowRunInput{Name: aws.String("wf"), RunId: aws.String(runID)})
		if err == nil && out.Run.Status != gtypes.WorkflowRunStatusRunning && out.Run.Status != gtypes.WorkflowRunStatusStopping {
			run = out.Run
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("workflow run did not end after the restart: %v %+v", err, out)
		}
	}
	if run.Status != gtypes.WorkflowRunStatusCompleted || run.Statistics == nil ||
		run.Statistics.SucceededActions != 2 || run.Statistics.FailedActions != 0 {
		t.Fatalf("run %s, statistics %+v", run.Status, run.Statistics)
	}
	j1, err := c.GetJobRuns(ctx, &glue.GetJobRunsInput{JobName: aws.String("J1")})
	if err != nil {
		t.Fatal(err)
	}
	byAttempt := map[int32]gtypes.JobRun{}
	for _, r := range j1.JobRuns {
		byAttempt[r.Attempt] = r
	}
	first, second := byAttempt[0], byAttempt[1]
	if len(j1.JobRuns) != 2 || first.JobRunState != gtypes.JobRunStateFailed ||
		!strings.Contains(aws.ToString(first.ErrorMessage), "interrupted") ||
		second.JobRunState != gtypes.JobRunStateSucceeded || aws.ToString(second.PreviousRunId) != aws.ToString(first.Id) {
		t.Fatalf("J1 runs: %+v", j1.JobRuns)
	}
	j2, err := c.GetJobRuns(ctx, &glue.GetJobRunsInput{JobName: aws.String("J2")})
	if err != nil || len(j2.JobRuns) != 1 || j2.JobRuns[0].JobRunState != gtypes.JobRunStateSucceeded {
		t.Fatalf("J2 runs: %v %+v", err, j2)
	}
	out, err := os.ReadFile(filepath.Join(srv.Dir, "glue", "jobruns", aws.ToString(second.Id), "output"))
	if err != nil || strings.TrimSpace(string(out)) != "second attempt" {
		t.Fatalf("second attempt's output %q (%v)", out, err)
	}
}

func processAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}
