package audit

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sfnd/sfnd/actors/asl"
	"github.com/sfnd/sfnd/actors/tasktoken"
	"github.com/sfnd/sfnd/events"
)

const execARN = "arn:aws:states:us-east-1:123456789012:execution:sm:run-1"

// mixed exercises every kind of decision: start, timers (Wait, retry back-off), task
// results (with a failed attempt retried), Parallel, Map with MaxConcurrency,
// randomness (States.UUID) and a Choice.
const mixed = `{"StartAt":"Prep","States":{
 "Prep":{"Type":"Pass","Parameters":{"items.$":"$.items","id.$":"States.UUID()"},"Next":"Nap"},
 "Nap":{"Type":"Wait","Seconds":5,"Next":"Fan"},
 "Fan":{"Type":"Parallel","ResultPath":"$.fan","Next":"Each","Branches":[
   {"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:w",
     "Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":2,"MaxAttempts":3}],"End":true}}},
   {"StartAt":"B","States":{"B":{"Type":"Pass","Result":"b","End":true}}}]},
 "Each":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":2,"ResultPath":"$.each","Next":"Pick",
   "Iterator":{"StartAt":"I1","States":{"I1":{"Type":"Wait","Seconds":1,"Next":"I2"},"I2":{"Type":"Pass","End":true}}}},
 "Pick":{"Type":"Choice","Choices":[{"Variable":"$.each[0]","NumericEquals":1,"Next":"Done"}],"Default":"Bad"},
 "Bad":{"Type":"Fail","Error":"Bad"},
 "Done":{"Type":"Succeed"}}}`

// sim is a minimal engine: it drives the decider as actors/execution.go does
// (trigger recorded on each decision's first event, definition on ExecutionStarted,
// events stored as JSON) and answers effects at once.
type sim struct {
	t    *testing.T
	def  string
	sm   *asl.StateMachine
	x    *asl.Execution
	h    []events.HistoryEvent
	now  time.Time
	seed uint64
	// fails is how many attempts of each activity fail before one succeeds.
	fails int
	queue []asl.Trigger
	token func(string, int64) string
}

func newSim(t *testing.T, def string) *sim {
	sm, err := asl.Parse(def)
	if err != nil {
		t.Fatal(err)
	}
	return &sim{t: t, def: def, sm: sm, x: asl.NewExecution(sm), now: time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC), seed: 7}
}

func (s *sim) decide(trig asl.Trigger) {
	s.t.Helper()
	if trig.Time.IsZero() {
		trig.Time = s.now
	}
	s.seed++
	trig.Seed = s.seed * 0x9e3779b97f4a7c15
	if s.token != nil {
		trig.TaskToken = func(id int64) string { return s.token(execARN, id) }
	}
	evs, effects, err := asl.Decide(s.sm, s.x, trig)
	if err != nil {
		s.t.Fatalf("decide %s: %v", trig.Kind, err)
	}
	if len(evs) == 0 {
		return
	}
	if evs[0].Ext == nil {
		evs[0].Ext = &events.Ext{}
	}
	if evs[0].Type == events.ExecutionStarted {
		evs[0].Ext.Definition = s.def
	}
	evs[0].Ext.Trigger, _ = json.Marshal(trig)
	for _, ev := range evs {
		b, err := json.Marshal(ev)
		if err != nil {
			s.t.Fatal(err)
		}
		var stored events.HistoryEvent
		if err := json.Unmarshal(b, &stored); err != nil {
			s.t.Fatal(err)
		}
		s.h = append(s.h, stored)
	}
	attempts := map[int64]int{}
	for _, ef := range effects {
		switch ef := ef.(type) {
		case asl.ScheduleTimer:
			s.queue = append(s.queue, asl.Trigger{Kind: asl.TriggerTimerFired, TimerID: ef.ID, Time: ef.Due})
		case asl.ScheduleActivity:
			attempts[ef.ScheduledEventID]++
			s.queue = append(s.queue, asl.Trigger{Kind: asl.TriggerTaskStarted, ScheduledEventID: ef.ScheduledEventID, WorkerName: "w1"})
			if s.fails > 0 {
				s.fails--
				s.queue = append(s.queue, asl.Trigger{Kind: asl.TriggerTaskFailed, ScheduledEventID: ef.ScheduledEventID, Error: "Boom", Cause: "attempt failed"})
			} else {
				s.queue = append(s.queue, asl.Trigger{Kind: asl.TriggerTaskSucceeded, ScheduledEventID: ef.ScheduledEventID, Output: `{"worked":true}`})
			}
		}
	}
}

