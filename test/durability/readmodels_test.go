package durability

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/cmd/sfnd/app"
	"github.com/sfnd/sfnd/projections"
)

const (
	acct = "123456789012"
	role = "arn:aws:iam::123456789012:role/durability"
)

func smARN(name string) string  { return "arn:aws:states:us-east-1:" + acct + ":stateMachine:" + name }
func actARN(name string) string { return "arn:aws:states:us-east-1:" + acct + ":activity:" + name }
func execARN(sm, n string) string {
	return "arn:aws:states:us-east-1:" + acct + ":execution:" + sm + ":" + n
}

// readModelBuckets are the read models' streams on disk and in NATS.
var readModelStreams = []string{
	"KV_" + projections.ExecutionBucket, "KV_" + projections.StateMachineBucket, "KV_" + projections.ActivityBucket,
	"KV_" + projections.VersionBucket, projections.ExecutionIndexStream, projections.ExecutionCounterStream,
}

// node starts an in-process node on dir whose log is kept.
func node(t *testing.T, dir string, natsPort int) (*app.App, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	a, err := app.Start(context.Background(), app.Config{
		Listen: "127.0.0.1:0", DataDir: dir, NATSPort: natsPort, WaitTimeScale: 0.001,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		t.Fatalf("start sfnd: %v", err)
	}
	t.Cleanup(a.Close)
	return a, logs
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// population creates resources and executions of every kind a read model holds and
// returns the names of the executions.
func populate(t *testing.T, ep string) []string {
	t.Helper()
	mustCall(t, ep, "CreateActivity", map[string]any{"name": "worker", "tags": []map[string]string{{"key": "team", "value": "a"}}})
	mustCall(t, ep, "CreateActivity", map[string]any{"name": "gone-activity"})
	mustCall(t, ep, "DeleteActivity", map[string]any{"activityArn": actARN("gone-activity")})
	mustCall(t, ep, "CreateStateMachine", map[string]any{"name": "pass", "roleArn": role, "publish": true,
		"definition": `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"n.$":"$.n","ok":true},"End":true}}}`,
		"tags":       []map[string]string{{"key": "k", "value": "v"}}})
	mustCall(t, ep, "CreateStateMachineAlias", map[string]any{"name": "live", "routingConfiguration": []map[string]any{
		{"stateMachineVersionArn": smARN("pass") + ":1", "weight": 100}}})
	mustCall(t, ep, "CreateStateMachine", map[string]any{"name": "fail", "roleArn": role,
		"definition": `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom","Cause":"on purpose"}}}`})
	mustCall(t, ep, "CreateStateMachine", map[string]any{"name": "wait", "roleArn": role,
		"definition": `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10000000,"End":true}}}`})
	mustCall(t, ep, "CreateStateMachine", map[string]any{"name": "gone", "roleArn": role,
		"definition": `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`})
	mustCall(t, ep, "DeleteStateMachine", map[string]any{"stateMachineArn": smARN("gone")})

	var names []string
	start := func(target, sm, name string, extra map[string]any) {
		body := map[string]any{"stateMachineArn": target, "name": name, "input": fmt.Sprintf(`{"n":%d}`, len(names))}
		for k, v := range extra {
			body[k] = v
		}
		mustCall(t, ep, "StartExecution", body)
		names = append(names, execARN(sm, name))
	}
	for i := range 40 {
		start(smARN("pass"), "pass", fmt.Sprintf("p-%02d", i), nil)
	}
	start(smARN("pass")+":1", "pass", "by-version", nil)
	start(smARN("pass")+":live", "pass", "by-alias", nil)
	start(smARN("pass"), "pass", "traced", map[string]any{"traceHeader": "Root=1-5759e988-bd862e3fe1be46a994272793"})
	for i := range 5 {
		start(smARN("fail"), "fail", fmt.Sprintf("f-%d", i), nil)
	}
	for i := range 3 {
		start(smARN("wait"), "wait", fmt.Sprintf("w-%d", i), nil)
	}
	mustCall(t, ep, "StopExecution", map[string]any{"executionArn": execARN("wait", "w-0"), "error": "Stopped", "cause": "by the test"})
	// Wait until every execution that ends has ended.
	for _, arn := range names {
		for deadline := time.Now().Add(20 * time.Second); ; {
			out := mustCall(t, ep, "DescribeExecution", map[string]any{"executionArn": arn})
			if !strings.Contains(out, `"status":"RUNNING"`) || strings.Contains(arn, ":wait:") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s still running: %s", arn, out)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return names
}

// snapshot is everything the read models answer, as the API answers it.
func snapshot(t *testing.T, ep string, execs []string) map[string]string {
	t.Helper()
	s := map[string]string{}
	add := func(op string, body map[string]any) {
		key := op + " " + fmt.Sprint(body)
		code, out := call(t, ep, op, body)
		s[key] = fmt.Sprintf("%d %s", code, out)
	}
	add("ListStateMachines", map[string]any{})
	add("ListActivities", map[string]any{})
	for _, sm := range []string{"pass", "fail", "wait", "gone"} {
		add("DescribeStateMachine", map[string]any{"stateMachineArn": smARN(sm)})
		add("ListExecutions", map[string]any{"stateMachineArn": smARN(sm), "maxResults": 1000})
		add("ListExecutions", map[string]any{"stateMachineArn": smARN(sm), "statusFilter": "RUNNING"})
	}
	add("ListTagsForResource", map[string]any{"resourceArn": smARN("pass")})
	add("ListStateMachineVersions", map[string]any{"stateMachineArn": smARN("pass")})
	add("DescribeStateMachine", map[string]any{"stateMachineArn": smARN("pass") + ":1"})
	add("DescribeStateMachineAlias", map[string]any{"stateMachineAliasArn": smARN("pass") + ":live"})
	add("ListStateMachineAliases", map[string]any{"stateMachineArn": smARN("pass")})
	add("DescribeActivity", map[string]any{"activityArn": actARN("worker")})
	add("DescribeActivity", map[string]any{"activityArn": actARN("gone-activity")})
	add("ListTagsForResource", map[string]any{"resourceArn": actARN("worker")})
	for _, arn := range execs {
		add("DescribeExecution", map[string]any{"executionArn": arn})
		add("DescribeStateMachineForExecution", map[string]any{"executionArn": arn})
	}
	return s
}

func sameSnapshots(t *testing.T, before, after map[string]string) {
	t.Helper()
	var keys []string
	for k := range before {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	bad := 0
	for _, k := range keys {
		if before[k] != after[k] {
			bad++
			if bad <= 5 {
				t.Errorf("%s\nbefore: %s\nafter:  %s", k, before[k], after[k])
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d answers differ", bad, len(keys))
	}
}

// streamDir is a stream's directory in a data directory.
func streamDir(dataDir, stream string) string {
	return filepath.Join(dataDir, "jetstream", "jetstream", "$G", "streams", stream)
}

// TestStartupRebuildsReadModels deletes every read model's store (or zeroes the
// newest block of the execution bucket) of a stopped node; the restarted node finds
// them missing or behind, rebuilds them, and answers exactly as before.
func TestStartupRebuildsReadModels(t *testing.T) {
	for _, damage := range []string{"deleted", "zeroed"} {
		t.Run(damage, func(t *testing.T) {
			dir := t.TempDir()
			a, _ := node(t, dir, 0)
			execs := populate(t, a.Endpoint())
			before := snapshot(t, a.Endpoint(), execs)
			a.Close()

			switch damage {
			case "deleted":
				for _, s := range readModelStreams {
					if err := os.RemoveAll(streamDir(dir, s)); err != nil {
						t.Fatal(err)
					}
				}
			case "zeroed":
				// The bucket written last is damaged, as a kill -9 in the middle of a
				// write would leave it, and its state file is gone with it.
				zeroNewestBlock(t, streamDir(dir, "KV_"+projections.ExecutionBucket))
			}
			b, logs := node(t, dir, 0)
			after := snapshot(t, b.Endpoint(), execs)
			sameSnapshots(t, before, after)
			if !strings.Contains(logs.String(), "read model missing or behind its streams: rebuilding") {
				t.Errorf("no rebuild logged:\n%s", logs.String())
			}
			// The rebuilt records work: a running execution stops.
			mustCall(t, b.Endpoint(), "StopExecution", map[string]any{"executionArn": execARN("wait", "w-1")})
			out := mustCall(t, b.Endpoint(), "DescribeExecution", map[string]any{"executionArn": execARN("wait", "w-1")})
			if !strings.Contains(out, `"status":"ABORTED"`) {
				t.Fatalf("stopped execution: %s", out)
			}
			b.Close()
			// A node that finds nothing stale rebuilds nothing.
			c, logs := node(t, dir, 0)
			if strings.Contains(logs.String(), "rebuilding") {
				t.Errorf("rebuilt read models that were up to date:\n%s", logs.String())
			}
			c.Close()
		})
	}
}

// zeroNewestBlock overwrites the newest message block of a stream with zeros and
// removes its state file.
func zeroNewestBlock(t *testing.T, dir string) {
	t.Helper()
	blocks, err := filepath.Glob(filepath.Join(dir, "msgs", "*.blk"))
	if err != nil || len(blocks) == 0 {
		t.Fatalf("no message blocks in %s (%v)", dir, err)
	}
	sort.Slice(blocks, func(i, j int) bool { return blockIndex(blocks[i]) < blockIndex(blocks[j]) })
	newest := blocks[len(blocks)-1]
	st, err := os.Stat(newest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(newest, make([]byte, st.Size()), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(filepath.Join(dir, "msgs", "index.db"))
}

func blockIndex(path string) int {
	var n int
	_, _ = fmt.Sscanf(filepath.Base(path), "%d.blk", &n)
	return n
}

// TestProjectionsRebuildCommand rebuilds deleted read models with `sfnd projections
// rebuild`: offline on a stopped node's data directory, and online against the NATS
// of a running node.
func TestProjectionsRebuildCommand(t *testing.T) {
	needBinary(t)
	t.Run("offline", func(t *testing.T) {
		dir := t.TempDir()
		a, _ := node(t, dir, 0)
		execs := populate(t, a.Endpoint())
		before := snapshot(t, a.Endpoint(), execs)
		a.Close()
		for _, s := range readModelStreams {
			if err := os.RemoveAll(streamDir(dir, s)); err != nil {
				t.Fatal(err)
			}
		}
		out, code := run(t, "projections", "check", "--data-dir", dir)
		if code != 1 || !strings.Contains(out, "bucket sfn_executions is missing") {
			t.Fatalf("check after deleting the read models: exit %d\n%s", code, out)
		}
		out, code = run(t, "projections", "rebuild", "--data-dir", dir)
		if code != 0 || !strings.Contains(out, fmt.Sprintf("%d executions (%d records were missing", len(execs), len(execs))) {
			t.Fatalf("rebuild: exit %d\n%s", code, out)
		}
		t.Log(strings.TrimSpace(out))
		out, code = run(t, "projections", "check", "--data-dir", dir)
		if code != 0 {
			t.Fatalf("check after the rebuild: exit %d\n%s", code, out)
		}
		b, logs := node(t, dir, 0)
		if strings.Contains(logs.String(), "rebuilding") {
			t.Errorf("the node rebuilt again:\n%s", logs.String())
		}
		sameSnapshots(t, before, snapshot(t, b.Endpoint(), execs))
	})
	t.Run("online", func(t *testing.T) {
		a, _ := node(t, t.TempDir(), -1)
		execs := populate(t, a.Endpoint())
		before := snapshot(t, a.Endpoint(), execs)
		nc, err := nats.Connect(a.NATSURL())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range []string{projections.ExecutionBucket, projections.StateMachineBucket, projections.ActivityBucket, projections.VersionBucket} {
			if err := js.DeleteKeyValue(context.Background(), b); err != nil {
				t.Fatal(err)
			}
		}
		if code, out := call(t, a.Endpoint(), "DescribeExecution", map[string]any{"executionArn": execs[0]}); code == 200 {
			t.Fatalf("the execution bucket was not deleted: %s", out)
		}
		out, code := run(t, "projections", "rebuild", "--nats-url", a.NATSURL())
		if code != 0 {
			t.Fatalf("rebuild: exit %d\n%s", code, out)
		}
		t.Log(strings.TrimSpace(out))
		sameSnapshots(t, before, snapshot(t, a.Endpoint(), execs))
	})
}

// run runs the sfnd binary and returns its output and exit status; one still running
// after a minute is killed (exit status -1).
func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("sfnd %v: %v", args, err)
	}
	return out.String(), 0
}

// TestNATSWarningsInLog: the embedded NATS server's warnings reach sfnd's log, so a
// damaged store is reported (here, a stream's state file overwritten with garbage).
func TestNATSWarningsInLog(t *testing.T) {
	dir := t.TempDir()
	a, _ := node(t, dir, 0)
	mustCall(t, a.Endpoint(), "CreateActivity", map[string]any{"name": "worker"})
	a.Close()
	state := filepath.Join(streamDir(dir, "KV_"+projections.ActivityBucket), "msgs", "index.db")
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("no stream state file: %v", err)
	}
	if err := os.WriteFile(state, bytes.Repeat([]byte("garbage!"), 64), 0o644); err != nil {
		t.Fatal(err)
	}
	b, logs := node(t, dir, 0)
	var warned string
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "component=nats") &&
			strings.Contains(line, "KV_"+projections.ActivityBucket) {
			warned = line
		}
	}
	if warned == "" {
		t.Fatalf("no warning of the embedded NATS server about the damaged stream in the log:\n%s", logs.String())
	}
	t.Logf("logged: %s", strings.TrimSpace(warned))
	mustCall(t, b.Endpoint(), "DescribeActivity", map[string]any{"activityArn": actARN("worker")})
}
