package asl

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/actors/asl/expr"
	"github.com/sfnd/sfnd/events"
)

// TriggerKind says what happened to an execution.
type TriggerKind string

// Trigger kinds.
const (
	TriggerStart                 TriggerKind = "Start"
	TriggerTimerFired            TriggerKind = "TimerFired"
	TriggerTaskStarted           TriggerKind = "TaskStarted"
	TriggerTaskSubmitted         TriggerKind = "TaskSubmitted"
	TriggerTaskSucceeded         TriggerKind = "TaskSucceeded"
	TriggerTaskFailed            TriggerKind = "TaskFailed"
	TriggerTaskTimedOut          TriggerKind = "TaskTimedOut"
	TriggerTaskHeartbeatTimedOut TriggerKind = "TaskHeartbeatTimedOut"
	TriggerStop                  TriggerKind = "Stop"
	TriggerExecutionTimedOut     TriggerKind = "ExecutionTimedOut"
	TriggerChildFinished         TriggerKind = "ChildFinished"
)

// Trigger is one input of Decide. Time is the clock (every new event gets it) and Seed
// fresh randomness; both come from the caller, so the decider stays pure.
type Trigger struct {
	Kind TriggerKind
	Time time.Time
	Seed uint64

	// Start: everything ExecutionStarted and the Context object need.
	Start *StartInfo

	// TimerFired: the id of an Effect ScheduleTimer.
	TimerID string

	// Task results: the scheduled event id the task belongs to, and its outcome.
	ScheduledEventID int64
	Output           string
	WorkerName       string
	// StartedAt, on an activity's result, is when a worker took the task whose
	// ActivityStarted was not recorded yet (held by the engine, see HoldableStart):
	// ActivityStarted (with WorkerName) is recorded at that time, before the result.
	StartedAt *time.Time `json:",omitempty"`

	// TaskFailed / Stop: error and cause.
	Error string
	Cause string

	// TaskToken, when set, gives the task token of a task scheduled by the event with
	// this id ($$.Task.Token).
	TaskToken func(scheduledEventID int64) string `json:"-"`

	// ClientToken is RedriveExecution's clientToken (Redrive), recorded for its
	// idempotency.
	ClientToken string `json:",omitempty"`

	// ActivityExists, when set, tells whether an activity ARN names an existing
	// activity; a Task state on a missing one fails with States.Runtime, as on AWS.
	ActivityExists func(activityARN string) bool `json:"-"`
}

// Effect is something the caller does after appending the events of a Decide.
type Effect interface{ isEffect() }

// ScheduleTimer asks for a TimerFired trigger with ID at Due.
type ScheduleTimer struct {
	ID  string
	Due time.Time
}

// CancelTimer says a timer is no longer needed (firing it anyway is harmless).
type CancelTimer struct{ ID string }

// ScheduleActivity asks to enqueue an activity task.
type ScheduleActivity struct {
	ActivityArn      string
	Input            string
	ScheduledEventID int64
	TimeoutSeconds   int64 // 0: none
	HeartbeatSeconds int64 // 0: none
}

// InvokeTask asks to run a Task state's resource (service integration, Lambda ...).
// The caller reports TaskStarted and then TaskSucceeded/TaskFailed.
type InvokeTask struct {
	Resource         string
	ResourceType     string
	ResourceName     string
	Parameters       string
	ScheduledEventID int64
	TimeoutSeconds   int64
	HeartbeatSeconds int64
	Credentials      string
}

func (ScheduleTimer) isEffect()    {}
func (CancelTimer) isEffect()      {}
func (ScheduleActivity) isEffect() {}
func (InvokeTask) isEffect()       {}

// Errors of Decide.
var (
	ErrAlreadyStarted = errors.New("execution already started")
	ErrNotStarted     = errors.New("execution not started")
)

// maxPayload is AWS's payload quota (256 KiB).
const maxPayload = 256 * 1024

// Decide computes the events a trigger causes, applies them to x and returns them with
// the effects to carry out after they are appended. It runs the execution as far as it
// can without outside help. A trigger that no longer matters (a stale timer, a result
// for a task that was left) yields no events.
func Decide(sm *StateMachine, x *Execution, t Trigger) ([]events.HistoryEvent, []Effect, error) {
	d := &decider{sm: sm, x: x, t: t,
		evs: make([]events.HistoryEvent, 0, min(max(atomic.LoadInt64(&sm.evsHint), 4), 64))}
	defer func() {
		if n := int64(len(d.evs)); n > 0 {
			atomic.StoreInt64(&sm.evsHint, n)
		}
	}()
	d.rng.state = t.Seed
	if x.sm == nil {
		x.sm = sm
	}
	switch t.Kind {
	case TriggerStart:
		if x.status != StatusPending {
			return nil, nil, ErrAlreadyStarted
		}
		d.start()
	case TriggerRedrive:
		if x.status == StatusPending {
			return nil, nil, ErrNotStarted
		}
		if !x.Redrivable() {
			return nil, nil, nil // running again already (a concurrent redrive), or succeeded
		}
		d.redrive() // redrive.go
	default:
		if x.status == StatusPending {
			return nil, nil, ErrNotStarted
		}
		if x.status != StatusRunning {
			return nil, nil, nil
		}
		d.handle()
	}
	d.run()
	if d.rng.used && len(d.evs) > 0 {
		ev := &d.evs[0]
		if ev.Ext == nil {
			ev.Ext = &events.Ext{}
		}
		ev.Ext.Seed = t.Seed
	}
	if d.full {
		d.effects = nil // the execution failed on the history quota: nothing more to do
	}
	return d.evs, d.effects, nil
}

