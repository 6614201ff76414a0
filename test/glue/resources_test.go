package glue

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
)

func TestWorkflowCRUD(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	_, err := c.GetWorkflow(ctx, &glue.GetWorkflowInput{Name: aws.String("nope")})
	wantCode(t, err, "EntityNotFoundException")
	del := do(c.DeleteWorkflow(ctx, &glue.DeleteWorkflowInput{Name: aws.String("nope")})).ok(t)
	if aws.ToString(del.Name) != "nope" {
		t.Fatalf("delete unknown: %v", del.Name)
	}
	do(c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{
		Name: aws.String("wf"), Description: aws.String("d"),
		DefaultRunProperties: map[string]string{"a": "1"}, MaxConcurrentRuns: aws.Int32(2),
		Tags: map[string]string{"team": "x"},
	})).ok(t)
	_, err = c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String("wf")})
	wantCode(t, err, "AlreadyExistsException")
	got := do(c.GetWorkflow(ctx, &glue.GetWorkflowInput{Name: aws.String("wf")})).ok(t).Workflow
	if aws.ToString(got.Description) != "d" || got.DefaultRunProperties["a"] != "1" || aws.ToInt32(got.MaxConcurrentRuns) != 2 ||
		got.CreatedOn == nil || got.LastModifiedOn == nil || got.Graph != nil {
		t.Fatalf("get: %+v", got)
	}
	time.Sleep(10 * time.Millisecond)
	do(c.UpdateWorkflow(ctx, &glue.UpdateWorkflowInput{Name: aws.String("wf"), Description: aws.String("e")})).ok(t)
	upd := do(c.GetWorkflow(ctx, &glue.GetWorkflowInput{Name: aws.String("wf")})).ok(t).Workflow
	if aws.ToString(upd.Description) != "e" || upd.DefaultRunProperties["a"] != "1" || !upd.LastModifiedOn.After(*got.LastModifiedOn) {
		t.Fatalf("update: %+v", upd)
	}
	_, err = c.UpdateWorkflow(ctx, &glue.UpdateWorkflowInput{Name: aws.String("nope")})
	wantCode(t, err, "EntityNotFoundException")
	bg := do(c.BatchGetWorkflows(ctx, &glue.BatchGetWorkflowsInput{Names: []string{"wf", "nope"}})).ok(t)
	if len(bg.Workflows) != 1 || len(bg.MissingWorkflows) != 1 || bg.MissingWorkflows[0] != "nope" {
		t.Fatalf("batch get: %+v", bg)
	}
	do(c.DeleteWorkflow(ctx, &glue.DeleteWorkflowInput{Name: aws.String("wf")})).ok(t)
	_, err = c.GetWorkflow(ctx, &glue.GetWorkflowInput{Name: aws.String("wf")})
	wantCode(t, err, "EntityNotFoundException")
}

func TestWorkflowValidationAndPagination(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	_, err := c.ListWorkflows(ctx, &glue.ListWorkflowsInput{MaxResults: aws.Int32(26)})
	wantCode(t, err, "ValidationException")
	_, err = c.ListWorkflows(ctx, &glue.ListWorkflowsInput{NextToken: aws.String("garbage")})
	wantCode(t, err, "InvalidInputException")
	_, err = c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String("a\nb")})
	wantCode(t, err, "ValidationException")
	_, err = c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String("t"), Tags: map[string]string{"aws:x": "1"}})
	wantCode(t, err, "InvalidInputException")
	// Nothing stored by the refused requests.
	if l := do(c.ListWorkflows(ctx, &glue.ListWorkflowsInput{})).ok(t); len(l.Workflows) != 0 {
		t.Fatalf("refused requests stored %v", l.Workflows)
	}
	for i := range 30 {
		do(c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String(fmt.Sprintf("wf%02d", i))})).ok(t)
	}
	var names []string
	pages := 0
	p := glue.NewListWorkflowsPaginator(c, &glue.ListWorkflowsInput{})
	for p.HasMorePages() {
		out := do(p.NextPage(ctx)).ok(t)
		if len(out.Workflows) > 25 {
			t.Fatalf("page of %d", len(out.Workflows))
		}
		pages++
		names = append(names, out.Workflows...)
	}
	if len(names) != 30 || pages != 2 || names[0] != "wf00" || names[29] != "wf29" {
		t.Fatalf("%d pages: %v", pages, names)
	}
}

func pythonJob(name string) *glue.CreateJobInput {
	return &glue.CreateJobInput{
		Name: aws.String(name), Role: aws.String("arn:aws:iam::123456789012:role/glue"),
		Command: &types.JobCommand{Name: aws.String("pythonshell"), ScriptLocation: aws.String("file:///tmp/x.py"), PythonVersion: aws.String("3.9")},
	}
}

