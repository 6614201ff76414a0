package glue

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
)

// node is an `sfnd serve` process.
type node struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	log  *os.File
}

func buildSfnd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sfnd")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/sfnd/sfnd/cmd/sfnd").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func (n *node) endpoint() string { return "http://127.0.0.1:" + strconv.Itoa(n.port) }

func (n *node) start() {
	n.t.Helper()
	if n.log == nil {
		f, err := os.Create(filepath.Join(n.dir, "sfnd.log"))
		if err != nil {
			n.t.Fatal(err)
		}
		n.log = f
		n.t.Cleanup(func() {
			if n.cmd != nil && n.cmd.ProcessState == nil {
				_ = n.cmd.Process.Kill()
				_ = n.cmd.Wait()
			}
			f.Close()
			if n.t.Failed() {
				b, _ := os.ReadFile(f.Name())
				n.t.Logf("sfnd log:\n%s", b)
			}
		})
	}
	n.cmd = exec.Command(n.bin, "serve", "--listen", "127.0.0.1:"+strconv.Itoa(n.port), "--data-dir", n.dir,
		"--glue-job-lease", "2s", "--log-level", "warn")
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(n.endpoint() + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			n.t.Fatal("sfnd did not come up")
		}
	}
}

func (n *node) kill9() {
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	_ = n.cmd.Wait()
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestRunSurvivesKill9: a workflow run survives kill -9 of the server in the middle
// of a job: the interrupted job run ends FAILED, MaxRetries runs it again, the run
// completes after the restart and its history verifies.
func TestRunSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	t.Parallel()
	n := &node{t: t, bin: buildSfnd(t), dir: t.TempDir(), port: freePort(t)}
	n.start()
	c := glue.New(glue.Options{Region: "us-east-1", BaseEndpoint: aws.String(n.endpoint()),
		Credentials: aws.NewCredentialsCache(staticCreds{}), RetryMaxAttempts: 1})
	dir := t.TempDir()
	marker := filepath.Join(dir, "first-attempt.pid")
	// The first attempt records its pid and sleeps (the node dies under it); the retry
	// finds the marker and succeeds.
	script := filepath.Join(dir, "once.py")
	body := fmt.Sprintf("import os, sys, time\nm = %q\nif os.path.exists(m):\n    sys.exit(0)\nopen(m, 'w').write(str(os.getpid()))\ntime.sleep(120)\n", marker)
	if err := os.WriteFile(script, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	in := pythonJob("J1")
	in.Command.ScriptLocation = aws.String(script)
	in.MaxRetries = 1
	do(c.CreateJob(ctx, in)).ok(t)
	createJob(t, c, "J2", filepath.Join(scripts(t), "ok.py"), nil)
	do(c.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String("wf")})).ok(t)
	onDemand(t, c, "wf", "T0", "J1")
	conditional(t, c, "wf", "T1", "AND", map[string]string{"J1": "SUCCEEDED"}, "J2")
	id := aws.ToString(do(c.StartWorkflowRun(ctx, &glue.StartWorkflowRunInput{Name: aws.String("wf")})).ok(t).RunId)
	var pid int
	for deadline := time.Now().Add(30 * time.Second); pid == 0; time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(marker); err == nil && len(b) > 0 {
			pid, _ = strconv.Atoi(string(b))
		}
		if time.Now().After(deadline) {
			t.Fatal("the first attempt never started")
		}
	}
	n.kill9()
	_ = syscall.Kill(pid, syscall.SIGKILL) // the orphaned job process of the dead node
	n.start()
	var run *types.WorkflowRun
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, err := c.GetWorkflowRun(ctx, &glue.GetWorkflowRunInput{Name: aws.String("wf"), RunId: aws.String(id), IncludeGraph: aws.Bool(true)})
		if err == nil && out.Run.Status == types.WorkflowRunStatusCompleted {
			run = out.Run
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run not completed after restart: %v %+v", err, out)
		}
	}
	if run.Statistics.SucceededActions != 2 {
		t.Fatalf("statistics: %+v", run.Statistics)
	}
	attempts := nodeByName(run.Graph, "J1").JobDetails.JobRuns
	if len(attempts) != 2 || attempts[0].JobRunState != types.JobRunStateFailed || attempts[1].Attempt != 1 ||
		aws.ToString(attempts[1].PreviousRunId) != aws.ToString(attempts[0].Id) || attempts[1].JobRunState != types.JobRunStateSucceeded {
		t.Fatalf("J1 attempts: %+v", attempts)
	}
	t.Logf("interrupted attempt: %s", aws.ToString(attempts[0].ErrorMessage))
	n.kill9()
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, n.bin, "history", "verify", id, "--data-dir", n.dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok    "+id) {
		t.Fatalf("history verify: %v\n%s", err, out)
	}
	out, err = exec.CommandContext(cctx, n.bin, "history", "verify", "--all", "--data-dir", n.dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), id) {
		t.Fatalf("history verify --all: %v\n%s", err, out)
	}
}