type decider struct {
	sm      *StateMachine
	x       *Execution
	t       Trigger
	evs     []events.HistoryEvent
	effects []Effect
	rng     splitmix
	prev    *int64
	at      *time.Time // when set, the timestamp of the events emitted (instead of the trigger's time)
	// ctx, when set, is the Context object to use instead of one built from the
	// execution (TestState's context parameter).
	ctx *expr.Object
	// texts caches the last payload text parsed or printed.
	texts textCache
	// mapInput caches the parsed input of the Map state whose iterations start.
	mapInput textCache
	// execInput caches the parsed execution input ($$.Execution.Input).
	execInput textCache
	// readOut holds the items a Distributed Map's ItemReader read (distmap.go)
	// while the Map state continues with them.
	readOut *string
	// full is set once the history reached MaxHistoryEvents: the execution has failed
	// and whatever the decision would still emit is dropped.
	full bool
}

// MaxHistoryEvents is AWS's hard quota of events in one execution history. Event
// number 25,000 must end the execution: when it would be anything but
// ExecutionSucceeded (or another end), the execution fails instead, as AWS documents
// ("Avoid reaching the history quota").
const MaxHistoryEvents = 25000

// historyFullCause is the cause AWS gives when an execution reaches the quota.
const historyFullCause = "The execution reached the maximum number of history events (25000)."

// splitmix is a small deterministic PRNG (SplitMix64) seeded from the trigger.
type splitmix struct {
	state uint64
	used  bool
}

