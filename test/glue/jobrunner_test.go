package glue

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
	"github.com/sfnd/sfnd/test/testutil"
)

// TestJobProcessTalksToThisNode runs a pythonshell job on a node's built-in runner: the
// script comes from s3:// (--s3-local-root), its boto3.client("glue") reaches this sfnd
// (AWS_ENDPOINT_URL_GLUE) and the awsglue package is importable; its output is kept
// where the report says.
func TestJobProcessTalksToThisNode(t *testing.T) {
	root := t.TempDir()
	a := testutil.Start(t, testutil.Options{S3LocalRoot: root})
	if err := os.MkdirAll(filepath.Join(root, "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "scripts", "probe.py")
	if err := os.WriteFile(script, []byte(`
import sys, boto3
from awsglue.utils import getResolvedOptions
args = getResolvedOptions(sys.argv, ["JOB_NAME", "probe"])
glue = boto3.client("glue")
try:
    glue.get_workflow(Name="no-such-workflow")
    sys.exit("get_workflow found a workflow that does not exist")
except glue.exceptions.EntityNotFoundException as e:
    print("sfnd answered:", e.response["Error"]["Code"], "for", args["JOB_NAME"], args["probe"])
`), 0o644); err != nil {
		t.Fatal(err)
	}
	reports := make(chan events.GlueWorkReport, 10)
	nc, err := nats.Connect(a.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.Subscribe(jsstore.GlueReportSubject, func(m *nats.Msg) {
		var r events.GlueWorkReport
		if json.Unmarshal(m.Data, &r) == nil {
			reports <- r
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := a.Store.EnqueueGlueJob(ctx, events.GlueJobTask{
		JobName: "probe-job", JobRunId: "jr_probe", Timeout: 5, StartedOn: time.Now(),
		Command:   events.GlueJobCommand{Name: "pythonshell", ScriptLocation: "s3://scripts/probe.py"},
		Arguments: map[string]string{"--probe": "42"},
	}); err != nil {
		t.Fatal(err)
	}
	var states []string
	var end events.GlueWorkReport
	timeout := time.After(60 * time.Second)
	for end.State == "" || end.State == "RUNNING" {
		select {
		case end = <-reports:
			states = append(states, end.State)
		case <-timeout:
			t.Fatalf("no end report; saw %v", states)
		}
	}
	if strings.Join(states, ",") != "RUNNING,SUCCEEDED" {
		t.Fatalf("states %v, end %+v", states, end)
	}
	out, err := os.ReadFile(filepath.Join(end.LogLocation, "output"))
	if err != nil || strings.TrimSpace(string(out)) != "sfnd answered: EntityNotFoundException for probe-job 42" {
		t.Fatalf("output %q (%v)", out, err)
	}
}
