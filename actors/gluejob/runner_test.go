package gluejob

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/cockroachdb/errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/actors/objects"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// Test shorthands for the task fields.
type (
	Request = request
	Command = events.GlueJobCommand
	Report  = events.GlueWorkReport
)

type harness struct {
	t       *testing.T
	store   *jsstore.Store
	js      jetstream.JetStream
	nc      *nats.Conn
	reports chan Report
	dir     string
}

// newHarness starts an embedded NATS with sfnd's streams and listens to the reports;
// the runner is started with start.
func newHarness(t *testing.T) *harness {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	emb, err := jsstore.StartEmbedded(jsstore.EmbeddedConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Shutdown)
	nc, err := emb.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	store, err := jsstore.Open(context.Background(), nc, jsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, store: store, js: store.JS, nc: nc, reports: make(chan Report, 100), dir: t.TempDir()}
	sub, err := nc.Subscribe(jsstore.GlueReportSubject, func(m *nats.Msg) {
		var r Report
		if err := json.Unmarshal(m.Data, &r); err != nil {
			t.Errorf("bad report %s: %v", m.Data, err)
			return
		}
		h.reports <- r
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return h
}

func (h *harness) start(mod func(*Config)) *Runner {
	h.t.Helper()
	cfg := Config{
		Endpoint: "http://127.0.0.1:1", Region: "eu-west-3",
		OutputDir: filepath.Join(h.dir, "out"), StopGrace: 500 * time.Millisecond, AckWait: 3 * time.Second,
		CrawlSeconds: 0.2, Fetcher: LocalFetcher{S3LocalRoot: filepath.Join(h.dir, "s3")},
	}
	if mod != nil {
		mod(&cfg)
	}
	r, err := Start(context.Background(), h.js, h.nc, cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(r.Close)
	return r
}

func (h *harness) script(name, body string) string {
	h.t.Helper()
	p := filepath.Join(h.dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *harness) enqueue(req Request) {
	h.t.Helper()
	ctx := context.Background()
	var err error
	if req.Kind == KindCrawl {
		err = h.store.EnqueueGlueCrawl(ctx, events.GlueCrawlTask{CrawlerName: req.Name, CrawlId: req.RunID, Tags: req.Tags, Crawler: req.Crawler, StartedOn: time.Now()})
	} else {
		err = h.store.EnqueueGlueJob(ctx, events.GlueJobTask{JobName: req.Name, JobRunId: req.RunID, Attempt: req.Attempt,
			WorkflowName: req.WorkflowName, WorkflowRunId: req.WorkflowRunID, Command: req.Command, Arguments: req.Arguments,
			Timeout: req.Timeout, StartedOn: req.StartedOn, TimeScale: req.TimeScale})
	}
	if err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) stop(runID string) {
	h.t.Helper()
	if err := RequestStop(h.js, runID); err != nil {
		h.t.Fatal(err)
	}
	_ = h.nc.Flush()
}

// next waits for the next report of a run.
func (h *harness) next(runID string, within time.Duration) Report {
	h.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case r := <-h.reports:
			if r.RunId == runID {
				return r
			}
		case <-deadline:
			h.t.Fatalf("no report for %s within %s", runID, within)
		}
	}
}

// end waits for RUNNING then the terminal report.
func (h *harness) end(runID string, within time.Duration) Report {
	h.t.Helper()
	r := h.next(runID, within)
	if r.State != StateRunning {
		h.t.Fatalf("first report of %s: %+v, want RUNNING", runID, r)
	}
	return h.next(runID, within)
}

const argdump = `
import json, os, sys
from awsglue.utils import getResolvedOptions
opts = getResolvedOptions(sys.argv, ["JOB_NAME", "WORKFLOW_NAME", "WORKFLOW_RUN_ID", "x"])
env = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
with open(sys.argv[0] + ".json", "w") as f:
    json.dump({"argv": sys.argv[1:], "opts": opts, "env": env, "cwd": os.getcwd()}, f)
print("hello from", opts["JOB_NAME"])
`

func TestPythonShellArgumentsAndEnvironment(t *testing.T) {
	h := newHarness(t)
	t.Setenv("AWS_PROFILE", "host-profile")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "host-secret")
	h.start(nil)
	// The script is served from the S3 local root.
	if err := os.MkdirAll(filepath.Join(h.dir, "s3", "bucket", "jobs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.dir, "s3", "bucket", "jobs", "argdump.py"), []byte(argdump), 0o644); err != nil {
		t.Fatal(err)
	}
	dump := filepath.Join(h.dir, "dump")
	req := Request{
		RunID: "jr_1", Name: "job one", Attempt: 2,
		Command:      Command{Name: "pythonshell", ScriptLocation: "s3://bucket/jobs/argdump.py", PythonVersion: "3.9"},
		Arguments:    map[string]string{"--x": "1", "--empty": "", "--JOB_RUN_ID": "ignored", "--scriptLocation": "s3://bucket/jobs/argdump.py"},
		WorkflowName: "wf", WorkflowRunID: "wr_1", Timeout: 5, StartedOn: time.Now(),
	}
	// The script writes next to its local copy, which is removed after the run: make it
	// write to dump instead by an extra argument it ignores but the test reads.
	req.Arguments["--dump"] = dump
	h.script("dummy", "")
	body := strings.Replace(argdump, `sys.argv[0] + ".json"`, `getResolvedOptions(sys.argv, ["dump"])["dump"]`, 1)
	if err := os.WriteFile(filepath.Join(h.dir, "s3", "bucket", "jobs", "argdump.py"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	h.enqueue(req)
	running := h.next("jr_1", 20*time.Second)
	if running.State != StateRunning || running.Name != "job one" || running.Kind != KindJob {
		t.Fatalf("running report %+v", running)
	}
	end := h.next("jr_1", 20*time.Second)
	if end.State != StateSucceeded || end.ErrorMessage != "" || end.Kind != KindJob {
		t.Fatalf("end report %+v", end)
	}
	data, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Argv []string
		Opts map[string]any
		Env  map[string]string
		Cwd  string
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"--JOB_NAME", "job one", "--JOB_ID", JobID("job one"), "--JOB_RUN_ID", "jr_1",
		"--WORKFLOW_NAME", "wf", "--WORKFLOW_RUN_ID", "wr_1",
		"--dump", dump, "--empty", "", "--scriptLocation", "s3://bucket/jobs/argdump.py", "--x", "1"}
	if fmt.Sprint(got.Argv) != fmt.Sprint(want) {
		t.Errorf("argv\n got %q\nwant %q", got.Argv, want)
	}
	if got.Opts["JOB_NAME"] != "job one" || got.Opts["WORKFLOW_RUN_ID"] != "wr_1" || got.Opts["x"] != "1" || got.Opts["JOB_RUN_ID"] != "jr_1" {
		t.Errorf("getResolvedOptions: %v", got.Opts)
	}
	wantEnv := map[string]string{
		"AWS_ENDPOINT_URL_GLUE": "http://127.0.0.1:1", "AWS_REGION": "eu-west-3", "AWS_DEFAULT_REGION": "eu-west-3",
		"AWS_ACCESS_KEY_ID": "sfnd", "AWS_SECRET_ACCESS_KEY": "sfnd",
	}
	for k, v := range wantEnv {
		if got.Env[k] != v {
			t.Errorf("env %s=%q, want %q", k, got.Env[k], v)
		}
	}
	if _, ok := got.Env["AWS_PROFILE"]; ok {
		t.Errorf("host AWS_PROFILE leaked into the job: %v", got.Env)
	}
	out, err := os.ReadFile(filepath.Join(end.LogLocation, "output"))
	if err != nil || strings.TrimSpace(string(out)) != "hello from job one" {
		t.Errorf("output file: %q %v", out, err)
	}
	if end.LogLocation != filepath.Join(h.dir, "out", "jr_1") {
		t.Errorf("log path %s", end.LogLocation)
	}
}

func TestFailureCarriesTheTailOfStderr(t *testing.T) {
	h := newHarness(t)
	h.start(nil)
	long := strings.Repeat("x", 5000)
	p := h.script("fail.py", "import sys\nsys.stderr.write('"+long+"\\n')\nraise ValueError('boom at the end')\n")
	h.enqueue(Request{RunID: "jr_f", Name: "f", Command: Command{Name: "pythonshell", ScriptLocation: "file://" + p}})
	end := h.end("jr_f", 20*time.Second)
	if end.State != StateFailed || !strings.HasSuffix(end.ErrorMessage, "ValueError: boom at the end") ||
		strings.Contains(end.ErrorMessage, "xxxx") || len(end.ErrorMessage) > errorTailBytes {
		t.Fatalf("end %+v", end)
	}
	// Exit code without stderr.
	p = h.script("quiet.py", "import sys\nsys.exit(3)\n")
	h.enqueue(Request{RunID: "jr_q", Name: "q", Command: Command{Name: "pythonshell", ScriptLocation: p}})
	end = h.end("jr_q", 20*time.Second)
	if end.State != StateFailed || !strings.Contains(end.ErrorMessage, "exited with code 3") {
		t.Fatalf("end %+v", end)
	}
}

func TestFailuresBeforeTheProcessStarts(t *testing.T) {
	h := newHarness(t)
	h.start(func(c *Config) {
		c.Commands = map[string]string{"glueetl": "{python} {script} --from-template yes {args}"}
		c.Python = "python3"
	})
	cases := []struct {
		req  Request
		want string
	}{
		{Request{RunID: "jr_nf", Name: "a", Command: Command{Name: "pythonshell", ScriptLocation: "file:///nonexistent/x.py"}},
			"Unable to read script at file:///nonexistent/x.py"},
		{Request{RunID: "jr_s3", Name: "a", Command: Command{Name: "pythonshell", ScriptLocation: "s3://bucket/missing.py"}},
			"Unable to read script at s3://bucket/missing.py"},
		{Request{RunID: "jr_st", Name: "a", Command: Command{Name: "gluestreaming", ScriptLocation: "/x.py"}},
			"No executor is configured for command gluestreaming: start sfnd with --glue-command gluestreaming="},
		{Request{RunID: "jr_p2", Name: "a", Command: Command{Name: "pythonshell", ScriptLocation: "/x.py", PythonVersion: "2"}},
			"Python 2 is not supported"},
	}
	for _, c := range cases {
		h.enqueue(c.req)
		end := h.next(c.req.RunID, 20*time.Second)
		if end.State != StateFailed || !strings.HasPrefix(end.ErrorMessage, c.want) {
			t.Errorf("%s: %+v, want FAILED %q", c.req.RunID, end, c.want)
		}
	}
	// glueetl through the template.
	dump := filepath.Join(h.dir, "etl.json")
	p := h.script("etl.py", "import json, sys\njson.dump(sys.argv[1:], open("+strconv.Quote(dump)+", 'w'))\n")
	h.enqueue(Request{RunID: "jr_etl", Name: "etl", Command: Command{Name: "glueetl", ScriptLocation: p}, Arguments: map[string]string{"--a": "b"}})
	if end := h.end("jr_etl", 20*time.Second); end.State != StateSucceeded {
		t.Fatalf("templated run: %+v", end)
	}
	data, _ := os.ReadFile(dump)
	if want := `["--from-template", "yes", "--JOB_NAME", "etl", "--JOB_ID", "` + JobID("etl") + `", "--JOB_RUN_ID", "jr_etl", "--a", "b"]`; string(data) != want {
		t.Errorf("templated argv %s, want %s", data, want)
	}
}

const sleeper = `
import os, signal, sys, time
pidfile = sys.argv[sys.argv.index("--pidfile") + 1]
if "--ignore-term" in sys.argv:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open(pidfile, "w") as f:
    f.write(str(os.getpid()))
time.sleep(60)
`

func waitFile(t *testing.T, p string) string {
	t.Helper()
	for i := 0; i < 400; i++ {
		if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
			return string(b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never written", p)
	return ""
}

func alive(pid int) bool {
	// A zombie counts as gone: read its state.
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}

func TestStopAndTimeout(t *testing.T) {
	h := newHarness(t)
	h.start(nil)
	p := h.script("sleep.py", sleeper)

	// Stop: SIGTERM ignored, so SIGKILL after the grace period.
	pidfile := filepath.Join(h.dir, "stop.pid")
	h.enqueue(Request{RunID: "jr_stop", Name: "s", Command: Command{Name: "pythonshell", ScriptLocation: p},
		Arguments: map[string]string{"--pidfile": pidfile, "--ignore-term": "1"}, Timeout: 100})
	if r := h.next("jr_stop", 20*time.Second); r.State != StateRunning {
		t.Fatalf("%+v", r)
	}
	pid, _ := strconv.Atoi(waitFile(t, pidfile))
	h.stop("jr_stop")
	end := h.next("jr_stop", 20*time.Second)
	if end.State != StateStopped || alive(pid) {
		t.Fatalf("stopped run %+v, process alive %v", end, alive(pid))
	}

	// Timeout: 1 minute at 5/60 scale (5 s; python may be slow to start on a loaded
	// machine, so the script may or may not have begun).
	pidfile = filepath.Join(h.dir, "timeout.pid")
	h.enqueue(Request{RunID: "jr_to", Name: "s", Command: Command{Name: "pythonshell", ScriptLocation: p},
		Arguments: map[string]string{"--pidfile": pidfile}, Timeout: 1, StartedOn: time.Now(),
		TimeScale: 5.0 / 60})
	end = h.end("jr_to", 30*time.Second)
	if end.State != StateTimeout || end.ErrorMessage != "Job run timed out after 1 minutes (the run's Timeout)" {
		t.Fatalf("timed-out run %+v", end)
	}
	if b, err := os.ReadFile(pidfile); err == nil && len(b) > 0 {
		if pid, _ := strconv.Atoi(string(b)); alive(pid) {
			t.Fatal("timed-out process still alive")
		}
	}

	// A stop requested before a runner takes the request: never started.
	h.stop("jr_early")
	h.enqueue(Request{RunID: "jr_early", Name: "s", Command: Command{Name: "pythonshell", ScriptLocation: p},
		Arguments: map[string]string{"--pidfile": filepath.Join(h.dir, "early.pid")}})
	if end := h.next("jr_early", 20*time.Second); end.State != StateStopped {
		t.Fatalf("early stop %+v", end)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "early.pid")); err == nil {
		t.Fatal("a run stopped before it was taken started anyway")
	}
}

func TestInterruptedRunIsReportedFailed(t *testing.T) {
	h := newHarness(t)
	r1 := h.start(func(c *Config) { c.AckWait = time.Second })
	p := h.script("sleep.py", sleeper)
	pidfile := filepath.Join(h.dir, "lost.pid")
	h.enqueue(Request{RunID: "jr_lost", Name: "s", Attempt: 1, WorkflowName: "wf", WorkflowRunID: "wr_9",
		Command: Command{Name: "pythonshell", ScriptLocation: p}, Arguments: map[string]string{"--pidfile": pidfile}})
	if r := h.next("jr_lost", 20*time.Second); r.State != StateRunning {
		t.Fatalf("%+v", r)
	}
	pid, _ := strconv.Atoi(waitFile(t, pidfile))
	r1.Close() // the node goes away: its process dies with it
	if alive(pid) {
		t.Fatal("job process outlived its runner")
	}
	h.start(func(c *Config) { c.AckWait = time.Second })
	end := h.next("jr_lost", 20*time.Second)
	if end.State != StateFailed || end.Name != "s" ||
		end.ErrorMessage != "Job run jr_lost was interrupted: the sfnd node running it stopped before it finished" {
		t.Fatalf("interrupted run %+v", end)
	}
	select {
	case extra := <-h.reports:
		t.Fatalf("unexpected report %+v", extra)
	case <-time.After(2 * time.Second):
	}
}

func TestCrawls(t *testing.T) {
	h := newHarness(t)
	h.start(nil)
	h.enqueue(Request{Kind: KindCrawl, RunID: "c1", Name: "crawler"})
	if end := h.end("c1", 10*time.Second); end.State != StateSucceeded || end.Kind != KindCrawl {
		t.Fatalf("%+v", end)
	}
	h.enqueue(Request{Kind: KindCrawl, RunID: "c2", Name: "crawler", Tags: map[string]string{TagCrawlOutcome: "FAILED"}})
	if end := h.end("c2", 10*time.Second); end.State != StateFailed || !strings.Contains(end.ErrorMessage, "sfnd:crawl-outcome=FAILED") {
		t.Fatalf("%+v", end)
	}
	h.enqueue(Request{Kind: KindCrawl, RunID: "c3", Name: "crawler", Tags: map[string]string{TagCrawlSeconds: "60"}})
	if r := h.next("c3", 10*time.Second); r.State != StateRunning {
		t.Fatalf("%+v", r)
	}
	began := time.Now()
	h.stop("c3")
	if end := h.next("c3", 10*time.Second); end.State != StateCancelled || time.Since(began) > 5*time.Second {
		t.Fatalf("%+v", end)
	}
	h.enqueue(Request{Kind: KindCrawl, RunID: "c4", Name: "crawler", Tags: map[string]string{TagCrawlSeconds: "soon"}})
	if end := h.next("c4", 10*time.Second); end.State != StateFailed || !strings.Contains(end.ErrorMessage, "sfnd:crawl-seconds") {
		t.Fatalf("%+v", end)
	}
}

func TestCrawlHook(t *testing.T) {
	h := newHarness(t)
	seen := filepath.Join(h.dir, "seen.json")
	h.start(func(c *Config) {
		c.CrawlHook = `cat > ` + seen + `; test "$CRAWLER_NAME" = good || { echo "cannot crawl $CRAWLER_NAME" >&2; exit 4; }`
	})
	h.enqueue(Request{Kind: KindCrawl, RunID: "h1", Name: "good", Crawler: json.RawMessage(`{"Name":"good","Targets":{}}`)})
	if end := h.end("h1", 10*time.Second); end.State != StateSucceeded {
		t.Fatalf("%+v", end)
	}
	if b, _ := os.ReadFile(seen); string(b) != `{"Name":"good","Targets":{}}` {
		t.Errorf("hook stdin %q", b)
	}
	h.enqueue(Request{Kind: KindCrawl, RunID: "h2", Name: "bad"})
	if end := h.end("h2", 10*time.Second); end.State != StateFailed || end.ErrorMessage != "Crawler hook exited with code 4: cannot crawl bad" {
		t.Fatalf("%+v", end)
	}
	// An outcome tag overrides the hook.
	h.enqueue(Request{Kind: KindCrawl, RunID: "h3", Name: "bad", Tags: map[string]string{TagCrawlOutcome: "SUCCEEDED"}})
	if end := h.end("h3", 10*time.Second); end.State != StateSucceeded {
		t.Fatalf("%+v", end)
	}
}

// TestProcessDiesWithTheNode runs a job process from a child copy of this test binary
// (the "node"), kills the node with SIGKILL and checks that the job process dies too.
func TestProcessDiesWithTheNode(t *testing.T) {
	if os.Getenv("GLUEJOB_TEST_NODE") != "" {
		return
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "job.pid")
	script := filepath.Join(dir, "sleep.py")
	if err := os.WriteFile(script, []byte(sleeper), 0o644); err != nil {
		t.Fatal(err)
	}
	node := exec.Command(os.Args[0], "-test.run=^TestNodeHelper$")
	node.Env = append(os.Environ(), "GLUEJOB_TEST_NODE=1", "GLUEJOB_TEST_SCRIPT="+script, "GLUEJOB_TEST_PIDFILE="+pidfile)
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(waitFile(t, pidfile))
	if !alive(pid) {
		t.Fatal("job process not running")
	}
	_ = node.Process.Signal(syscall.SIGKILL)
	_ = node.Wait()
	for i := 0; i < 100 && alive(pid); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if alive(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Fatal("job process survived the node's SIGKILL")
	}
}

// TestNodeHelper is the "node" of TestProcessDiesWithTheNode.
func TestNodeHelper(t *testing.T) {
	if os.Getenv("GLUEJOB_TEST_NODE") == "" {
		t.Skip("helper process only")
	}
	r := &Runner{cfg: Config{StopGrace: time.Second}}
	r.execute(context.Background(), []string{"python3", os.Getenv("GLUEJOB_TEST_SCRIPT"), "--pidfile", os.Getenv("GLUEJOB_TEST_PIDFILE")},
		"", nil, nil, os.Stdout, os.Stderr, nil, time.Now().Add(time.Hour), func(time.Time) {})
}

func TestTemplateWords(t *testing.T) {
	got, err := expandTemplate(`docker run --rm -v "{workdir}:/w" img 'gluesparksubmit' /w/x\ y {args} --end`,
		map[string]string{"workdir": "/tmp/a b"}, []string{"--k", "v w"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"docker", "run", "--rm", "-v", "/tmp/a b:/w", "img", "gluesparksubmit", "/w/x y", "--k", "v w", "--end"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if _, err := expandTemplate(`spark-submit "unterminated`, nil, nil); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func TestLocalFetcher(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "b", "k"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "b", "k", "s.py"), []byte("print(1)"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := LocalFetcher{S3LocalRoot: root}
	ctx := context.Background()
	for _, loc := range []string{"s3://b/k/s.py", "file://" + filepath.Join(root, "b/k/s.py"), filepath.Join(root, "b/k/s.py")} {
		if b, err := f.Fetch(ctx, loc, 100); err != nil || string(b) != "print(1)" {
			t.Errorf("%s: %q %v", loc, b, err)
		}
	}
	if _, err := f.Fetch(ctx, "s3://b/k/s.py", 3); err == nil {
		t.Error("size limit ignored")
	}
	for _, loc := range []string{"s3://b/../../etc/passwd", "s3://b/", "s3://b", "relative/path.py", "http://x/y.py", "file://host/x.py"} {
		if _, err := f.Fetch(ctx, loc, 0); err == nil {
			t.Errorf("%s accepted", loc)
		}
	}
	if _, err := (LocalFetcher{}).Fetch(ctx, "s3://b/k/s.py", 0); err == nil || !strings.Contains(err.Error(), "--s3-local-root") {
		t.Errorf("s3 without a root: %v", err)
	}
}

func TestObjectsFetcher(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "bucket", "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bucket", "dir", "s.py"), []byte("print(2)"), 0o644); err != nil {
		t.Fatal(err)
	}
	store, err := objects.New(context.Background(), objects.Config{LocalRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	f := ObjectsFetcher{Store: store}
	ctx := context.Background()
	for _, loc := range []string{"s3://bucket/dir/s.py", "file://" + filepath.Join(root, "bucket/dir/s.py"), filepath.Join(root, "bucket/dir/s.py")} {
		if b, err := f.Fetch(ctx, loc, 100); err != nil || string(b) != "print(2)" {
			t.Errorf("%s: %q %v", loc, b, err)
		}
	}
	if _, err := f.Fetch(ctx, "s3://bucket/dir/s.py", 3); err == nil {
		t.Error("size limit ignored")
	}
	if _, err := f.Fetch(ctx, "s3://bucket/missing.py", 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing object: %v", err)
	}
	if _, err := f.Fetch(ctx, "s3://bucket/dir/", 0); err == nil {
		t.Error("a folder was fetched")
	}
}

func TestExtraFiles(t *testing.T) {
	h := newHarness(t)
	h.start(nil)
	lib := h.script("helper_mod.py", "def greet():\n    return 'hi from helper'\n")
	data := h.script("settings.txt", "from-extra-files\n")
	out := filepath.Join(h.dir, "extra.out")
	p := h.script("uses_extras.py", `import sys, helper_mod
from awsglue.utils import getResolvedOptions
a = getResolvedOptions(sys.argv, ["out"])
open(a["out"], "w").write(helper_mod.greet() + " " + open("settings.txt").read().strip())
`)
	h.enqueue(Request{RunID: "jr_extra", Name: "x", Command: Command{Name: "pythonshell", ScriptLocation: p},
		Arguments: map[string]string{"--out": out, "--extra-py-files": "file://" + lib, "--extra-files": data}})
	if end := h.end("jr_extra", 30*time.Second); end.State != StateSucceeded {
		t.Fatalf("%+v", end)
	}
	if b, _ := os.ReadFile(out); string(b) != "hi from helper from-extra-files" {
		t.Fatalf("output %q", b)
	}
	h.enqueue(Request{RunID: "jr_extra_missing", Name: "x", Command: Command{Name: "pythonshell", ScriptLocation: p},
		Arguments: map[string]string{"--out": out, "--extra-py-files": "file:///nonexistent/lib.py"}})
	if end := h.next("jr_extra_missing", 30*time.Second); end.State != StateFailed ||
		!strings.HasPrefix(end.ErrorMessage, "Unable to read --extra-py-files entry file:///nonexistent/lib.py") {
		t.Fatalf("%+v", end)
	}
}

// TestLateHeartbeatsAreNotAnInterruption: a live runner whose heartbeats stop (an
// overloaded node) gets its task redelivered, to itself or to another runner; neither
// calls the run interrupted, and the run ends as its process does.
func TestLateHeartbeatsAreNotAnInterruption(t *testing.T) {
	h := newHarness(t)
	slow := h.start(func(c *Config) { c.AckWait = time.Second })
	slow.silent.Store(true)
	p := h.script("sleep.py", sleeper)
	pidfile := filepath.Join(h.dir, "late.pid")
	h.enqueue(Request{RunID: "jr_late", Name: "s", Command: Command{Name: "pythonshell", ScriptLocation: p},
		Arguments: map[string]string{"--pidfile": pidfile}})
	if r := h.next("jr_late", 20*time.Second); r.State != StateRunning {
		t.Fatalf("%+v", r)
	}
	waitFile(t, pidfile)
	// A second runner joins; the task is redelivered (no heartbeats) for several AckWaits.
	h.start(func(c *Config) { c.AckWait = time.Second })
	select {
	case r := <-h.reports:
		t.Fatalf("report while the run is alive: %+v", r)
	case <-time.After(4 * time.Second):
	}
	h.stop("jr_late")
	if end := h.next("jr_late", 20*time.Second); end.State != StateStopped {
		t.Fatalf("%+v", end)
	}
}
