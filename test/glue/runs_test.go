package glue

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
)

// scripts writes the fixture job scripts of GLUE.md §6 into a directory.
func scripts(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"ok.py":    "import sys\nprint('ok', sys.argv[1:])\n",
		"fail.py":  "import sys\nsys.stderr.write('boom: failing on purpose\\n')\nsys.exit(1)\n",
		"sleep.py": "import sys, time\nargs = dict(zip(sys.argv[1::2], sys.argv[2::2]))\ntime.sleep(float(args.get('--seconds', '5')))\n",
		"flag.py":  "import sys, os\nargs = dict(zip(sys.argv[1::2], sys.argv[2::2]))\nsys.exit(1 if os.path.exists(args['--flag']) else 0)\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func createJob(t *testing.T, c *glue.Client, name, script string, args map[string]string) {
	t.Helper()
	in := pythonJob(name)
	in.Command.ScriptLocation = aws.String(script)
	in.DefaultArguments = args
	do(c.CreateJob(ctx, in)).ok(t)
}

func onDemand(t *testing.T, c *glue.Client, wf, name string, jobs ...string) {
	t.Helper()
	var acts []types.Action
	for _, j := range jobs {
		acts = append(acts, types.Action{JobName: aws.String(j)})
	}
	do(c.CreateTrigger(ctx, &glue.CreateTriggerInput{
		Name: aws.String(name), WorkflowName: aws.String(wf), Type: types.TriggerTypeOnDemand, Actions: acts,
	})).ok(t)
}

// conditional creates an activated CONDITIONAL trigger in wf that starts job when
// every (logical AND) or any (ANY) watched job ended in its state.
func conditional(t *testing.T, c *glue.Client, wf, name, logical string, watch map[string]string, jobs ...string) {
	t.Helper()
	var conds []types.Condition
	for j, st := range watch {
		conds = append(conds, types.Condition{LogicalOperator: types.LogicalOperatorEquals, JobName: aws.String(j), State: types.JobRunState(st)})
	}
	var acts []types.Action
	for _, j := range jobs {
		acts = append(acts, types.Action{JobName: aws.String(j)})
	}
	do(c.CreateTrigger(ctx, &glue.CreateTriggerInput{
		Name: aws.String(name), WorkflowName: aws.String(wf), Type: types.TriggerTypeConditional, StartOnCreation: true,
		Predicate: &types.Predicate{Logical: types.Logical(logical), Conditions: conds}, Actions: acts,
	})).ok(t)
}