// run starts the execution and delivers triggers, earliest first, until it ends.
func (s *sim) run(input string) []events.HistoryEvent {
	s.t.Helper()
	s.decide(asl.Trigger{Kind: asl.TriggerStart, Start: &asl.StartInfo{Input: input, ExecutionArn: execARN, Name: "run-1",
		StateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm", StateMachineName: "sm",
		RoleArn: "arn:aws:iam::123456789012:role/r", StartTime: s.now}})
	for steps := 0; len(s.queue) > 0 && s.x.Status() == asl.StatusRunning; steps++ {
		if steps > 1000 {
			s.t.Fatal("execution does not end")
		}
		next := 0
		for i, q := range s.queue {
			if q.Time.Before(s.queue[next].Time) {
				next = i
			}
		}
		trig := s.queue[next]
		s.queue = append(s.queue[:next], s.queue[next+1:]...)
		if trig.Time.After(s.now) {
			s.now = trig.Time
		}
		trig.Time = s.now
		s.now = s.now.Add(time.Millisecond)
		s.decide(trig)
	}
	return s.h
}

func TestVerifyAgreesWithTheDecider(t *testing.T) {
	s := newSim(t, mixed)
	s.fails = 1
	h := s.run(`{"items":[1,2,3]}`)
	if s.x.Status() != asl.StatusSucceeded {
		t.Fatalf("execution %s: %s %s", s.x.Status(), s.x.Error, s.x.Cause)
	}
	if err := CheckInvariants(h, true); err != nil {
		t.Fatal(err)
	}
	res, err := Verify(h, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Fault != nil {
		t.Fatalf("fault in a decider-made history: %+v", res.Fault)
	}
	if res.Decisions < 10 || res.Events != len(h) {
		t.Fatalf("verified %d decisions over %d events; the history has %d events", res.Decisions, res.Events, len(h))
	}
}

// tamper returns a copy of h whose event id is changed by f.
func tamper(h []events.HistoryEvent, id int64, f func(*events.HistoryEvent)) []events.HistoryEvent {
	out := make([]events.HistoryEvent, len(h))
	copy(out, h)
	ev := out[id-1]
	// deep enough a copy for the fields the tests touch
	b, _ := json.Marshal(ev)
	var c events.HistoryEvent
	_ = json.Unmarshal(b, &c)
	f(&c)
	out[id-1] = c
	return out
}

func firstOfType(t *testing.T, h []events.HistoryEvent, typ events.Type) int64 {
	t.Helper()
	for _, ev := range h {
		if ev.Type == typ {
			return ev.ID
		}
	}
	t.Fatalf("no %s in the history", typ)
	return 0
}

func TestVerifyReportsTheFirstDifference(t *testing.T) {
	s := newSim(t, mixed)
	h := s.run(`{"items":[1,2,3]}`)

	// A changed output in the middle of a decision.
	exited := firstOfType(t, h, events.PassStateExited)
	bad := tamper(h, exited, func(ev *events.HistoryEvent) { ev.StateExitedEventDetails.Output = events.Str(`{"forged":1}`) })
	res, err := Verify(bad, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Fault == nil || res.Fault.EventID != exited || res.Fault.Field != "stateExitedEventDetails.output" {
		t.Fatalf("fault %+v, want event %d stateExitedEventDetails.output", res.Fault, exited)
	}
	if res.Fault.Decision != 1 || !strings.Contains(res.Fault.Recorded, "forged") {
		t.Fatalf("fault %+v", res.Fault)
	}
	// Carrying the live state between decisions finds a forgery in the last one, and
	// passes the original.
	end := h[len(h)-1].ID
	forged := tamper(h, end, func(ev *events.HistoryEvent) { ev.ExecutionSucceededEventDetails.Output = events.Str(`1`) })
	if res, _ := Verify(forged, VerifyOptions{RebuildEvery: 1000}); res.Fault == nil || res.Fault.EventID != end || res.Fault.Decision == 1 {
		t.Fatalf("live-state verify: fault %+v", res.Fault)
	}
	if res, _ := Verify(h, VerifyOptions{RebuildEvery: 1000}); res.Fault != nil {
		t.Fatalf("live-state verify of the original: fault %+v", res.Fault)
	}

	// A recorded trigger that says something else happened (a different worker).
	started := firstOfType(t, h, events.ActivityStarted)
	bad = tamper(h, started, func(ev *events.HistoryEvent) {
		var trig map[string]any
		_ = json.Unmarshal(ev.Ext.Trigger, &trig)
		trig["WorkerName"] = "someone-else"
		ev.Ext.Trigger, _ = json.Marshal(trig)
	})
	res, _ = Verify(bad, VerifyOptions{})
	if res.Fault == nil || res.Fault.EventID != started || res.Fault.Field != "activityStartedEventDetails.workerName" {
		t.Fatalf("fault %+v, want event %d workerName", res.Fault, started)
	}

	// A definition changed after the fact: the first decision already differs.
	bad = tamper(h, 1, func(ev *events.HistoryEvent) {
		ev.Ext.Definition = strings.Replace(mixed, `"Seconds":5`, `"Seconds":6`, 1)
	})
	res, _ = Verify(bad, VerifyOptions{})
	wait := firstOfType(t, h, events.WaitStateEntered)
	if res.Fault == nil || res.Fault.EventID != wait || !strings.HasPrefix(res.Fault.Field, "sfnd.") {
		t.Fatalf("fault %+v, want event %d (the Wait's timer)", res.Fault, wait)
	}

	// A decision cut short (an event lost) is reported where it ends.
	last := h[len(h)-1].ID
	res, _ = Verify(h[:last-1], VerifyOptions{})
	if res.Fault == nil || res.Fault.EventID != last || !strings.Contains(res.Fault.Message, "not recorded") {
		t.Fatalf("fault %+v, want event %d not recorded", res.Fault, last)
	}
}

func TestVerifyUsesTaskTokens(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:w",
	  "Parameters":{"token.$":"$$.Task.Token"},"End":true}}}`
	token := func(arn string, id int64) string { return arn + "/" + string(rune('0'+id)) }
	s := newSim(t, def)
	s.token = token
	h := s.run(`{}`)
	if res, err := Verify(h, VerifyOptions{TaskToken: token}); err != nil || res.Fault != nil {
		t.Fatalf("with the deployment's tokens: %+v %v", res.Fault, err)
	}
	res, err := Verify(h, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Fault == nil || res.Fault.EventID != 3 {
		t.Fatalf("without tokens: fault %+v, want event 3 (the scheduled task)", res.Fault)
	}
}

func TestVerifyNeedsTriggers(t *testing.T) {
	s := newSim(t, mixed)
	h := s.run(`{"items":[1]}`)
	b, err := MarshalAWS(h, false)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ParseHistory(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(plain, VerifyOptions{}); err == nil || !strings.Contains(err.Error(), "no event carries a decider trigger") {
		t.Fatalf("verify of an export without bookkeeping: %v", err)
	}
	// With the bookkeeping kept, the file verifies.
	b, _ = MarshalAWS(h, true)
	full, err := ParseHistory(b)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := Verify(full, VerifyOptions{}); err != nil || res.Fault != nil {
		t.Fatalf("verify of a full export: %+v %v", res.Fault, err)
	}
}

func TestExportIsGetExecutionHistory(t *testing.T) {
	s := newSim(t, mixed)
	h := s.run(`{"items":[1]}`)
	b, err := MarshalAWS(h, false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"sfnd"`) {
		t.Fatal("export carries sfnd's bookkeeping")
	}
	var page struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != len(h) {
		t.Fatalf("%d events exported, %d stored", len(page.Events), len(h))
	}
	ts, ok := page.Events[0]["timestamp"].(float64)
	if !ok || ts != float64(h[0].Timestamp.UnixMilli())/1000 {
		t.Fatalf("timestamp %v (%T), want epoch seconds %v", page.Events[0]["timestamp"], page.Events[0]["timestamp"], h[0].Timestamp.Unix())
	}
	back, err := ParseHistory(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range h {
		if back[i].ID != h[i].ID || back[i].Type != h[i].Type || !back[i].Timestamp.Equal(h[i].Timestamp.Truncate(time.Millisecond)) {
			t.Fatalf("event %d read back as %+v", h[i].ID, back[i])
		}
	}
}