func TestJobCRUD(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	_, err := c.GetJob(ctx, &glue.GetJobInput{JobName: aws.String("nope")})
	wantCode(t, err, "EntityNotFoundException")
	in := pythonJob("j1")
	in.DefaultArguments = map[string]string{"--x": "d"}
	in.Tags = map[string]string{"team": "a"}
	do(c.CreateJob(ctx, in)).ok(t)
	_, err = c.CreateJob(ctx, pythonJob("j1"))
	wantCode(t, err, "AlreadyExistsException")
	j := do(c.GetJob(ctx, &glue.GetJobInput{JobName: aws.String("j1")})).ok(t).Job
	if aws.ToString(j.Command.Name) != "pythonshell" || j.DefaultArguments["--x"] != "d" || aws.ToInt32(j.Timeout) != 2880 ||
		aws.ToFloat64(j.MaxCapacity) != 0.0625 || aws.ToInt32(&j.ExecutionProperty.MaxConcurrentRuns) != 1 || j.CreatedOn == nil {
		t.Fatalf("job: %+v", j)
	}
	bad := pythonJob("j2")
	bad.Timeout = aws.Int32(10080)
	_, err = c.CreateJob(ctx, bad)
	wantCode(t, err, "InvalidInputException")
	bad = pythonJob("j2")
	bad.MaxRetries = 11
	_, err = c.CreateJob(ctx, bad)
	wantCode(t, err, "InvalidInputException")
	bad = pythonJob("j2")
	bad.Command.PythonVersion = aws.String("4")
	_, err = c.CreateJob(ctx, bad)
	wantCode(t, err, "ValidationException")
	do(c.CreateJob(ctx, pythonJob("j2"))).ok(t)
	// UpdateJob replaces the whole definition.
	do(c.UpdateJob(ctx, &glue.UpdateJobInput{JobName: aws.String("j1"), JobUpdate: &types.JobUpdate{
		Role: aws.String("r2"), Command: &types.JobCommand{Name: aws.String("pythonshell"), ScriptLocation: aws.String("file:///tmp/y.py")},
	}})).ok(t)
	j = do(c.GetJob(ctx, &glue.GetJobInput{JobName: aws.String("j1")})).ok(t).Job
	if aws.ToString(j.Role) != "r2" || len(j.DefaultArguments) != 0 || aws.ToString(j.Command.ScriptLocation) != "file:///tmp/y.py" {
		t.Fatalf("updated job: %+v", j)
	}
	_, err = c.UpdateJob(ctx, &glue.UpdateJobInput{JobName: aws.String("nope"), JobUpdate: &types.JobUpdate{Role: aws.String("r"), Command: &types.JobCommand{Name: aws.String("pythonshell")}}})
	wantCode(t, err, "EntityNotFoundException")
	lj := do(c.ListJobs(ctx, &glue.ListJobsInput{Tags: map[string]string{"team": "a"}})).ok(t)
	if len(lj.JobNames) != 1 || lj.JobNames[0] != "j1" {
		t.Fatalf("list jobs by tag: %v", lj.JobNames)
	}
	gj := do(c.GetJobs(ctx, &glue.GetJobsInput{MaxResults: aws.Int32(1)})).ok(t)
	if len(gj.Jobs) != 1 || gj.NextToken == nil {
		t.Fatalf("get jobs page: %+v", gj)
	}
	gj = do(c.GetJobs(ctx, &glue.GetJobsInput{NextToken: gj.NextToken})).ok(t)
	if len(gj.Jobs) != 1 || gj.NextToken != nil || aws.ToString(gj.Jobs[0].Name) != "j2" {
		t.Fatalf("get jobs page 2: %+v", gj)
	}
	bj := do(c.BatchGetJobs(ctx, &glue.BatchGetJobsInput{JobNames: []string{"j1", "zz"}})).ok(t)
	if len(bj.Jobs) != 1 || len(bj.JobsNotFound) != 1 {
		t.Fatalf("batch get jobs: %+v", bj)
	}
	do(c.DeleteJob(ctx, &glue.DeleteJobInput{JobName: aws.String("j1")})).ok(t)
	do(c.DeleteJob(ctx, &glue.DeleteJobInput{JobName: aws.String("j1")})).ok(t)
	_, err = c.GetJob(ctx, &glue.GetJobInput{JobName: aws.String("j1")})
	wantCode(t, err, "EntityNotFoundException")
}