// waitRun polls GetWorkflowRun until the run is no longer RUNNING or STOPPING.
func waitRun(t *testing.T, c *glue.Client, wf, id string, within time.Duration) *types.WorkflowRun {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		out := do(c.GetWorkflowRun(ctx, &glue.GetWorkflowRunInput{Name: aws.String(wf), RunId: aws.String(id), IncludeGraph: aws.Bool(true)})).ok(t)
		if s := out.Run.Status; s != types.WorkflowRunStatusRunning && s != types.WorkflowRunStatusStopping {
			return out.Run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s still %s after %v: %+v", id, out.Run.Status, within, out.Run.Statistics)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func jobRuns(t *testing.T, c *glue.Client, job string) []types.JobRun {
	t.Helper()
	return do(c.GetJobRuns(ctx, &glue.GetJobRunsInput{JobName: aws.String(job)})).ok(t).JobRuns
}

func nodeByName(g *types.WorkflowGraph, name string) *types.Node {
	for i := range g.Nodes {
		if aws.ToString(g.Nodes[i].Name) == name {
			return &g.Nodes[i]
		}
	}
	return nil
}

// TestChainCompletes is scenario 3 (and 10): ON_DEMAND T0 -> J1, CONDITIONAL T1 (J1
// SUCCEEDED) -> J2, T2 (J2 SUCCEEDED) -> J3; real python3 job processes.
func TestChainCompletes(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	dir := scripts(t)
	ok := filepath.Join(dir, "ok.py")
	do(c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String("chain")})).ok(t)
	for _, j := range []string{"J1", "J2", "J3"} {
		createJob(t, c, j, ok, nil)
	}
	onDemand(t, c, "chain", "T0", "J1")
	conditional(t, c, "chain", "T1", "AND", map[string]string{"J1": "SUCCEEDED"}, "J2")
	conditional(t, c, "chain", "T2", "AND", map[string]string{"J2": "SUCCEEDED"}, "J3")

	wf := do(c.GetWorkflow(ctx, &glue.GetWorkflowInput{Name: aws.String("chain"), IncludeGraph: aws.Bool(true)})).ok(t).Workflow
	if len(wf.Graph.Nodes) != 6 || len(wf.Graph.Edges) != 5 {
		t.Fatalf("static graph: %d nodes, %d edges", len(wf.Graph.Nodes), len(wf.Graph.Edges))
	}
	for _, n := range wf.Graph.Nodes {
		if !strings.HasPrefix(aws.ToString(n.UniqueId), "wnode_") || len(aws.ToString(n.UniqueId)) != 6+64 {
			t.Fatalf("node id %s", aws.ToString(n.UniqueId))
		}
		if (n.Type == types.NodeTypeTrigger) != (n.TriggerDetails != nil) || n.JobDetails != nil {
			t.Fatalf("node %s details", aws.ToString(n.Name))
		}
	}

	id := aws.ToString(do(c.StartWorkflowRun(ctx, &glue.StartWorkflowRunInput{Name: aws.String("chain")})).ok(t).RunId)
	if !strings.HasPrefix(id, "wr_") || len(id) != 3+64 {
		t.Fatalf("run id %s", id)
	}
	run := waitRun(t, c, "chain", id, 60*time.Second)
	if run.Status != types.WorkflowRunStatusCompleted || run.CompletedOn == nil {
		t.Fatalf("run: %+v", run)
	}
	st := run.Statistics
	if st.TotalActions != 3 || st.SucceededActions != 3 || st.FailedActions+st.RunningActions+st.ErroredActions+st.StoppedActions+st.TimeoutActions+st.WaitingActions != 0 {
		t.Fatalf("statistics: %+v", st)
	}
	var started []time.Time
	for i, j := range []string{"J1", "J2", "J3"} {
		runs := jobRuns(t, c, j)
		if len(runs) != 1 || runs[0].JobRunState != types.JobRunStateSucceeded || aws.ToString(runs[0].TriggerName) != []string{"T0", "T1", "T2"}[i] {
			t.Fatalf("%s runs: %+v", j, runs)
		}
		started = append(started, *runs[0].StartedOn)
		node := nodeByName(run.Graph, j)
		if node == nil || node.JobDetails == nil || len(node.JobDetails.JobRuns) != 1 || aws.ToString(node.JobDetails.JobRuns[0].Id) != aws.ToString(runs[0].Id) {
			t.Fatalf("%s node: %+v", j, node)
		}
		// The node ids of the run's graph are the static graph's.
		if aws.ToString(node.UniqueId) != aws.ToString(nodeByName(wf.Graph, j).UniqueId) {
			t.Fatalf("%s node id differs between GetWorkflow and GetWorkflowRun", j)
		}
	}
	if !started[0].Before(started[1]) || !started[1].Before(started[2]) {
		t.Fatalf("start order %v", started)
	}
	last := do(c.GetWorkflow(ctx, &glue.GetWorkflowInput{Name: aws.String("chain")})).ok(t).Workflow.LastRun
	if last == nil || aws.ToString(last.WorkflowRunId) != id || last.Statistics.SucceededActions != 3 {
		t.Fatalf("last run: %+v", last)
	}
}

// TestAnyAndBlocked is scenarios 4 and 5.
func TestAnyAndBlocked(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	dir := scripts(t)
	for _, logical := range []string{"ANY", "AND"} {
		wf := "wf" + logical
		do(c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String(wf)})).ok(t)
		j1, j2, j3 := wf+"J1", wf+"J2", wf+"J3"
		createJob(t, c, j1, filepath.Join(dir, "fail.py"), nil)
		createJob(t, c, j2, filepath.Join(dir, "ok.py"), nil)
		createJob(t, c, j3, filepath.Join(dir, "ok.py"), nil)
		onDemand(t, c, wf, wf+"T0", j1, j2)
		conditional(t, c, wf, wf+"T1", logical, map[string]string{j1: "SUCCEEDED", j2: "SUCCEEDED"}, j3)
		id := aws.ToString(do(c.StartWorkflowRun(ctx, &glue.StartWorkflowRunInput{Name: aws.String(wf)})).ok(t).RunId)
		run := waitRun(t, c, wf, id, 60*time.Second)
		st := run.Statistics
		if run.Status != types.WorkflowRunStatusCompleted || st.TotalActions != 3 || st.FailedActions != 1 {
			t.Fatalf("%s: %s %+v", logical, run.Status, st)
		}
		n3 := len(jobRuns(t, c, j3))
		if logical == "ANY" && (n3 != 1 || st.SucceededActions != 2) {
			t.Fatalf("ANY: J3 ran %d times, %+v", n3, st)
		}
		if logical == "AND" && (n3 != 0 || st.SucceededActions != 1 || nodeByName(run.Graph, j3).JobDetails != nil) {
			t.Fatalf("AND: J3 ran %d times, %+v", n3, st)
		}
		failed := jobRuns(t, c, j1)[0]
		if failed.JobRunState != types.JobRunStateFailed || !strings.Contains(aws.ToString(failed.ErrorMessage), "boom") {
			t.Fatalf("failed run: %s %q", failed.JobRunState, aws.ToString(failed.ErrorMessage))
		}
	}
}
