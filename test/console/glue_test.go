package console_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
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
	// extract succeeds, load fails (python3 scripts, run by the node's Glue job runner).
	dir := t.TempDir()
	scripts := map[string]string{"extract": "print('extracted')\n", "load": "import sys\nsys.stderr.write('load failed on purpose\\n')\nsys.exit(1)\n"}
	for j, body := range scripts {
		path := filepath.Join(dir, j+".py")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		must(g.CreateJob(ctx, &glue.CreateJobInput{Name: aws.String(j), Role: aws.String(role),
			Command: &gluetypes.JobCommand{Name: aws.String("pythonshell"), ScriptLocation: aws.String(path), PythonVersion: aws.String("3.9")}}))
	}
	must(g.CreateTrigger(ctx, &glue.CreateTriggerInput{Name: aws.String("start"), WorkflowName: aws.String("nightly"), Type: gluetypes.TriggerTypeOnDemand,
		Actions: []gluetypes.Action{{JobName: aws.String("extract")}}}))
	must(g.CreateTrigger(ctx, &glue.CreateTriggerInput{Name: aws.String("then"), WorkflowName: aws.String("nightly"), Type: gluetypes.TriggerTypeConditional,
		StartOnCreation: true,
		Predicate:       &gluetypes.Predicate{Conditions: []gluetypes.Condition{{JobName: aws.String("extract"), State: gluetypes.JobRunStateSucceeded, LogicalOperator: gluetypes.LogicalOperatorEquals}}},
		Actions:         []gluetypes.Action{{JobName: aws.String("load")}}}))

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

	// A run: its page shows each node's job run state, and the failed job's error.
	if _, err := exec.LookPath("python3"); err != nil {
		t.Log("no python3: the workflow run part is not exercised")
		p.screenshot("glue-workflow")
		return
	}
	run, err := g.StartWorkflowRun(ctx, &glue.StartWorkflowRunInput{Name: aws.String("nightly")})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := g.GetWorkflowRun(ctx, &glue.GetWorkflowRunInput{Name: aws.String("nightly"), RunId: run.RunId})
		if err != nil {
			t.Fatal(err)
		}
		if out.Run.Status != gluetypes.WorkflowRunStatusRunning && out.Run.Status != gluetypes.WorkflowRunStatusStopping {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run still %s", out.Run.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.open("/glue/workflows/nightly")
	p.waitJS(10*time.Second, `document.querySelector('#glue-runs') && document.querySelector('#glue-runs').innerText.includes(`+q(*run.RunId)+`)`)
	p.screenshot("glue-workflow")
	p.click(`#glue-runs a`)
	p.waitJS(10*time.Second, `document.querySelector('#glue-graph g.node[data-node="load"]') && document.querySelector('#glue-jobruns')`)
	if got := eval[string](p, `document.querySelector('#glue-graph g.node[data-node="extract"]').getAttribute('class')`); !strings.Contains(got, "st-succeeded") {
		t.Errorf("extract drawn %q", got)
	}
	if got := eval[string](p, `document.querySelector('#glue-graph g.node[data-node="load"]').getAttribute('class')`); !strings.Contains(got, "st-failed") {
		t.Errorf("load drawn %q", got)
	}
	contains(t, eval[string](p, `document.querySelector('#glue-jobruns').innerText`), "FAILED")
	contains(t, eval[string](p, `document.querySelector('#glue-stats').innerText`), "1 failed")
	p.screenshot("glue-run")
}
