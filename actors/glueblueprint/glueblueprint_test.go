package glueblueprint

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sfnd/sfnd/actors/gluejob"
	"github.com/sfnd/sfnd/events/fault"
)

func zipOf(t *testing.T, files map[string]string) []byte {
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
	return buf.Bytes()
}

const cfg = `{
  "layoutGenerator": "bp.layout.generate_layout",
  "parameterSpec": {
    "WorkflowName": {"type": "String", "collection": false, "description": "name"},
    "Dpu": {"type": "Integer", "defaultValue": 2},
    "Mode": {"type": "String", "defaultValue": "fast", "allowedValues": ["fast", "slow"]},
    "Paths": {"type": "S3Uri", "collection": true, "defaultValue": []},
    "Fail": {"type": "Boolean", "defaultValue": false}
  }
}`

const layout = `
from awsglue.blueprint.workflow import Workflow, Entities
from awsglue.blueprint.job import Job
from awsglue.blueprint.crawler import Crawler
import os

def generate_layout(user_params, system_params):
    if user_params["Fail"]:
        raise ValueError("asked to fail in " + system_params["region"])
    script = open("bp/script.txt").read().strip()
    c = Crawler(Name="crawl", Role="r", Targets={"S3Targets": [{"Path": p} for p in user_params["Paths"]] or [{"Path": "s3://b/x"}]})
    j1 = Job(Name="first", Role="r", Command={"Name": "pythonshell", "ScriptLocation": script}, MaxCapacity=0.0625,
             DefaultArguments={"--dpu": str(user_params["Dpu"]), "--account": system_params["accountId"]})
    j2 = Job(Name="second", Role="r", Command={"Name": "pythonshell", "ScriptLocation": script},
             DependsOn={j1: "SUCCEEDED", c: "SUCCEEDED"}, WaitForDependencies="AND")
    return Workflow(Name=user_params["WorkflowName"], Description=user_params["Mode"],
                    Entities=Entities(Jobs=[j1, j2], Crawlers=[c]))
`

func newEngine(t *testing.T) (*Engine, string) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	dir := t.TempDir()
	e, err := New(Config{StoreDir: filepath.Join(dir, "store"), Fetcher: gluejob.LocalFetcher{S3LocalRoot: filepath.Join(dir, "s3")},
		Region: "eu-north-1", Endpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e, dir
}

func TestParseArchive(t *testing.T) {
	good := map[string]string{"bp/blueprint.cfg": cfg, "bp/layout.py": layout, "bp/__init__.py": ""}
	a, err := ParseArchive(zipOf(t, good))
	if err != nil {
		t.Fatal(err)
	}
	if a.LayoutGenerator != "bp.layout.generate_layout" || a.Root != "bp/" || len(a.Params) != 5 ||
		!strings.HasPrefix(a.ParameterSpec, `{"WorkflowName":{"type":"String","collection":false,"description":"name"},"Dpu":`) {
		t.Fatalf("%+v", a)
	}
	bad := []struct {
		files map[string]string
		want  string
	}{
		{map[string]string{"bp/layout.py": layout}, "no blueprint.cfg"},
		{map[string]string{"a/b/blueprint.cfg": cfg}, "no blueprint.cfg"},
		{map[string]string{"bp/blueprint.cfg": "{nope"}, "not valid JSON"},
		{map[string]string{"bp/blueprint.cfg": `{"parameterSpec": {}}`}, "needs layoutGenerator"},
		{map[string]string{"bp/blueprint.cfg": `{"layoutGenerator": "bp.other.fn"}`, "bp/layout.py": ""}, "the archive has no bp/other.py"},
		{map[string]string{"bp/blueprint.cfg": `{"layoutGenerator": "bp.layout.f", "parameterSpec": {"X": {"type": "Float"}}}`, "bp/layout.py": ""}, `has type "Float"`},
		{map[string]string{"bp/blueprint.cfg": `{"layoutGenerator": "bp.layout.f", "parameterSpec": {"X": {"type": "Integer", "defaultValue": "two"}}}`, "bp/layout.py": ""}, "defaultValue of X"},
		{map[string]string{"../evil/blueprint.cfg": cfg}, "unsafe path"},
	}
	for _, b := range bad {
		if _, err := ParseArchive(zipOf(t, b.files)); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%v: %v, want %q", b.files, err, b.want)
		}
	}
	if _, err := ParseArchive([]byte("not a zip")); err == nil || !strings.Contains(err.Error(), "not a valid ZIP") {
		t.Errorf("not a zip: %v", err)
	}
	if _, err := ParseArchive(make([]byte, MaxArchiveBytes+1)); err == nil || !strings.Contains(err.Error(), "1 MB") {
		t.Errorf("too big: %v", err)
	}
}

