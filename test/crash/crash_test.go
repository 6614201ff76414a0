// Package crash proves that executions survive kill -9: a mixed workload runs on the
// sfnd binary while the process is killed with SIGKILL at random moments and
// restarted; every execution must end as it does in a crash-free run, every history
// must keep its shape, and `sfnd history verify --all` must find every decision the
// decider would make again.
package crash

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/sfnd/sfnd/actors/audit"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/test/testutil"
)

// scale is the --wait-time-scale of both runs: Wait 10 s lasts 200 ms (an in-memory
// timer), Wait 60 s 1.2 s (a JetStream scheduled message).
const scale = 0.02

const (
	account = "123456789012"
	role    = "arn:aws:iam::123456789012:role/crash"
)

// skipProcs skips a test that builds and kills the sfnd binary in -short mode and on
// Windows.
func skipProcs(t *testing.T) {
	if testing.Short() || runtime.GOOS == "windows" {
		t.Skip("builds and kills the sfnd binary (not in -short, not on Windows)")
	}
}

// machine is one state machine of the workload and the inputs it runs with.
type machine struct {
	name string
	def  string
	runs int
}

func workload(activityARN string) []machine {
	return []machine{
		{"chain", `{"StartAt":"A","States":{
			"A":{"Type":"Pass","Parameters":{"n.$":"$.n","sum.$":"States.MathAdd($.n, 1)"},"Next":"B"},
			"B":{"Type":"Wait","Seconds":15,"Next":"C"},
			"C":{"Type":"Pass","Parameters":{"n.$":"$.n","sum.$":"States.MathAdd($.sum, $.n)"},"Next":"D"},
			"D":{"Type":"Wait","Seconds":60,"Next":"E"},
			"E":{"Type":"Pass","Result":"done","ResultPath":"$.tag","End":true}}}`, 6},
		{"waits", `{"StartAt":"Until","States":{
			"Until":{"Type":"Wait","SecondsPath":"$.wait","Next":"Stamp"},
			"Stamp":{"Type":"Pass","Parameters":{"n.$":"$.n","waited.$":"$.wait"},"End":true}}}`, 4},
		{"parallel", `{"StartAt":"Par","States":{"Par":{"Type":"Parallel","Next":"Sum","Branches":[
			{"StartAt":"W1","States":{"W1":{"Type":"Wait","Seconds":20,"Next":"P1"},"P1":{"Type":"Pass","Parameters":{"b":1,"n.$":"$.n"},"End":true}}},
			{"StartAt":"W2","States":{"W2":{"Type":"Wait","Seconds":55,"Next":"P2"},"P2":{"Type":"Pass","Parameters":{"b":2,"n.$":"$.n"},"End":true}}},
			{"StartAt":"P3","States":{"P3":{"Type":"Pass","Result":{"b":3},"End":true}}}]},
			"Sum":{"Type":"Pass","Parameters":{"count.$":"States.ArrayLength($)","all.$":"$"},"End":true}}}`, 5},
		{"map", `{"StartAt":"Gen","States":{
			"Gen":{"Type":"Pass","Parameters":{"items.$":"States.ArrayRange(1, 6, 1)","n.$":"$.n"},"Next":"M"},
			"M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":2,"ItemSelector":{"i.$":"$$.Map.Item.Value","n.$":"$.n"},
			  "ItemProcessor":{"StartAt":"IW","States":{"IW":{"Type":"Wait","Seconds":10,"Next":"IP"},
			    "IP":{"Type":"Pass","Parameters":{"v.$":"States.MathAdd($.i, $.n)"},"End":true}}},"End":true}}}`, 4},
		{"retry", `{"StartAt":"Try","States":{
			"Try":{"Type":"Parallel","Next":"After","Branches":[{"StartAt":"Boom","States":{"Boom":{"Type":"Fail","Error":"Flaky","Cause":"always"}}}],
			  "Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":30,"MaxAttempts":2,"BackoffRate":2}],
			  "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"After"}]},
			"After":{"Type":"Pass","Parameters":{"n.$":"$.n","err.$":"$.err"},"End":true}}}`, 5},
		{"activity", `{"StartAt":"Work","States":{
			"Work":{"Type":"Task","Resource":"` + activityARN + `","TimeoutSeconds":250,"HeartbeatSeconds":200,
			  "Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":10,"MaxAttempts":5,"BackoffRate":1}],"Next":"Done"},
			"Done":{"Type":"Pass","Parameters":{"result.$":"$"},"End":true}}}`, 6},
		{"mapact", `{"StartAt":"M","States":{
			"M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":2,"ItemSelector":{"n.$":"$$.Map.Item.Value","k.$":"$.n"},
			  "ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + activityARN + `","TimeoutSeconds":250,
			    "Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":10,"MaxAttempts":5,"BackoffRate":1}],"End":true}}},"End":true}}}`, 3},
		// A nested execution of "chain", waited for (.sync:2); only its output is kept
		// (its ARN and dates differ from run to run).
		{"nested", `{"StartAt":"Child","States":{
			"Child":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2",
			  "Parameters":{"StateMachineArn":"` + smARN("chain") + `","Input":{"n.$":"$.n"}},
			  "ResultSelector":{"child.$":"$.Output"},"End":true}}}`, 3},
	}
}

// planned is one execution of the workload.
type planned struct {
	sm, name, input string
}

func plan(ms []machine) []planned {
	var out []planned
	for _, m := range ms {
		for i := range m.runs {
			in := fmt.Sprintf(`{"n":%d,"wait":%d,"items":[%d,%d,%d]}`, i+1, 20+25*(i%3), 10*i+1, 10*i+2, 10*i+3)
			out = append(out, planned{sm: m.name, name: fmt.Sprintf("%s-%d", m.name, i), input: in})
		}
	}
	// Interleave the machines, so each wave of starts mixes them.
	slices.SortStableFunc(out, func(a, b planned) int {
		return strings.Compare(a.name[strings.LastIndexByte(a.name, '-'):], b.name[strings.LastIndexByte(b.name, '-'):])
	})
	return out
}

func smARN(name string) string {
	return "arn:aws:states:us-east-1:" + account + ":stateMachine:" + name
}
func execARN(sm, name string) string {
	return "arn:aws:states:us-east-1:" + account + ":execution:" + sm + ":" + name
}

// outcome is how an execution ended.
type outcome struct {
	Status string
	Output string
	Error  string
}

func TestKill9MixedWorkload(t *testing.T) {
	skipProcs(t)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SFND_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SFND_CRASH_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (rerun with SFND_CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x5f3d))
	began := time.Now()

	// The crash-free reference runs in process, at the same time as the crash run.
	type refResult struct {
		out map[string]outcome
		err error
	}
	refDone := make(chan refResult, 1)
	ref := testutil.Start(t, testutil.Options{WaitTimeScale: scale})
	refClient := client(ref.Endpoint())
	setup(t, refClient)
	go func() {
		out, err := reference(refClient)
		refDone <- refResult{out, err}
	}()

	srv := server(t, "", 0)
	srv.Start()
	c := client(srv.URL())
	ms := setup(t, c)
	execs := plan(ms)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &worker{seen: map[string]int{}, delivered: map[string]int{}}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { w.run(ctx, c, actARN("crash-worker")) })
	}

	// Starts trickle in while the process is killed and restarted.
	var started atomic.Int64
	startErr := make(chan error, 1)
	wg.Go(func() {
		for _, p := range execs {
			if err := startWithRetry(ctx, c, p); err != nil {
				startErr <- err
				return
			}
			started.Add(1)
			time.Sleep(60 * time.Millisecond)
		}
	})

	const kills = 6
	for k := range kills {
		// Mostly mid-run; now and then right after a restart, while recovery runs.
		up := time.Duration(300+rng.IntN(1200)) * time.Millisecond
		if rng.IntN(4) == 0 {
			up = time.Duration(20+rng.IntN(100)) * time.Millisecond
		}
		time.Sleep(up)
		srv.Kill9()
		t.Logf("kill -9 #%d after %v up (%d/%d executions started)", k+1, up, started.Load(), len(execs))
		time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
		srv.Start()
	}
	for started.Load() < int64(len(execs)) {
		select {
		case err := <-startErr:
			t.Fatal(err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	crashPhase := time.Since(began)

	// Every execution finishes, as in the crash-free run.
	got := map[string]outcome{}
	deadline := time.Now().Add(45 * time.Second)
	for _, p := range execs {
		o, err := waitDone(c, execARN(p.sm, p.name), deadline)
		if err != nil {
			t.Fatalf("%v\n%s", err, compact(history(t, srv.URL(), execARN(p.sm, p.name))))
		}
		got[p.name] = o
	}
	r := <-refDone
	if r.err != nil {
		var ee *execErr
		if errors.As(r.err, &ee) {
			t.Fatalf("crash-free run: %v\n%s", r.err, compact(history(t, ref.Endpoint(), ee.arn)))
		}
		t.Fatalf("crash-free run: %v", r.err)
	}
	want := r.out
	for _, p := range execs {
		if g, w := got[p.name], want[p.name]; g != w {
			t.Errorf("%s ended %+v after the crashes, %+v without", p.name, g, w)
		}
	}

	// Every history keeps its shape.
	events := 0
	for _, p := range execs {
		h := history(t, srv.URL(), execARN(p.sm, p.name))
		if err := audit.CheckInvariants(h, true); err != nil {
			t.Errorf("%s: %v", p.name, err)
		}
		events += len(h)
	}
	cancel()
	wg.Wait()
	w.mu.Lock()
	for token, n := range w.delivered {
		if n > 1 {
			t.Errorf("activity task delivered %d times for the same attempt (token %.20s...)", n, token)
		}
	}
	tasks := len(w.delivered)
	w.mu.Unlock()

	// The data left by the last kill verifies offline.
	srv.Kill9()
	out, err := exec.Command(testutil.SfndBinary(t), "history", "verify", "--all", "--quiet", "--data-dir", srv.Dir).CombinedOutput()
	if err != nil {
		t.Fatalf("sfnd history verify --all: %v\n%s", err, out)
	}
	summary := strings.TrimSpace(string(out))
	// The nested runs' children have histories of their own.
	children := 0
	for _, m := range ms {
		if m.name == "nested" {
			children = m.runs
		}
	}
	if !strings.Contains(summary, fmt.Sprintf("verified %d executions (0 running)", len(execs)+children)) || !strings.Contains(summary, "0 faults, 0 unverifiable") {
		t.Fatalf("verify summary: %s", summary)
	}
	t.Logf("%d executions (%d events, %d activity tasks) under %d kill -9 in %v (crash phase %v); %s",
		len(execs), events, tasks, kills, time.Since(began).Round(100*time.Millisecond), crashPhase.Round(100*time.Millisecond), summary)
}

// reference runs the workload on a node that is never killed (set up already).
func reference(c *sfn.Client) (map[string]outcome, error) {
	execs := plan(workload(actARN("crash-worker")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &worker{seen: map[string]int{}, delivered: map[string]int{}}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for range 3 {
		wg.Go(func() { w.run(ctx, c, actARN("crash-worker")) })
	}
	for _, p := range execs {
		if err := startWithRetry(ctx, c, p); err != nil {
			return nil, err
		}
	}
	out := map[string]outcome{}
	deadline := time.Now().Add(45 * time.Second)
	for _, p := range execs {
		o, err := waitDone(c, execARN(p.sm, p.name), deadline)
		if err != nil {
			return nil, err
		}
		out[p.name] = o
	}
	return out, nil
}

// setup creates the activity and the state machines.
func setup(t *testing.T, c *sfn.Client) []machine {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateActivity(ctx, &sfn.CreateActivityInput{Name: aws.String("crash-worker")}); err != nil {
		t.Fatalf("create activity: %v", err)
	}
	ms := workload(actARN("crash-worker"))
	for _, m := range ms {
		if _, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(m.name),
			Definition: aws.String(m.def), RoleArn: aws.String(role)}); err != nil {
			t.Fatalf("create %s: %v", m.name, err)
		}
	}
	return ms
}

func actARN(name string) string { return "arn:aws:states:us-east-1:" + account + ":activity:" + name }

// startWithRetry starts an execution, retrying while the server is down. A start
// whose answer was lost in a crash is found again: a repeat with the same name and
// input is idempotent while it runs, and ExecutionAlreadyExists once it ended.
func startWithRetry(ctx context.Context, c *sfn.Client, p planned) error {
	for attempt := 0; ; attempt++ {
		_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(smARN(p.sm)),
			Name: aws.String(p.name), Input: aws.String(p.input)})
		if err == nil || apiCode(err) == "ExecutionAlreadyExists" {
			return nil
		}
		if ctx.Err() != nil || attempt > 400 {
			return fmt.Errorf("start %s: %w", p.name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// waitDone polls an execution until it ends (retrying while the server is down).
func waitDone(c *sfn.Client, arn string, deadline time.Time) (outcome, error) {
	for {
		out, err := c.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err == nil && out.Status != types.ExecutionStatusRunning {
			return outcome{Status: string(out.Status), Output: aws.ToString(out.Output), Error: aws.ToString(out.Error)}, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("still %s at the deadline", out.Status)
			}
			return outcome{}, &execErr{arn: arn, err: err}
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// execErr is an execution that did not finish.
type execErr struct {
	arn string
	err error
}

func (e *execErr) Error() string { return e.arn + ": " + e.err.Error() }

// compact prints a history one event a line, for failure messages.
func compact(h []events.HistoryEvent) string {
	var b strings.Builder
	for _, ev := range h {
		fmt.Fprintf(&b, "%4d %-28s prev=%d %s\n", ev.ID, ev.Type, ev.PreviousEventID, ev.Timestamp.Format("15:04:05.000"))
	}
	return b.String()
}

// history reads a whole history through GetExecutionHistory, as a client sees it.
func history(t *testing.T, endpoint, arn string) []events.HistoryEvent {
	t.Helper()
	var all []byte
	token := ""
	for {
		body := map[string]any{"executionArn": arn, "maxResults": 1000}
		if token != "" {
			body["nextToken"] = token
		}
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewReader(b))
		req.Header.Set("X-Amz-Target", "AWSStepFunctions.GetExecutionHistory")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GetExecutionHistory %s: %d %s", arn, resp.StatusCode, page)
		}
		all = append(append(all, page...), '\n')
		var next struct {
			NextToken string `json:"nextToken"`
		}
		_ = json.Unmarshal(page, &next)
		if next.NextToken == "" {
			break
		}
		token = next.NextToken
	}
	h, err := audit.ParseHistory(all)
	if err != nil {
		t.Fatalf("%s: %v", arn, err)
	}
	return h
}

// worker is an activity worker: the first attempt of each input fails (so Retry
// runs), later ones succeed with a result derived from the input. It counts how
// often each task token reached it.
type worker struct {
	mu        sync.Mutex
	seen      map[string]int
	delivered map[string]int
}

func (w *worker) run(ctx context.Context, c *sfn.Client, arn string) {
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		task, err := c.GetActivityTask(pctx, &sfn.GetActivityTaskInput{ActivityArn: aws.String(arn), WorkerName: aws.String("crash")})
		cancel()
		if err != nil || task.TaskToken == nil {
			if err != nil {
				time.Sleep(30 * time.Millisecond)
			}
			continue
		}
		in := aws.ToString(task.Input)
		w.mu.Lock()
		w.delivered[*task.TaskToken]++
		w.seen[in]++
		first := w.seen[in] == 1
		w.mu.Unlock()
		answer := func() error {
			if first {
				_, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: task.TaskToken,
					Error: aws.String("Flaky"), Cause: aws.String("first attempt")})
				return err
			}
			_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken,
				Output: aws.String(`{"echo":` + in + `,"by":"worker"}`)})
			return err
		}
		// Answer until the server takes it (it may be down) or says the task is over.
		for ctx.Err() == nil {
			err := answer()
			if err == nil || apiCode(err) != "" {
				break
			}
			time.Sleep(30 * time.Millisecond)
		}
	}
}

// server is the sfnd binary, run, killed and restarted on one data directory.
func server(t *testing.T, dir string, sc float64, args ...string) *testutil.Proc {
	if sc == 0 {
		sc = scale
	}
	return testutil.NewProc(t, testutil.ProcConfig{Dir: dir,
		Args: append([]string{"--wait-time-scale", strconv.FormatFloat(sc, 'f', -1, 64)}, args...)})
}

func client(endpoint string) *sfn.Client {
	return sfn.New(sfn.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      aws.NewCredentialsCache(staticCreds{}),
		RetryMaxAttempts: 1,
	})
}

type staticCreds struct{}

func (staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret", Source: "test"}, nil
}
