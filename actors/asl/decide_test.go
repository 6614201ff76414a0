package asl

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sfnd/sfnd/events"
)

var t0 = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// harness drives one execution and keeps its history, checking after every Decide that
// Rebuild of the history equals the live state.
type harness struct {
	t     *testing.T
	sm    *StateMachine
	x     *Execution
	hist  []events.HistoryEvent
	now   time.Time
	eff   []Effect
	seeds uint64
}

func newHarness(t *testing.T, def string) *harness {
	t.Helper()
	sm, err := Parse(def)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return &harness{t: t, sm: sm, x: NewExecution(sm), now: t0}
}

func (h *harness) decide(tr Trigger) []events.HistoryEvent {
	h.t.Helper()
	if tr.Time.IsZero() {
		tr.Time = h.now
	}
	h.seeds++
	if tr.Seed == 0 {
		tr.Seed = h.seeds
	}
	evs, eff, err := Decide(h.sm, h.x, tr)
	if err != nil {
		h.t.Fatalf("Decide(%s): %v", tr.Kind, err)
	}
	for i, ev := range evs {
		if want := int64(len(h.hist) + i + 1); ev.ID != want {
			h.t.Fatalf("event id %d, want %d", ev.ID, want)
		}
	}
	h.hist = append(h.hist, evs...)
	h.eff = eff
	if rb := Rebuild(h.sm, h.hist); !reflect.DeepEqual(rb, h.x) {
		h.t.Fatalf("Rebuild differs from the live execution after %s", tr.Kind)
	}
	// The same holds for the history as the store keeps it (JSON).
	b, err := json.Marshal(h.hist)
	if err != nil {
		h.t.Fatal(err)
	}
	var stored []events.HistoryEvent
	if err := json.Unmarshal(b, &stored); err != nil {
		h.t.Fatal(err)
	}
	if rb := Rebuild(h.sm, stored); !reflect.DeepEqual(rb, h.x) {
		h.t.Fatalf("Rebuild of the stored (JSON) history differs after %s", tr.Kind)
	}
	return evs
}

func (h *harness) start(input string) []events.HistoryEvent {
	return h.decide(Trigger{Kind: TriggerStart, Start: &StartInfo{
		Input: input, ExecutionArn: "arn:aws:states:us-east-1:123456789012:execution:sm:ex", Name: "ex",
		StateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm", StateMachineName: "sm",
		RoleArn: "arn:aws:iam::123456789012:role/r"}})
}

// compact renders events as "id prev Type" lines.
func compact(evs []events.HistoryEvent) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "%d %d %s\n", ev.ID, ev.PreviousEventID, ev.Type)
	}
	return b.String()
}

func (h *harness) expect(want string) {
	h.t.Helper()
	got := compact(h.hist)
	want = strings.TrimLeft(strings.ReplaceAll(want, "\t", ""), "\n")
	if got != want {
		h.t.Fatalf("history:\n%s\nwant:\n%s", got, want)
	}
}

func (h *harness) effect(i int) Effect {
	h.t.Helper()
	if i >= len(h.eff) {
		h.t.Fatalf("effect %d of %v", i, h.eff)
	}
	return h.eff[i]
}

const activityDef = `{"StartAt":"Work","States":{
 "Work":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:act",
   "Parameters":{"n.$":"$.n"},"ResultSelector":{"r.$":"$.v"},"ResultPath":"$.out","TimeoutSeconds":30,
   "Retry":[{"ErrorEquals":["Boom"],"IntervalSeconds":2,"BackoffRate":3,"MaxAttempts":2}],
   "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"Caught"}],
   "Next":"Done"},
 "Caught":{"Type":"Pass","End":true},
 "Done":{"Type":"Succeed"}}}`

func TestActivitySucceeds(t *testing.T) {
	h := newHarness(t, activityDef)
	h.start(`{"n":1}`)
	sa, ok := h.effect(0).(ScheduleActivity)
	if !ok || sa.Input != `{"n":1}` || sa.ScheduledEventID != 3 || sa.TimeoutSeconds != 30 {
		t.Fatalf("effect %#v", h.effect(0))
	}
	if tm, ok := h.effect(1).(ScheduleTimer); !ok || !tm.Due.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("timeout timer %#v", h.effect(1))
	}
	h.now = t0.Add(time.Second)
	h.decide(Trigger{Kind: TriggerTaskStarted, ScheduledEventID: 3, WorkerName: "w1"})
	h.decide(Trigger{Kind: TriggerTaskSucceeded, ScheduledEventID: 3, Output: `{"v":7}`})
	h.expect(`
		1 0 ExecutionStarted
		2 0 TaskStateEntered
		3 2 ActivityScheduled
		4 3 ActivityStarted
		5 4 ActivitySucceeded
		6 5 TaskStateExited
		7 6 SucceedStateEntered
		8 7 SucceedStateExited
		9 8 ExecutionSucceeded
	`)
	if out := *h.x.Output(); out != `{"n":1,"out":{"r":7}}` {
		t.Fatalf("output %s", out)
	}
	// The timeout timer is stale now.
	if evs := h.decide(Trigger{Kind: TriggerTimerFired, TimerID: "t3"}); len(evs) != 0 {
		t.Fatalf("stale timer produced %v", compact(evs))
	}
}