func TestParseHistoryForms(t *testing.T) {
	aws := `{"events":[
	 {"timestamp":1.740830400123E9,"type":"ExecutionStarted","id":1,"previousEventId":0,
	  "executionStartedEventDetails":{"input":"{}","inputDetails":{"truncated":false},"roleArn":"arn:aws:iam::1:role/r"}},
	 {"timestamp":1.740830400125E9,"type":"PassStateEntered","id":2,"previousEventId":0,
	  "stateEnteredEventDetails":{"name":"P","input":"{}","inputDetails":{"truncated":false}}}],
	 "nextToken":"x"}
	{"events":[
	 {"timestamp":"2025-03-01T12:00:00.130000+00:00","type":"PassStateExited","id":3,"previousEventId":2,
	  "stateExitedEventDetails":{"name":"P","output":"1","outputDetails":{"truncated":false}}},
	 {"timestamp":"2025-03-01T12:00:00.131Z","type":"ExecutionSucceeded","id":4,"previousEventId":3,
	  "executionSucceededEventDetails":{"output":"1","outputDetails":{"truncated":false}}}]}`
	h, err := ParseHistory([]byte(aws))
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 4 || h[0].Timestamp.UnixMilli() != 1740830400123 || h[2].Timestamp.UnixMilli() != 1740830400130 {
		t.Fatalf("parsed %+v", h)
	}
	if err := CheckInvariants(h, true); err != nil {
		t.Fatal(err)
	}
	// Reverse order (get-execution-history --reverse-order) and a bare array.
	rev := `[{"timestamp":2,"type":"ExecutionSucceeded","id":2,"previousEventId":1},{"timestamp":1,"type":"ExecutionStarted","id":1,"previousEventId":0}]`
	h, err = ParseHistory([]byte(rev))
	if err != nil || h[0].ID != 1 || h[1].ID != 2 {
		t.Fatalf("reverse: %+v %v", h, err)
	}
	if _, err := ParseHistory([]byte(`{"events":[]}`)); err == nil {
		t.Fatal("an empty history parsed")
	}
}