func TestResolveParameters(t *testing.T) {
	a, err := ParseArchive(zipOf(t, map[string]string{"bp/blueprint.cfg": cfg, "bp/layout.py": layout}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ResolveParameters(a.ParameterSpec, `{"WorkflowName": "wf", "Paths": ["s3://a/b"]}`)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(got); string(b) != `{"Dpu":2,"Fail":false,"Mode":"fast","Paths":["s3://a/b"],"WorkflowName":"wf"}` {
		t.Errorf("resolved %s", b)
	}
	bad := map[string]string{
		`{}`:                                "Parameter WorkflowName is required",
		``:                                  "Parameter WorkflowName is required",
		`[1]`:                               "must be a JSON object",
		`{"WorkflowName": "wf"`:             "not valid JSON",
		`{"WorkflowName": 3}`:               "Parameter WorkflowName must be a String string, not 3",
		`{"WorkflowName": "w", "Dpu": 2.5}`: "Parameter Dpu must be an Integer",
		`{"WorkflowName": "w", "Mode": "medium"}`:  `Parameter Mode must be one of "fast", "slow", not "medium"`,
		`{"WorkflowName": "w", "Paths": "s3://a"}`: "Parameter Paths must be a list of S3Uri values",
		`{"WorkflowName": "w", "Paths": ["/x"]}`:   "Parameter Paths must be an S3 URI",
		`{"WorkflowName": "w", "Fail": "yes"}`:     "Parameter Fail must be a Boolean",
		`{"WorkflowName": "w", "Other": 1}`:        "Parameter Other is not defined",
	}
	for in, want := range bad {
		if _, err := ResolveParameters(a.ParameterSpec, in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}

// glueLog is an Invoker that records calls and fails the ones named in fail.
type glueLog struct {
	calls []string
	fail  map[string]error
}

func (g *glueLog) invoke(_ context.Context, op string, in any) (json.RawMessage, error) {
	b, _ := json.Marshal(in)
	g.calls = append(g.calls, op+" "+string(b))
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	name, _ := body["Name"].(string)
	if name == "" {
		name, _ = body["JobName"].(string)
	}
	if err := g.fail[op+" "+name]; err != nil {
		return nil, err
	}
	return json.RawMessage(`{}`), nil
}

func (g *glueLog) ops() string {
	var out []string
	for _, c := range g.calls {
		op, body, _ := strings.Cut(c, " ")
		var m map[string]any
		_ = json.Unmarshal([]byte(body), &m)
		name, _ := m["Name"].(string)
		if name == "" {
			name, _ = m["JobName"].(string)
		}
		out = append(out, op+" "+name)
	}
	return strings.Join(out, ", ")
}

func register(t *testing.T, e *Engine, dir string) (string, string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "s3", "bucket"), 0o755); err != nil {
		t.Fatal(err)
	}
	data := zipOf(t, map[string]string{"bp/blueprint.cfg": cfg, "bp/layout.py": layout, "bp/script.txt": "s3://bucket/job.py\n"})
	if err := os.WriteFile(filepath.Join(dir, "s3", "bucket", "bp.zip"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	spec, loc, err := e.Register(context.Background(), "my bp", "s3://bucket/bp.zip")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc, ServicePrefix+"my%20bp/") || !strings.HasSuffix(loc, ".zip") {
		t.Errorf("service location %s", loc)
	}
	return spec, loc
}

func TestRunCreatesTheLayout(t *testing.T) {
	e, dir := newEngine(t)
	spec, loc := register(t, e, dir)
	// The original may change or vanish: runs use sfnd's copy.
	_ = os.Remove(filepath.Join(dir, "s3", "bucket", "bp.zip"))
	g := &glueLog{}
	run := RunRequest{BlueprintName: "my bp", RunId: "run-1", ServiceLocation: loc, ParameterSpec: spec,
		Parameters: `{"WorkflowName": "wf1", "Dpu": 7}`, RoleArn: "arn:aws:iam::123456789012:role/r", Region: "eu-north-1", Account: "123456789012"}
	wf, msg, rb := e.Run(context.Background(), run, g.invoke)
	if wf != "wf1" || msg != "" || rb != "" {
		t.Fatalf("run: %q %q %q", wf, msg, rb)
	}
	sfx := nameSuffix("run-1")
	want := fmt.Sprintf("CreateCrawler crawl_%[1]s, CreateJob first_%[1]s, CreateJob second_%[1]s, CreateWorkflow wf1, "+
		"CreateTrigger wf1_second_%[1]s_trigger, CreateTrigger wf1_starting_trigger", sfx)
	if got := g.ops(); got != want {
		t.Fatalf("calls\n got %s\nwant %s", got, want)
	}
	checks := map[int]string{
		1: `"DefaultArguments":{"--account":"123456789012","--dpu":"7"}`,
		3: `"BlueprintDetails":{"BlueprintName":"my bp","RunId":"run-1"}`,
		4: fmt.Sprintf(`"Predicate":{"Conditions":[{"JobName":"first_%[1]s","LogicalOperator":"EQUALS","State":"SUCCEEDED"},{"CrawlState":"SUCCEEDED","CrawlerName":"crawl_%[1]s","LogicalOperator":"EQUALS"}],"Logical":"AND"}`, sfx),
		5: fmt.Sprintf(`"Actions":[{"CrawlerName":"crawl_%[1]s"},{"JobName":"first_%[1]s"}]`, sfx),
	}
	for i, w := range checks {
		if !strings.Contains(g.calls[i], w) {
			t.Errorf("call %d: %s\nlacks %s", i, g.calls[i], w)
		}
	}
	if !strings.Contains(g.calls[3], `"Description":"fast"`) || !strings.Contains(g.calls[5], `"Type":"ON_DEMAND"`) {
		t.Errorf("workflow/start trigger: %s / %s", g.calls[3], g.calls[5])
	}
}

func TestRunFailures(t *testing.T) {
	e, dir := newEngine(t)
	spec, loc := register(t, e, dir)
	run := RunRequest{BlueprintName: "my bp", RunId: "run-2", ServiceLocation: loc, ParameterSpec: spec, Region: "eu-north-1", Account: "1"}

	// The layout raises: nothing is created.
	g := &glueLog{}
	run.Parameters = `{"WorkflowName": "wf2", "Fail": true}`
	wf, msg, rb := e.Run(context.Background(), run, g.invoke)
	if wf != "" || msg != "The layout generator bp.layout.generate_layout failed: ValueError: asked to fail in eu-north-1" || rb != "" || len(g.calls) != 0 {
		t.Fatalf("layout failure: %q %q %q %v", wf, msg, rb, g.calls)
	}

	// A create fails: everything created so far is deleted in reverse order; a delete
	// that fails is reported.
	sfx := nameSuffix("run-2")
	g = &glueLog{fail: map[string]error{
		"CreateTrigger wf2_starting_trigger": fault.New("InvalidInputException", "a workflow may have one start trigger"),
		"DeleteJob first_" + sfx:             fault.New("InternalServiceException", "disk on fire"),
	}}
	run.Parameters = `{"WorkflowName": "wf2"}`
	wf, msg, rb = e.Run(context.Background(), run, g.invoke)
	if wf != "" || msg != "CreateTrigger wf2_starting_trigger failed: InvalidInputException: a workflow may have one start trigger" ||
		rb != "DeleteJob first_"+sfx+" failed: InternalServiceException: disk on fire" {
		t.Fatalf("create failure: %q %q %q", wf, msg, rb)
	}
	want := fmt.Sprintf("CreateCrawler crawl_%[1]s, CreateJob first_%[1]s, CreateJob second_%[1]s, CreateWorkflow wf2, "+
		"CreateTrigger wf2_second_%[1]s_trigger, CreateTrigger wf2_starting_trigger, "+
		"DeleteTrigger wf2_second_%[1]s_trigger, DeleteWorkflow wf2, DeleteJob second_%[1]s, DeleteJob first_%[1]s, DeleteCrawler crawl_%[1]s", sfx)
	if got := g.ops(); got != want {
		t.Fatalf("calls\n got %s\nwant %s", got, want)
	}

	// Missing archive and bad parameters.
	if _, msg, _ := e.Run(context.Background(), RunRequest{ServiceLocation: ServicePrefix + "gone/x.zip", Parameters: `{}`}, g.invoke); msg != "Unable to access object at location "+ServicePrefix+"gone/x.zip" {
		t.Errorf("missing archive: %q", msg)
	}
	if _, _, err := e.Register(context.Background(), "x", "s3://bucket/none.zip"); err == nil || err.Error() != "Unable to access object at location s3://bucket/none.zip" {
		t.Errorf("register missing: %v", err)
	}
	if err := e.CheckParameters(spec, `{"Dpu": 1}`); err == nil || err.Error() != "Parameter WorkflowName is required" {
		t.Errorf("check: %v", err)
	}
}
