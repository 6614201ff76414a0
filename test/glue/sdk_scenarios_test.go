package glue

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/sfnd/sfnd/events/jsstore"
	"github.com/sfnd/sfnd/test/testutil"
)

// chain creates the 3-job chain of scenario 3 in workflow wf with the given scripts.
func chain(t *testing.T, c *glue.Client, wf string, scripts [3]string, args [3]map[string]string) {
	t.Helper()
	do(c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String(wf)})).ok(t)
	for i, j := range []string{"J1", "J2", "J3"} {
		createJob(t, c, wf+j, scripts[i], args[i])
	}
	onDemand(t, c, wf, wf+"T0", wf+"J1")
	conditional(t, c, wf, wf+"T1", "AND", map[string]string{wf + "J1": "SUCCEEDED"}, wf+"J2")
	conditional(t, c, wf, wf+"T2", "AND", map[string]string{wf + "J2": "SUCCEEDED"}, wf+"J3")
}

func startRun(t *testing.T, c *glue.Client, wf string) string {
	t.Helper()
	return aws.ToString(do(c.StartWorkflowRun(ctx, &glue.StartWorkflowRunInput{Name: aws.String(wf)})).ok(t).RunId)
}

// TestResume is scenarios 7 and 8.
func TestResume(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	dir := scripts(t)
	flag := filepath.Join(dir, "flag")
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ok, fl := filepath.Join(dir, "ok.py"), filepath.Join(dir, "flag.py")
	chain(t, c, "r", [3]string{ok, fl, ok}, [3]map[string]string{nil, {"--flag": flag}, nil})
	id := startRun(t, c, "r")
	run := waitRun(t, c, "r", id, 60*time.Second)
	if run.Status != types.WorkflowRunStatusCompleted || run.Statistics.FailedActions != 1 || len(jobRuns(t, c, "rJ3")) != 0 {
		t.Fatalf("first run: %s %+v", run.Status, run.Statistics)
	}
	j2 := aws.ToString(nodeByName(run.Graph, "rJ2").UniqueId)
	j3 := aws.ToString(nodeByName(run.Graph, "rJ3").UniqueId)
	t0 := aws.ToString(nodeByName(run.Graph, "rT0").UniqueId)
	_, err := c.ResumeWorkflowRun(ctx, &glue.ResumeWorkflowRunInput{Name: aws.String("r"), RunId: aws.String(id), NodeIds: []string{t0}})
	wantCode(t, err, "InvalidInputException")
	_, err = c.ResumeWorkflowRun(ctx, &glue.ResumeWorkflowRunInput{Name: aws.String("r"), RunId: aws.String(id), NodeIds: []string{j3}})
	wantCode(t, err, "InvalidInputException")
	_, err = c.ResumeWorkflowRun(ctx, &glue.ResumeWorkflowRunInput{Name: aws.String("r"), RunId: aws.String("wr_nope"), NodeIds: []string{j2}})
	wantCode(t, err, "EntityNotFoundException")
	if err := os.Remove(flag); err != nil {
		t.Fatal(err)
	}
	res := do(c.ResumeWorkflowRun(ctx, &glue.ResumeWorkflowRunInput{Name: aws.String("r"), RunId: aws.String(id), NodeIds: []string{j2}})).ok(t)
	if aws.ToString(res.RunId) == id || len(res.NodeIds) != 1 || res.NodeIds[0] != j2 {
		t.Fatalf("resume: %+v", res)
	}
	nrun := waitRun(t, c, "r", aws.ToString(res.RunId), 60*time.Second)
	if nrun.Statistics.SucceededActions != 3 || aws.ToString(nrun.PreviousRunId) != id {
		t.Fatalf("resumed run: %+v prev %v", nrun.Statistics, nrun.PreviousRunId)
	}
	if n := len(jobRuns(t, c, "rJ1")); n != 1 {
		t.Fatalf("J1 ran %d times", n)
	}
	if jd := nodeByName(nrun.Graph, "rJ1").JobDetails; jd == nil || len(jd.JobRuns) != 1 {
		t.Fatalf("J1's copied node: %+v", jd)
	}
	if len(jobRuns(t, c, "rJ2")) != 2 || len(jobRuns(t, c, "rJ3")) != 1 {
		t.Fatal("J2/J3 runs")
	}
	// Downstream nodes are pruned from the selection (the resumed run, where J2 and
	// J3 both ran, is resumed in turn).
	res = do(c.ResumeWorkflowRun(ctx, &glue.ResumeWorkflowRunInput{Name: aws.String("r"), RunId: nrun.WorkflowRunId, NodeIds: []string{j2, j3}})).ok(t)
	if len(res.NodeIds) != 1 || res.NodeIds[0] != j2 {
		t.Fatalf("pruned resume: %v", res.NodeIds)
	}
	third := waitRun(t, c, "r", aws.ToString(res.RunId), 60*time.Second)
	if aws.ToString(third.PreviousRunId) != aws.ToString(nrun.WorkflowRunId) || third.Statistics.SucceededActions != 3 || len(jobRuns(t, c, "rJ3")) != 2 {
		t.Fatalf("third run: %+v", third.Statistics)
	}
	// Resume while RUNNING is refused.
	slow := startRun(t, c, "r")
	_, err = c.ResumeWorkflowRun(ctx, &glue.ResumeWorkflowRunInput{Name: aws.String("r"), RunId: aws.String(slow), NodeIds: []string{j2}})
	wantCode(t, err, "IllegalWorkflowStateException")
}

