package asl

import (
	"strings"
	"testing"
	"time"

	"github.com/sfnd/sfnd/events"
)

// taskEffects lists the scheduled event ids of the InvokeTask effects of the last decision.
func (h *harness) taskEffects() []int64 {
	var out []int64
	for _, e := range h.eff {
		if t, ok := e.(InvokeTask); ok {
			out = append(out, t.ScheduledEventID)
		}
	}
	return out
}

func (h *harness) redrive() []events.HistoryEvent {
	h.t.Helper()
	h.now = h.now.Add(time.Minute)
	return h.decide(Trigger{Kind: TriggerRedrive, ClientToken: "tok"})
}

const lambdaRes = `"Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","Payload.$":"$"}`

func TestRedriveTaskNotPrecedingStates(t *testing.T) {
	h := newHarness(t, `{"StartAt":"P","States":{
	 "P":{"Type":"Pass","Result":{"a":1},"Next":"T"},
	 "T":{"Type":"Task",`+lambdaRes+`,"Retry":[{"ErrorEquals":["Boom"],"MaxAttempts":1,"IntervalSeconds":0}],
	   "ResultSelector":{"rc.$":"$$.Execution.RedriveCount"},"End":true}}}`)
	h.start(`{}`)
	if evs := h.redrive(); len(evs) != 0 {
		t.Fatalf("a running execution was redriven: %s", compact(evs))
	}
	h.decide(Trigger{Kind: TriggerTaskFailed, ScheduledEventID: 5, Error: "Boom"})
	h.decide(Trigger{Kind: TriggerTaskFailed, ScheduledEventID: 7, Error: "Boom"})
	if h.x.Status() != StatusFailed {
		t.Fatalf("status %s", h.x.Status())
	}
	h.redrive()
	if got := h.taskEffects(); len(got) != 1 {
		t.Fatalf("task effects after the redrive: %v", h.eff)
	}
	h.expect(`
		1 0 ExecutionStarted
		2 0 PassStateEntered
		3 2 PassStateExited
		4 3 TaskStateEntered
		5 4 TaskScheduled
		6 5 TaskFailed
		7 6 TaskScheduled
		8 7 TaskFailed
		9 8 ExecutionFailed
		10 9 ExecutionRedriven
		11 10 TaskScheduled
	`)
	if h.hist[9].ExecutionRedrivenEventDetails.RedriveCount != 1 || RedriveToken(&h.hist[9]) != "tok" {
		t.Fatalf("ExecutionRedriven %+v", h.hist[9])
	}
	// The retry count starts again: the first failure after the redrive is retried.
	h.decide(Trigger{Kind: TriggerTaskFailed, ScheduledEventID: 11, Error: "Boom"})
	if got := h.taskEffects(); len(got) != 1 || got[0] != 13 {
		t.Fatalf("retry after the redrive: %v", h.eff)
	}
	h.decide(Trigger{Kind: TriggerTaskSucceeded, ScheduledEventID: 13, Output: `{}`})
	if h.x.Status() != StatusSucceeded || *h.x.Output() != `{"rc":1}` {
		t.Fatalf("status %s output %v", h.x.Status(), h.x.Output())
	}
	if evs := h.redrive(); len(evs) != 0 {
		t.Fatalf("a succeeded execution was redriven")
	}
}

func TestRedriveParallelOnlyFailedBranch(t *testing.T) {
	h := newHarness(t, `{"StartAt":"Par","States":{"Par":{"Type":"Parallel","End":true,"Branches":[
	 {"StartAt":"A","States":{"A":{"Type":"Pass","Result":"a","End":true}}},
	 {"StartAt":"B1","States":{"B1":{"Type":"Pass","Result":"b","Next":"B2"},"B2":{"Type":"Task",`+lambdaRes+`,"End":true}}}]}}}`)
	h.start(`{}`)
	ids := h.taskEffects()
	if len(ids) != 1 {
		t.Fatalf("effects %v", h.eff)
	}
	h.decide(Trigger{Kind: TriggerTaskFailed, ScheduledEventID: ids[0], Error: "Boom"})
	if h.x.Status() != StatusFailed {
		t.Fatalf("status %s", h.x.Status())
	}
	n := len(h.hist)
	evs := h.redrive()
	types := compact(evs)
	if strings.Contains(types, "PassState") || strings.Contains(types, "ParallelStateStarted") || !strings.Contains(types, "TaskScheduled") {
		t.Fatalf("redrive re-ran more than the failed branch's state:\n%s", types)
	}
	ids = h.taskEffects()
	h.decide(Trigger{Kind: TriggerTaskSucceeded, ScheduledEventID: ids[0], Output: `"t"`})
	if h.x.Status() != StatusSucceeded || *h.x.Output() != `["a","t"]` {
		t.Fatalf("status %s output %v\n%s", h.x.Status(), h.x.Output(), compact(h.hist[n:]))
	}
}