func TestActivityRetryThenCatch(t *testing.T) {
	h := newHarness(t, activityDef)
	h.start(`{"n":1}`)
	h.decide(Trigger{Kind: TriggerTaskFailed, ScheduledEventID: 3, Error: "Boom", Cause: "c1"})
	tm, ok := h.effect(0).(ScheduleTimer)
	if !ok || !tm.Due.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("back-off timer %#v", h.eff)
	}
	if due := h.hist[len(h.hist)-1].Ext.Due; due == nil || !due.Equal(tm.Due) {
		t.Fatalf("Ext.Due of the failure event: %v", due)
	}
	// A late result of the failed attempt is ignored.
	if evs := h.decide(Trigger{Kind: TriggerTaskSucceeded, ScheduledEventID: 3, Output: `{}`}); len(evs) != 0 {
		t.Fatalf("stale result produced %v", compact(evs))
	}
	h.now = tm.Due
	h.decide(Trigger{Kind: TriggerTimerFired, TimerID: tm.ID})
	sched := h.hist[len(h.hist)-1].ID
	h.decide(Trigger{Kind: TriggerTaskFailed, ScheduledEventID: sched, Error: "Boom", Cause: "c2"})
	tm2 := h.effect(0).(ScheduleTimer)
	if !tm2.Due.Equal(h.now.Add(6 * time.Second)) {
		t.Fatalf("second back-off %v, want +6s", tm2.Due.Sub(h.now))
	}
	h.now = tm2.Due
	h.decide(Trigger{Kind: TriggerTimerFired, TimerID: tm2.ID})
	sched = h.hist[len(h.hist)-1].ID
	h.decide(Trigger{Kind: TriggerTaskFailed, ScheduledEventID: sched, Error: "Boom", Cause: "c3"})
	h.expect(`
		1 0 ExecutionStarted
		2 0 TaskStateEntered
		3 2 ActivityScheduled
		4 3 ActivityFailed
		5 4 ActivityScheduled
		6 5 ActivityFailed
		7 6 ActivityScheduled
		8 7 ActivityFailed
		9 8 TaskStateExited
		10 9 PassStateEntered
		11 10 PassStateExited
		12 11 ExecutionSucceeded
	`)
	if out := *h.x.Output(); out != `{"n":1,"err":{"Error":"Boom","Cause":"c3"}}` {
		t.Fatalf("output %s", out)
	}
}

