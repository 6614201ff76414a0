package gluepy

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

func python(t *testing.T, dir, code string) string {
	t.Helper()
	cmd := exec.Command("python3", "-c", code)
	cmd.Env = append(cmd.Environ(), "PYTHONPATH="+dir, "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	return string(out)
}

func TestGetResolvedOptions(t *testing.T) {
	dir, err := Install(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out := python(t, dir, `
import json
from awsglue.utils import getResolvedOptions, GlueArgumentError
argv = ["script.py", "--JOB_NAME", "j1", "--JOB_RUN_ID", "jr_1", "--x", "1", "--unasked", "u", "--empty", ""]
a = getResolvedOptions(argv, ["JOB_NAME", "x", "empty"])
try:
    getResolvedOptions(argv, ["missing"])
    missing = "no error"
except GlueArgumentError as e:
    missing = str(e)
try:
    getResolvedOptions(argv, ["JOB_RUN_ID"])
    reserved = "no error"
except RuntimeError as e:
    reserved = str(e)
print(json.dumps({"a": a, "missing": missing, "reserved": reserved}))
`)
	var got struct {
		A                 map[string]any
		Missing, Reserved string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.A["JOB_NAME"] != "j1" || got.A["x"] != "1" || got.A["empty"] != "" || got.A["JOB_RUN_ID"] != "jr_1" ||
		got.A["job_bookmark_option"] != "job-bookmark-disable" {
		t.Errorf("parsed %v", got.A)
	}
	if _, ok := got.A["unasked"]; ok {
		t.Errorf("unasked argument returned: %v", got.A)
	}
	if !strings.Contains(got.Missing, "--missing") {
		t.Errorf("missing argument error %q", got.Missing)
	}
	if got.Reserved != "Using reserved arguments --JOB_RUN_ID" {
		t.Errorf("reserved argument error %q", got.Reserved)
	}
}

func TestBlueprintToJSON(t *testing.T) {
	dir, err := Install(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out := python(t, dir, `
import json
from awsglue.blueprint.workflow import *
from awsglue.blueprint.job import *
from awsglue.blueprint.crawler import *
c = Crawler(Name="c", Role="r", Targets={"S3Targets": [{"Path": "s3://b/p"}]})
j1 = Job(Name="j1", Role="r", Command={"Name": "pythonshell", "ScriptLocation": "s3://b/j1.py"}, DependsOn={c: "SUCCEEDED"})
j2 = Job(Name="j2", Role="r", Command={"Name": "pythonshell", "ScriptLocation": "s3://b/j2.py"}, MaxRetries=1,
         DependsOn={j1: "SUCCEEDED", c: "FAILED"}, WaitForDependencies="ANY")
wf = Workflow(Name="wf", Description="d", DefaultRunProperties={"k": "v"}, OnSchedule="cron(0 12 * * ? *)",
              Entities=Entities(Jobs=[j1, j2], Crawlers=[c]))
try:
    Job(Name="x", Role="r", Command={"Name": "bogus", "ScriptLocation": "s"})
    bad = "no error"
except TypeError as e:
    bad = str(e)
try:
    Workflow(Name="w", Entities=Entities(Jobs=[Job(Name="x", Command={"Name": "pythonshell", "ScriptLocation": "s"})])).to_json("s")
    missing = "no error"
except TypeError as e:
    missing = str(e)
print(json.dumps({"wf": wf.to_json("sfx"), "bad": bad, "missing": missing}))
`)
	var got struct {
		WF           map[string]json.RawMessage
		Bad, Missing string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := map[string]string{
		"Workflow": `{"Name":"wf","Description":"d","DefaultRunProperties":{"k":"v"}}`,
		"Crawlers": `[{"Name":"c_sfx","Role":"r","Targets":{"S3Targets":[{"Path":"s3://b/p"}]}}]`,
		"Jobs": `[{"Name":"j1_sfx","Role":"r","Command":{"Name":"pythonshell","ScriptLocation":"s3://b/j1.py"}},` +
			`{"Name":"j2_sfx","Role":"r","Command":{"Name":"pythonshell","ScriptLocation":"s3://b/j2.py"},"MaxRetries":1}]`,
		"Triggers": `[{"WorkflowName":"wf","Type":"CONDITIONAL","Name":"wf_j1_sfx_trigger","Predicate":{"Conditions":[{"LogicalOperator":"EQUALS","CrawlerName":"c_sfx","CrawlState":"SUCCEEDED"}]},"StartOnCreation":true,"Actions":[{"JobName":"j1_sfx"}]},` +
			`{"WorkflowName":"wf","Type":"CONDITIONAL","Name":"wf_j2_sfx_trigger","Predicate":{"Conditions":[{"LogicalOperator":"EQUALS","JobName":"j1_sfx","State":"SUCCEEDED"},{"LogicalOperator":"EQUALS","CrawlerName":"c_sfx","CrawlState":"FAILED"}],"Logical":"ANY"},"StartOnCreation":true,"Actions":[{"JobName":"j2_sfx"}]},` +
			`{"WorkflowName":"wf","Name":"wf_starting_trigger","Actions":[{"CrawlerName":"c_sfx"}],"Type":"SCHEDULED","Schedule":"cron(0 12 * * ? *)","StartOnCreation":true}]`,
	}
	for k, w := range want {
		if !jsonEqual(t, string(got.WF[k]), w) {
			t.Errorf("%s:\n got %s\nwant %s", k, got.WF[k], w)
		}
	}
	if !strings.Contains(got.Bad, "bogus is not a valid value") {
		t.Errorf("bad command name: %q", got.Bad)
	}
	if !strings.Contains(got.Missing, "Role") {
		t.Errorf("missing Role: %q", got.Missing)
	}
}

func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return string(xs) == string(ys)
}