// TestConcurrencyStopAndDynamicGraph is scenarios 9, 11, 15 and 17.
func TestConcurrencyStopAndDynamicGraph(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	dir := scripts(t)
	sleep := filepath.Join(dir, "sleep.py")
	do(c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String("one"), MaxConcurrentRuns: aws.Int32(1)})).ok(t)
	createJob(t, c, "S1", sleep, map[string]string{"--seconds": "60"})
	createJob(t, c, "S2", filepath.Join(dir, "ok.py"), nil)
	onDemand(t, c, "one", "oT0", "S1")
	conditional(t, c, "one", "oT1", "AND", map[string]string{"S1": "SUCCEEDED"}, "S2")
	id := startRun(t, c, "one")
	_, err := c.StartWorkflowRun(ctx, &glue.StartWorkflowRunInput{Name: aws.String("one")})
	wantCode(t, err, "ConcurrentRunsExceededException")
	// The dynamic graph while S1 runs.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		r := do(c.GetWorkflowRun(ctx, &glue.GetWorkflowRunInput{Name: aws.String("one"), RunId: aws.String(id), IncludeGraph: aws.Bool(true)})).ok(t).Run
		n := nodeByName(r.Graph, "S1")
		if n.JobDetails != nil && len(n.JobDetails.JobRuns) == 1 && n.JobDetails.JobRuns[0].JobRunState == types.JobRunStateRunning {
			if r.Statistics.RunningActions != 1 || nodeByName(r.Graph, "S2").JobDetails != nil {
				t.Fatalf("dynamic graph: %+v", r.Statistics)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("S1 never RUNNING")
		}
	}
	// A job at its concurrency limit (default 1) refuses StartJobRun.
	_, err = c.StartJobRun(ctx, &glue.StartJobRunInput{JobName: aws.String("S1")})
	wantCode(t, err, "ConcurrentRunsExceededException")
	do(c.StopWorkflowRun(ctx, &glue.StopWorkflowRunInput{Name: aws.String("one"), RunId: aws.String(id)})).ok(t)
	run := waitRun(t, c, "one", id, 60*time.Second)
	if run.Status != types.WorkflowRunStatusStopped || run.Statistics.StoppedActions != 1 || len(jobRuns(t, c, "S2")) != 0 {
		t.Fatalf("stopped run: %s %+v", run.Status, run.Statistics)
	}
	if jr := jobRuns(t, c, "S1"); jr[0].JobRunState != types.JobRunStateStopped {
		t.Fatalf("S1: %s", jr[0].JobRunState)
	}
	_, err = c.StopWorkflowRun(ctx, &glue.StopWorkflowRunInput{Name: aws.String("one"), RunId: aws.String(id)})
	wantCode(t, err, "IllegalWorkflowStateException")
	// After the run ended, a new one may start.
	id2 := startRun(t, c, "one")
	do(c.StopWorkflowRun(ctx, &glue.StopWorkflowRunInput{Name: aws.String("one"), RunId: aws.String(id2)})).ok(t)
	waitRun(t, c, "one", id2, 60*time.Second)

	// StartJobRun twice, BatchStopJobRun with a bogus id (scenario 17).
	jr := aws.ToString(do(c.StartJobRun(ctx, &glue.StartJobRunInput{JobName: aws.String("S1")})).ok(t).JobRunId)
	_, err = c.StartJobRun(ctx, &glue.StartJobRunInput{JobName: aws.String("S1")})
	wantCode(t, err, "ConcurrentRunsExceededException")
	if !strings.Contains(err.Error(), "Concurrent runs exceeded for S1") {
		t.Fatalf("message: %v", err)
	}
	bs := do(c.BatchStopJobRun(ctx, &glue.BatchStopJobRunInput{JobName: aws.String("S1"), JobRunIds: []string{jr, "jr_bogus"}})).ok(t)
	if len(bs.SuccessfulSubmissions) != 1 || len(bs.Errors) != 1 || aws.ToString(bs.Errors[0].JobRunId) != "jr_bogus" {
		t.Fatalf("batch stop: %+v", bs)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got := do(c.GetJobRun(ctx, &glue.GetJobRunInput{JobName: aws.String("S1"), RunId: aws.String(jr)})).ok(t).JobRun
		if got.JobRunState == types.JobRunStateStopped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job run still %s", got.JobRunState)
		}
	}
	_, err = c.GetJobRun(ctx, &glue.GetJobRunInput{JobName: aws.String("S1"), RunId: aws.String("jr_bogus")})
	wantCode(t, err, "EntityNotFoundException")
	// Unset MaxConcurrentRuns: two runs at once.
	do(c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String("many")})).ok(t)
	createJob(t, c, "M1", filepath.Join(dir, "ok.py"), nil)
	onDemand(t, c, "many", "mT0", "M1")
	a, b := startRun(t, c, "many"), startRun(t, c, "many")
	waitRun(t, c, "many", a, 60*time.Second)
	waitRun(t, c, "many", b, 60*time.Second)
	runs := do(c.GetWorkflowRuns(ctx, &glue.GetWorkflowRunsInput{Name: aws.String("many"), MaxResults: aws.Int32(1)})).ok(t)
	if len(runs.Runs) != 1 || runs.NextToken == nil || aws.ToString(runs.Runs[0].WorkflowRunId) != b {
		t.Fatalf("runs page: %+v", runs)
	}
}