func TestTaskTimeoutFailsExecution(t *testing.T) {
	h := newHarness(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName":"f"},"TimeoutSeconds":5,"End":true}}}`)
	h.start(`{}`)
	inv, ok := h.effect(0).(InvokeTask)
	if !ok || inv.ResourceType != "lambda" || inv.ResourceName != "invoke" || inv.Parameters != `{"FunctionName":"f"}` {
		t.Fatalf("effect %#v", h.effect(0))
	}
	h.decide(Trigger{Kind: TriggerTaskStarted, ScheduledEventID: 3})
	h.now = t0.Add(5 * time.Second)
	h.decide(Trigger{Kind: TriggerTimerFired, TimerID: "t3"})
	h.expect(`
		1 0 ExecutionStarted
		2 0 TaskStateEntered
		3 2 TaskScheduled
		4 3 TaskStarted
		5 4 TaskTimedOut
		6 5 ExecutionFailed
	`)
	if h.x.Status() != StatusFailed || h.x.Error != "States.Timeout" {
		t.Fatalf("status %s %s", h.x.Status(), h.x.Error)
	}
	if d := h.hist[2].TaskScheduledEventDetails; d.Region != "us-east-1" || d.Resource != "invoke" {
		t.Fatalf("TaskScheduled details %+v", d)
	}
}

func TestWaitStopAndStaleTimer(t *testing.T) {
	h := newHarness(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"Next":"P"},"P":{"Type":"Pass","End":true}}}`)
	h.start(`{"a":1}`)
	tm := h.effect(0).(ScheduleTimer)
	if tm.ID != "t2" || !tm.Due.Equal(t0.Add(time.Minute)) {
		t.Fatalf("timer %#v", tm)
	}
	h.decide(Trigger{Kind: TriggerStop, Error: "E", Cause: "C"})
	h.expect(`
		1 0 ExecutionStarted
		2 0 WaitStateEntered
		3 0 ExecutionAborted
	`)
	if evs := h.decide(Trigger{Kind: TriggerTimerFired, TimerID: "t2"}); len(evs) != 0 {
		t.Fatalf("timer after stop produced events")
	}
	if h.x.Status() != StatusAborted {
		t.Fatalf("status %s", h.x.Status())
	}
}

func TestWaitThenExecutionTimeout(t *testing.T) {
	h := newHarness(t, `{"TimeoutSeconds":5,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}`)
	h.start(`{}`)
	if len(h.eff) != 2 {
		t.Fatalf("effects %v", h.eff)
	}
	h.now = t0.Add(5 * time.Second)
	h.decide(Trigger{Kind: TriggerTimerFired, TimerID: "t1"})
	h.expect(`
		1 0 ExecutionStarted
		2 0 WaitStateEntered
		3 2 ExecutionTimedOut
	`)
	if h.x.Status() != StatusTimedOut {
		t.Fatalf("status %s", h.x.Status())
	}
}

func TestParallelWithWaitingBranches(t *testing.T) {
	h := newHarness(t, `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
		{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":1,"End":true}}},
		{"StartAt":"B","States":{"B":{"Type":"Pass","Result":2,"End":true}}}]}}}`)
	h.start(`1`)
	tm := h.effect(0).(ScheduleTimer)
	h.now = tm.Due
	h.decide(Trigger{Kind: TriggerTimerFired, TimerID: tm.ID})
	h.expect(`
		1 0 ExecutionStarted
		2 0 ParallelStateEntered
		3 2 ParallelStateStarted
		4 3 WaitStateEntered
		5 3 PassStateEntered
		6 5 PassStateExited
		7 4 WaitStateExited
		8 7 ParallelStateSucceeded
		9 7 ParallelStateExited
		10 9 ExecutionSucceeded
	`)
	if out := *h.x.Output(); out != `[1,2]` {
		t.Fatalf("output %s", out)
	}
}

func TestMapConcurrentWaitsAndFailure(t *testing.T) {
	h := newHarness(t, `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":2,"End":true,
		"ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value"},
		"ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"C"},
		"C":{"Type":"Choice","Choices":[{"Variable":"$.v","StringEquals":"bad","Next":"F"}],"Default":"S"},
		"F":{"Type":"Fail","Error":"Bad","Cause":"bad item"},"S":{"Type":"Succeed"}}}}}}`)
	h.start(`["a","bad","c"]`)
	if len(h.eff) != 2 {
		t.Fatalf("want two running iterations, effects %v", h.eff)
	}
	first := h.effect(0).(ScheduleTimer)
	second := h.effect(1).(ScheduleTimer)
	h.now = first.Due
	h.decide(Trigger{Kind: TriggerTimerFired, TimerID: first.ID})
	h.decide(Trigger{Kind: TriggerTimerFired, TimerID: second.ID})
	if h.x.Status() != StatusFailed || h.x.Error != "Bad" || h.x.Cause != "bad item" {
		t.Fatalf("status %s %s %s\n%s", h.x.Status(), h.x.Error, h.x.Cause, compact(h.hist))
	}
	// Iteration 2 was still waiting: it is aborted before the Map state fails.
	last := h.hist[len(h.hist)-4:]
	if last[0].Type != events.MapIterationFailed || last[1].Type != events.MapIterationAborted ||
		last[2].Type != events.MapStateFailed || last[3].Type != events.ExecutionFailed {
		t.Fatalf("history:\n%s", compact(h.hist))
	}
	if last[1].MapIterationAbortedEventDetails.Index != 2 {
		t.Fatalf("aborted iteration %d", last[1].MapIterationAbortedEventDetails.Index)
	}
}

func TestDeterministicReplay(t *testing.T) {
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"u.$":"States.UUID()","r.$":"States.MathRandom(1, 1000)"},"End":true}}}`
	run := func() []events.HistoryEvent {
		h := newHarness(t, def)
		h.decide(Trigger{Kind: TriggerStart, Seed: 99, Start: &StartInfo{Input: `{}`, ExecutionArn: "arn:aws:states:r:1:execution:s:e"}})
		return h.hist
	}
	a, b := run(), run()
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("two runs with the same trigger differ:\n%v\n%v", a, b)
	}
	if a[0].Ext == nil || a[0].Ext.Seed != 99 {
		t.Fatalf("seed not recorded: %+v", a[0].Ext)
	}
}

func TestParseNeverPanics(t *testing.T) {
	for _, def := range []string{"", "null", "[]", `{"StartAt":1}`, `{"StartAt":"A","States":{"A":7}}`,
		`{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[7]}}}`,
		`{"StartAt":"A","States":{"A":{"Type":"Parallel","Branches":[{"StartAt":"X"}]}}}`} {
		if _, err := Parse(def); err == nil {
			t.Errorf("Parse(%q) succeeded", def)
		}
	}
}