func TestCheckInvariants(t *testing.T) {
	ev := func(id, prev int64, typ events.Type) events.HistoryEvent {
		return events.HistoryEvent{ID: id, PreviousEventID: prev, Type: typ}
	}
	good := []events.HistoryEvent{ev(1, 0, events.ExecutionStarted), ev(2, 0, events.PassStateEntered), ev(3, 2, events.ExecutionSucceeded)}
	if err := CheckInvariants(good, true); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string][]events.HistoryEvent{
		"gap":           {ev(1, 0, events.ExecutionStarted), ev(3, 1, events.PassStateEntered)},
		"forward prev":  {ev(1, 0, events.ExecutionStarted), ev(2, 2, events.PassStateEntered)},
		"no start":      {ev(1, 0, events.PassStateEntered)},
		"second start":  {ev(1, 0, events.ExecutionStarted), ev(2, 1, events.ExecutionStarted)},
		"after the end": {ev(1, 0, events.ExecutionStarted), ev(2, 1, events.ExecutionFailed), ev(3, 2, events.PassStateEntered)},
		"unfinished":    {ev(1, 0, events.ExecutionStarted), ev(2, 1, events.PassStateEntered)},
	} {
		if err := CheckInvariants(h, true); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := CheckInvariants(good[:2], false); err != nil {
		t.Fatalf("a running history: %v", err)
	}
}