const propsScript = `import sys, json, boto3
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
g = boto3.client("glue")
wf, run = args["--WORKFLOW_NAME"], args["--WORKFLOW_RUN_ID"]
props = g.get_workflow_run_properties(Name=wf, RunId=run)["RunProperties"]
if "--out" in args:
    open(args["--out"], "w").write(json.dumps({"props": props, "argv": sys.argv[1:]}))
else:
    g.put_workflow_run_properties(Name=wf, RunId=run, RunProperties={"c": "3"})
`

// TestPropertiesArgumentsSnapshot is scenarios 12, 13 and 14: a job's boto3 reads and
// writes its run's properties; arguments merge; the run keeps its trigger snapshot.
func TestPropertiesArgumentsSnapshot(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	dir := scripts(t)
	script := filepath.Join(dir, "props.py")
	if err := os.WriteFile(script, []byte(propsScript), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.json")
	do(c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String("p"), DefaultRunProperties: map[string]string{"a": "1", "b": "1"}})).ok(t)
	createJob(t, c, "P1", script, nil)
	in := pythonJob("P2")
	in.Command.ScriptLocation = aws.String(script)
	in.DefaultArguments = map[string]string{"--x": "d", "--y": "d", "--out": out}
	in.NonOverridableArguments = map[string]string{"--z": "n"}
	do(c.CreateJob(ctx, in)).ok(t)
	createJob(t, c, "P3", filepath.Join(dir, "ok.py"), nil)
	onDemand(t, c, "p", "pT0", "P1")
	do(c.CreateTrigger(ctx, &glue.CreateTriggerInput{
		Name: aws.String("pT1"), WorkflowName: aws.String("p"), Type: types.TriggerTypeConditional, StartOnCreation: true,
		Predicate: &types.Predicate{Conditions: []types.Condition{{LogicalOperator: types.LogicalOperatorEquals, JobName: aws.String("P1"), State: types.JobRunStateSucceeded}}},
		Actions:   []types.Action{{JobName: aws.String("P2"), Arguments: map[string]string{"--y": "t", "--z": "t", "--w": "t"}}},
	})).ok(t)
	conditional(t, c, "p", "pT2", "AND", map[string]string{"P2": "SUCCEEDED"}, "P3")
	id := aws.ToString(do(c.StartWorkflowRun(ctx, &glue.StartWorkflowRunInput{Name: aws.String("p"), RunProperties: map[string]string{"b": "2"}})).ok(t).RunId)
	// While the run is on its way, pT2 is changed: the run keeps its snapshot.
	do(c.UpdateTrigger(ctx, &glue.UpdateTriggerInput{Name: aws.String("pT2"), TriggerUpdate: &types.TriggerUpdate{
		Actions: []types.Action{{JobName: aws.String("P1")}}, Predicate: &types.Predicate{Conditions: []types.Condition{{LogicalOperator: types.LogicalOperatorEquals, JobName: aws.String("P2"), State: types.JobRunStateSucceeded}}},
	}})).ok(t)
	run := waitRun(t, c, "p", id, 60*time.Second)
	if run.Status != types.WorkflowRunStatusCompleted || run.Statistics.SucceededActions != 3 {
		t.Fatalf("run: %s %+v", run.Status, run.Statistics)
	}
	if len(jobRuns(t, c, "P3")) != 1 || len(jobRuns(t, c, "P1")) != 1 {
		t.Fatal("the run did not keep its trigger snapshot")
	}
	props := do(c.GetWorkflowRunProperties(ctx, &glue.GetWorkflowRunPropertiesInput{Name: aws.String("p"), RunId: aws.String(id)})).ok(t).RunProperties
	if props["a"] != "1" || props["b"] != "2" || props["c"] != "3" {
		t.Fatalf("run properties %v", props)
	}
	if d := do(c.GetWorkflow(ctx, &glue.GetWorkflowInput{Name: aws.String("p")})).ok(t).Workflow.DefaultRunProperties; d["b"] != "1" || d["c"] != "" {
		t.Fatalf("defaults changed: %v", d)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	p2 := jobRuns(t, c, "P2")[0]
	for _, want := range []string{`"c": "3"`, `"--x", "d"`, `"--y", "t"`, `"--z", "n"`, `"--w", "t"`, `"--WORKFLOW_NAME", "p"`,
		`"--WORKFLOW_RUN_ID", "` + id + `"`, `"--JOB_RUN_ID", "` + aws.ToString(p2.Id) + `"`, `"--JOB_NAME", "P2"`} {
		if !strings.Contains(got, want) {
			t.Fatalf("P2 saw %s, want %s", got, want)
		}
	}
	_, err = c.PutWorkflowRunProperties(ctx, &glue.PutWorkflowRunPropertiesInput{Name: aws.String("p"), RunId: aws.String("wr_nope"), RunProperties: map[string]string{"x": "1"}})
	wantCode(t, err, "EntityNotFoundException")
	// The next run uses the updated trigger: P2 -> P1 (P1 already ran: not again).
	id = aws.ToString(do(c.StartWorkflowRun(ctx, &glue.StartWorkflowRunInput{Name: aws.String("p")})).ok(t).RunId)
	waitRun(t, c, "p", id, 60*time.Second)
	if len(jobRuns(t, c, "P3")) != 1 {
		t.Fatal("the next run still used the old trigger")
	}
}

