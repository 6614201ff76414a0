package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/test/testutil"
)

const role = "arn:aws:iam::123456789012:role/r"

type env struct {
	t   *testing.T
	c   *sfn.Client
	url string
}

func start(t *testing.T) *env {
	t.Helper()
	chromiumPath(t)
	a := testutil.Start(t, testutil.Options{WaitTimeScale: 0.01})
	return &env{t: t, c: testutil.Client(a.Endpoint()), url: a.Endpoint()}
}

func (e *env) activity(name string) string {
	e.t.Helper()
	out, err := e.c.CreateActivity(context.Background(), &sfn.CreateActivityInput{Name: aws.String(name)})
	if err != nil {
		e.t.Fatal(err)
	}
	return *out.ActivityArn
}

// worker answers the activity's tasks with answer(input) until ctx ends: an empty
// error name succeeds with output.
func (e *env) worker(ctx context.Context, arn, name string, answer func(input string) (output, errName, cause string)) {
	go func() {
		for ctx.Err() == nil {
			task, err := e.c.GetActivityTask(ctx, &sfn.GetActivityTaskInput{ActivityArn: aws.String(arn), WorkerName: aws.String(name)})
			if err != nil || task.TaskToken == nil {
				continue
			}
			out, errName, cause := answer(aws.ToString(task.Input))
			if errName != "" {
				_, _ = e.c.SendTaskFailure(context.Background(), &sfn.SendTaskFailureInput{TaskToken: task.TaskToken, Error: aws.String(errName), Cause: aws.String(cause)})
			} else {
				_, _ = e.c.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(out)})
			}
		}
	}()
}

// story is an execution that visits states of every status the graph shows: Retried
// fails once and succeeds on its retry, Caught fails into its catcher, Boom fails the
// execution, and Unreached is never entered.
const story = `{"StartAt":"Prep","States":{
 "Prep":{"Type":"Pass","Result":{"items":[1,2,3]},"Next":"Retried"},
 "Retried":{"Type":"Task","Resource":"ACT","Parameters":{"mode":"flaky"},"ResultPath":"$.r",
   "Retry":[{"ErrorEquals":["Flaky"],"IntervalSeconds":1,"MaxAttempts":3}],"Next":"Caught"},
 "Caught":{"Type":"Task","Resource":"ACT","Parameters":{"mode":"fail"},
   "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.caught","Next":"Recover"}],"Next":"Unreached"},
 "Recover":{"Type":"Pass","Next":"Fan"},
 "Fan":{"Type":"Parallel","ResultPath":"$.fan","Next":"Each","Branches":[
   {"StartAt":"Left","States":{"Left":{"Type":"Pass","End":true}}},
   {"StartAt":"Right","States":{"Right":{"Type":"Wait","Seconds":1,"End":true}}}]},
 "Each":{"Type":"Map","ItemsPath":"$.items","ResultPath":"$.each","Next":"Pick",
   "ItemProcessor":{"StartAt":"Double","States":{"Double":{"Type":"Pass","End":true}}}},
 "Pick":{"Type":"Choice","Choices":[{"Variable":"$.never","IsPresent":true,"Next":"Unreached"}],"Default":"Boom"},
 "Unreached":{"Type":"Pass","End":true},
 "Boom":{"Type":"Fail","Error":"Custom.Boom","Cause":"it went boom"}}}`

// storyWorker fails the first "flaky" task and every "fail" task.
func storyWorker(e *env, ctx context.Context, act string) {
	var flaky atomic.Int32
	e.worker(ctx, act, "story-worker", func(in string) (string, string, string) {
		var v struct{ Mode string }
		_ = json.Unmarshal([]byte(in), &v)
		switch {
		case v.Mode == "fail":
			return "", "Broken.Thing", "the thing is broken"
		case v.Mode == "flaky" && flaky.Add(1) == 1:
			return "", "Flaky", "first attempt fails"
		}
		return `{"ok":true}`, "", ""
	})
}