func TestReplayRebuildsWithApply(t *testing.T) {
	s := newSim(t, mixed)
	s.fails = 2
	h := s.run(`{"items":[1,2,3]}`)
	r, err := ReplayHistory(h)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Rebuilt || r.Status != "SUCCEEDED" || r.RebuiltStatus != "SUCCEEDED" {
		t.Fatalf("replay %+v", r)
	}
	// Top level: Prep, Nap, Fan, Each, Pick, Done; Fan's branches and the three
	// iterations of Each (two states each) nest under them.
	var top []string
	work := -1
	iters := map[int]bool{}
	for i, st := range r.Steps {
		if st.Depth == 0 {
			top = append(top, st.State)
		}
		if st.State == "Work" {
			work = i
		}
		if st.State == "I1" {
			if r.Steps[st.Parent].State != "Each" {
				t.Fatalf("I1 nested under %s", r.Steps[st.Parent].State)
			}
			iters[st.Iteration] = true
		}
	}
	if strings.Join(top, ",") != "Prep,Nap,Fan,Each,Pick,Done" {
		t.Fatalf("top-level timeline %v", top)
	}
	if len(iters) != 3 || !iters[0] || !iters[2] {
		t.Fatalf("Map iterations seen: %v", iters)
	}
	w := r.Steps[work]
	if w.Depth != 1 || r.Steps[w.Parent].State != "Fan" || w.Attempts != 3 || w.Error != "Boom" || w.Output == nil {
		t.Fatalf("Work step %+v", w)
	}

	// A running prefix rebuilds with its pending timer.
	nap := firstOfType(t, h, events.WaitStateEntered)
	r, err = ReplayHistory(h[:nap])
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "RUNNING" || len(r.PendingTimers) != 1 {
		t.Fatalf("running replay %+v", r)
	}

	// A forged ending replays as recorded (replay trusts the events) but does not
	// verify.
	last := int64(len(h))
	bad := tamper(h, last, func(ev *events.HistoryEvent) {
		ev.ExecutionSucceededEventDetails.Output = events.Str(`"forged"`)
	})
	if r, err := ReplayHistory(bad); err != nil || *r.Output != `"forged"` {
		t.Fatalf("forged output replays as %+v, %v", r, err)
	}
	if res, _ := Verify(bad, VerifyOptions{}); res.Fault == nil || res.Fault.EventID != last {
		t.Fatalf("forged output verifies: %+v", res.Fault)
	}
}

