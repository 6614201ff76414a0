package glue

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
)

const bpConfig = `{
  "layoutGenerator": "bp.layout.generate_layout",
  "parameterSpec": {
    "WorkflowName": {"type": "String", "collection": false},
    "Script": {"type": "String", "collection": false},
    "Dpu": {"type": "Integer", "defaultValue": 2}
  }
}`

const bpLayout = `
from awsglue.blueprint.workflow import Workflow, Entities
from awsglue.blueprint.job import Job

def generate_layout(user_params, system_params):
    if user_params["WorkflowName"] == "explode":
        raise ValueError("asked to fail")
    cmd = {"Name": "pythonshell", "ScriptLocation": user_params["Script"], "PythonVersion": "3.9"}
    first = Job(Name="first", Role="arn:aws:iam::123456789012:role/glue", Command=cmd)
    second = Job(Name="second", Role="arn:aws:iam::123456789012:role/glue", Command=cmd,
                 DependsOn={first: "SUCCEEDED"})
    return Workflow(Name=user_params["WorkflowName"], Entities=Entities(Jobs=[first, second]))
`

func writeZip(t *testing.T, path string, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for name, body := range files {
		f, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitBlueprint(t *testing.T, c *glue.Client, name string) *types.Blueprint {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; {
		b := do(c.GetBlueprint(ctx, &glue.GetBlueprintInput{Name: aws.String(name), IncludeParameterSpec: aws.Bool(true), IncludeBlueprint: aws.Bool(true)})).ok(t).Blueprint
		if b.Status != types.BlueprintStatusCreating && b.Status != types.BlueprintStatusUpdating {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("blueprint %s still %s", name, b.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitBlueprintRun(t *testing.T, c *glue.Client, name, id string) *types.BlueprintRun {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; {
		r := do(c.GetBlueprintRun(ctx, &glue.GetBlueprintRunInput{BlueprintName: aws.String(name), RunId: aws.String(id)})).ok(t).BlueprintRun
		if r.State == types.BlueprintRunStateSucceeded || r.State == types.BlueprintRunStateFailed {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("blueprint run %s still %s", id, r.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBlueprints is scenarios 24 and 25.
func TestBlueprints(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	dir := scripts(t)
	good := filepath.Join(dir, "bp.zip")
	writeZip(t, good, map[string]string{"bp/blueprint.cfg": bpConfig, "bp/layout.py": bpLayout, "bp/__init__.py": ""})
	bad := filepath.Join(dir, "bad.zip")
	writeZip(t, bad, map[string]string{"bp/layout.py": bpLayout})
	role := aws.String("arn:aws:iam::123456789012:role/glue")

	do(c.CreateBlueprint(ctx, &glue.CreateBlueprintInput{Name: aws.String("bp"), BlueprintLocation: aws.String("file://" + good)})).ok(t)
	_, err := c.CreateBlueprint(ctx, &glue.CreateBlueprintInput{Name: aws.String("bp"), BlueprintLocation: aws.String("file://" + good)})
	wantCode(t, err, "AlreadyExistsException")
	_, err = c.CreateBlueprint(ctx, &glue.CreateBlueprintInput{Name: aws.String("b p"), BlueprintLocation: aws.String("file://" + good)})
	wantCode(t, err, "ValidationException")
	b := waitBlueprint(t, c, "bp")
	if b.Status != types.BlueprintStatusActive || !strings.Contains(aws.ToString(b.ParameterSpec), "WorkflowName") || b.BlueprintServiceLocation == nil {
		t.Fatalf("blueprint: %+v", b)
	}
	_, err = c.StartBlueprintRun(ctx, &glue.StartBlueprintRunInput{BlueprintName: aws.String("bp"), RoleArn: role, Parameters: aws.String(`{"Script": "x"}`)})
	wantCode(t, err, "InvalidInputException")
	_, err = c.StartBlueprintRun(ctx, &glue.StartBlueprintRunInput{BlueprintName: aws.String("nope"), RoleArn: role})
	wantCode(t, err, "EntityNotFoundException")

	ok := filepath.Join(dir, "ok.py")
	id := aws.ToString(do(c.StartBlueprintRun(ctx, &glue.StartBlueprintRunInput{BlueprintName: aws.String("bp"), RoleArn: role,
		Parameters: aws.String(`{"WorkflowName": "bpwf", "Script": "` + ok + `"}`)})).ok(t).RunId)
	run := waitBlueprintRun(t, c, "bp", id)
	if run.State != types.BlueprintRunStateSucceeded || aws.ToString(run.WorkflowName) != "bpwf" {
		t.Fatalf("blueprint run: %+v %s", run, aws.ToString(run.ErrorMessage))
	}
	wf := do(c.GetWorkflow(ctx, &glue.GetWorkflowInput{Name: aws.String("bpwf"), IncludeGraph: aws.Bool(true)})).ok(t).Workflow
	if wf.BlueprintDetails == nil || aws.ToString(wf.BlueprintDetails.BlueprintName) != "bp" || aws.ToString(wf.BlueprintDetails.RunId) != id {
		t.Fatalf("blueprint details: %+v", wf.BlueprintDetails)
	}
	st := do(c.GetTrigger(ctx, &glue.GetTriggerInput{Name: aws.String("bpwf_starting_trigger")})).ok(t).Trigger
	if st.Type != types.TriggerTypeOnDemand {
		t.Fatalf("starting trigger: %+v", st)
	}
	wid := aws.ToString(do(c.StartWorkflowRun(ctx, &glue.StartWorkflowRunInput{Name: aws.String("bpwf")})).ok(t).RunId)
	wr := waitRun(t, c, "bpwf", wid, 60*time.Second)
	if wr.Status != types.WorkflowRunStatusCompleted || wr.Statistics.SucceededActions != 2 {
		t.Fatalf("blueprint workflow run: %s %+v", wr.Status, wr.Statistics)
	}

	// A layout that raises: FAILED, nothing left behind.
	id = aws.ToString(do(c.StartBlueprintRun(ctx, &glue.StartBlueprintRunInput{BlueprintName: aws.String("bp"), RoleArn: role,
		Parameters: aws.String(`{"WorkflowName": "explode", "Script": "` + ok + `"}`)})).ok(t).RunId)
	run = waitBlueprintRun(t, c, "bp", id)
	if run.State != types.BlueprintRunStateFailed || !strings.Contains(aws.ToString(run.ErrorMessage), "asked to fail") {
		t.Fatalf("failing layout: %+v", run)
	}
	_, err = c.GetWorkflow(ctx, &glue.GetWorkflowInput{Name: aws.String("explode")})
	wantCode(t, err, "EntityNotFoundException")
	runs := do(c.GetBlueprintRuns(ctx, &glue.GetBlueprintRunsInput{BlueprintName: aws.String("bp")})).ok(t).BlueprintRuns
	if len(runs) != 2 || aws.ToString(runs[0].RunId) != id {
		t.Fatalf("blueprint runs (newest first): %d", len(runs))
	}

	// A bad archive: FAILED; a run on it: IllegalBlueprintStateException.
	do(c.CreateBlueprint(ctx, &glue.CreateBlueprintInput{Name: aws.String("badbp"), BlueprintLocation: aws.String("file://" + bad)})).ok(t)
	if b := waitBlueprint(t, c, "badbp"); b.Status != types.BlueprintStatusFailed || aws.ToString(b.ErrorMessage) == "" {
		t.Fatalf("bad blueprint: %+v", b)
	}
	_, err = c.StartBlueprintRun(ctx, &glue.StartBlueprintRunInput{BlueprintName: aws.String("badbp"), RoleArn: role})
	wantCode(t, err, "IllegalBlueprintStateException")
	names := do(c.ListBlueprints(ctx, &glue.ListBlueprintsInput{})).ok(t).Blueprints
	if len(names) != 2 {
		t.Fatalf("list blueprints: %v", names)
	}
	bg := do(c.BatchGetBlueprints(ctx, &glue.BatchGetBlueprintsInput{Names: []string{"bp", "zz"}})).ok(t)
	if len(bg.Blueprints) != 1 || len(bg.MissingBlueprints) != 1 || bg.Blueprints[0].ParameterSpec != nil {
		t.Fatalf("batch get blueprints: %+v", bg)
	}
	do(c.DeleteBlueprint(ctx, &glue.DeleteBlueprintInput{Name: aws.String("badbp")})).ok(t)
	do(c.DeleteBlueprint(ctx, &glue.DeleteBlueprintInput{Name: aws.String("badbp")})).ok(t)
}