func TestRedriveInlineMapOnlyFailedIterations(t *testing.T) {
	h := newHarness(t, `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":1,"End":true,
	 "ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task",`+lambdaRes+`,"End":true}}}}}}`)
	h.start(`[1,2,3,4]`)
	ids := h.taskEffects()
	h.decide(Trigger{Kind: TriggerTaskSucceeded, ScheduledEventID: ids[0], Output: `"r0"`})
	ids = h.taskEffects()
	h.decide(Trigger{Kind: TriggerTaskFailed, ScheduledEventID: ids[0], Error: "Boom"})
	if h.x.Status() != StatusFailed {
		t.Fatalf("status %s", h.x.Status())
	}
	h.redrive()
	var ran []int
	for i := 0; i < 3; i++ {
		last := h.hist[len(h.hist)-3:]
		for _, ev := range last {
			if d := ev.MapIterationStartedEventDetails; d != nil {
				ran = append(ran, d.Index)
			}
		}
		ids = h.taskEffects()
		if len(ids) != 1 {
			t.Fatalf("effects %v\n%s", h.eff, compact(h.hist))
		}
		h.decide(Trigger{Kind: TriggerTaskSucceeded, ScheduledEventID: ids[0], Output: `"r"`})
	}
	if h.x.Status() != StatusSucceeded || *h.x.Output() != `["r0","r","r","r"]` {
		t.Fatalf("status %s output %v\n%s", h.x.Status(), h.x.Output(), compact(h.hist))
	}
	if len(ran) < 1 || ran[0] != 1 {
		t.Fatalf("iterations started after the redrive: %v", ran)
	}
	started := 0
	for _, ev := range h.hist {
		if ev.Type == events.MapIterationStarted && ev.MapIterationStartedEventDetails.Index == 0 {
			started++
		}
	}
	if started != 1 {
		t.Fatalf("the succeeded iteration ran %d times", started)
	}
}

func TestRedriveAbortedWaitAndTimeout(t *testing.T) {
	h := newHarness(t, `{"TimeoutSeconds":60,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":30,"End":true}}}`)
	h.start(`{"x":1}`)
	h.decide(Trigger{Kind: TriggerStop, Error: "E", Cause: "C"})
	if h.x.Status() != StatusAborted {
		t.Fatalf("status %s", h.x.Status())
	}
	h.redrive()
	h.expect(`
		1 0 ExecutionStarted
		2 0 WaitStateEntered
		3 0 ExecutionAborted
		4 3 ExecutionRedriven
		5 4 WaitStateEntered
	`)
	var timeout bool
	for _, e := range h.eff {
		if tm, ok := e.(ScheduleTimer); ok && tm.ID == "t4" && tm.Due.Equal(h.now.Add(60*time.Second)) {
			timeout = true
		}
	}
	if !timeout {
		t.Fatalf("the execution timeout is not counted again from the redrive: %v", h.eff)
	}
	h.decide(Trigger{Kind: TriggerTimerFired, TimerID: "t5"})
	if h.x.Status() != StatusSucceeded || *h.x.Output() != `{"x":1}` {
		t.Fatalf("status %s", h.x.Status())
	}
}