func (s *splitmix) Uint64() uint64 {
	s.used = true
	s.state += 0x9e3779b97f4a7c15
	z := s.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// emit builds an event in frame f (nil: execution level, previousEventId given by prev),
// applies it and records it.
func (d *decider) emit(f *frame, ev events.HistoryEvent, data map[string]any) *events.HistoryEvent {
	if d.full {
		return &events.HistoryEvent{} // the history is closed: dropped
	}
	if d.x.LastEventID+1 == MaxHistoryEvents && !endsExecution(ev.Type) {
		d.full = true
		ev = events.HistoryEvent{ID: MaxHistoryEvents, Timestamp: d.t.Time, Type: events.ExecutionFailed,
			PreviousEventID:             d.x.LastEventID,
			ExecutionFailedEventDetails: &events.ErrorDetails{Error: "States.Runtime", Cause: historyFullCause}}
		d.x.Apply(&ev)
		d.evs = append(d.evs, ev)
		return &events.HistoryEvent{}
	}
	ev.ID = d.x.LastEventID + 1
	ev.Timestamp = d.t.Time
	if d.at != nil {
		ev.Timestamp = *d.at
	}
	if d.prev != nil {
		ev.PreviousEventID = *d.prev
	} else if f != nil {
		ev.PreviousEventID = f.Src
	}
	if f != nil {
		if f.Key != "" {
			if data == nil {
				data = map[string]any{}
			}
			data[kFrame] = f.Key
		}
	}
	if len(data) > 0 {
		ev.Ext = &events.Ext{Data: data}
	}
	d.x.Apply(&ev)
	d.evs = append(d.evs, ev)
	return &d.evs[len(d.evs)-1]
}

// emitPrev is emit with an explicit previousEventId.
func (d *decider) emitPrev(f *frame, ev events.HistoryEvent, data map[string]any, prev int64) *events.HistoryEvent {
	d.prev = &prev
	defer func() { d.prev = nil }()
	return d.emit(f, ev, data)
}

// branchesSrc is the source event id of a Parallel state's frame once every branch
// context is integrated into it.
func (d *decider) branchesSrc(f *frame) int64 {
	src := f.Src
	for _, k := range sortedChildKeys(f.Children) {
		if c := d.x.frames[k]; c != nil && c.Src > src {
			src = c.Src
		}
	}
	return src
}

// amend records a decision (retry, timer) in the last event emitted and applies it.
func (d *decider) amend(data map[string]any, due *time.Time) {
	if len(d.evs) == 0 || d.full {
		return
	}
	ev := &d.evs[len(d.evs)-1]
	if ev.Ext == nil {
		ev.Ext = &events.Ext{}
	}
	if ev.Ext.Data == nil {
		ev.Ext.Data = map[string]any{}
	}
	for k, v := range data {
		ev.Ext.Data[k] = v
	}
	if due != nil {
		u := due.UTC()
		ev.Ext.Due = &u
	}
	d.x.applyExt(ev, data)
}

// schedule records a timer decided by the last event.
func (d *decider) schedule(f *frame, kind timerKind, due time.Time) {
	d.amend(map[string]any{kTimer: string(kind), kTFrame: f.Key}, &due)
	id := timerID(d.evs[len(d.evs)-1].ID)
	d.effects = append(d.effects, ScheduleTimer{ID: id, Due: due.UTC()})
}

func (d *decider) start() {
	info := *d.t.Start
	if info.StartTime.IsZero() {
		info.StartTime = d.t.Time
	}
	meta := info
	meta.Input = ""
	b, _ := json.Marshal(meta)
	data := map[string]any{kStart: string(b)}
	var due *time.Time
	if d.sm.TimeoutSeconds != nil {
		u := info.StartTime.Add(time.Duration(*d.sm.TimeoutSeconds) * time.Second).UTC()
		due = &u
		data[kTimer] = string(timerExecution)
	}
	ev := events.HistoryEvent{
		Type: events.ExecutionStarted,
		ExecutionStartedEventDetails: &events.ExecutionStartedEventDetails{
			Input:                  events.Str(info.Input),
			InputDetails:           events.NotTruncated(),
			RoleArn:                info.RoleArn,
			StateMachineAliasArn:   info.StateMachineAliasArn,
			StateMachineVersionArn: info.StateMachineVersionArn,
		},
		Ext: &events.Ext{Data: data, Due: due},
	}
	ev.ID = 1
	ev.Timestamp = d.t.Time
	d.x.Apply(&ev)
	d.evs = append(d.evs, ev)
	if due != nil {
		d.effects = append(d.effects, ScheduleTimer{ID: timerID(1), Due: *due})
	}
}

// handle dispatches a trigger other than Start.
func (d *decider) handle() {
	x := d.x
	switch d.t.Kind {
	case TriggerTaskStarted, TriggerTaskSubmitted, TriggerTaskSucceeded, TriggerTaskFailed:
		if f := d.taskFrame(); f != nil && isDistTask(f.Task) {
			if d.t.Kind == TriggerTaskSucceeded || d.t.Kind == TriggerTaskFailed {
				d.distResult(f) // distmap.go
			}
			return
		}
		if f := d.backoffReadFrame(); f != nil {
			if d.t.Kind == TriggerTaskSucceeded || d.t.Kind == TriggerTaskFailed {
				d.backoffRead(f) // distmap.go
			}
			return
		}
	}
	switch d.t.Kind {
	case TriggerStop:
		d.endExecution(events.HistoryEvent{Type: events.ExecutionAborted,
			ExecutionAbortedEventDetails: &events.ErrorDetails{Error: d.t.Error, Cause: d.t.Cause}}, 0)
	case TriggerExecutionTimedOut:
		d.timedOut()
	case TriggerTimerFired:
		tm := x.timers[d.t.TimerID]
		if tm == nil {
			return
		}
		switch tm.Kind {
		case timerExecution:
			d.timedOut()
		case timerWait:
			f := x.frames[tm.Frame]
			if f == nil || f.Phase != phWaiting || f.Timer != d.t.TimerID {
				return
			}
			d.finishWait(f)
		case timerBackoff:
			f := x.frames[tm.Frame]
			if f == nil || f.Phase != phBackoff || f.Timer != d.t.TimerID {
				return
			}
			d.work(f)
		case timerTimeout, timerHeartbeat:
			f := x.frames[tm.Frame]
			if f == nil || f.Task == nil || f.Task.Scheduled != tm.Scheduled {
				return
			}
			name := "States.Timeout"
			if tm.Kind == timerHeartbeat && f.Task.Type == "" {
				// AWS reports a missed heartbeat of a service integration (callback)
				// task as States.Timeout, of an activity as States.HeartbeatTimeout.
				name = "States.HeartbeatTimeout"
			}
			d.taskTimedOut(f, name)
		}
	case TriggerTaskTimedOut, TriggerTaskHeartbeatTimedOut:
		f := d.taskFrame()
		if f == nil {
			return
		}
		name := "States.Timeout"
		if d.t.Kind == TriggerTaskHeartbeatTimedOut {
			name = "States.HeartbeatTimeout"
		}
		d.taskTimedOut(f, name)
	case TriggerTaskStarted:
		f := d.taskFrame()
		if f == nil || f.Task.Started {
			return
		}
		d.taskStarted(f)
	case TriggerTaskSubmitted:
		f := d.taskFrame()
		if f == nil || f.Task.Submitted {
			return // stale, or a re-issued call submitted again (recovery)
		}
		if !f.Task.Started {
			d.taskStarted(f)
		}
		d.taskSubmitted(f)
	case TriggerTaskSucceeded:
		f := d.taskFrame()
		if f == nil {
			return
		}
		if !f.Task.Started {
			d.taskStarted(f)
		}
		d.taskSucceeded(f)
	case TriggerTaskFailed:
		f := d.taskFrame()
		if f == nil {
			return
		}
		if d.t.StartedAt != nil && !f.Task.Started {
			d.taskStarted(f) // the worker took it: its start is recorded first
		}
		d.taskFailed(f, d.t.Error, d.t.Cause)
	}
}

func (d *decider) taskFrame() *frame {
	key, ok := d.x.tasks[d.t.ScheduledEventID]
	if !ok {
		return nil
	}
	f := d.x.frames[key]
	if f == nil || f.Task == nil || f.Task.Scheduled != d.t.ScheduledEventID {
		return nil
	}
	return f
}

func (d *decider) timedOut() {
	d.endExecution(events.HistoryEvent{Type: events.ExecutionTimedOut,
		ExecutionTimedOutEventDetails: &events.ErrorDetails{}}, d.root().Src)
}

func (d *decider) root() *frame {
	if f := d.x.frames[""]; f != nil {
		return f
	}
	return &frame{}
}

// endExecution emits a terminal execution event with the given previousEventId.
func (d *decider) endExecution(ev events.HistoryEvent, prev int64) {
	ev.PreviousEventID = prev
	d.emit(nil, ev, nil)
}

// run advances every frame as far as it goes.
func (d *decider) run() {
	for i := 0; d.x.status == StatusRunning; i++ {
		root := d.x.frames[""]
		if root == nil || !d.step(root) {
			return
		}
	}
}

// step does one unit of work somewhere in the frame tree, children first.
func (d *decider) step(f *frame) bool {
	for _, k := range sortedChildKeys(f.Children) {
		if c := d.x.frames[k]; c != nil && d.step(c) {
			return true
		}
	}
	return d.stepFrame(f)
}

func (d *decider) stepFrame(f *frame) bool {
	switch f.Phase {
	case phReady:
		d.enter(f)
		return true
	case phRetry:
		d.work(f)
		return true
	case phRedriveRun:
		d.redriveMapRun(f) // redrive.go
		return true
	case phEntered:
		if f.Task != nil && f.Task.Result != nil {
			d.finishTask(f)
			return true
		}
	case phChildren:
		if f.Par != nil {
			if len(f.Results) == f.Par.N {
				d.finishParallel(f)
				return true
			}
			return false
		}
		if f.Map != nil {
			return d.stepMap(f)
		}
	case phDone:
		if f.Key == "" {
			out := f.Input
			d.endExecution(events.HistoryEvent{Type: events.ExecutionSucceeded,
				ExecutionSucceededEventDetails: &events.OutputDetails{Output: &out, OutputDetails: events.NotTruncated()}}, f.Src)
			return true
		}
	}
	return false
}

func (d *decider) state(f *frame) *State { return f.Machine.States[f.State] }

// enter emits the StateEntered event of f's state and runs the state.
func (d *decider) enter(f *frame) {
	st := d.state(f)
	if st == nil {
		d.frameFailed(f, "States.Runtime", "State '"+f.State+"' does not exist")
		return
	}
	in := f.Input
	d.emit(f, events.HistoryEvent{Type: enteredType(st.Type),
		StateEnteredEventDetails: &events.StateEnteredEventDetails{Name: st.Name, Input: &in, InputDetails: events.NotTruncated()}}, nil)
	if st.isJSONata() {
		switch st.Type {
		case "Pass":
			d.jsonataPass(f, st)
			return
		case "Choice":
			d.jsonataChoice(f, st)
			return
		case "Succeed":
			d.jsonataSucceed(f, st)
			return
		case "Fail":
			d.jsonataFailState(f, st)
			return
		case "Wait":
			d.jsonataWait(f, st)
			return
		}
	}
	switch st.Type {
	case "Pass":
		d.runPass(f, st)
	case "Choice":
		d.runChoice(f, st)
	case "Succeed":
		d.runSucceed(f, st)
	case "Fail":
		d.runFail(f, st)
	case "Wait":
		d.runWait(f, st)
	case "Task", "Parallel", "Map":
		d.work(f)
	default:
		d.runtimeFail(f, st, "Unsupported state type '"+st.Type+"'")
	}
}

// work starts (or restarts, on retry) the work of a Task, Parallel or Map state.
func (d *decider) work(f *frame) {
	st := d.state(f)
	switch st.Type {
	case "Task":
		d.runTask(f, st)
	case "Parallel":
		if st.isJSONata() {
			d.jsonataParallel(f, st)
			return
		}
		d.runParallel(f, st)
	case "Map":
		if st.isJSONata() {
			d.jsonataMap(f, st)
			return
		}
		d.runMap(f, st)
	}
}

// env is the expression environment of f's current state with input in.
// The context object and the variables are built only if an expression reads them.
func (d *decider) env(f *frame, in any) expr.Env {
	return expr.Env{Input: in, Lazy: &lazyEnv{d: d, f: f}, Rand: &d.rng}
}

// lazyEnv builds the context object and the variables of frame f on first use.
type lazyEnv struct {
	d       *decider
	f       *frame
	mapItem *expr.Object // $$.Map.Item of a Map iteration's ItemSelector
	ctx     any
	vars    map[string]any
	hasCtx  bool
}

func (l *lazyEnv) Context() any {
	if !l.hasCtx {
		l.ctx, l.hasCtx = l.d.context(l.f, l.mapItem), true
	}
	return l.ctx
}

func (l *lazyEnv) Vars() map[string]any {
	if l.vars == nil {
		l.vars = l.d.vars(l.f)
	}
	return l.vars
}

// context builds the Context object ($$) of f's current state.
func (d *decider) context(f *frame, mapItem *expr.Object) any {
	if d.ctx != nil {
		c := expr.Clone(d.ctx).(*expr.Object)
		if mapItem != nil {
			m := expr.NewObject(1)
			m.Set("Item", mapItem)
			c.Set("Map", m)
		}
		return c
	}
	info := d.x.info
	exe := expr.NewObject(6)
	exe.Set("Id", info.ExecutionArn)
	exe.Set("Input", d.execInput.payload(info.Input).Value())
	exe.Set("StartTime", formatTime(info.StartTime))
	exe.Set("Name", info.Name)
	exe.Set("RoleArn", info.RoleArn)
	exe.Set("RedriveCount", json.Number(strconv.Itoa(d.x.redriveCount)))
	if d.x.redriveCount > 0 {
		exe.Set("RedriveTime", formatTime(d.x.redriveTime))
	}
	c := expr.NewObject(5)
	c.Set("Execution", exe)
	smo := expr.NewObject(2)
	smo.Set("Id", info.StateMachineArn)
	smo.Set("Name", info.StateMachineName)
	c.Set("StateMachine", smo)
	s := expr.NewObject(3)
	s.Set("EnteredTime", formatTime(f.EnteredTime))
	s.Set("Name", f.State)
	if st := f.Machine.States[f.State]; st != nil && (st.Type == "Task" || st.Type == "Map" || st.Type == "Parallel") {
		s.Set("RetryCount", json.Number(strconv.Itoa(f.RetryCount)))
	}
	c.Set("State", s)
	if f.Task != nil && d.t.TaskToken != nil {
		t := expr.NewObject(1)
		t.Set("Token", d.t.TaskToken(f.Task.Scheduled))
		c.Set("Task", t)
	}
	if mapItem != nil {
		m := expr.NewObject(1)
		m.Set("Item", mapItem)
		c.Set("Map", m)
	}
	return c
}

func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// vars collects the variables visible in f (inner scopes shadow outer ones).
func (d *decider) vars(f *frame) map[string]any {
	var chain []*frame
	for k := f.Key; ; k = parentKey(k) {
		if g := d.x.frames[k]; g != nil {
			chain = append(chain, g)
		}
		if k == "" {
			break
		}
	}
	out := map[string]any{}
	for i := len(chain) - 1; i >= 0; i-- {
		names := make([]string, 0, len(chain[i].Vars))
		for n := range chain[i].Vars {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			v, err := parseJSON(chain[i].Vars[n])
			if err == nil {
				out[n] = v
			}
		}
	}
	return out
}

// ---- failures ----

// stateError is a failure with its AWS error name and cause.
type stateError struct {
	name, cause string
}

// asStateError turns an error of expr (or any error) into an AWS error for state st.
func (d *decider) asStateError(f *frame, err error) stateError {
	if e := expr.AsError(err); e != nil {
		if e.Name == expr.ErrNameRuntime {
			return stateError{e.Name, d.runtimeCause(f, e.Cause)}
		}
		return stateError{e.Name, e.Cause}
	}
	return stateError{"States.Runtime", d.runtimeCause(f, err.Error())}
}

func (d *decider) runtimeCause(f *frame, detail string) string {
	return "An error occurred while executing the state '" + f.State + "' (entered at the event id #" +
		strconv.FormatInt(f.Entered, 10) + "). " + detail
}

// runtimeFail fails f's current state with States.Runtime and the detail text.
func (d *decider) runtimeFail(f *frame, st *State, detail string) {
	d.frameFailed(f, "States.Runtime", d.runtimeCause(f, detail))
}

// failErr fails f's current state with an error from data processing. States.Runtime
// errors are not retried or caught: they end the frame at once.
func (d *decider) failErr(f *frame, st *State, err error) {
	e := d.asStateError(f, err)
	if e.name == "States.Runtime" {
		d.frameFailed(f, e.name, e.cause)
		return
	}
	d.fail(f, st, e)
}

// fail handles an error of f's current state after its last event: retry, catch, or
// failure of the frame.
func (d *decider) fail(f *frame, st *State, e stateError) {
	if st != nil && (st.Type == "Task" || st.Type == "Parallel" || st.Type == "Map") {
		d.abortIterations(f)
		if idx, r := matchRetrier(st.Retry, e.name, f.Attempts); r != nil {
			if len(d.evs) == 0 && st.Type == "Map" {
				// The items of a Distributed Map could not be read: the retry needs an
				// event of its own to be recorded on.
				d.emit(f, events.HistoryEvent{Type: events.MapStateFailed},
					map[string]any{kError: e.name, kCause: e.cause})
			}
			delay := d.backoff(r, f.Attempts[idx])
			data := map[string]any{kRFrame: f.Key, kRetry: idx}
			if delay <= 0 {
				d.amend(data, nil)
				return
			}
			due := d.t.Time.Add(delay)
			data[kTimer] = string(timerBackoff)
			data[kTFrame] = f.Key
			d.amend(data, &due)
			d.effects = append(d.effects, ScheduleTimer{ID: timerID(d.evs[len(d.evs)-1].ID), Due: due.UTC()})
			return
		}
		switch st.Type {
		case "Parallel":
			d.emitPrev(f, events.HistoryEvent{Type: events.ParallelStateFailed},
				map[string]any{kError: e.name, kCause: e.cause}, d.branchesSrc(f))
		case "Map":
			d.emit(f, events.HistoryEvent{Type: events.MapStateFailed},
				map[string]any{kError: e.name, kCause: e.cause})
		}
		if c := matchCatcher(st.Catch, e.name); c != nil {
			d.caught(f, st, c, e)
			return
		}
	}
	d.frameFailed(f, e.name, e.cause)
}

// abortIterations ends the Map iterations of f that are still running.
func (d *decider) abortIterations(f *frame) {
	if f.Map == nil {
		return
	}
	for _, k := range sortedChildKeys(f.Children) {
		c := d.x.frames[k]
		if c == nil || c.Phase == phDone {
			continue
		}
		d.emit(c, events.HistoryEvent{Type: events.MapIterationAborted,
			MapIterationAbortedEventDetails: &events.MapIterationEventDetails{Name: f.State, Index: c.Index}}, nil)
	}
}

// caught continues at a catcher's Next with the error output merged by its ResultPath.
func (d *decider) caught(f *frame, st *State, c *Catcher, e stateError) {
	errOut := expr.NewObject(2)
	errOut.Set("Error", e.name)
	errOut.Set("Cause", e.cause)
	if st.isJSONata() {
		d.jsonataCaught(f, st, c, errOut)
		return
	}
	raw := d.texts.payload(f.Input)
	out := raw
	if c.ResultPath.Set && c.ResultPath.Null {
		out = raw
	} else if c.ResultPath.Set {
		p := c.ResultPath.Path
		v, err := expr.ApplyResultPath(raw.Value(), &p, errOut)
		if err != nil {
			d.frameFailed(f, d.asStateError(f, err).name, d.asStateError(f, err).cause)
			return
		}
		out = valPayload(v)
	} else {
		out = valPayload(errOut)
	}
	var assigned map[string]string
	if c.Assign.Set {
		var err error
		assigned, err = d.assign(f, c.Assign.Value, errOut)
		if err != nil {
			d.frameFailed(f, d.asStateError(f, err).name, d.asStateError(f, err).cause)
			return
		}
	}
	d.exit(f, st, out, c.Next, assigned)
}

// frameFailed ends frame f with an uncaught error: the execution fails, or the Map
// iteration / Parallel branch it is fails its state.
func (d *decider) frameFailed(f *frame, name, cause string) {
	if f.Key == "" {
		d.endExecution(events.HistoryEvent{Type: events.ExecutionFailed,
			ExecutionFailedEventDetails: &events.ErrorDetails{Error: name, Cause: cause}}, f.Src)
		return
	}
	p := d.x.frames[parentKey(f.Key)]
	if p == nil {
		return
	}
	pst := d.state(p)
	switch {
	case p.Map != nil:
		d.emit(f, events.HistoryEvent{Type: events.MapIterationFailed,
			MapIterationFailedEventDetails: &events.MapIterationEventDetails{Name: p.State, Index: f.Index}},
			map[string]any{kError: name, kCause: cause})
		if d.mapToleratesFailure(p.Map) {
			return
		}
		if p.Map.TolCount >= 0 || p.Map.TolPctSet {
			name, cause = "States.ExceedToleratedFailureThreshold", "The specified tolerated failure threshold was exceeded"
		}
		d.fail(p, pst, stateError{name, cause})
	case p.Par != nil:
		// The Parallel state fails with the branch's error.
		d.fail(p, pst, stateError{name, cause})
	}
}

// backoff is the delay before retry number attempt+1 of retrier r.
func (d *decider) backoff(r *Retrier, attempt int) time.Duration {
	interval := numOr(r.IntervalSeconds, 1)
	rate := numOr(r.BackoffRate, 2)
	secs := interval * math.Pow(rate, float64(attempt))
	if r.MaxDelaySeconds != nil {
		if m := numOr(r.MaxDelaySeconds, 0); m > 0 && secs > m {
			secs = m
		}
	}
	if strings.EqualFold(r.JitterStrategy, "FULL") {
		secs = secs * float64(d.rng.Uint64()>>11) / float64(1<<53)
	}
	return time.Duration(secs * float64(time.Second))
}

func numOr(n *json.Number, def float64) float64 {
	if n == nil {
		return def
	}
	f, err := n.Float64()
	if err != nil {
		return def
	}
	return f
}

// matchRetrier returns the first retrier matching the error, if it has attempts left.
func matchRetrier(rs []*Retrier, name string, attempts map[int]int) (int, *Retrier) {
	for i, r := range rs {
		if !errorMatches(r.ErrorEquals, name) {
			continue
		}
		if float64(attempts[i]) >= numOr(r.MaxAttempts, 3) {
			return -1, nil
		}
		return i, r
	}
	return -1, nil
}

func matchCatcher(cs []*Catcher, name string) *Catcher {
	for _, c := range cs {
		if errorMatches(c.ErrorEquals, name) {
			return c
		}
	}
	return nil
}

// errorMatches applies ErrorEquals: States.ALL matches every error but States.Runtime,
// States.TaskFailed every error but States.Timeout/Runtime/HeartbeatTimeout... as AWS.
func errorMatches(list []string, name string) bool {
	for _, e := range list {
		switch {
		case e == name:
			return true
		case e == "States.ALL":
			if name != "States.Runtime" {
				return true
			}
		case e == "States.Timeout" && name == "States.HeartbeatTimeout":
			return true
		case e == "States.TaskFailed":
			if !strings.HasPrefix(name, "States.") || name == "States.TaskFailed" {
				return true
			}
		}
	}
	return false
}

// ---- input/output processing ----

// effectiveInput applies InputPath then Parameters (when withParams) to the state input.
func (d *decider) effectiveInput(f *frame, st *State, withParams bool) (*payload, error) {
	raw := d.texts.payload(f.Input)
	in := raw
	switch {
	case st.InputPath.Set && st.InputPath.Null:
		in = valPayload(expr.NewObject(0))
	case st.InputPath.Set && st.InputPath.Path != "$":
		p := st.InputPath.Path
		v, err := expr.ApplyPath(&p, d.env(f, raw.Value()))
		if err != nil {
			return nil, err
		}
		in = valPayload(v)
	}
	if withParams && st.Parameters.Set {
		v, err := expr.EvalTemplate(st.Parameters.Value, d.env(f, in.Value()))
		if err != nil {
			return nil, err
		}
		in = valPayload(v)
	}
	return in, nil
}

// output applies ResultSelector (when the state has one), ResultPath and OutputPath.
func (d *decider) output(f *frame, st *State, result *payload) (*payload, error) {
	if st.ResultSelector.Set {
		v, err := expr.EvalTemplate(st.ResultSelector.Value, d.env(f, result.Value()))
		if err != nil {
			return nil, err
		}
		result = valPayload(v)
	}
	raw := d.texts.payload(f.Input)
	out := result
	if st.ResultPath.Set {
		if st.ResultPath.Null {
			out = raw
		} else if st.ResultPath.Path != "$" {
			p := st.ResultPath.Path
			v, err := expr.ApplyResultPath(raw.Value(), &p, result.Value())
			if err != nil {
				return nil, err
			}
			out = valPayload(v)
		}
	}
	return d.outputPath(f, st, out)
}

func (d *decider) outputPath(f *frame, st *State, out *payload) (*payload, error) {
	switch {
	case st.OutputPath.Set && st.OutputPath.Null:
		return valPayload(expr.NewObject(0)), nil
	case st.OutputPath.Set && st.OutputPath.Path != "$":
		p := st.OutputPath.Path
		v, err := expr.ApplyPath(&p, d.env(f, out.Value()))
		if err != nil {
			return nil, err
		}
		return valPayload(v), nil
	}
	return out, nil
}

// assign evaluates a JSONPath Assign block with $ = in, returning name -> JSON text.
func (d *decider) assign(f *frame, tmpl any, in any) (map[string]string, error) {
	v, err := expr.EvalTemplate(tmpl, d.env(f, in))
	if err != nil {
		return nil, err
	}
	obj, ok := v.(*expr.Object)
	if !ok {
		return nil, nil
	}
	out := make(map[string]string, obj.Len())
	for k, val := range obj.All() {
		out[k] = marshalJSON(val)
	}
	return out, nil
}

// exit emits f's StateExited event and moves on to next ("" ends the frame).
func (d *decider) exit(f *frame, st *State, out *payload, next string, assigned map[string]string) {
	text := out.Text()
	d.texts.remember(out)
	if len(text) > maxPayload {
		d.fail(f, st, stateError{"States.DataLimitExceeded",
			"The state/task '" + st.Name + "' returned a result with a size exceeding the maximum number of bytes service limit."})
		return
	}
	det := &events.StateExitedEventDetails{Name: st.Name, Output: &text, OutputDetails: events.NotTruncated()}
	if len(assigned) > 0 {
		det.AssignedVariables = assigned
		det.AssignedVariablesDetails = &events.AssignedVariablesDetails{}
	}
	var data map[string]any
	if next != "" {
		data = map[string]any{kNext: next}
	}
	d.emit(f, events.HistoryEvent{Type: exitedType(st.Type), StateExitedEventDetails: det}, data)
}

func nextOf(st *State) string {
	if st.End {
		return ""
	}
	return st.Next
}

// ---- simple states ----

func (d *decider) runPass(f *frame, st *State) {
	in, err := d.effectiveInput(f, st, true)
	if err != nil {
		d.failErr(f, st, err)
		return
	}
	result := in
	if st.Result.Set {
		result = valPayload(st.Result.Value)
	}
	d.assignAndExit(f, st, result)
}

// assignAndExit runs Assign on a state's result, then ResultPath and OutputPath (a
// ResultSelector, where the state has one, was applied by the caller), and exits it.
func (d *decider) assignAndExit(f *frame, st *State, result *payload) {
	var assigned map[string]string
	if st.Assign.Set {
		var err error
		assigned, err = d.assign(f, st.Assign.Value, result.Value())
		if err != nil {
			d.failErr(f, st, err)
			return
		}
	}
	sel := *st
	sel.ResultSelector = Template{}
	out, err := d.output(f, &sel, result)
	if err != nil {
		d.failErr(f, st, err)
		return
	}
	d.exit(f, st, out, nextOf(st), assigned)
}

func (d *decider) runSucceed(f *frame, st *State) {
	in, err := d.effectiveInput(f, st, false)
	if err != nil {
		d.failErr(f, st, err)
		return
	}
	out, err := d.outputPath(f, st, in)
	if err != nil {
		d.failErr(f, st, err)
		return
	}
	d.exit(f, st, out, "", nil)
}

func (d *decider) runFail(f *frame, st *State) {
	env := d.env(f, d.texts.payload(f.Input).Value())
	e := stateError{}
	if st.Error.Set {
		e.name, _ = st.Error.Value.(string)
	}
	if st.Cause.Set {
		e.cause, _ = st.Cause.Value.(string)
	}
	if st.ErrorPath != "" {
		v, err := expr.EvalPathField(st.ErrorPath, "ErrorPath", env)
		if err != nil {
			d.frameFailed(f, "States.Runtime", d.runtimeCause(f, causeOf(err)))
			return
		}
		e.name = stringify(v)
	}
	if st.CausePath != "" {
		v, err := expr.EvalPathField(st.CausePath, "CausePath", env)
		if err != nil {
			d.frameFailed(f, "States.Runtime", d.runtimeCause(f, causeOf(err)))
			return
		}
		e.cause = stringify(v)
	}
	d.frameFailed(f, e.name, e.cause)
}

func causeOf(err error) string {
	if e := expr.AsError(err); e != nil {
		return e.Cause
	}
	return err.Error()
}

func stringify(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return marshalJSON(v)
}

func (d *decider) runChoice(f *frame, st *State) {
	in, err := d.effectiveInput(f, st, false)
	if err != nil {
		d.failErr(f, st, err)
		return
	}
	env := d.env(f, in.Value())
	next := ""
	var rule *Rule
	for _, r := range st.Choices {
		ok, err := evalRule(r, env)
		if err != nil {
			d.failErr(f, st, err)
			return
		}
		if ok {
			next, rule = r.Next, r
			break
		}
	}
	if next == "" {
		next = st.Default
	}
	if next == "" {
		d.frameFailed(f, "States.NoChoiceMatched", "No Matches!")
		return
	}
	var assigned map[string]string
	if rule != nil && rule.Assign.Set {
		assigned, err = d.assign(f, rule.Assign.Value, in.Value())
	} else if st.Assign.Set {
		assigned, err = d.assign(f, st.Assign.Value, in.Value())
	}
	if err != nil {
		d.failErr(f, st, err)
		return
	}
	out, err := d.outputPath(f, st, in)
	if err != nil {
		d.failErr(f, st, err)
		return
	}
	d.exit(f, st, out, next, assigned)
}

// enteredType is the StateEntered event type of a state type.
func enteredType(stateType string) events.Type {
	switch stateType {
	case "Pass":
		return events.PassStateEntered
	case "Choice":
		return events.ChoiceStateEntered
	case "Task":
		return events.TaskStateEntered
	case "Map":
		return events.MapStateEntered
	case "Parallel":
		return events.ParallelStateEntered
	case "Wait":
		return events.WaitStateEntered
	case "Succeed":
		return events.SucceedStateEntered
	case "Fail":
		return events.FailStateEntered
	}
	return events.Type(stateType + "StateEntered")
}

// exitedType is the StateExited event type of a state type.
func exitedType(stateType string) events.Type {
	switch stateType {
	case "Pass":
		return events.PassStateExited
	case "Choice":
		return events.ChoiceStateExited
	case "Task":
		return events.TaskStateExited
	case "Map":
		return events.MapStateExited
	case "Parallel":
		return events.ParallelStateExited
	case "Wait":
		return events.WaitStateExited
	case "Succeed":
		return events.SucceedStateExited
	}
	return events.Type(stateType + "StateExited")
}

// endsExecution reports the event types that end an execution.
func endsExecution(t events.Type) bool {
	switch t {
	case events.ExecutionSucceeded, events.ExecutionFailed, events.ExecutionAborted, events.ExecutionTimedOut:
		return true
	}
	return false
}