// TestTriggerRules is scenarios 18 and 19.
func TestTriggerRules(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	dir := scripts(t)
	do(c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String("w")})).ok(t)
	createJob(t, c, "A", filepath.Join(dir, "ok.py"), nil)
	createJob(t, c, "B", filepath.Join(dir, "ok.py"), nil)
	act := []types.Action{{JobName: aws.String("B")}}
	cases := []struct {
		in   glue.CreateTriggerInput
		code string
		msg  string
	}{
		{glue.CreateTriggerInput{Name: aws.String("x"), Type: types.TriggerTypeConditional, Actions: act}, "InvalidInputException", "Predicate cannot be null or empty"},
		{glue.CreateTriggerInput{Name: aws.String("x"), Type: types.TriggerTypeConditional, Actions: act,
			Predicate: &types.Predicate{Conditions: []types.Condition{{JobName: aws.String("A"), State: types.JobRunStateSucceeded}}}}, "InvalidInputException", "Logical operator cannot be null or empty"},
		{glue.CreateTriggerInput{Name: aws.String("x"), Type: types.TriggerTypeConditional, Actions: act,
			Predicate: &types.Predicate{Conditions: []types.Condition{{LogicalOperator: types.LogicalOperatorEquals, JobName: aws.String("B"), State: types.JobRunStateSucceeded}}}}, "InvalidInputException", "Job cannot be a Predicate and Action"},
		{glue.CreateTriggerInput{Name: aws.String("x"), Type: types.TriggerTypeOnDemand, Actions: act, StartOnCreation: true}, "InvalidInputException", "StartOnCreation"},
		{glue.CreateTriggerInput{Name: aws.String("x"), Type: types.TriggerType("BOGUS"), Actions: act}, "ValidationException", "enum"},
		{glue.CreateTriggerInput{Name: aws.String("x"), Type: types.TriggerTypeOnDemand, Actions: []types.Action{{JobName: aws.String("nope")}}}, "EntityNotFoundException", "nope"},
		{glue.CreateTriggerInput{Name: aws.String("x"), Type: types.TriggerTypeOnDemand, Actions: act, WorkflowName: aws.String("nowf")}, "EntityNotFoundException", "nowf"},
		{glue.CreateTriggerInput{Name: aws.String("x"), Type: types.TriggerTypeScheduled, Actions: act, Schedule: aws.String("cron(* * * * * *)")}, "InvalidInputException", "schedule"},
	}
	for i, tc := range cases {
		_, err := c.CreateTrigger(ctx, &tc.in)
		wantCode(t, err, tc.code)
		if !strings.Contains(err.Error(), tc.msg) {
			t.Fatalf("case %d: %v, want %q", i, err, tc.msg)
		}
	}
	if names := do(c.ListTriggers(ctx, &glue.ListTriggersInput{})).ok(t).TriggerNames; len(names) != 0 {
		t.Fatalf("refused triggers stored: %v", names)
	}
	onDemand(t, c, "w", "T0", "A")
	_, err := c.CreateTrigger(ctx, &glue.CreateTriggerInput{Name: aws.String("T0b"), WorkflowName: aws.String("w"), Type: types.TriggerTypeOnDemand, Actions: act})
	wantCode(t, err, "InvalidInputException")
	_, err = c.CreateTrigger(ctx, &glue.CreateTriggerInput{Name: aws.String("T0"), Type: types.TriggerTypeOnDemand, Actions: act})
	wantCode(t, err, "AlreadyExistsException")
	do(c.CreateTrigger(ctx, &glue.CreateTriggerInput{Name: aws.String("T1"), WorkflowName: aws.String("w"), Type: types.TriggerTypeConditional,
		Predicate: &types.Predicate{Conditions: []types.Condition{{LogicalOperator: types.LogicalOperatorEquals, JobName: aws.String("A"), State: types.JobRunStateSucceeded}}}, Actions: act})).ok(t)
	state := func(name string) types.TriggerState {
		return do(c.GetTrigger(ctx, &glue.GetTriggerInput{Name: aws.String(name)})).ok(t).Trigger.State
	}
	if state("T1") != types.TriggerStateCreated {
		t.Fatal("T1 not CREATED")
	}
	do(c.StartTrigger(ctx, &glue.StartTriggerInput{Name: aws.String("T1")})).ok(t)
	if state("T1") != types.TriggerStateActivated {
		t.Fatal("T1 not ACTIVATED")
	}
	do(c.StopTrigger(ctx, &glue.StopTriggerInput{Name: aws.String("T1")})).ok(t)
	if state("T1") != types.TriggerStateDeactivated {
		t.Fatal("T1 not DEACTIVATED")
	}
	// StartTrigger on the workflow's ON_DEMAND trigger starts a run; T0 stays CREATED.
	do(c.StartTrigger(ctx, &glue.StartTriggerInput{Name: aws.String("T0")})).ok(t)
	runs := do(c.GetWorkflowRuns(ctx, &glue.GetWorkflowRunsInput{Name: aws.String("w")})).ok(t).Runs
	if len(runs) != 1 || state("T0") != types.TriggerStateCreated {
		t.Fatalf("start trigger: %d runs, %s", len(runs), state("T0"))
	}
	// The static graph: T0 -> A -> T1 -> B.
	g := do(c.GetWorkflow(ctx, &glue.GetWorkflowInput{Name: aws.String("w"), IncludeGraph: aws.Bool(true)})).ok(t).Workflow.Graph
	if len(g.Nodes) != 4 || len(g.Edges) != 3 {
		t.Fatalf("graph %d nodes %d edges", len(g.Nodes), len(g.Edges))
	}
	gt := do(c.GetTriggers(ctx, &glue.GetTriggersInput{DependentJobName: aws.String("B")})).ok(t).Triggers
	if len(gt) != 1 || aws.ToString(gt[0].Name) != "T1" {
		t.Fatalf("dependent triggers: %+v", gt)
	}
	_, err = c.GetTrigger(ctx, &glue.GetTriggerInput{Name: aws.String("nope")})
	wantCode(t, err, "EntityNotFoundException")
	bt := do(c.BatchGetTriggers(ctx, &glue.BatchGetTriggersInput{TriggerNames: []string{"T0", "nope"}})).ok(t)
	if len(bt.Triggers) != 1 || len(bt.TriggersNotFound) != 1 {
		t.Fatalf("batch get triggers: %+v", bt)
	}
	// Tags on a workflow ARN; deleting the workflow deletes its triggers.
	arn := "arn:aws:glue:us-east-1:123456789012:workflow/w"
	do(c.TagResource(ctx, &glue.TagResourceInput{ResourceArn: aws.String(arn), TagsToAdd: map[string]string{"k": "v", "k2": "v2"}})).ok(t)
	do(c.UntagResource(ctx, &glue.UntagResourceInput{ResourceArn: aws.String(arn), TagsToRemove: []string{"k2"}})).ok(t)
	if tags := do(c.GetTags(ctx, &glue.GetTagsInput{ResourceArn: aws.String(arn)})).ok(t).Tags; len(tags) != 1 || tags["k"] != "v" {
		t.Fatalf("tags %v", tags)
	}
	_, err = c.GetTags(ctx, &glue.GetTagsInput{ResourceArn: aws.String("arn:aws:glue:us-east-1:123456789012:workflow/nope")})
	wantCode(t, err, "EntityNotFoundException")
	_, err = c.GetTags(ctx, &glue.GetTagsInput{ResourceArn: aws.String("not-an-arn")})
	wantCode(t, err, "InvalidInputException")
	waitRun(t, c, "w", aws.ToString(runs[0].WorkflowRunId), 60*time.Second)
	do(c.DeleteWorkflow(ctx, &glue.DeleteWorkflowInput{Name: aws.String("w")})).ok(t)
	_, err = c.GetTrigger(ctx, &glue.GetTriggerInput{Name: aws.String("T1")})
	wantCode(t, err, "EntityNotFoundException")
}