// A Distributed Map whose ItemReader fails is retried after its back-off: the items
// are read again (keyed on the back-off timer's event) and the Map Run starts.
func TestItemReaderRetriedAfterBackoff(t *testing.T) {
	h := newHarness(t, `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,
	 "ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"k"}},
	 "Retry":[{"ErrorEquals":["States.ItemReaderFailed"],"IntervalSeconds":1,"MaxAttempts":2}],
	 "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}}`)
	h.start(`{}`)
	read, ok := h.effect(0).(ReadItems)
	if !ok || read.ScheduledEventID != 2 {
		t.Fatalf("effects %v", h.eff)
	}
	h.decide(Trigger{Kind: TriggerTaskFailed, ScheduledEventID: 2, Error: "States.ItemReaderFailed", Cause: "no such key"})
	tm, ok := h.effect(0).(ScheduleTimer)
	if !ok || tm.ID != "t3" {
		t.Fatalf("back-off: %v\n%s", h.eff, compact(h.hist))
	}
	h.now = h.now.Add(time.Second)
	if evs := h.decide(Trigger{Kind: TriggerTimerFired, TimerID: "t3"}); len(evs) != 0 {
		t.Fatalf("the timer recorded %s", compact(evs))
	}
	read, ok = h.effect(0).(ReadItems)
	if !ok || read.ScheduledEventID != 3 || read.Reader.Resource != "arn:aws:states:::s3:getObject" {
		t.Fatalf("read after the back-off: %v", h.eff)
	}
	if w, ok := h.effect(1).(ScheduleTimer); !ok || w.ID != "t3" || !w.Due.Equal(h.now.Add(time.Minute)) {
		t.Fatalf("no watchdog for the read: %v", h.eff)
	}
	// The watchdog firing before the items came reads again.
	if evs := h.decide(Trigger{Kind: TriggerTimerFired, TimerID: "t3"}); len(evs) != 0 {
		t.Fatalf("the watchdog recorded %s", compact(evs))
	}
	if _, ok := h.effect(0).(ReadItems); !ok {
		t.Fatalf("the watchdog did not read again: %v", h.eff)
	}
	// A stale or repeated result changes nothing once the items came.
	h.decide(Trigger{Kind: TriggerTaskSucceeded, ScheduledEventID: 3, Output: `[1,2]`})
	if _, ok := h.effect(0).(StartMapRun); !ok {
		t.Fatalf("effects %v", h.eff)
	}
	if evs := h.decide(Trigger{Kind: TriggerTaskSucceeded, ScheduledEventID: 3, Output: `[1,2]`}); len(evs) != 0 {
		t.Fatalf("a repeated read result recorded %s", compact(evs))
	}
	h.expect(`
		1 0 ExecutionStarted
		2 0 MapStateEntered
		3 2 MapStateFailed
		4 3 MapStateStarted
		5 4 MapRunStarted
	`)
}

// A redriven Distributed Map inside a Parallel branch reads its items again: the read
// is recorded on ExecutionRedriven (a top-level event) for the branch's frame.
func TestRedriveReaderInBranch(t *testing.T) {
	h := newHarness(t, `{"StartAt":"Par","States":{"Par":{"Type":"Parallel","End":true,"Branches":[
	 {"StartAt":"A","States":{"A":{"Type":"Pass","Result":"a","End":true}}},
	 {"StartAt":"M","States":{"M":{"Type":"Map","End":true,
	   "ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"k"}},
	   "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}}]}}}`)
	h.start(`{}`)
	var read ReadItems
	for _, e := range h.eff {
		if r, ok := e.(ReadItems); ok {
			read = r
		}
	}
	if read.ScheduledEventID == 0 {
		t.Fatalf("effects %v", h.eff)
	}
	h.decide(Trigger{Kind: TriggerTaskFailed, ScheduledEventID: read.ScheduledEventID, Error: "States.ItemReaderFailed", Cause: "no key"})
	if h.x.Status() != StatusFailed {
		t.Fatalf("status %s\n%s", h.x.Status(), compact(h.hist))
	}
	evs := h.redrive()
	if r, ok := h.effect(0).(ReadItems); !ok || r.ScheduledEventID != evs[0].ID {
		t.Fatalf("read after the redrive: %v\n%s", h.eff, compact(evs))
	}
	h.decide(Trigger{Kind: TriggerTaskSucceeded, ScheduledEventID: evs[0].ID, Output: `[1]`})
	run, ok := h.effect(0).(StartMapRun)
	if !ok {
		t.Fatalf("effects %v\n%s", h.eff, compact(h.hist))
	}
	h.decide(Trigger{Kind: TriggerTaskSucceeded, ScheduledEventID: run.ScheduledEventID, Output: `[1]`})
	if h.x.Status() != StatusSucceeded || *h.x.Output() != `["a",[1]]` {
		t.Fatalf("status %s output %v\n%s", h.x.Status(), h.x.Output(), compact(h.hist))
	}
}
