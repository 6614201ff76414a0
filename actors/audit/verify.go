package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/actors/asl"
	"github.com/sfnd/sfnd/events"
)

// ErrNoTriggers marks a history that cannot be verified because it does not record
// the decider's triggers: a history exported from AWS, or one exported from sfnd
// without its bookkeeping. Its timeline can still be replayed.
var ErrNoTriggers = errors.New("no decider triggers")

// Fault is a determinism fault: the first place where what the decider decides differs
// from what the history records.
type Fault struct {
	// EventID is the first event that differs (for a decision that is too short or too
	// long, the first event one side has and the other lacks).
	EventID int64 `json:"eventId"`
	// Decision is the id of the first event of the decision it belongs to (the event
	// that carries the trigger).
	Decision int64 `json:"decision"`
	// Field is the JSON path of the difference inside the event ("" for a missing
	// event), Recorded and Decided the two values (JSON).
	Field    string `json:"field,omitempty"`
	Recorded string `json:"recorded,omitempty"`
	Decided  string `json:"decided,omitempty"`
	Message  string `json:"message"`
}

func (f *Fault) Error() string { return fmt.Sprintf("event %d: %s", f.EventID, f.Message) }

// VerifyOptions supplies what the engine gave the decider from outside the history.
type VerifyOptions struct {
	// TaskToken returns the task token of a task ($$.Task.Token); nil leaves the
	// token out, which only matters to definitions that read it. Tokens are
	// deterministic, so the deployment's signer reproduces them.
	TaskToken func(execARN string, scheduledEventID int64) string
	// TaskTokenV1, when set, is the token format issued before opaque tokens: a
	// history that recorded a task's version 1 token (its definition put
	// $$.Task.Token in Parameters) is replayed with it, every other task with
	// TaskToken.
	TaskTokenV1 func(execARN string, scheduledEventID int64) string
	// RebuildEvery makes Verify rebuild the execution from the stored events before
	// every RebuildEvery-th decision only, carrying the decider's live state between
	// (as the engine does while an actor stays resident). 1 rebuilds before every
	// decision; 0 chooses: 1 unless that would fold more than about two million
	// events, which keeps a 25,000-event history to seconds.
	RebuildEvery int
}

// rebuildBudget bounds the events Verify folds for one history when it chooses.
const rebuildBudget = 2_000_000

// Result sums up a verified history.
type Result struct {
	Events    int    `json:"events"`
	Decisions int    `json:"decisions"`
	Fault     *Fault `json:"fault,omitempty"`
}

// Verify re-runs the decider over a history. For each decision (a run of events whose
// first one carries Ext.Trigger) it rebuilds the execution from the events before it
// with asl.Rebuild, calls asl.Decide with the recorded trigger, and compares the
// events it produces with the recorded ones: type, id, previousEventId, timestamp,
// details and the decider's bookkeeping (Ext seed, timer due and data).
// The first difference is returned in Result.Fault. An error is returned when the
// history cannot be verified at all: malformed (ErrMalformed), or without triggers
// (ErrNoTriggers).
//
// Whether an activity existed when a Task state reached it is an observation of the
// outside world the engine makes, not a decision: Verify takes it from the recorded
// events (a decision that failed with "The activity ... does not exist." saw it
// missing).
func Verify(h []events.HistoryEvent, opts VerifyOptions) (Result, error) {
	res := Result{Events: len(h)}
	if err := CheckInvariants(h, false); err != nil {
		return res, err
	}
	var starts []int
	for i := range h {
		if h[i].Ext != nil && len(h[i].Ext.Trigger) > 0 {
			starts = append(starts, i)
		}
	}
	if len(starts) == 0 {
		return res, errors.Mark(errors.New("no event carries a decider trigger (an AWS export, or an sfnd export without --with-ext): the history can be replayed, not verified"), ErrNoTriggers)
	}
	if starts[0] != 0 {
		res.Fault = &Fault{EventID: 1, Decision: 1, Message: "ExecutionStarted carries no trigger: the history is not decider-made from its start"}
		return res, nil
	}
	if opts.TaskToken != nil && opts.TaskTokenV1 != nil {
		opts.TaskToken = tokensAsRecorded(h, opts.TaskToken, opts.TaskTokenV1)
	}
	sm, err := asl.Parse(h[0].Ext.Definition)
	if err != nil {
		res.Fault = &Fault{EventID: 1, Decision: 1, Field: "sfnd.definition", Message: "recorded definition does not parse: " + err.Error()}
		return res, nil
	}
	every := opts.RebuildEvery
	if every <= 0 {
		every = 1 + len(h)*len(starts)/2/rebuildBudget
	}
	var x *asl.Execution
	for k, s := range starts {
		end := len(h)
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		res.Decisions++
		if x == nil || k%every == 0 {
			x = asl.Rebuild(sm, h[:s])
		}
		if f := verifyDecision(sm, x, h, s, end, opts); f != nil {
			res.Fault = f
			return res, nil
		}
	}
	return res, nil
}