func TestReplayFailureTimeline(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:w",
	  "Retry":[{"ErrorEquals":["Boom"],"MaxAttempts":1,"IntervalSeconds":1}],"End":true}}}`
	s := newSim(t, def)
	s.fails = 5
	h := s.run(`{}`)
	r, err := ReplayHistory(h)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "FAILED" || r.Error != "Boom" || len(r.Steps) != 1 || r.Steps[0].Attempts != 2 || r.Steps[0].Error != "Boom" {
		t.Fatalf("replay %+v", r)
	}
}

// TestReplayAWSRecordedHistories replays every history the conformance corpus recorded
// on AWS itself. The corpus stores them normalised (payloads parsed, timestamps and
// ARNs replaced); they are turned back into GetExecutionHistory answers first.
func TestReplayAWSRecordedHistories(t *testing.T) {
	data, err := os.ReadFile("../../test/testdata/conformance/aws-recorded.jsonl")
	if err != nil {
		t.Skip("conformance corpus not found:", err)
	}
	n := 0
	for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		var c struct {
			ID       string `json:"id"`
			Expected struct {
				History *struct {
					Events []map[string]any `json:"events"`
				} `json:"get_execution_history"`
			} `json:"expected"`
		}
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatal(err)
		}
		if c.Expected.History == nil || len(c.Expected.History.Events) == 0 {
			continue
		}
		evs := c.Expected.History.Events
		if !plainIDs(evs) {
			continue // the recording masked ids (parallel branches interleave freely)
		}
		n++
		for i, ev := range evs {
			ev["timestamp"] = 1.740830400e9 + float64(i)/1000
			for _, v := range ev {
				det, ok := v.(map[string]any)
				if !ok {
					continue
				}
				if av, ok := det["assignedVariables"].(map[string]any); ok {
					for k, v := range av {
						if _, isStr := v.(string); !isStr {
							b, _ := json.Marshal(v)
							av[k] = string(b)
						}
					}
				}
				for _, f := range []string{"input", "output", "parameters"} {
					if p, ok := det[f]; ok {
						if _, isStr := p.(string); !isStr {
							b, _ := json.Marshal(p)
							det[f] = string(b)
						}
					}
				}
			}
		}
		b, _ := json.Marshal(map[string]any{"events": evs})
		h, err := ParseHistory(b)
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		r, err := ReplayHistory(h)
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		if r.Rebuilt {
			t.Fatalf("%s: an AWS history claims sfnd bookkeeping", c.ID)
		}
		entered, exited, closed := 0, 0, 0
		for _, ev := range h {
			if ev.StateEnteredEventDetails != nil {
				entered++
			}
			if ev.StateExitedEventDetails != nil {
				exited++
			}
		}
		for _, s := range r.Steps {
			if s.ExitID != 0 {
				closed++
			}
			if s.Parent >= 0 && (s.Parent >= len(r.Steps) || r.Steps[s.Parent].EventID >= s.EventID) {
				t.Fatalf("%s: step %s (event %d) nested under a later step", c.ID, s.State, s.EventID)
			}
			if s.Iteration >= 0 && (s.Parent < 0 || r.Steps[s.Parent].Type != "Map") {
				t.Fatalf("%s: step %s (event %d) is a Map iteration outside a Map", c.ID, s.State, s.EventID)
			}
		}
		if len(r.Steps) != entered || closed != exited {
			t.Fatalf("%s: %d steps (%d closed) for %d entered and %d exited events", c.ID, len(r.Steps), closed, entered, exited)
		}
		last := h[len(h)-1]
		if IsTerminal(last.Type) && r.Status == "RUNNING" || !IsTerminal(last.Type) && r.Status != "RUNNING" {
			t.Fatalf("%s: status %s after %s", c.ID, r.Status, last.Type)
		}
	}
	if n < 100 {
		t.Fatalf("only %d AWS histories replayed", n)
	}
	t.Logf("%d AWS-recorded histories replayed", n)
}

func plainIDs(evs []map[string]any) bool {
	for _, ev := range evs {
		for _, k := range []string{"id", "previousEventId"} {
			if _, ok := ev[k].(float64); !ok {
				return false
			}
		}
	}
	return true
}

// TestVerifyTokensAsRecorded: a history recorded when tokens were version 1 (the
// definition put $$.Task.Token in Parameters) still verifies once the deployment
// issues opaque version 2 tokens, and so does one recorded with version 2; a history
// with a token neither format issues is a fault.
func TestVerifyTokensAsRecorded(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:w",
	  "Parameters":{"token.$":"$$.Task.Token"},"Next":"U"},
	  "U":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:w","Parameters":{"again.$":"$$.Task.Token"},"End":true}}}`
	tt := tasktoken.New([]byte(strings.Repeat("s", 32)))
	opts := VerifyOptions{TaskToken: tt.Token, TaskTokenV1: tt.TokenV1}
	for name, issued := range map[string]func(string, int64) string{"v1": tt.TokenV1, "v2": tt.Token} {
		s := newSim(t, def)
		s.token = issued
		h := s.run(`{}`)
		if !strings.Contains(string(mustJSON(t, h)), issued(execARN, 3)) {
			t.Fatalf("%s: the history does not hold the token", name)
		}
		if res, err := Verify(h, opts); err != nil || res.Fault != nil {
			t.Fatalf("%s: %+v %v", name, res.Fault, err)
		}
	}
	s := newSim(t, def)
	s.token = func(arn string, id int64) string { return "forged" }
	if res, err := Verify(s.run(`{}`), opts); err != nil || res.Fault == nil {
		t.Fatalf("a history with foreign tokens verified: %+v %v", res.Fault, err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
