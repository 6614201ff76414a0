package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/sfnd/sfnd/test/testutil"
)

type glueCreds struct{}

func (glueCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret", Source: "test"}, nil
}

// TestGlueWorkflowPages lists Glue workflows and draws one's graph: its jobs and
// triggers, created through the Glue API.
func TestGlueWorkflowPages(t *testing.T) {
	chromiumPath(t)
	a := testutil.Start(t, testutil.Options{})
	g := glue.New(glue.Options{Region: "us-east-1", BaseEndpoint: aws.String(a.Endpoint()), Credentials: aws.NewCredentialsCache(glueCreds{})})
	ctx := context.Background()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(g.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String("nightly")}))
	for _, j := range []string{"extract", "load"} {
		must(g.CreateJob(ctx, &glue.CreateJobInput{Name: aws.String(j), Role: aws.String(role),
			Command: &gluetypes.JobCommand{Name: aws.String("pythonshell"), ScriptLocation: aws.String("s3://b/" + j + ".py")}}))
	}
	must(g.CreateTrigger(ctx, &glue.CreateTriggerInput{Name: aws.String("start"), WorkflowName: aws.String("nightly"), Type: gluetypes.TriggerTypeOnDemand,
		Actions: []gluetypes.Action{{JobName: aws.String("extract")}}}))
	must(g.CreateTrigger(ctx, &glue.CreateTriggerInput{Name: aws.String("then"), WorkflowName: aws.String("nightly"), Type: gluetypes.TriggerTypeConditional,
		Predicate: &gluetypes.Predicate{Conditions: []gluetypes.Condition{{JobName: aws.String("extract"), State: gluetypes.JobRunStateSucceeded, LogicalOperator: gluetypes.LogicalOperatorEquals}}},
		Actions:   []gluetypes.Action{{JobName: aws.String("load")}}}))

	p := newPage(t, a.Endpoint())
	p.open("/")
	p.waitJS(10*time.Second, `[...document.querySelectorAll('header nav a')].some(a => a.getAttribute('href') === '/glue/workflows')`)
	p.click(`header a[href="/glue/workflows"]`)
	p.waitJS(10*time.Second, `document.querySelector('#glue-table') && document.querySelector('#glue-table').innerText.includes('nightly')`)
	p.click(`#glue-table a`)
	p.waitJS(10*time.Second, `document.querySelectorAll('#glue-graph g.node').length === 4`)
	nodes := eval[[]string](p, `[...document.querySelectorAll('#glue-graph g.node')].map(n => n.dataset.type + ':' + n.dataset.node).sort()`)
	want := "JOB:extract,JOB:load,TRIGGER:start,TRIGGER:then"
	if got := strings.Join(nodes, ","); got != want {
		t.Fatalf("graph nodes %s, want %s", got, want)
	}
	if n := eval[int](p, `document.querySelectorAll('#glue-graph g.edge').length`); n != 3 {
		t.Errorf("%d edges, want 3 (start→extract→then→load)", n)
	}
	p.screenshot("glue-workflow")
}