// tokensAsRecorded returns the token function a replay of h uses: a task whose
// version 1 token appears in the recorded events gets it, every other task the
// current format's. Executions begun before opaque tokens replay as they ran.
func tokensAsRecorded(h []events.HistoryEvent, current, v1 func(string, int64) string) func(string, int64) string {
	var recorded string
	return func(execARN string, id int64) string {
		old := v1(execARN, id)
		if recorded == "" {
			b, _ := json.Marshal(h)
			recorded = string(b)
		}
		if strings.Contains(recorded, old) {
			return old
		}
		return current(execARN, id)
	}
}

// verifyDecision runs the decision recorded at h[start:end] on x (the execution as
// of h[:start]), which it leaves as of h[:end] when it returns no fault.
func verifyDecision(sm *asl.StateMachine, x *asl.Execution, h []events.HistoryEvent, start, end int, opts VerifyOptions) *Fault {
	first := h[start]
	var trig asl.Trigger
	if err := json.Unmarshal(first.Ext.Trigger, &trig); err != nil {
		return &Fault{EventID: first.ID, Decision: first.ID, Field: "sfnd.trigger", Message: "recorded trigger does not decode: " + err.Error()}
	}
	recorded := h[start:end]
	execARN := x.Info().ExecutionArn
	if trig.Start != nil {
		execARN = trig.Start.ExecutionArn
	}
	if opts.TaskToken != nil {
		trig.TaskToken = func(id int64) string { return opts.TaskToken(execARN, id) }
	}
	missing := missingActivities(recorded)
	trig.ActivityExists = func(arn string) bool { return !missing[arn] }

	decided, _, err := asl.Decide(sm, x, trig)
	if err != nil {
		return &Fault{EventID: first.ID, Decision: first.ID, Message: fmt.Sprintf("the decider refuses the recorded %s trigger: %v", trig.Kind, err)}
	}
	for i := 0; i < len(recorded) || i < len(decided); i++ {
		switch {
		case i >= len(decided):
			return &Fault{EventID: recorded[i].ID, Decision: first.ID,
				Message: fmt.Sprintf("recorded %s is not decided: the %s decision makes %d events, the history has %d", recorded[i].Type, trig.Kind, len(decided), len(recorded))}
		case i >= len(recorded):
			return &Fault{EventID: decided[i].ID, Decision: first.ID, Decided: string(decided[i].Type),
				Message: fmt.Sprintf("decided %s is not recorded: the %s decision makes %d events, the history has %d", decided[i].Type, trig.Kind, len(decided), len(recorded))}
		}
		if field, rec, dec, ok := diffEvent(recorded[i], decided[i]); !ok {
			return &Fault{EventID: recorded[i].ID, Decision: first.ID, Field: field, Recorded: rec, Decided: dec,
				Message: fmt.Sprintf("%s differs at %s: recorded %s, decided %s", recorded[i].Type, field, rec, dec)}
		}
	}
	return nil
}