// TestCrawlerNodeAndDeletedJob is scenarios 20 and 23.
func TestCrawlerNodeAndDeletedJob(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	dir := scripts(t)
	mk := func(name string, tags map[string]string) {
		do(c.CreateCrawler(ctx, &glue.CreateCrawlerInput{Name: aws.String(name), Role: aws.String("r"), Tags: tags,
			Targets: &types.CrawlerTargets{S3Targets: []types.S3Target{{Path: aws.String("s3://b/p")}}}})).ok(t)
	}
	mk("C", map[string]string{"sfnd:crawl-seconds": "1"})
	mk("Cbad", map[string]string{"sfnd:crawl-outcome": "FAILED", "sfnd:crawl-seconds": "0.2"})
	_, err := c.CreateCrawler(ctx, &glue.CreateCrawlerInput{Name: aws.String("C"), Role: aws.String("r"), Targets: &types.CrawlerTargets{S3Targets: []types.S3Target{{Path: aws.String("s3://b")}}}})
	wantCode(t, err, "AlreadyExistsException")
	_, err = c.CreateCrawler(ctx, &glue.CreateCrawlerInput{Name: aws.String("C0"), Role: aws.String("r"), Targets: &types.CrawlerTargets{}})
	wantCode(t, err, "InvalidInputException")
	_, err = c.StopCrawler(ctx, &glue.StopCrawlerInput{Name: aws.String("C")})
	wantCode(t, err, "CrawlerNotRunningException")
	createJob(t, c, "CJ", filepath.Join(dir, "ok.py"), nil)
	for _, cr := range []string{"C", "Cbad"} {
		wf := "wf" + cr
		do(c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String(wf)})).ok(t)
		do(c.CreateTrigger(ctx, &glue.CreateTriggerInput{Name: aws.String(wf + "T0"), WorkflowName: aws.String(wf), Type: types.TriggerTypeOnDemand,
			Actions: []types.Action{{CrawlerName: aws.String(cr)}}})).ok(t)
		do(c.CreateTrigger(ctx, &glue.CreateTriggerInput{Name: aws.String(wf + "T1"), WorkflowName: aws.String(wf), Type: types.TriggerTypeConditional, StartOnCreation: true,
			Predicate: &types.Predicate{Conditions: []types.Condition{{LogicalOperator: types.LogicalOperatorEquals, CrawlerName: aws.String(cr), CrawlState: types.CrawlStateSucceeded}}},
			Actions:   []types.Action{{JobName: aws.String("CJ")}}})).ok(t)
		id := startRun(t, c, wf)
		if cr == "C" {
			time.Sleep(200 * time.Millisecond)
			_, err = c.StartCrawler(ctx, &glue.StartCrawlerInput{Name: aws.String("C")})
			wantCode(t, err, "CrawlerRunningException")
		}
		run := waitRun(t, c, wf, id, 60*time.Second)
		node := nodeByName(run.Graph, cr)
		if run.Status != types.WorkflowRunStatusCompleted || run.Statistics.TotalActions != 2 || node.CrawlerDetails == nil || len(node.CrawlerDetails.Crawls) != 1 {
			t.Fatalf("%s run: %s %+v", cr, run.Status, run.Statistics)
		}
		want := types.CrawlStateSucceeded
		if cr == "Cbad" {
			want = types.CrawlStateFailed
		}
		if node.CrawlerDetails.Crawls[0].State != want {
			t.Fatalf("%s crawl: %s", cr, node.CrawlerDetails.Crawls[0].State)
		}
		got := do(c.GetCrawler(ctx, &glue.GetCrawlerInput{Name: aws.String(cr)})).ok(t).Crawler
		if got.State != types.CrawlerStateReady || got.LastCrawl == nil || string(got.LastCrawl.Status) != string(want) {
			t.Fatalf("%s crawler: %+v", cr, got)
		}
	}
	if n := len(jobRuns(t, c, "CJ")); n != 1 {
		t.Fatalf("CJ ran %d times (once after C, never after Cbad)", n)
	}
	do(c.DeleteCrawler(ctx, &glue.DeleteCrawlerInput{Name: aws.String("Cbad")})).ok(t)
	_, err = c.DeleteCrawler(ctx, &glue.DeleteCrawlerInput{Name: aws.String("Cbad")})
	wantCode(t, err, "EntityNotFoundException")

	// Scenario 23: J2 deleted while J1 runs -> J2's node gets a run in ERROR.
	do(c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String("del")})).ok(t)
	createJob(t, c, "D1", filepath.Join(dir, "sleep.py"), map[string]string{"--seconds": "2"})
	createJob(t, c, "D2", filepath.Join(dir, "ok.py"), nil)
	onDemand(t, c, "del", "dT0", "D1")
	conditional(t, c, "del", "dT1", "AND", map[string]string{"D1": "SUCCEEDED"}, "D2")
	id := startRun(t, c, "del")
	do(c.DeleteJob(ctx, &glue.DeleteJobInput{JobName: aws.String("D2")})).ok(t)
	run := waitRun(t, c, "del", id, 60*time.Second)
	if run.Status != types.WorkflowRunStatusCompleted || run.Statistics.ErroredActions != 1 || run.Statistics.SucceededActions != 1 {
		t.Fatalf("deleted job run: %s %+v", run.Status, run.Statistics)
	}
	d2 := nodeByName(run.Graph, "D2").JobDetails.JobRuns[0]
	if d2.JobRunState != types.JobRunStateError || !strings.Contains(aws.ToString(d2.ErrorMessage), "D2 not found") {
		t.Fatalf("D2 run: %+v", d2)
	}
}

