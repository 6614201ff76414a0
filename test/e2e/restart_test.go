package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/cmd/sfnd/app"
)

// startNode starts a node of its own on dir; stop it with the returned function (also
// run at cleanup).
func startNode(t *testing.T, dir string) (*app.App, func()) {
	t.Helper()
	a, err := app.Start(context.Background(), app.Config{
		Listen: "127.0.0.1:0", DataDir: dir,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("start sfnd on %s: %v", dir, err)
	}
	var once sync.Once
	stop := func() { once.Do(func() { closeIdle(); a.Close() }) }
	t.Cleanup(stop)
	return a, stop
}

// world is what a test wrote and expects to find again.
type world struct {
	sms  map[string]string // ARN -> definition
	acts []string
	tags map[string]string // ARN -> tagMap
	gone []string          // deleted ARNs
}

// populate creates state machines (one updated, one deleted, EXPRESS ones), activities
// and tags through c.
func populate(t *testing.T, c *sfn.Client, reg, prefix string) world {
	t.Helper()
	w := world{sms: map[string]string{}, tags: map[string]string{}}
	for i := range 6 {
		name := fmt.Sprintf("%s-sm-%d", prefix, i)
		def := passDefinition(strconv.Itoa(i))
		createSM(t, c, name, def, func(in *sfn.CreateStateMachineInput) {
			in.Tags = tags("i", strconv.Itoa(i))
			if i%2 == 1 {
				in.Type = types.StateMachineTypeExpress
			}
		})
		w.sms[smARN(reg, name)] = def
		w.tags[smARN(reg, name)] = "i=" + strconv.Itoa(i)
	}
	updated := smARN(reg, prefix+"-sm-0")
	w.sms[updated] = passDefinition("updated")
	_, err := c.UpdateStateMachine(ctx(t), &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(updated), Definition: aws.String(w.sms[updated])})
	ok(t, err)
	_, err = c.TagResource(ctx(t), &sfn.TagResourceInput{ResourceArn: aws.String(updated), Tags: tags("extra", "yes")})
	ok(t, err)
	w.tags[updated] = "i=0,extra=yes"
	deleted := smARN(reg, prefix+"-sm-5")
	_, err = c.DeleteStateMachine(ctx(t), &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(deleted)})
	ok(t, err)
	delete(w.sms, deleted)
	delete(w.tags, deleted)
	w.gone = append(w.gone, deleted)
	for i := range 4 {
		name := fmt.Sprintf("%s-act-%d", prefix, i)
		_, err := c.CreateActivity(ctx(t), &sfn.CreateActivityInput{Name: aws.String(name), Tags: tags("act", strconv.Itoa(i))})
		ok(t, err)
		w.acts = append(w.acts, actARN(reg, name))
		w.tags[actARN(reg, name)] = "act=" + strconv.Itoa(i)
	}
	_, err = c.UntagResource(ctx(t), &sfn.UntagResourceInput{ResourceArn: aws.String(w.acts[0]), TagKeys: []string{"act"}})
	ok(t, err)
	w.tags[w.acts[0]] = ""
	_, err = c.DeleteActivity(ctx(t), &sfn.DeleteActivityInput{ActivityArn: aws.String(w.acts[3])})
	ok(t, err)
	w.gone = append(w.gone, w.acts[3])
	delete(w.tags, w.acts[3])
	w.acts = w.acts[:3]
	return w
}

// check asserts that c sees exactly w.
func (w world) check(t *testing.T, c *sfn.Client) {
	t.Helper()
	for arn, def := range w.sms {
		d, err := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		ok(t, err)
		if aws.ToString(d.Definition) != def {
			t.Fatalf("%s: definition %s, want %s", arn, aws.ToString(d.Definition), def)
		}
	}
	for _, arn := range w.acts {
		_, err := c.DescribeActivity(ctx(t), &sfn.DescribeActivityInput{ActivityArn: aws.String(arn)})
		ok(t, err)
	}
	for arn, want := range w.tags {
		if got := listTags(t, c, arn); got != want {
			t.Fatalf("%s: tags %q, want %q", arn, got, want)
		}
	}
	for _, arn := range w.gone {
		_, err1 := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		_, err2 := c.DescribeActivity(ctx(t), &sfn.DescribeActivityInput{ActivityArn: aws.String(arn)})
		if err1 == nil || err2 == nil {
			t.Fatalf("deleted %s is back", arn)
		}
	}
	var listed []string
	sms, err := c.ListStateMachines(ctx(t), &sfn.ListStateMachinesInput{MaxResults: 1000})
	ok(t, err)
	for _, it := range sms.StateMachines {
		listed = append(listed, aws.ToString(it.StateMachineArn))
		if want := types.StateMachineTypeStandard; it.Type != want && it.Type != types.StateMachineTypeExpress {
			t.Fatalf("listed type %q", it.Type)
		}
	}
	for arn := range w.sms {
		if !slices.Contains(listed, arn) {
			t.Fatalf("%s not listed (listed: %v)", arn, listed)
		}
	}
	acts, err := c.ListActivities(ctx(t), &sfn.ListActivitiesInput{MaxResults: 1000})
	ok(t, err)
	listed = nil
	for _, it := range acts.Activities {
		listed = append(listed, aws.ToString(it.ActivityArn))
	}
	for _, arn := range w.acts {
		if !slices.Contains(listed, arn) {
			t.Fatalf("%s not listed", arn)
		}
	}
	for _, arn := range w.gone {
		if slices.Contains(listed, arn) {
			t.Fatalf("deleted %s listed", arn)
		}
	}
}

