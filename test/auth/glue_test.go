package auth

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
)

func (n *node) glue(key, secret, region string) *glue.Client {
	return glue.New(glue.Options{
		Region: region, BaseEndpoint: aws.String(n.endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
	})
}

// TestGlueIsolated: Glue resources (jobs, job runs, crawlers, workflows, workflow
// runs, triggers, blueprints, tags) of team A do not exist for team B, nor for team A
// in another region: by name, in lists, by ARN; the same names are free for them; team
// A sees its own names and ARNs unchanged; a name shaped like sfnd's scope prefix is
// refused.
func TestGlueIsolated(t *testing.T) {
	n := start(t)
	a := n.glue("AKIAAAAAAAAAAAAAAAAA", "secret-of-team-a", "us-east-1")
	b := n.glue("AKIABBBBBBBBBBBBBBBB", "secret-of-team-b", "us-east-1")
	aEU := n.glue("AKIAAAAAAAAAAAAAAAAA", "secret-of-team-a", "eu-west-1")
	script := filepath.Join(t.TempDir(), "job.py")
	if err := os.WriteFile(script, []byte("print('hi')\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := &types.JobCommand{Name: aws.String("pythonshell"), ScriptLocation: aws.String(script)}
	must[*glue.CreateJobOutput](t)(a.CreateJob(bg, &glue.CreateJobInput{Name: aws.String("j"), Role: aws.String("arn:aws:iam::111111111111:role/r"),
		Command: cmd, Description: aws.String("team A's job"), Tags: map[string]string{"team": "a"},
		ExecutionProperty: &types.ExecutionProperty{MaxConcurrentRuns: 2}}))
	must[*glue.CreateCrawlerOutput](t)(a.CreateCrawler(bg, &glue.CreateCrawlerInput{Name: aws.String("c"), Role: aws.String("arn:aws:iam::111111111111:role/r"),
		Targets: &types.CrawlerTargets{S3Targets: []types.S3Target{{Path: aws.String("s3://bucket/x")}}}}))
	must[*glue.CreateWorkflowOutput](t)(a.CreateWorkflow(bg, &glue.CreateWorkflowInput{Name: aws.String("wf")}))
	must[*glue.CreateTriggerOutput](t)(a.CreateTrigger(bg, &glue.CreateTriggerInput{Name: aws.String("t"), WorkflowName: aws.String("wf"),
		Type: types.TriggerTypeOnDemand, Actions: []types.Action{{JobName: aws.String("j")}}}))
	must[*glue.CreateTriggerOutput](t)(a.CreateTrigger(bg, &glue.CreateTriggerInput{Name: aws.String("after"), WorkflowName: aws.String("wf"),
		Type: types.TriggerTypeConditional, StartOnCreation: true, Actions: []types.Action{{CrawlerName: aws.String("c")}},
		Predicate: &types.Predicate{Conditions: []types.Condition{{JobName: aws.String("j"), State: types.JobRunStateSucceeded, LogicalOperator: types.LogicalOperatorEquals}}}}))
	jr := must[*glue.StartJobRunOutput](t)(a.StartJobRun(bg, &glue.StartJobRunInput{JobName: aws.String("j")}))
	wr := must[*glue.StartWorkflowRunOutput](t)(a.StartWorkflowRun(bg, &glue.StartWorkflowRunInput{Name: aws.String("wf")}))
	jobARN := "arn:aws:glue:us-east-1:111111111111:job/j"

	// Team A sees its own names as it gave them.
	if l := must[*glue.ListJobsOutput](t)(a.ListJobs(bg, &glue.ListJobsInput{})); !slices.Equal(l.JobNames, []string{"j"}) {
		t.Fatalf("team A's jobs: %v", l.JobNames)
	}
	gt := must[*glue.GetTriggerOutput](t)(a.GetTrigger(bg, &glue.GetTriggerInput{Name: aws.String("after")}))
	if aws.ToString(gt.Trigger.WorkflowName) != "wf" || aws.ToString(gt.Trigger.Predicate.Conditions[0].JobName) != "j" ||
		aws.ToString(gt.Trigger.Actions[0].CrawlerName) != "c" || aws.ToString(gt.Trigger.Name) != "after" {
		t.Fatalf("team A's trigger: %+v", gt.Trigger)
	}
	if tags := must[*glue.GetTagsOutput](t)(a.GetTags(bg, &glue.GetTagsInput{ResourceArn: aws.String(jobARN)})); tags.Tags["team"] != "a" {
		t.Fatalf("team A's tags: %v", tags.Tags)
	}
	w := must[*glue.GetWorkflowOutput](t)(a.GetWorkflow(bg, &glue.GetWorkflowInput{Name: aws.String("wf"), IncludeGraph: aws.Bool(true)}))
	if aws.ToString(w.Workflow.Name) != "wf" || w.Workflow.Graph == nil || len(w.Workflow.Graph.Nodes) != 4 {
		t.Fatalf("team A's workflow: %+v", w.Workflow)
	}
	for _, nd := range w.Workflow.Graph.Nodes {
		if strings.Contains(aws.ToString(nd.Name), "..s") {
			t.Fatalf("a graph node shows sfnd's scope: %q", aws.ToString(nd.Name))
		}
	}

	for who, c := range map[string]*glue.Client{"team B": b, "team A in eu-west-1": aEU} {
		t.Run(who, func(t *testing.T) {
			notFound := func(what string, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s: %s of team A's is visible", who, what)
				}
				wantCode(t, err, "EntityNotFoundException", "")
			}
			_, err := c.GetJob(bg, &glue.GetJobInput{JobName: aws.String("j")})
			notFound("job", err)
			_, err = c.GetCrawler(bg, &glue.GetCrawlerInput{Name: aws.String("c")})
			notFound("crawler", err)
			_, err = c.GetWorkflow(bg, &glue.GetWorkflowInput{Name: aws.String("wf")})
			notFound("workflow", err)
			_, err = c.GetTrigger(bg, &glue.GetTriggerInput{Name: aws.String("t")})
			notFound("trigger", err)
			_, err = c.GetJobRun(bg, &glue.GetJobRunInput{JobName: aws.String("j"), RunId: jr.JobRunId})
			notFound("job run", err)
			_, err = c.GetWorkflowRun(bg, &glue.GetWorkflowRunInput{Name: aws.String("wf"), RunId: wr.RunId})
			notFound("workflow run", err)
			_, err = c.StartJobRun(bg, &glue.StartJobRunInput{JobName: aws.String("j")})
			notFound("start job run", err)
			_, err = c.StartWorkflowRun(bg, &glue.StartWorkflowRunInput{Name: aws.String("wf")})
			notFound("start workflow run", err)
			_, err = c.StartCrawler(bg, &glue.StartCrawlerInput{Name: aws.String("c")})
			notFound("start crawler", err)
			_, err = c.GetTags(bg, &glue.GetTagsInput{ResourceArn: aws.String(jobARN)})
			notFound("tags", err)
			_, err = c.TagResource(bg, &glue.TagResourceInput{ResourceArn: aws.String(jobARN), TagsToAdd: map[string]string{"x": "y"}})
			notFound("tagging", err)
			_, err = c.GetBlueprint(bg, &glue.GetBlueprintInput{Name: aws.String("bp")})
			notFound("blueprint", err)
			if l := must[*glue.ListJobsOutput](t)(c.ListJobs(bg, &glue.ListJobsInput{})); len(l.JobNames) != 0 {
				t.Fatalf("jobs listed: %v", l.JobNames)
			}
			if l := must[*glue.GetJobsOutput](t)(c.GetJobs(bg, &glue.GetJobsInput{})); len(l.Jobs) != 0 {
				t.Fatalf("jobs got: %d", len(l.Jobs))
			}
			if l := must[*glue.ListWorkflowsOutput](t)(c.ListWorkflows(bg, &glue.ListWorkflowsInput{})); len(l.Workflows) != 0 {
				t.Fatalf("workflows listed: %v", l.Workflows)
			}
			if l := must[*glue.ListTriggersOutput](t)(c.ListTriggers(bg, &glue.ListTriggersInput{})); len(l.TriggerNames) != 0 {
				t.Fatalf("triggers listed: %v", l.TriggerNames)
			}
			_, err = c.GetTriggers(bg, &glue.GetTriggersInput{DependentJobName: aws.String("j")})
			notFound("dependent job", err)
			if l := must[*glue.GetTriggersOutput](t)(c.GetTriggers(bg, &glue.GetTriggersInput{})); len(l.Triggers) != 0 {
				t.Fatalf("triggers got: %d", len(l.Triggers))
			}
			if l := must[*glue.ListCrawlersOutput](t)(c.ListCrawlers(bg, &glue.ListCrawlersInput{})); len(l.CrawlerNames) != 0 {
				t.Fatalf("crawlers listed: %v", l.CrawlerNames)
			}
			if l := must[*glue.GetCrawlersOutput](t)(c.GetCrawlers(bg, &glue.GetCrawlersInput{})); len(l.Crawlers) != 0 {
				t.Fatalf("crawlers got: %d", len(l.Crawlers))
			}
			if l := must[*glue.ListBlueprintsOutput](t)(c.ListBlueprints(bg, &glue.ListBlueprintsInput{})); len(l.Blueprints) != 0 {
				t.Fatalf("blueprints listed: %v", l.Blueprints)
			}
			bj := must[*glue.BatchGetJobsOutput](t)(c.BatchGetJobs(bg, &glue.BatchGetJobsInput{JobNames: []string{"j"}}))
			if len(bj.Jobs) != 0 || !slices.Equal(bj.JobsNotFound, []string{"j"}) {
				t.Fatalf("batch get: %d found, not found %v", len(bj.Jobs), bj.JobsNotFound)
			}
			// Deleting team A's names deletes nothing of team A's (Glue's deletes of a
			// missing entity succeed).
			_, _ = c.DeleteJob(bg, &glue.DeleteJobInput{JobName: aws.String("j")})
			_, _ = c.DeleteWorkflow(bg, &glue.DeleteWorkflowInput{Name: aws.String("wf")})
			_, _ = c.DeleteCrawler(bg, &glue.DeleteCrawlerInput{Name: aws.String("c")})
			_, _ = c.DeleteTrigger(bg, &glue.DeleteTriggerInput{Name: aws.String("t")})
			// The names are free: a job "j" of their own.
			must[*glue.CreateJobOutput](t)(c.CreateJob(bg, &glue.CreateJobInput{Name: aws.String("j"), Role: aws.String("arn:aws:iam::222222222222:role/r"),
				Command: cmd, Description: aws.String(who + "'s job")}))
			got := must[*glue.GetJobOutput](t)(c.GetJob(bg, &glue.GetJobInput{JobName: aws.String("j")}))
			if aws.ToString(got.Job.Description) != who+"'s job" || aws.ToString(got.Job.Name) != "j" {
				t.Fatalf("own job: %+v", got.Job)
			}
		})
	}
	// Team A's resources are untouched.
	got := must[*glue.GetJobOutput](t)(a.GetJob(bg, &glue.GetJobInput{JobName: aws.String("j")}))
	if aws.ToString(got.Job.Description) != "team A's job" {
		t.Fatalf("team A's job changed: %+v", got.Job)
	}
	for _, get := range []func() error{
		func() error { _, err := a.GetWorkflow(bg, &glue.GetWorkflowInput{Name: aws.String("wf")}); return err },
		func() error { _, err := a.GetCrawler(bg, &glue.GetCrawlerInput{Name: aws.String("c")}); return err },
		func() error { _, err := a.GetTrigger(bg, &glue.GetTriggerInput{Name: aws.String("t")}); return err },
		func() error {
			_, err := a.GetJobRun(bg, &glue.GetJobRunInput{JobName: aws.String("j"), RunId: jr.JobRunId})
			return err
		},
		func() error {
			_, err := a.GetWorkflowRun(bg, &glue.GetWorkflowRunInput{Name: aws.String("wf"), RunId: wr.RunId})
			return err
		},
	} {
		if err := get(); err != nil {
			t.Fatalf("team A lost a resource: %v", err)
		}
	}
	if l := must[*glue.ListJobsOutput](t)(a.ListJobs(bg, &glue.ListJobsInput{})); !slices.Equal(l.JobNames, []string{"j"}) {
		t.Fatalf("team A's jobs after the others made theirs: %v", l.JobNames)
	}
	// Team A's workflow run ran its job and, on its success, its crawler: the core
	// found both under team A's names.
	deadline := time.Now().Add(90 * time.Second)
	for {
		run := must[*glue.GetWorkflowRunOutput](t)(a.GetWorkflowRun(bg, &glue.GetWorkflowRunInput{Name: aws.String("wf"), RunId: wr.RunId}))
		if run.Run.Status == types.WorkflowRunStatusCompleted {
			if st := run.Run.Statistics; st == nil || st.SucceededActions != 2 {
				runs, _ := a.GetJobRuns(bg, &glue.GetJobRunsInput{JobName: aws.String("j")})
				for _, r := range runs.JobRuns {
					t.Logf("job run %s: %s %s", aws.ToString(r.Id), r.JobRunState, aws.ToString(r.ErrorMessage))
				}
				t.Fatalf("team A's workflow run: %+v", run.Run.Statistics)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("team A's workflow run is %s after 90 s", run.Run.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	_, err := a.CreateJob(bg, &glue.CreateJobInput{Name: aws.String("..s0123456789ab..j"), Role: aws.String("r"), Command: cmd})
	wantCode(t, err, "InvalidInputException", "")

	// boto3 with the credentials file's profiles.
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Log("python3 with boto3 is not available: boto3 part skipped")
		return
	}
	py := `
import sys, boto3, botocore
endpoint = sys.argv[1]
def client(profile, region="us-east-1"):
    return boto3.Session(profile_name=profile).client("glue", region_name=region, endpoint_url=endpoint)
a, b = client("team-a"), client("team-b")
a.create_workflow(Name="boto-wf")
assert "boto-wf" in a.list_workflows()["Workflows"], a.list_workflows()
assert "boto-wf" not in b.list_workflows()["Workflows"]
for c in (b, client("team-a", "eu-west-1")):
    try:
        c.get_workflow(Name="boto-wf")
        raise SystemExit("another account or region got team A's workflow")
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "EntityNotFoundException", e.response
assert a.get_workflow(Name="boto-wf")["Workflow"]["Name"] == "boto-wf"
print("ok")
`
	pc := exec.Command("python3", "-c", py, n.endpoint)
	pc.Env = append(os.Environ(), "AWS_SHARED_CREDENTIALS_FILE="+n.credPath, "AWS_CONFIG_FILE="+filepath.Join(t.TempDir(), "none"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1")
	out, err := pc.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
}