func TestListPages(t *testing.T) {
	e := start(t)
	testutil.CreateStateMachine(t, e.c, "orders-flow", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`)
	testutil.CreateStateMachine(t, e.c, "billing-flow", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`)
	if _, err := e.c.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{Name: aws.String("fast-express"), Type: types.StateMachineTypeExpress, RoleArn: aws.String(role),
		Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`)}); err != nil {
		t.Fatal(err)
	}
	e.activity("label-printer")
	p := newPage(t, e.url)
	p.open("/")
	p.waitJS(10*time.Second, `document.querySelectorAll('#sm-table tbody tr').length === 3`)
	p.screenshot("state-machines")
	p.typeInto("#sm-search", "orders")
	p.waitJS(5*time.Second, `document.querySelectorAll('#sm-table tbody tr').length === 1`)
	contains(t, eval[string](p, `document.querySelector('#sm-table tbody').innerText`), "orders-flow")
	p.typeInto("#sm-search", "")
	p.selectValue("#sm-type", "EXPRESS")
	p.waitJS(5*time.Second, `document.querySelectorAll('#sm-table tbody tr').length === 1 && document.querySelector('#sm-table tbody').innerText.includes('fast-express')`)

	p.click(`header a[href="/activities"]`)
	p.waitJS(10*time.Second, `document.querySelectorAll('#act-table tbody tr').length === 1`)
	contains(t, eval[string](p, `document.querySelector('#act-table').innerText`), "label-printer")
	// A deep link loads directly (reload-safe).
	p.open("/activities")
	p.waitJS(10*time.Second, `document.querySelectorAll('#act-table tbody tr').length === 1`)
}

func TestExecutionGraphColoursErrorsAndVerify(t *testing.T) {
	e := start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	act := e.activity("story")
	storyWorker(e, ctx, act)
	sm := testutil.CreateStateMachine(t, e.c, "story", strings.ReplaceAll(story, "ACT", act))
	x := testutil.StartExecution(t, e.c, sm, `{}`)
	d := testutil.WaitDone(t, e.c, x, 60*time.Second)
	if d.Status != types.ExecutionStatusFailed {
		t.Fatalf("execution %s, want FAILED", d.Status)
	}
	hist := testutil.History(t, e.c, x)

	p := newPage(t, e.url)
	p.open(execPath(x))
	p.waitJS(10*time.Second, `document.querySelector('section.exec') && document.querySelectorAll('g.node[data-state]').length > 0`)

	// Every state of the top level is drawn.
	drawn := eval[[]string](p, `[...document.querySelectorAll('g.node[data-state]')].map(n => n.dataset.state).sort()`)
	want := []string{"Boom", "Caught", "Each", "Fan", "Pick", "Prep", "Recover", "Retried", "Unreached"}
	if strings.Join(drawn, ",") != strings.Join(want, ",") {
		t.Fatalf("drawn states %v, want %v", drawn, want)
	}
	// Colours match the history: each entered state is coloured by what happened, a
	// state the history never enters is "not reached".
	entered := map[string]bool{}
	for _, ev := range hist {
		if ev.StateEnteredEventDetails != nil {
			entered[*ev.StateEnteredEventDetails.Name] = true
		}
	}
	expect := map[string]string{"Prep": "succeeded", "Retried": "retried", "Caught": "caught", "Recover": "succeeded",
		"Fan": "succeeded", "Each": "succeeded", "Pick": "succeeded", "Boom": "failed", "Unreached": "notreached"}
	for state, st := range expect {
		if got := eval[string](p, nodeStatusJS(state)); got != st {
			t.Errorf("state %s drawn %q, want %q", state, got, st)
		}
		if entered[state] != (st != "notreached") {
			t.Errorf("state %s: entered in history %v, drawn %s", state, entered[state], st)
		}
	}
	// The colour a user sees is the status's colour.
	fills := eval[map[string]string](p, `Object.fromEntries([...document.querySelectorAll('g.node[data-state]')].map(n => [n.dataset.state, getComputedStyle(n.querySelector('rect')).fill]))`)
	if fills["Boom"] != "rgb(251, 224, 224)" || fills["Prep"] != "rgb(220, 243, 228)" || fills["Caught"] != "rgb(252, 235, 214)" || fills["Unreached"] != "rgb(244, 245, 247)" {
		t.Errorf("fills %v", fills)
	}

	// The failed execution's error and cause.
	contains(t, eval[string](p, `document.querySelector('#exec-error-name').innerText`), "Custom.Boom")
	contains(t, eval[string](p, `document.querySelector('#exec-error-cause').innerText`), "it went boom")

	// Clicking a state shows its error, cause, retries.
	p.click(`g.node[data-state="Caught"]`)
	p.waitJS(5*time.Second, `document.querySelector('#state-details[data-state="Caught"] #state-error')`)
	contains(t, eval[string](p, `document.querySelector('#state-error').innerText`), "Broken.Thing")
	contains(t, eval[string](p, `document.querySelector('#state-error').innerText`), "the thing is broken")
	p.click(`g.node[data-state="Retried"]`)
	p.waitJS(5*time.Second, `document.querySelector('#state-details[data-state="Retried"] #state-attempts')`)
	contains(t, eval[string](p, `document.querySelector('#state-attempts').innerText`), "2 (1 retry)")
	p.screenshot("execution-failed")

	// Parallel branches and Map iterations are navigable.
	p.click(`g.node[data-state="Fan"]`)
	p.click(`#state-details button[data-branch="1"]`)
	p.waitJS(5*time.Second, `document.querySelector('g.node[data-state="Right"]') && `+nodeStatusJS("Right")+` === 'succeeded'`)
	p.click(`#scope button.link`) // back to the top level
	p.click(`g.node[data-state="Each"]`)
	p.click(`#open-map`)
	p.waitJS(5*time.Second, nodeStatusJS("Double")+` === 'succeeded' && document.querySelector('#iteration')`)
	if n := eval[int](p, `document.querySelectorAll('#iteration option').length`); n != 3 {
		t.Errorf("iteration picker lists %d iterations, want 3", n)
	}
	p.selectValue("#iteration", "2")
	p.click(`g.node[data-state="Double"]`)
	p.waitJS(5*time.Second, `document.querySelector('#state-details[data-state="Double"]') && document.querySelector('#state-details').innerText.includes('Iteration')`)
	contains(t, eval[string](p, `document.querySelector('#state-details').innerText`), "3") // iteration 2's input is the item 3

	// "Verify this history" re-runs the decider over it.
	p.click("#verify")
	p.waitJS(20*time.Second, `document.querySelector('#verify-result[data-ok]')`)
	if ok := eval[string](p, `document.querySelector('#verify-result').dataset.ok`); ok != "true" {
		t.Fatalf("verify: %s", eval[string](p, `document.querySelector('#verify-result').innerText`))
	}
	contains(t, eval[string](p, `document.querySelector('#verify-result').innerText`), fmt.Sprintf("%d events", len(hist)))

	// Timeline and input/output tabs.
	p.click(`button[data-tab="timeline"]`)
	p.waitJS(5*time.Second, `document.querySelectorAll('#gantt .grow').length > 5`)
	p.screenshot("execution-timeline")
}

func TestEventTableFilter(t *testing.T) {
	e := start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	act := e.activity("story")
	storyWorker(e, ctx, act)
	sm := testutil.CreateStateMachine(t, e.c, "story", strings.ReplaceAll(story, "ACT", act))
	x := testutil.StartExecution(t, e.c, sm, `{}`)
	testutil.WaitDone(t, e.c, x, 60*time.Second)
	hist := testutil.History(t, e.c, x)
	var failed, passEntered int
	for _, ev := range hist {
		if ev.Type == types.HistoryEventTypeActivityFailed {
			failed++
		}
		if ev.Type == types.HistoryEventTypePassStateEntered {
			passEntered++
		}
	}

	p := newPage(t, e.url)
	p.open(execPath(x))
	p.waitJS(10*time.Second, `document.querySelector('#ev-shown')`)
	contains(t, eval[string](p, `document.querySelector('#ev-shown').innerText`), fmt.Sprintf("%d of %d events", len(hist), len(hist)))
	p.selectValue("#ev-type", "ActivityFailed")
	p.waitJS(5*time.Second, fmt.Sprintf(`document.querySelector('#ev-shown').innerText.startsWith('%d of')`, failed))
	if n := eval[int](p, `document.querySelectorAll('.erow[data-type="ActivityFailed"]').length`); n != failed {
		t.Fatalf("%d ActivityFailed rows drawn, want %d", n, failed)
	}
	// Expanding a row shows the event as JSON.
	p.click(`.erow[data-type="ActivityFailed"] .eline`)
	p.waitJS(5*time.Second, `document.querySelector('.erow.open pre.edetail')`)
	contains(t, eval[string](p, `document.querySelector('.erow.open pre.edetail').innerText`), `"activityFailedEventDetails"`)
	// Filter by state: the Retried state's events only (entered, scheduled, started,
	// failed, scheduled, started, succeeded, exited).
	p.selectValue("#ev-type", "")
	p.selectValue("#ev-state", "Retried")
	p.waitJS(5*time.Second, `document.querySelector('#ev-shown').innerText.startsWith('8 of')`)
	types := eval[[]string](p, `[...document.querySelectorAll('.erow')].map(r => r.dataset.type)`)
	if strings.Join(types, ",") != "TaskStateEntered,ActivityScheduled,ActivityStarted,ActivityFailed,ActivityScheduled,ActivityStarted,ActivitySucceeded,TaskStateExited" {
		t.Fatalf("Retried's events: %v", types)
	}
	p.selectValue("#ev-state", "")
	p.selectValue("#ev-type", "PassStateEntered")
	p.waitJS(5*time.Second, fmt.Sprintf(`document.querySelector('#ev-shown').innerText.startsWith('%d of')`, passEntered))
	p.screenshot("execution-events")
}

func TestRunningExecutionUpdatesLive(t *testing.T) {
	e := start(t)
	act := e.activity("slow")
	sm := testutil.CreateStateMachine(t, e.c, "live", `{"StartAt":"Work","States":{
	 "Work":{"Type":"Task","Resource":"`+act+`","Next":"After"},"After":{"Type":"Pass","End":true}}}`)
	x := testutil.StartExecution(t, e.c, sm, `{"n":1}`)
	p := newPage(t, e.url)
	// The task waits in the activity's queue: the list and the activity's page say so.
	p.open("/activities")
	p.waitJS(10*time.Second, `document.querySelector('tr[data-activity="slow"] .c-waiting') && document.querySelector('tr[data-activity="slow"] .c-waiting').innerText === '1'`)
	p.open("/activities/" + enc(act))
	p.waitJS(10*time.Second, `document.querySelector('#act-waiting') && document.querySelector('#act-waiting').innerText === '1'`)
	p.open(execPath(x))
	p.waitJS(10*time.Second, nodeStatusJS("Work")+` === 'running' && document.querySelector('.live')`)
	if got := eval[string](p, nodeStatusJS("After")); got != "notreached" {
		t.Fatalf("After drawn %q before the task ended", got)
	}
	p.screenshot("execution-running")
	// The worker takes and finishes the task: the page follows without a reload.
	eval[bool](p, `window.__noReload = true`)
	task, err := e.c.GetActivityTask(context.Background(), &sfn.GetActivityTaskInput{ActivityArn: aws.String(act), WorkerName: aws.String("live-worker")})
	if err != nil || task.TaskToken == nil {
		t.Fatalf("get task: %v", err)
	}
	if _, err := e.c.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{"done":true}`)}); err != nil {
		t.Fatal(err)
	}
	p.waitJS(15*time.Second, `document.querySelector('section.exec').dataset.status === 'SUCCEEDED' && `+nodeStatusJS("Work")+` === 'succeeded' && `+nodeStatusJS("After")+` === 'succeeded'`)
	if !eval[bool](p, `window.__noReload === true`) {
		t.Fatal("the page reloaded")
	}
	// Stop: a second execution stopped from its page ends ABORTED, live.
	x2 := testutil.StartExecution(t, e.c, sm, `{"n":2}`)
	p.open(execPath(x2))
	p.waitJS(10*time.Second, nodeStatusJS("Work")+` === 'running'`)
	p.click("#stop")
	p.click("#stop-confirm")
	p.waitJS(15*time.Second, `document.querySelector('section.exec').dataset.status === 'ABORTED' && `+nodeStatusJS("Work")+` === 'cancelled'`)
	if d, err := e.c.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(x2)}); err != nil || d.Status != types.ExecutionStatusAborted {
		t.Fatalf("after Stop: %v %v", d, err)
	}
	// The activity page shows the worker.
	p.open("/activities/" + enc(act))
	p.waitJS(10*time.Second, `document.querySelector('#act-workers') && document.querySelector('#act-workers').innerText.includes('live-worker')`)
	p.screenshot("activity")
	p.open("/activities")
	p.waitJS(10*time.Second, `document.querySelector('tr[data-activity="slow"] .c-workers') && document.querySelector('tr[data-activity="slow"] .c-workers').innerText.includes('live-worker')`)
	p.screenshot("activities")
}

func TestStartFormStartsAnExecution(t *testing.T) {
	e := start(t)
	sm := testutil.CreateStateMachine(t, e.c, "starter", `{"StartAt":"Echo","States":{"Echo":{"Type":"Pass","End":true}}}`)
	p := newPage(t, e.url)
	p.open(smPath(sm))
	p.click("#start-open")
	p.typeInto("#start-input", `{"order": 42,`)
	p.waitJS(5*time.Second, `document.querySelector('#start-submit').disabled && document.querySelector('#start-json-state').innerText.startsWith('Invalid JSON')`)
	p.typeInto("#start-input", `{"order": 42}`)
	p.typeInto("#start-name", "from-the-console")
	p.waitJS(5*time.Second, `!document.querySelector('#start-submit').disabled`)
	p.screenshot("start-execution")
	p.click("#start-submit")
	p.waitJS(10*time.Second, `location.pathname.startsWith('/executions/') && document.querySelector('section.exec[data-status="SUCCEEDED"]')`)
	arn := strings.Replace(sm, ":stateMachine:", ":execution:", 1) + ":from-the-console"
	d, err := e.c.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.Input) != `{"order": 42}` {
		t.Fatalf("input %q", aws.ToString(d.Input))
	}
	// The state machine's page lists it, with the status filter.
	p.open(smPath(sm))
	p.waitJS(10*time.Second, `document.querySelectorAll('#exec-table tbody tr').length === 1`)
	p.selectValue("#exec-status", "FAILED")
	p.waitJS(10*time.Second, `!document.querySelector('#exec-table') && document.body.innerText.includes('No executions with status FAILED')`)
	p.selectValue("#exec-status", "SUCCEEDED")
	p.waitJS(10*time.Second, `document.querySelectorAll('#exec-table tbody tr').length === 1`)
	p.screenshot("state-machine")
	p.click(`button[data-tab="definition"]`)
	p.click(`button[data-tab="yaml"]`)
	p.waitJS(5*time.Second, `document.querySelector('#definition').innerText.includes('StartAt: Echo')`)
	p.click(`button[data-tab="graph"]`)
	p.waitJS(5*time.Second, `document.querySelector('g.node[data-state="Echo"]')`)

	// Pages of 25 executions, newest first.
	for i := range 30 {
		testutil.StartExecution(t, e.c, sm, fmt.Sprintf(`{"i":%d}`, i))
	}
	p.open(smPath(sm))
	p.waitJS(10*time.Second, `document.querySelectorAll('#exec-table tbody tr').length === 25`)
	first := eval[string](p, `document.querySelector('#exec-table tbody tr td').innerText`)
	p.click("#exec-older")
	p.waitJS(10*time.Second, `document.querySelectorAll('#exec-table tbody tr').length === 6`)
	if last := eval[string](p, `[...document.querySelectorAll('#exec-table tbody tr')].pop().querySelector('td').innerText`); last != "from-the-console" || first == last {
		t.Fatalf("newest %q, oldest %q: want the console's execution last", first, last)
	}

	// Versions and aliases.
	v, err := e.c.PublishStateMachineVersion(context.Background(), &sfn.PublishStateMachineVersionInput{StateMachineArn: aws.String(sm)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CreateStateMachineAlias(context.Background(), &sfn.CreateStateMachineAliasInput{Name: aws.String("live"),
		RoutingConfiguration: []types.RoutingConfigurationListItem{{StateMachineVersionArn: v.StateMachineVersionArn, Weight: 100}}}); err != nil {
		t.Fatal(err)
	}
	p.open(smPath(sm))
	p.click(`button[data-tab="versions"]`)
	p.waitJS(10*time.Second, `document.body.innerText.includes('live') && document.body.innerText.includes('1: 100%')`)
}