func TestRestartPersistence(t *testing.T) {
	dir := t.TempDir()
	a, stop := startNode(t, dir)
	c := clientFor(a.Endpoint(), region)
	w := populate(t, c, region, "restart")
	before, err := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(smARN(region, "restart-sm-1"))})
	ok(t, err)
	stop()

	b, _ := startNode(t, dir)
	c = clientFor(b.Endpoint(), region)
	w.check(t, c)
	after, err := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(smARN(region, "restart-sm-1"))})
	ok(t, err)
	if after.Type != types.StateMachineTypeExpress || !after.CreationDate.Equal(*before.CreationDate) {
		t.Fatalf("after restart: type %s created %v, before %v", after.Type, after.CreationDate, before.CreationDate)
	}
	// The restarted node keeps working on the old state: idempotent creates, conflicts,
	// updates and new resources.
	sm2, err := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(smARN(region, "restart-sm-2"))})
	ok(t, err)
	same := createSM(t, c, "restart-sm-2", passDefinition("2"))
	if !same.CreationDate.Equal(*sm2.CreationDate) || aws.ToString(same.StateMachineArn) != smARN(region, "restart-sm-2") {
		t.Fatalf("idempotent create after restart answered %s %v, want %v", aws.ToString(same.StateMachineArn), same.CreationDate, sm2.CreationDate)
	}
	_, err = c.CreateStateMachine(ctx(t), &sfn.CreateStateMachineInput{Name: aws.String("restart-sm-2"), Definition: aws.String(passDefinition("x")), RoleArn: aws.String(roleArn)})
	wantErr(t, err, "StateMachineAlreadyExists", "")
	createSM(t, c, "restart-sm-5", passDefinition("reborn"))
	w.sms[smARN(region, "restart-sm-5")] = passDefinition("reborn")
	w.gone = slices.DeleteFunc(w.gone, func(a string) bool { return a == smARN(region, "restart-sm-5") })
	w.tags[smARN(region, "restart-sm-5")] = ""
	w.check(t, c)
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildSfnd builds the sfnd binary once per test run (into a directory TestMain
// removes).
func buildSfnd(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		builtBin = filepath.Join(binDir, "sfnd")
		out, err := exec.Command("go", "build", "-o", builtBin, "github.com/sfnd/sfnd/cmd/sfnd").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// proc is a running sfnd binary.
type proc struct {
	cmd      *exec.Cmd
	endpoint string
	exited   chan struct{} // closed once the process is reaped
}

// listening is the line sfnd logs once it serves; it names the endpoint.
var listening = regexp.MustCompile(`msg="sfnd listening" endpoint=(http://\S+)`)

// startProc runs `sfnd serve` on dir, on a port the kernel picks (no race with other
// tests for a "free" port), and waits until it answers.
func startProc(t *testing.T, bin, dir string) *proc {
	t.Helper()
	logPath := filepath.Join(dir, "sfnd.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir, "--log-level", "info")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	p.exited = exited
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("sfnd exited while starting:\n%s", log)
		default:
		}
		log, _ := os.ReadFile(logPath)
		if m := listening.FindSubmatch(log); m != nil {
			p.endpoint = string(m[1])
			resp, err := httpClient.Get(p.endpoint + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return p
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("sfnd did not come up in time:\n%s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill9 kills the process with SIGKILL: no shutdown code runs.
func (p *proc) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
}

func TestKill9(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildSfnd(t)
	dir := t.TempDir()
	p := startProc(t, bin, dir)
	c := clientFor(p.endpoint, region)
	w := populate(t, c, region, "kill")

	// A burst of writes in flight when the process dies: everything acknowledged
	// before the kill must be there afterwards.
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	stopWriting := make(chan struct{})
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stopWriting:
					return
				default:
				}
				name := fmt.Sprintf("burst-%d-%d", g, i)
				out, err := c.CreateActivity(context.Background(), &sfn.CreateActivityInput{Name: aws.String(name), Tags: tags("g", strconv.Itoa(g))})
				if err != nil {
					return // the server died under us
				}
				mu.Lock()
				acked = append(acked, aws.ToString(out.ActivityArn))
				mu.Unlock()
			}
		})
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 40 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.kill9(t)
	close(stopWriting)
	wg.Wait()

	p = startProc(t, bin, dir)
	c = clientFor(p.endpoint, region)
	w.check(t, c)
	for _, arn := range acked {
		if _, err := c.DescribeActivity(ctx(t), &sfn.DescribeActivityInput{ActivityArn: aws.String(arn)}); err != nil {
			t.Fatalf("acknowledged %s lost in the kill: %v", arn, err)
		}
	}
	t.Logf("%d activities acknowledged before kill -9, all present after restart", len(acked))

	// Killed again straight after a write: still there.
	createSM(t, c, "kill-after", passDefinition("last"))
	p.kill9(t)
	p = startProc(t, bin, dir)
	c = clientFor(p.endpoint, region)
	w.sms[smARN(region, "kill-after")] = passDefinition("last")
	w.check(t, c)
	// A clean stop (SIGTERM) also keeps everything.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	if !p.cmd.ProcessState.Success() {
		t.Fatalf("sfnd exited with %v after SIGTERM", p.cmd.ProcessState)
	}
	p = startProc(t, bin, dir)
	w.check(t, clientFor(p.endpoint, region))
}