// missingActivities lists the activities a recorded decision found missing.
func missingActivities(evs []events.HistoryEvent) map[string]bool {
	out := map[string]bool{}
	const prefix, suffix = "The activity ", " does not exist."
	for _, ev := range evs {
		_, cause, ok := failure(&ev)
		if !ok {
			if d := ev.ExecutionFailedEventDetails; d != nil {
				cause, ok = d.Cause, true
			}
		}
		if !ok {
			continue
		}
		for {
			i := strings.Index(cause, prefix)
			if i < 0 {
				break
			}
			rest := cause[i+len(prefix):]
			j := strings.Index(rest, suffix)
			if j < 0 {
				break
			}
			out[rest[:j]] = true
			cause = rest[j:]
		}
	}
	return out
}

// comparable renders an event for comparison: its JSON, with Ext reduced to what the
// decider writes (seed, timer due, data). The rest of Ext is the engine's (the trigger,
// the definition, a nested execution's parent, a mock test case) and is recorded
// beside the decision, not decided.
func comparable(ev events.HistoryEvent) map[string]any {
	if ev.Ext != nil {
		e := events.Ext{Seed: ev.Ext.Seed, Due: ev.Ext.Due, Data: ev.Ext.Data}
		if e.Seed == 0 && e.Due == nil && len(e.Data) == 0 {
			ev.Ext = nil
		} else {
			ev.Ext = &e
		}
	}
	b, _ := json.Marshal(ev)
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	_ = dec.Decode(&m)
	return m
}

// diffEvent compares a recorded and a decided event; when they differ it returns the
// JSON path of the first difference and both values.
func diffEvent(recorded, decided events.HistoryEvent) (field, rec, dec string, same bool) {
	a, b := comparable(recorded), comparable(decided)
	if recorded.Timestamp.Truncate(time.Millisecond).Equal(decided.Timestamp.Truncate(time.Millisecond)) {
		// Equal instants may print differently (location, monotonic reading), and an
		// exported history keeps milliseconds, as AWS does.
		delete(a, "timestamp")
		delete(b, "timestamp")
	}
	for _, k := range []string{"type", "id", "previousEventId"} {
		if path, va, vb, ok := diff(k, a[k], b[k]); !ok {
			return path, render(va), render(vb), false
		}
	}
	path, va, vb, ok := diff("", a, b)
	if ok {
		return "", "", "", true
	}
	return path, render(va), render(vb), false
}

func diff(path string, a, b any) (string, any, any, bool) {
	ma, okA := a.(map[string]any)
	mb, okB := b.(map[string]any)
	if okA && okB {
		keys := map[string]bool{}
		for k := range ma {
			keys[k] = true
		}
		for k := range mb {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if q, x, y, ok := diff(p, ma[k], mb[k]); !ok {
				return q, x, y, false
			}
		}
		return "", nil, nil, true
	}
	la, okA := a.([]any)
	lb, okB := b.([]any)
	if okA && okB && len(la) == len(lb) {
		for i := range la {
			if q, x, y, ok := diff(fmt.Sprintf("%s[%d]", path, i), la[i], lb[i]); !ok {
				return q, x, y, false
			}
		}
		return "", nil, nil, true
	}
	if reflect.DeepEqual(a, b) {
		return "", nil, nil, true
	}
	if na, ok := a.(json.Number); ok {
		if nb, ok := b.(json.Number); ok {
			fa, ea := na.Float64()
			fb, eb := nb.Float64()
			if ea == nil && eb == nil && fa == fb {
				return "", nil, nil, true
			}
		}
	}
	return path, a, b, false
}

func render(v any) string {
	if v == nil {
		return "(absent)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}
