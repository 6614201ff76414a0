package cluster

// Three sfnd processes (the built binary) form an R3 JetStream cluster with their
// embedded NATS servers on loopback ports. A mixed workload runs while nodes are
// killed with SIGKILL and restarted, then while every node is restarted in turn; every
// execution must end as in a crash-free run on one node.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/actors/audit"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
	"github.com/sfnd/sfnd/test/testutil"
)

// scale is every node's --wait-time-scale: Wait 10 s lasts 200 ms (an in-memory
// timer), Wait 60 s 1.2 s (a JetStream scheduled message).
const scale = 0.02

const (
	account = "123456789012"
	role    = "arn:aws:iam::123456789012:role/cluster"
)

// machine is one state machine of the workload and how many executions run it.
type machine struct {
	name string
	def  string
	runs int
}

func workload(activityARN string, times int) []machine {
	return []machine{
		{"chain", `{"StartAt":"A","States":{
			"A":{"Type":"Pass","Parameters":{"n.$":"$.n","sum.$":"States.MathAdd($.n, 1)"},"Next":"B"},
			"B":{"Type":"Wait","Seconds":15,"Next":"C"},
			"C":{"Type":"Pass","Parameters":{"n.$":"$.n","sum.$":"States.MathAdd($.sum, $.n)"},"Next":"D"},
			"D":{"Type":"Wait","Seconds":60,"Next":"E"},
			"E":{"Type":"Pass","Result":"done","ResultPath":"$.tag","End":true}}}`, 6 * times},
		{"waits", `{"StartAt":"Until","States":{
			"Until":{"Type":"Wait","SecondsPath":"$.wait","Next":"Stamp"},
			"Stamp":{"Type":"Pass","Parameters":{"n.$":"$.n","waited.$":"$.wait"},"End":true}}}`, 4 * times},
		{"parallel", `{"StartAt":"Par","States":{"Par":{"Type":"Parallel","Next":"Sum","Branches":[
			{"StartAt":"W1","States":{"W1":{"Type":"Wait","Seconds":20,"Next":"P1"},"P1":{"Type":"Pass","Parameters":{"b":1,"n.$":"$.n"},"End":true}}},
			{"StartAt":"W2","States":{"W2":{"Type":"Wait","Seconds":55,"Next":"P2"},"P2":{"Type":"Pass","Parameters":{"b":2,"n.$":"$.n"},"End":true}}},
			{"StartAt":"P3","States":{"P3":{"Type":"Pass","Result":{"b":3},"End":true}}}]},
			"Sum":{"Type":"Pass","Parameters":{"count.$":"States.ArrayLength($)","all.$":"$"},"End":true}}}`, 5 * times},
		{"map", `{"StartAt":"Gen","States":{
			"Gen":{"Type":"Pass","Parameters":{"items.$":"States.ArrayRange(1, 6, 1)","n.$":"$.n"},"Next":"M"},
			"M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":2,"ItemSelector":{"i.$":"$$.Map.Item.Value","n.$":"$.n"},
			  "ItemProcessor":{"StartAt":"IW","States":{"IW":{"Type":"Wait","Seconds":10,"Next":"IP"},
			    "IP":{"Type":"Pass","Parameters":{"v.$":"States.MathAdd($.i, $.n)"},"End":true}}},"End":true}}}`, 4 * times},
		{"retry", `{"StartAt":"Try","States":{
			"Try":{"Type":"Parallel","Next":"After","Branches":[{"StartAt":"Boom","States":{"Boom":{"Type":"Fail","Error":"Flaky","Cause":"always"}}}],
			  "Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":30,"MaxAttempts":2,"BackoffRate":2}],
			  "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"After"}]},
			"After":{"Type":"Pass","Parameters":{"n.$":"$.n","err.$":"$.err"},"End":true}}}`, 5 * times},
		{"activity", `{"StartAt":"Work","States":{
			"Work":{"Type":"Task","Resource":"` + activityARN + `","TimeoutSeconds":1500,"HeartbeatSeconds":1200,
			  "Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":10,"MaxAttempts":5,"BackoffRate":1}],"Next":"Done"},
			"Done":{"Type":"Pass","Parameters":{"result.$":"$"},"End":true}}}`, 6 * times},
		{"mapact", `{"StartAt":"M","States":{
			"M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":2,"ItemSelector":{"n.$":"$$.Map.Item.Value","k.$":"$.n"},
			  "ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + activityARN + `","TimeoutSeconds":1500,
			    "Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":10,"MaxAttempts":5,"BackoffRate":1}],"End":true}}},"End":true}}}`, 3 * times},
		// A nested execution of "chain", waited for (.sync:2); only its output is kept.
		{"nested", `{"StartAt":"Child","States":{
			"Child":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2",
			  "Parameters":{"StateMachineArn":"` + smARN("chain") + `","Input":{"n.$":"$.n"}},
			  "ResultSelector":{"child.$":"$.Output"},"End":true}}}`, 3 * times},
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
func actARN(name string) string { return "arn:aws:states:us-east-1:" + account + ":activity:" + name }

// outcome is how an execution ended.
type outcome struct {
	Status string
	Output string
	Error  string
}

// times scales the workload: 4 gives 144 executions (and 12 nested children) per batch.
const times = 4

// TestThreeNodeClusterSurvivesKills runs three sfnd processes (the built binary) as an
// R3 cluster under a mixed workload, checked against a crash-free run: subtest "kill -9
// two nodes" kills one node and then another mid-run (each restarted), subtest
// "rolling restart" restarts all three in turn (SIGTERM) under load; either runs alone
// with -run 'TestThreeNodeClusterSurvivesKills/rolling' (or /kill). Then every history
// of the batches run is checked, no activity task reached a worker twice for the same
// attempt, and `sfnd history verify --all` and `sfnd cluster status` run against it.
func TestThreeNodeClusterSurvivesKills(t *testing.T) {
	if testing.Short() || runtime.GOOS == "windows" {
		t.Skip("builds and kills the sfnd binary (not in -short, not on Windows)")
	}
	began := time.Now()

	// The crash-free reference runs on one in-process node, at the same time.
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

	cl := startCluster(t, 3)
	t.Logf("3-node R3 cluster ready in %v", time.Since(began).Round(100*time.Millisecond))
	ms := setup(t, cl.nodes[0].client())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &worker{seen: map[string]int{}, delivered: map[string]int{}}
	var wg sync.WaitGroup
	// One worker per node, each polling through its own node.
	for i := range cl.nodes {
		wg.Go(func() { w.run(ctx, cl, i, actARN("cluster-worker")) })
	}

	// startAll starts a batch through the nodes in turn, counting in started.
	startErr := make(chan error, 2)
	startAll := func(batch []planned, pause time.Duration, started *atomic.Int64) {
		for i, p := range batch {
			if err := startWithRetry(ctx, cl, i, p); err != nil {
				startErr <- err
				return
			}
			started.Add(1)
			time.Sleep(pause)
		}
	}
	waitStarted := func(t *testing.T, started *atomic.Int64, n int) {
		t.Helper()
		for started.Load() < int64(n) {
			select {
			case err := <-startErr:
				t.Fatal(err)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	wantOutcomes := sync.OnceValues(func() (map[string]outcome, error) {
		r := <-refDone
		return r.out, r.err
	})
	// Every execution ends as in the crash-free run.
	check := func(t *testing.T, batch []planned, via int) {
		t.Helper()
		want, err := wantOutcomes()
		if err != nil {
			t.Fatalf("crash-free run: %v", err)
		}
		deadline := time.Now().Add(3 * time.Minute)
		for _, p := range batch {
			o, err := waitDone(cl, via, execARN(p.sm, p.name), deadline)
			if err != nil {
				t.Fatalf("%v\n%s", err, compact(history(t, cl.nodes[via].URL(), execARN(p.sm, p.name))))
			}
			base := strings.TrimSuffix(p.name, "-r")
			if w := want[base]; o != w {
				t.Errorf("%s ended %+v in the cluster, %+v without crashes\n%s", p.name, o, w,
					compact(history(t, cl.nodes[via].URL(), execARN(p.sm, p.name))))
			}
		}
	}
	var all []planned // the executions of the batches run
	batches := 0

	// Batch 1: starts spread over the nodes while two nodes are killed in turn, each
	// restarted; read through node 1, which was down for a while.
	t.Run("kill -9 two nodes", func(t *testing.T) {
		execs := plan(ms)
		all, batches = append(all, execs...), batches+1
		var started atomic.Int64
		wg.Go(func() { startAll(execs, 15*time.Millisecond, &started) })
		waitStarted(t, &started, len(execs)/3)
		fo := cl.killAndMeasure(t, 0)
		t.Logf("kill -9 node 1 with %d/%d started: its %d partitions were taken over in %v", started.Load(), len(execs), cl.held, fo.Round(10*time.Millisecond))
		waitStarted(t, &started, 2*len(execs)/3)
		cl.nodes[0].Start()
		t.Logf("node 1 back (%d/%d started)", started.Load(), len(execs))
		fo2 := cl.killAndMeasure(t, 1)
		t.Logf("kill -9 node 2 with %d/%d started: its %d partitions were taken over in %v", started.Load(), len(execs), cl.held, fo2.Round(10*time.Millisecond))
		waitStarted(t, &started, len(execs))
		cl.nodes[1].Start()
		check(t, execs, 0)
		t.Logf("batch 1 (%d executions, 2 kills) done after %v", len(execs), time.Since(began).Round(100*time.Millisecond))
	})

	// Batch 2: a rolling restart (SIGTERM, start, ready) of every node under load.
	t.Run("rolling restart", func(t *testing.T) {
		execs := plan(ms)
		for i := range execs {
			execs[i].name += "-r"
		}
		all, batches = append(all, execs...), batches+1
		var started atomic.Int64
		wg.Go(func() { startAll(execs, 10*time.Millisecond, &started) })
		for i := range cl.nodes {
			waitStarted(t, &started, (i+1)*len(execs)/4)
			cl.nodes[i].Stop()
			cl.nodes[i].Start()
			t.Logf("rolling restart: node %d back (%d/%d started)", i+1, started.Load(), len(execs))
		}
		waitStarted(t, &started, len(execs))
		check(t, execs, 2)
	})
	if t.Failed() {
		return
	}

	// Every history keeps its shape (read through node 1, which was down for part of
	// batch 1), and no activity task reached a worker twice for the same attempt.
	nevents := 0
	for _, p := range all {
		h := history(t, cl.nodes[0].URL(), execARN(p.sm, p.name))
		if err := audit.CheckInvariants(h, true); err != nil {
			t.Errorf("%s: %v", p.name, err)
		}
		nevents += len(h)
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

	// `sfnd history verify --all` against the running cluster.
	out, err := exec.Command(testutil.SfndBinary(t), "history", "verify", "--all", "--quiet", "--nats-url", cl.nodes[2].natsURL()).CombinedOutput()
	if err != nil {
		t.Fatalf("sfnd history verify --all: %v\n%s", err, out)
	}
	summary := strings.TrimSpace(string(out))
	children := 0
	for _, m := range ms {
		if m.name == "nested" {
			children = batches * m.runs
		}
	}
	if !strings.Contains(summary, fmt.Sprintf("verified %d executions (0 running)", len(all)+children)) || !strings.Contains(summary, "0 faults, 0 unverifiable") {
		t.Fatalf("verify summary: %s", summary)
	}
	status, err := exec.Command(testutil.SfndBinary(t), "cluster", "status", "--nats-url", cl.nodes[1].natsURL()).CombinedOutput()
	if err != nil {
		t.Fatalf("sfnd cluster status: %v\n%s", err, status)
	}
	for _, n := range cl.nodes {
		if !strings.Contains(string(status), n.name) {
			t.Errorf("cluster status does not list %s:\n%s", n.name, status)
		}
	}
	t.Logf("%d executions (%d events, %d activity tasks) in %d batch(es), in %v; %s\n%s",
		len(all), nevents, tasks, batches, time.Since(began).Round(100*time.Millisecond), summary, status)
}

// reference runs both batches' workload on a node that is never killed.
func reference(c *sfn.Client) (map[string]outcome, error) {
	execs := plan(workload(actARN("cluster-worker"), times))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &worker{seen: map[string]int{}, delivered: map[string]int{}}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	one := &cluster{ref: c}
	for range 3 {
		wg.Go(func() { w.run(ctx, one, 0, actARN("cluster-worker")) })
	}
	for _, p := range execs {
		if err := startWithRetry(ctx, one, 0, p); err != nil {
			return nil, err
		}
	}
	out := map[string]outcome{}
	deadline := time.Now().Add(120 * time.Second)
	for _, p := range execs {
		o, err := waitDone(one, 0, execARN(p.sm, p.name), deadline)
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
	if _, err := c.CreateActivity(ctx, &sfn.CreateActivityInput{Name: aws.String("cluster-worker")}); err != nil {
		t.Fatalf("create activity: %v", err)
	}
	ms := workload(actARN("cluster-worker"), times)
	for _, m := range ms {
		if _, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(m.name),
			Definition: aws.String(m.def), RoleArn: aws.String(role)}); err != nil {
			t.Fatalf("create %s: %v", m.name, err)
		}
	}
	return ms
}

// startWithRetry starts an execution through node i, moving on to the next node while
// one is down. A start whose answer was lost is found again: a repeat with the same
// name and input is idempotent while it runs, and ExecutionAlreadyExists once it ended.
func startWithRetry(ctx context.Context, cl *cluster, i int, p planned) error {
	for attempt := 0; ; attempt++ {
		// A node answers a start within seconds, even while the cluster re-elects
		// leaders; one that hangs is a defect, reported rather than waited out.
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := cl.client(i+attempt).StartExecution(actx, &sfn.StartExecutionInput{StateMachineArn: aws.String(smARN(p.sm)),
			Name: aws.String(p.name), Input: aws.String(p.input)})
		hung := actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil || apiCode(err) == "ExecutionAlreadyExists" {
			return nil
		}
		if hung {
			return fmt.Errorf("start %s through node %d: no answer in 30 s", p.name, (i+attempt)%max(len(cl.nodes), 1)+1)
		}
		if ctx.Err() != nil || attempt > 600 {
			return fmt.Errorf("start %s: %w", p.name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// serverFault tells a 5xx answer (InternalFailure, ServiceUnavailable) from a refusal.
func serverFault(err error) bool {
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() >= 500
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// waitDone polls an execution through node i until it ends.
func waitDone(cl *cluster, i int, arn string, deadline time.Time) (outcome, error) {
	for {
		out, err := cl.client(i).DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err == nil && out.Status != types.ExecutionStatusRunning {
			return outcome{Status: string(out.Status), Output: aws.ToString(out.Output), Error: aws.ToString(out.Error)}, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("still %s at the deadline", out.Status)
			}
			return outcome{}, fmt.Errorf("%s: %w", arn, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// compact prints a history one event a line, for failure messages.
func compact(h []events.HistoryEvent) string {
	var b strings.Builder
	for _, ev := range h {
		fmt.Fprintf(&b, "%4d %-28s prev=%d %s", ev.ID, ev.Type, ev.PreviousEventID, ev.Timestamp.Format("15:04:05.000"))
		for _, d := range []*events.TaskErrorDetails{ev.TaskFailedEventDetails, ev.TaskStartFailedEventDetails, ev.TaskSubmitFailedEventDetails, ev.TaskTimedOutEventDetails} {
			if d != nil {
				fmt.Fprintf(&b, " %+v", *d)
			}
		}
		b.WriteByte('\n')
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
// runs), later ones succeed with a result derived from the input. It counts how often
// each task token reached it.
type worker struct {
	mu        sync.Mutex
	seen      map[string]int
	delivered map[string]int
}

// run polls through node i (the next one while i is down).
func (w *worker) run(ctx context.Context, cl *cluster, i int, arn string) {
	for ctx.Err() == nil {
		c := cl.client(i)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		task, err := c.GetActivityTask(pctx, &sfn.GetActivityTaskInput{ActivityArn: aws.String(arn), WorkerName: aws.String("w" + strconv.Itoa(i))})
		cancel()
		if err != nil || task.TaskToken == nil {
			if err != nil && ctx.Err() == nil {
				if apiCode(err) == "" {
					i++ // the node is down: poll through the next one
				}
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
		answer := func(c *sfn.Client) error {
			if first {
				_, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: task.TaskToken,
					Error: aws.String("Flaky"), Cause: aws.String("first attempt")})
				return err
			}
			_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken,
				Output: aws.String(`{"echo":` + in + `,"by":"worker"}`)})
			return err
		}
		// Answer until a node takes it or says the task is over (a server error while
		// the cluster re-elects a leader is retried, as the AWS SDKs do).
		for j := i; ctx.Err() == nil; j++ {
			err := answer(cl.client(j))
			if err == nil || (apiCode(err) != "" && !serverFault(err)) {
				break
			}
			time.Sleep(30 * time.Millisecond)
		}
	}
}

// cluster is the three processes (or, for the reference, one client).
type cluster struct {
	held  int // partitions the node last killed by killAndMeasure held
	nodes []*node
	ref   *sfn.Client
}

// client is node i's client (modulo the node count).
func (c *cluster) client(i int) *sfn.Client {
	if c.ref != nil {
		return c.ref
	}
	return c.nodes[i%len(c.nodes)].client()
}

func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	cl := &cluster{}
	for i := range n {
		cl.nodes = append(cl.nodes, &node{name: fmt.Sprintf("n%d", i+1), natsPort: testutil.FreePort(t), routePort: testutil.FreePort(t)})
	}
	for _, nd := range cl.nodes {
		var routes []string
		for _, o := range cl.nodes {
			if o != nd {
				routes = append(routes, "nats://127.0.0.1:"+strconv.Itoa(o.routePort))
			}
		}
		nd.Proc = testutil.NewProc(t, testutil.ProcConfig{Ready: "/readyz", KeepLog: "sfnd-cluster-log-" + nd.name + "-", Args: []string{
			"--nats-port", strconv.Itoa(nd.natsPort), "--nats-password", clusterNATSPassword, "--node-name", nd.name,
			"--cluster-listen", "127.0.0.1:" + strconv.Itoa(nd.routePort), "--cluster-routes", strings.Join(routes, ","),
			"--replicas", "3", "--wait-time-scale", strconv.FormatFloat(scale, 'f', -1, 64)}})
		nd.Launch()
	}
	for _, nd := range cl.nodes {
		nd.WaitReady(150 * time.Second)
	}
	return cl
}

// killAndMeasure kills node i with SIGKILL and returns how long until every command
// partition it owned is pinned to another node.
func (c *cluster) killAndMeasure(t *testing.T, i int) time.Duration {
	t.Helper()
	other := c.nodes[(i+1)%len(c.nodes)]
	nc, err := nats.Connect(other.natsURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// pins maps each partition to its pinned client id; idle[p] is true when nothing of
	// the partition waits (no pending or unacknowledged commands).
	// Each request has its own short bound: a request to a consumer (or stream)
	// that has no leader at the moment is answered by nobody.
	pins := func() (map[int]string, map[int]bool) {
		out, idle := map[int]string{}, map[int]bool{}
		sctx, scancel := context.WithTimeout(ctx, time.Second)
		st, err := js.Stream(sctx, jsstore.CommandStream)
		scancel()
		if err != nil {
			return out, idle
		}
		for p := range jsstore.Partitions {
			cctx, ccancel := context.WithTimeout(ctx, time.Second)
			cons, err := st.Consumer(cctx, actors.ConsumerName(p))
			ccancel()
			if err != nil {
				continue
			}
			ci := cons.CachedInfo()
			idle[p] = ci.NumPending == 0 && ci.NumAckPending == 0
			for _, g := range ci.PriorityGroups {
				if g.Group == actors.OwnerGroup {
					out[p] = g.PinnedClientID
				}
			}
		}
		return out, idle
	}
	// The pins the victim holds, from its own record, compared with the server's
	// (asked again until every partition answered, for at most 10 s: a partition left
	// out would not be measured).
	kv, err := js.KeyValue(ctx, actors.NodesBucket)
	if err != nil {
		t.Fatal(err)
	}
	var rec actors.NodeRecord
	var before map[int]string
	for look := time.Now(); ; {
		rec = actors.NodeRecord{}
		if e, err := kv.Get(ctx, c.nodes[i].name); err == nil {
			_ = json.Unmarshal(e.Value(), &rec)
		}
		var idle map[int]bool
		before, idle = pins()
		if len(idle) == jsstore.Partitions || time.Since(look) > 10*time.Second {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	var held []int
	for p, pin := range before {
		if pin != "" && rec.Pins[strconv.Itoa(p)] == pin {
			held = append(held, p)
		}
	}
	c.held = len(held)
	c.nodes[i].Kill9()
	killed := time.Now()
	// A partition is taken over once another client is pinned on it, or once it was
	// unpinned and nothing of it waits (an idle partition is pinned by its next command).
	for len(held) > 0 && ctx.Err() == nil {
		now, idle := pins()
		var still []int
		for _, p := range held {
			if now[p] == before[p] || (now[p] == "" && !idle[p]) {
				still = append(still, p)
			}
		}
		held = still
		if len(held) > 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if len(held) > 0 {
		t.Fatalf("partitions %v of the killed node were not taken over", held)
	}
	return time.Since(killed)
}

// node is one sfnd process of the cluster, run, killed and restarted on its own data
// directory and ports.
type node struct {
	*testutil.Proc
	name                string
	natsPort, routePort int
	cl                  *sfn.Client
}

func (n *node) natsURL() string {
	return "nats://sfnd:" + clusterNATSPassword + "@127.0.0.1:" + strconv.Itoa(n.natsPort)
}

// clusterNATSPassword is the NATS password every node of the test cluster is given
// (clients and routes need it).
const clusterNATSPassword = "test-cluster-password-0123456789"

func (n *node) client() *sfn.Client {
	if n.cl == nil {
		n.cl = client(n.URL())
	}
	return n.cl
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