// TestScheduledAndEventStarts is scenarios 21 and 22 (schedules and batch windows
// run a thousand times faster: GlueTimeScale 0.001).
func TestScheduledAndEventStarts(t *testing.T) {
	t.Parallel()
	a := testutil.Start(t, testutil.Options{GlueTimeScale: 0.001})
	c := client(a)
	dir := scripts(t)
	createJob(t, c, "E1", filepath.Join(dir, "ok.py"), nil)
	do(c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String("ev")})).ok(t)
	do(c.CreateTrigger(ctx, &glue.CreateTriggerInput{Name: aws.String("evT"), WorkflowName: aws.String("ev"), Type: types.TriggerTypeEvent,
		StartOnCreation: true, EventBatchingCondition: &types.EventBatchingCondition{BatchSize: aws.Int32(2), BatchWindow: aws.Int32(30)},
		Actions: []types.Action{{JobName: aws.String("E1")}}})).ok(t)
	publish := func(id string) {
		b, _ := json.Marshal(map[string]string{"workflow": "ev", "id": id})
		if _, err := a.Store.JS.Publish(ctx, jsstore.GlueEventSubject, b); err != nil {
			t.Fatal(err)
		}
	}
	runsOf := func(wf string, n int) []types.WorkflowRun {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			runs := do(c.GetWorkflowRuns(ctx, &glue.GetWorkflowRunsInput{Name: aws.String(wf)})).ok(t).Runs
			if len(runs) >= n {
				return runs
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d runs, want %d", wf, len(runs), n)
			}
		}
	}
	publish("e1")
	publish("e2")
	r := runsOf("ev", 1)[0]
	if r.StartingEventBatchCondition == nil || aws.ToInt32(r.StartingEventBatchCondition.BatchSize) != 2 ||
		r.WorkflowRunProperties["aws:eventIds"] != `["e1","e2"]` {
		t.Fatalf("batch-size run: %+v %v", r.StartingEventBatchCondition, r.WorkflowRunProperties)
	}
	publish("e3") // the window (30 s, scaled to 30 ms) ends before a second event
	runs := runsOf("ev", 2)
	if w := runs[0].StartingEventBatchCondition; w == nil || aws.ToInt32(w.BatchWindow) != 30 || runs[0].WorkflowRunProperties["aws:eventIds"] != `["e3"]` {
		t.Fatalf("window run: %+v %v", w, runs[0].WorkflowRunProperties)
	}

	// A SCHEDULED start trigger fires at its instants until it is stopped.
	do(c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String("sch")})).ok(t)
	do(c.CreateTrigger(ctx, &glue.CreateTriggerInput{Name: aws.String("schT"), WorkflowName: aws.String("sch"), Type: types.TriggerTypeScheduled,
		Schedule: aws.String("cron(0/5 * * * ? *)"), StartOnCreation: true, Actions: []types.Action{{JobName: aws.String("E1")}}})).ok(t)
	runsOf("sch", 2)
	do(c.StopTrigger(ctx, &glue.StopTriggerInput{Name: aws.String("schT")})).ok(t)
	time.Sleep(500 * time.Millisecond)
	n := len(runsOf("sch", 0))
	time.Sleep(1500 * time.Millisecond)
	if m := len(runsOf("sch", 0)); m != n {
		t.Fatalf("runs after stop_trigger: %d -> %d", n, m)
	}
}
