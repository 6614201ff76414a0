package glue

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
)

// TestDocumentedErrors calls every operation not covered elsewhere with the inputs
// GLUE.md §2 documents errors for, and checks that refused calls stored nothing.
func TestDocumentedErrors(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	nf := "EntityNotFoundException"
	n := aws.String("nope")
	checks := []struct {
		name string
		err  error
		code string
	}{}
	add := func(name string, err error, code string) {
		checks = append(checks, struct {
			name string
			err  error
			code string
		}{name, err, code})
	}
	_, err := c.StartWorkflowRun(ctx, &glue.StartWorkflowRunInput{Name: n})
	add("StartWorkflowRun", err, nf)
	_, err = c.GetWorkflowRuns(ctx, &glue.GetWorkflowRunsInput{Name: n})
	add("GetWorkflowRuns", err, nf)
	_, err = c.GetWorkflowRun(ctx, &glue.GetWorkflowRunInput{Name: n, RunId: aws.String("wr_x")})
	add("GetWorkflowRun", err, nf)
	_, err = c.GetWorkflowRunProperties(ctx, &glue.GetWorkflowRunPropertiesInput{Name: n, RunId: aws.String("wr_x")})
	add("GetWorkflowRunProperties", err, nf)
	_, err = c.StopWorkflowRun(ctx, &glue.StopWorkflowRunInput{Name: n, RunId: aws.String("wr_x")})
	add("StopWorkflowRun", err, nf)
	_, err = c.ResumeWorkflowRun(ctx, &glue.ResumeWorkflowRunInput{Name: n, RunId: aws.String("wr_x"), NodeIds: []string{"wnode_x"}})
	add("ResumeWorkflowRun", err, nf)
	_, err = c.StartJobRun(ctx, &glue.StartJobRunInput{JobName: n})
	add("StartJobRun", err, nf)
	_, err = c.GetJobRuns(ctx, &glue.GetJobRunsInput{JobName: n})
	add("GetJobRuns", err, nf)
	_, err = c.GetJobRun(ctx, &glue.GetJobRunInput{JobName: n, RunId: aws.String("jr_x")})
	add("GetJobRun", err, nf)
	_, err = c.UpdateTrigger(ctx, &glue.UpdateTriggerInput{Name: n, TriggerUpdate: &types.TriggerUpdate{Description: aws.String("d")}})
	add("UpdateTrigger", err, nf)
	_, err = c.StartTrigger(ctx, &glue.StartTriggerInput{Name: n})
	add("StartTrigger", err, nf)
	_, err = c.StopTrigger(ctx, &glue.StopTriggerInput{Name: n})
	add("StopTrigger", err, nf)
	_, err = c.GetTriggers(ctx, &glue.GetTriggersInput{DependentJobName: n})
	add("GetTriggers", err, nf)
	_, err = c.GetCrawler(ctx, &glue.GetCrawlerInput{Name: n})
	add("GetCrawler", err, nf)
	_, err = c.StartCrawler(ctx, &glue.StartCrawlerInput{Name: n})
	add("StartCrawler", err, nf)
	_, err = c.StopCrawler(ctx, &glue.StopCrawlerInput{Name: n})
	add("StopCrawler", err, nf)
	_, err = c.DeleteCrawler(ctx, &glue.DeleteCrawlerInput{Name: n})
	add("DeleteCrawler", err, nf)
	_, err = c.UntagResource(ctx, &glue.UntagResourceInput{ResourceArn: aws.String("arn:aws:glue:us-east-1:123456789012:job/nope"), TagsToRemove: []string{"k"}})
	add("UntagResource", err, nf)
	_, err = c.TagResource(ctx, &glue.TagResourceInput{ResourceArn: aws.String("arn:aws:glue:us-east-1:123456789012:trigger/nope"), TagsToAdd: map[string]string{"k": "v"}})
	add("TagResource", err, nf)
	_, err = c.UpdateBlueprint(ctx, &glue.UpdateBlueprintInput{Name: n, BlueprintLocation: aws.String("s3://b/k.zip")})
	add("UpdateBlueprint", err, nf)
	_, err = c.GetBlueprint(ctx, &glue.GetBlueprintInput{Name: n})
	add("GetBlueprint", err, nf)
	_, err = c.GetBlueprintRun(ctx, &glue.GetBlueprintRunInput{BlueprintName: n, RunId: aws.String("x")})
	add("GetBlueprintRun", err, nf)
	_, err = c.GetBlueprintRuns(ctx, &glue.GetBlueprintRunsInput{BlueprintName: n})
	add("GetBlueprintRuns", err, nf)
	var many []string
	for i := range 101 {
		many = append(many, fmt.Sprintf("c%d", i))
	}
	_, err = c.BatchGetCrawlers(ctx, &glue.BatchGetCrawlersInput{CrawlerNames: many})
	add("BatchGetCrawlers >100", err, "InvalidInputException")
	_, err = c.GetJobRuns(ctx, &glue.GetJobRunsInput{JobName: n, MaxResults: aws.Int32(201)})
	add("GetJobRuns MaxResults", err, "ValidationException")
	_, err = c.CreateBlueprint(ctx, &glue.CreateBlueprintInput{Name: aws.String("bp"), BlueprintLocation: aws.String("http://x/y.zip")})
	add("CreateBlueprint location", err, "InvalidInputException")
	_, err = c.StartBlueprintRun(ctx, &glue.StartBlueprintRunInput{BlueprintName: aws.String("bp"), RoleArn: aws.String("not-a-role")})
	add("StartBlueprintRun role", err, "ValidationException")
	_, err = c.CreateJob(ctx, &glue.CreateJobInput{Name: aws.String("j"), Role: aws.String("r"),
		Command: &types.JobCommand{Name: aws.String("glueetl")}, WorkerType: types.WorkerTypeG1x})
	add("CreateJob WorkerType without NumberOfWorkers", err, "InvalidInputException")
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) { wantCode(t, ch.err, ch.code) })
	}
	// Nothing was stored by the refused calls.
	if l := do(c.ListJobs(ctx, &glue.ListJobsInput{})).ok(t).JobNames; len(l) != 0 {
		t.Fatalf("jobs: %v", l)
	}
	if l := do(c.ListBlueprints(ctx, &glue.ListBlueprintsInput{})).ok(t).Blueprints; len(l) != 0 {
		t.Fatalf("blueprints: %v", l)
	}
	if l := do(c.ListCrawlers(ctx, &glue.ListCrawlersInput{})).ok(t).CrawlerNames; len(l) != 0 {
		t.Fatalf("crawlers: %v", l)
	}
	// A workflow without a start trigger cannot start; deleting unknown triggers and
	// jobs succeeds; GetCrawlers/BatchGetCrawlers answer what exists.
	do(c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String("bare")})).ok(t)
	_, err = c.StartWorkflowRun(ctx, &glue.StartWorkflowRunInput{Name: aws.String("bare")})
	wantCode(t, err, "InvalidInputException")
	do(c.DeleteTrigger(ctx, &glue.DeleteTriggerInput{Name: n})).ok(t)
	do(c.DeleteJob(ctx, &glue.DeleteJobInput{JobName: n})).ok(t)
	do(c.CreateCrawler(ctx, &glue.CreateCrawlerInput{Name: aws.String("cr"), Role: aws.String("r"),
		Targets: &types.CrawlerTargets{S3Targets: []types.S3Target{{Path: aws.String("s3://b/p")}}}, Schedule: aws.String("cron(0 12 * * ? *)")})).ok(t)
	gc := do(c.GetCrawlers(ctx, &glue.GetCrawlersInput{})).ok(t).Crawlers
	if len(gc) != 1 || gc[0].State != types.CrawlerStateReady || gc[0].Targets == nil || len(gc[0].Targets.S3Targets) != 1 ||
		gc[0].Schedule == nil || aws.ToString(gc[0].Schedule.ScheduleExpression) != "cron(0 12 * * ? *)" {
		t.Fatalf("crawlers: %+v", gc)
	}
	bc := do(c.BatchGetCrawlers(ctx, &glue.BatchGetCrawlersInput{CrawlerNames: []string{"cr", "zz"}})).ok(t)
	if len(bc.Crawlers) != 1 || len(bc.CrawlersNotFound) != 1 {
		t.Fatalf("batch get crawlers: %+v", bc)
	}
}
