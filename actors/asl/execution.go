package asl

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sfnd/sfnd/events"
)

// Status is the status of an execution, in the AWS ExecutionStatus spelling.
type Status string

// Execution statuses.
const (
	StatusPending   Status = "PENDING"
	StatusRunning   Status = "RUNNING"
	StatusSucceeded Status = "SUCCEEDED"
	StatusFailed    Status = "FAILED"
	StatusTimedOut  Status = "TIMED_OUT"
	StatusAborted   Status = "ABORTED"
)

// StartInfo is what the Context object ($$) and ExecutionStarted need to know about an
// execution. It is recorded in the ExecutionStarted event.
type StartInfo struct {
	Input                  string    `json:"input"`
	ExecutionArn           string    `json:"executionArn"`
	Name                   string    `json:"name"`
	StateMachineArn        string    `json:"stateMachineArn"`
	StateMachineName       string    `json:"stateMachineName"`
	RoleArn                string    `json:"roleArn"`
	StartTime              time.Time `json:"startTime"`
	StateMachineVersionArn string    `json:"stateMachineVersionArn,omitempty"`
	StateMachineAliasArn   string    `json:"stateMachineAliasArn,omitempty"`
}

// Execution is the state of one execution, rebuilt from its history by Apply. It is
// changed by nothing else: Decide emits events and applies them.
type Execution struct {
	// LastEventID is the id of the last event applied.
	LastEventID int64
	// Error and Cause are set when the execution failed, timed out or was aborted.
	Error string
	Cause string

	sm     *StateMachine
	status Status
	output *string
	info   StartInfo
	// frames by key; the root frame has key "".
	frames map[string]*frame
	// timers pending, by id.
	timers map[string]*timer
	// tasks pending, by scheduled event id: the frame key.
	tasks map[int64]string
	// mapRuns counts distributed map runs (for their ARNs).
	mapRuns int
	// redriveCount and redriveTime: how often and when the execution was last
	// redriven (ExecutionRedriven, redrive.go).
	redriveCount int
	redriveTime  time.Time
}

type phase int

const (
	phReady    phase = iota // about to enter State
	phEntered               // state entered, work in progress within one Decide
	phWaiting               // Wait state timer pending
	phTask                  // task scheduled / started
	phBackoff               // retry back-off timer pending
	phRetry                 // retry due now: re-run the state's work
	phChildren              // Parallel branches / Map iterations running
	phDone                  // frame finished with Output
)

// frame is one thread of control: the top level, a Parallel branch or a Map iteration.
type frame struct {
	Key     string
	Machine *StateMachine
	Index   int // branch index / item index
	Worker  int // map worker this iteration runs on

	// LocalStack/AWS event history context: Src is the previousEventId of the next event,
	// Last the last event published in this frame.
	Src  int64
	Last int64

	State       string
	Phase       phase
	Entered     int64
	EnteredTime time.Time
	Input       string // the raw input of the current state (as entered), or the frame output when done
	RetryCount  int
	Attempts    map[int]int
	Timer       string
	Task        *taskInfo

	// Vars assigned in this scope: name -> JSON text.
	Vars map[string]string

	// Children (Parallel branches / Map iterations) by index; Results their outputs.
	Children map[int]string
	Results  map[int]string
	Par      *parallelRun
	Map      *mapRun
	// stash keeps the Parallel/Map run a failure closed (branches, results), for a
	// redrive of the execution to go on with (redrive.go).
	stash *childStash
}

type taskInfo struct {
	Scheduled int64
	Activity  bool
	Resource  string
	Type      string // resourceType for Task* events
	Name      string // resource for Task* events
	Started   bool
	Submitted bool // a callback task's TaskSubmitted is recorded
	Result    *string
	Input     string // the effective input of the task state (for ResultSelector/ResultPath)
	Heartbeat int64  // HeartbeatSeconds resolved when the task was scheduled (0: none)
}

type parallelRun struct {
	Started int64
	Input   string
	N       int
}

type mapRun struct {
	Started     int64
	Items       []string
	Next        int
	Running     int
	Failed      int
	Succeeded   int
	MaxConc     int
	TolCount    int // -1: none
	TolPct      float64
	TolPctSet   bool
	Distributed bool
	Workers     []mapWorker
	Input       string
	// Redo lists the iterations a redrive runs again (failed, aborted), in order,
	// before the ones never started (Next).
	Redo []int
	// Run is a Distributed Map's recorded Map Run (MapRunSpec JSON) once started, and
	// RunRedrives how often it was redriven.
	Run         string
	RunRedrives int
}

type mapWorker struct {
	Src, Last int64
	Busy      bool
	Used      bool
	Closed    bool
}

type timerKind string

const (
	timerWait      timerKind = "wait"
	timerBackoff   timerKind = "backoff"
	timerTimeout   timerKind = "timeout"
	timerHeartbeat timerKind = "heartbeat"
	timerExecution timerKind = "execution"
)

type timer struct {
	Frame     string
	Kind      timerKind
	Due       time.Time
	Scheduled int64 // for task timers: the scheduled event id
}

// NewExecution returns the empty state of an execution of sm (before ExecutionStarted).
func NewExecution(sm *StateMachine) *Execution {
	return &Execution{
		sm:     sm,
		status: StatusPending,
		frames: map[string]*frame{},
		timers: map[string]*timer{},
		tasks:  map[int64]string{},
	}
}

// Rebuild folds a stored history into an Execution.
func Rebuild(sm *StateMachine, history []events.HistoryEvent) *Execution {
	x := NewExecution(sm)
	for i := range history {
		x.Apply(&history[i])
	}
	return x
}

// Status is the execution's status.
func (x *Execution) Status() Status { return x.status }

// Output is the execution's output (set when it succeeded).
func (x *Execution) Output() *string { return x.output }

// Info is what ExecutionStarted recorded about the execution.
func (x *Execution) Info() StartInfo { return x.info }

// PendingTimers lists the timers the execution still waits for, by id, sorted: the
// actor re-arms them after a restart.
func (x *Execution) PendingTimers() []ScheduleTimer {
	out := make([]ScheduleTimer, 0, len(x.timers))
	for id, t := range x.timers {
		out = append(out, ScheduleTimer{ID: id, Due: t.Due})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// PendingTasks lists the scheduled event ids of tasks with no outcome yet.
func (x *Execution) PendingTasks() []int64 {
	out := make([]int64, 0, len(x.tasks))
	for id := range x.tasks {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Ext.Data keys.
const (
	kFrame   = "f"     // frame key of the event
	kNext    = "next"  // next state of a StateExited ("" or absent: end)
	kTimer   = "timer" // timer kind decided by this event
	kTFrame  = "tf"    // frame of that timer
	kItems   = "items" // Map items (JSON array text)
	kMaxConc = "mc"
	kTolCnt  = "tc"
	kTolPct  = "tp"
	kRetry   = "retry" // retrier index chosen (retry decided by this event)
	kRFrame  = "rf"    // frame of the retried state
	kError   = "error"
	kCause   = "cause"
	kStart   = "start" // StartInfo of ExecutionStarted
	kOutput  = "out"   // output of a distributed map run
	kInput   = "in"
	kTask    = "task" // task resource type/name "type|name"
)

func extData(ev *events.HistoryEvent) map[string]any {
	if ev.Ext == nil {
		return nil
	}
	return ev.Ext.Data
}

func dataString(d map[string]any, k string) (string, bool) {
	v, ok := d[k]
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

func dataInt(d map[string]any, k string) (int, bool) { return intOf(d[k]) }

// intOf reads an Ext.Data number, whichever way it was stored or decoded.
func intOf(x any) (int, bool) {
	switch v := x.(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case float64:
		return int(v), true
	case json.Number:
		n, err := v.Int64()
		return int(n), err == nil
	case string:
		n, err := strconv.Atoi(v)
		return n, err == nil
	}
	return 0, false
}

func dataFloat(d map[string]any, k string) (float64, bool) {
	switch v := d[k].(type) {
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case float64:
		return v, true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

// noUpdate lists event types that do not move the source event id of their frame.
func noUpdate(t events.Type) bool {
	switch t {
	case events.ExecutionStarted, events.MapIterationSucceeded, events.MapIterationFailed,
		events.MapIterationAborted, events.MapStateSucceeded, events.ParallelStateSucceeded,
		events.MapRunSucceeded:
		// A Map Run's success is the run's own record: the Map state goes on from
		// MapRunStarted (AWS histories since late 2024: MapStateExited points at
		// MapRunStarted, MapStateSucceeded at MapRunSucceeded).
		return true
	}
	return false
}

func parentKey(key string) string {
	i := strings.LastIndexByte(key, '/')
	if i < 0 {
		return ""
	}
	return key[:i]
}

func childKey(parent string, started int64, index int) string {
	return parent + "/" + strconv.FormatInt(started, 10) + "." + strconv.Itoa(index)
}

// Apply folds one event into the execution. It is the only way the state changes.
func (x *Execution) Apply(ev *events.HistoryEvent) {
	x.LastEventID = ev.ID
	d := extData(ev)
	e := viewExt(d)
	key := e.frame
	f := x.frames[key]

	switch ev.Type {
	case events.ExecutionStarted:
		x.applyStarted(ev, d)
		return
	case events.ExecutionSucceeded:
		x.status = StatusSucceeded
		if det := ev.ExecutionSucceededEventDetails; det != nil {
			x.output = det.Output
		}
		x.finish()
		return
	case events.ExecutionFailed:
		x.status = StatusFailed
		if det := ev.ExecutionFailedEventDetails; det != nil {
			x.Error, x.Cause = det.Error, det.Cause
		}
		x.finish()
		return
	case events.ExecutionAborted:
		x.status = StatusAborted
		if det := ev.ExecutionAbortedEventDetails; det != nil {
			x.Error, x.Cause = det.Error, det.Cause
		}
		x.finish()
		return
	case events.ExecutionTimedOut:
		x.status = StatusTimedOut
		if det := ev.ExecutionTimedOutEventDetails; det != nil {
			x.Error, x.Cause = det.Error, det.Cause
		}
		x.finish()
		return
	case events.ExecutionRedriven:
		x.applyRedriven(ev, d) // redrive.go
		if d != nil {
			x.applyDistMap(ev, d) // a Map state's items read again, recorded here
		}
		return
	case events.MapIterationStarted:
		if f == nil {
			f = x.openIteration(key, ev)
		}
	}
	if f == nil {
		x.applyExtView(ev, &e)
		return
	}

	f.Last = ev.ID
	if !noUpdate(ev.Type) {
		f.Src = ev.ID
	}
	// Any later event of the frame means its Wait/back-off timer has done its job.
	if f.Timer != "" {
		delete(x.timers, f.Timer)
		f.Timer = ""
	}

	switch {
	case ev.StateEnteredEventDetails != nil:
		det := ev.StateEnteredEventDetails
		f.State = det.Name
		f.Phase = phEntered
		f.Entered = ev.ID
		f.EnteredTime = ev.Timestamp
		if det.Input != nil {
			f.Input = *det.Input
		}
		f.RetryCount = 0
		f.Attempts = nil
		f.Task = nil
		f.Timer = ""
		f.stash = nil
	case ev.StateExitedEventDetails != nil:
		det := ev.StateExitedEventDetails
		if det.Output != nil {
			f.Input = *det.Output
		}
		if len(det.AssignedVariables) > 0 {
			if f.Vars == nil {
				f.Vars = map[string]string{}
			}
			for k, v := range det.AssignedVariables {
				f.Vars[k] = v
			}
		}
		f.Task, f.Timer, f.Par, f.Map, f.stash = nil, "", nil, nil, nil
		f.Children, f.Results = nil, nil
		next := e.next
		if next == "" {
			f.Phase = phDone
			f.State = ""
			x.closeFrame(f)
		} else {
			f.State = next
			f.Phase = phReady
		}
	}

	switch ev.Type {
	case events.ActivityScheduled, events.TaskScheduled, events.LambdaFunctionScheduled:
		ti := &taskInfo{Scheduled: ev.ID, Activity: ev.Type == events.ActivityScheduled}
		if det := ev.ActivityScheduledEventDetails; det != nil {
			ti.Resource = det.Resource
			if det.HeartbeatInSeconds != nil {
				ti.Heartbeat = *det.HeartbeatInSeconds
			}
		}
		if det := ev.TaskScheduledEventDetails; det != nil {
			ti.Type, ti.Name = det.ResourceType, det.Resource
			if det.HeartbeatInSeconds != nil {
				ti.Heartbeat = *det.HeartbeatInSeconds
			}
		}
		if in, ok := dataString(d, kInput); ok {
			ti.Input = in
		}
		f.Task = ti
		f.Phase = phTask
		x.tasks[ev.ID] = f.Key
	case events.ActivityStarted, events.TaskStarted, events.LambdaFunctionStarted:
		if f.Task != nil {
			f.Task.Started = true
		}
	case events.TaskSubmitted:
		if f.Task != nil {
			f.Task.Submitted = true
		}
	case events.ActivitySucceeded, events.TaskSucceeded, events.LambdaFunctionSucceeded:
		if f.Task != nil {
			var out *string
			switch {
			case ev.ActivitySucceededEventDetails != nil:
				out = ev.ActivitySucceededEventDetails.Output
			case ev.TaskSucceededEventDetails != nil:
				out = ev.TaskSucceededEventDetails.Output
			case ev.LambdaFunctionSucceededEventDetails != nil:
				out = ev.LambdaFunctionSucceededEventDetails.Output
			}
			if out == nil {
				out = events.Str("null")
			}
			f.Task.Result = out
			x.dropTaskTimers(f.Task.Scheduled)
			delete(x.tasks, f.Task.Scheduled)
		}
		f.Phase = phEntered
	case events.ActivityFailed, events.ActivityTimedOut, events.ActivityScheduleFailed,
		events.TaskFailed, events.TaskTimedOut, events.TaskStartFailed, events.TaskSubmitFailed,
		events.LambdaFunctionFailed, events.LambdaFunctionTimedOut, events.LambdaFunctionScheduleFailed,
		events.LambdaFunctionStartFailed:
		if f.Task != nil {
			x.dropTaskTimers(f.Task.Scheduled)
			delete(x.tasks, f.Task.Scheduled)
			f.Task = nil
		}
		f.Phase = phEntered
	case events.ParallelStateStarted:
		x.openBranches(f, ev, d)
	case events.MapStateStarted:
		x.closeDistTask(f)
		x.openMap(f, ev, d)
	case events.MapRunStarted:
		x.mapRuns++
		if s, ok := dataString(d, kMapRun); ok && f.Map != nil {
			f.Map.Run = s
		}
	case events.MapIterationSucceeded, events.MapIterationFailed, events.MapIterationAborted:
		x.closeIteration(f, ev)
	case events.ParallelStateSucceeded, events.MapStateSucceeded, events.MapRunSucceeded:
		x.closeDistTask(f)
		x.closeChildren(f)
	case events.ParallelStateFailed, events.ParallelStateAborted, events.MapStateFailed,
		events.MapStateAborted, events.MapRunFailed, events.MapRunAborted:
		x.closeDistTask(f)
		x.stashChildren(f) // redrive.go
		x.closeChildren(f)
	case events.WaitStateAborted, events.TaskStateAborted:
		f.Phase = phEntered
	}
	x.applyExtView(ev, &e)
	if d != nil {
		x.applyDistMap(ev, d) // distmap.go
	}
}

// extView holds the Ext.Data entries Apply reads for every event, read in one pass
// over the map (as dataString would: a value of another type counts as absent).
type extView struct {
	frame, next, timer, tframe, rframe string
	hasTimer, hasRFrame                bool
	retry                              any
}

func viewExt(d map[string]any) extView {
	var e extView
	// Most events carry one or two of these keys: look them up in order of frequency
	// and stop once every entry of the map is accounted for.
	n := len(d)
	if n == 0 {
		return e
	}
	if v, ok := d[kFrame]; ok {
		e.frame, _ = v.(string)
		n--
	}
	if v, ok := lookup(d, kNext, n); ok {
		e.next, _ = v.(string)
		n--
	}
	if v, ok := lookup(d, kTimer, n); ok {
		e.timer, e.hasTimer = v.(string)
		n--
	}
	if v, ok := lookup(d, kTFrame, n); ok {
		e.tframe, _ = v.(string)
		n--
	}
	if v, ok := lookup(d, kRFrame, n); ok {
		e.rframe, e.hasRFrame = v.(string)
		n--
	}
	if v, ok := lookup(d, kRetry, n); ok {
		e.retry = v
	}
	return e
}

// lookup is d[k] while entries of d are still unaccounted for (n > 0).
func lookup(d map[string]any, k string, n int) (any, bool) {
	if n == 0 {
		return nil, false
	}
	v, ok := d[k]
	return v, ok
}

// applyExt applies the decisions recorded in an event's Ext (timers, retries). Decide
// may add such a decision to the last event it emitted and apply just this part.
func (x *Execution) applyExt(ev *events.HistoryEvent, d map[string]any) {
	e := viewExt(d)
	x.applyExtView(ev, &e)
	x.applyDistMap(ev, d)
}

func (x *Execution) applyExtView(ev *events.HistoryEvent, e *extView) {
	if e.hasRFrame {
		if f := x.frames[e.rframe]; f != nil {
			idx, _ := intOf(e.retry)
			if f.Attempts == nil {
				f.Attempts = map[int]int{}
			}
			f.Attempts[idx]++
			f.RetryCount++
			x.closeChildren(f)
			f.stash = nil
			f.Task = nil
			f.Phase = phRetry
		}
	}
	if e.hasTimer && ev.Ext.Due != nil {
		id := timerID(ev.ID)
		t := &timer{Frame: e.tframe, Kind: timerKind(e.timer), Due: *ev.Ext.Due}
		if f := x.frames[e.tframe]; f != nil {
			switch t.Kind {
			case timerWait:
				f.Phase = phWaiting
				f.Timer = id
			case timerBackoff:
				f.Phase = phBackoff
				f.Timer = id
			case timerTimeout, timerHeartbeat:
				if f.Task != nil {
					t.Scheduled = f.Task.Scheduled
				}
			}
		}
		x.timers[id] = t
	}
}

func timerID(eventID int64) string { return "t" + strconv.FormatInt(eventID, 10) }

func (x *Execution) dropTaskTimers(scheduled int64) {
	for id, t := range x.timers {
		if t.Scheduled == scheduled && (t.Kind == timerTimeout || t.Kind == timerHeartbeat) {
			delete(x.timers, id)
		}
	}
}

func (x *Execution) applyStarted(ev *events.HistoryEvent, d map[string]any) {
	x.status = StatusRunning
	if s, ok := dataString(d, kStart); ok {
		_ = json.Unmarshal([]byte(s), &x.info)
	}
	if det := ev.ExecutionStartedEventDetails; det != nil && det.Input != nil {
		x.info.Input = *det.Input
	}
	if x.info.StartTime.IsZero() {
		x.info.StartTime = ev.Timestamp
	}
	root := &frame{Key: "", Machine: x.sm, State: x.sm.StartAt, Phase: phReady, Input: x.info.Input}
	x.frames[""] = root
	if d != nil {
		if kind, ok := dataString(d, kTimer); ok && ev.Ext.Due != nil {
			x.timers[timerID(ev.ID)] = &timer{Kind: timerKind(kind), Due: *ev.Ext.Due}
		}
	}
}

// finish ends the execution: nothing is waited for any more. The frames stay as
// they were, for a redrive to go on from (redrive.go).
func (x *Execution) finish() {
	x.timers = map[string]*timer{}
	x.tasks = map[int64]string{}
}

// closeFrame integrates a finished child frame into its parent's event context.
func (x *Execution) closeFrame(f *frame) {
	if f.Key == "" {
		return
	}
	p := x.frames[parentKey(f.Key)]
	if p == nil {
		return
	}
	if p.Par != nil {
		p.Results[f.Index] = f.Input
		if f.Src > p.Src {
			p.Src = f.Src
		}
		if f.Last > p.Last {
			p.Last = f.Last
		}
	}
}

func (x *Execution) openBranches(f *frame, ev *events.HistoryEvent, d map[string]any) {
	st := f.Machine.States[f.State]
	in, _ := dataString(d, kInput)
	f.Par = &parallelRun{Started: ev.ID, Input: in, N: len(st.Branches)}
	f.Children = map[int]string{}
	f.Results = map[int]string{}
	f.Phase = phChildren
	for i, b := range st.Branches {
		k := childKey(f.Key, ev.ID, i)
		x.frames[k] = &frame{Key: k, Machine: b, Index: i, Src: f.Src, Last: f.Src,
			State: b.StartAt, Phase: phReady, Input: in}
		f.Children[i] = k
	}
}

func (x *Execution) openMap(f *frame, ev *events.HistoryEvent, d map[string]any) {
	st := f.Machine.States[f.State]
	m := &mapRun{Started: ev.ID, TolCount: -1}
	if s, ok := dataString(d, kItems); ok {
		if v, err := parseJSON(s); err == nil {
			if arr, ok := asArray(v); ok {
				for _, it := range arr {
					m.Items = append(m.Items, marshalJSON(it))
				}
			}
		}
	}
	m.MaxConc, _ = dataInt(d, kMaxConc)
	if n, ok := dataInt(d, kTolCnt); ok {
		m.TolCount = n
	}
	if p, ok := dataFloat(d, kTolPct); ok {
		m.TolPct, m.TolPctSet = p, true
	}
	m.Input, _ = dataString(d, kInput)
	m.Distributed = st.ProcessorMode == "DISTRIBUTED"
	w := len(m.Items)
	if m.MaxConc > 0 && m.MaxConc < w {
		w = m.MaxConc
	}
	m.Workers = make([]mapWorker, w)
	for i := range m.Workers {
		m.Workers[i] = mapWorker{Src: ev.ID, Last: ev.ID}
	}
	f.Map = m
	f.Children = map[int]string{}
	f.Results = map[int]string{}
	f.Phase = phChildren
}

// openIteration creates the frame of a Map iteration on its MapIterationStarted event.
func (x *Execution) openIteration(key string, ev *events.HistoryEvent) *frame {
	p := x.frames[parentKey(key)]
	if p == nil || p.Map == nil || ev.MapIterationStartedEventDetails == nil {
		return nil
	}
	m := p.Map
	idx := ev.MapIterationStartedEventDetails.Index
	w := -1
	for i := range m.Workers {
		if !m.Workers[i].Busy && !m.Workers[i].Used && !m.Workers[i].Closed {
			w = i
			break
		}
	}
	if w < 0 {
		for i := range m.Workers {
			if !m.Workers[i].Busy && !m.Workers[i].Closed {
				w = i
				break
			}
		}
	}
	if w < 0 {
		w = 0
	}
	m.Workers[w].Busy, m.Workers[w].Used = true, true
	st := p.Machine.States[p.State]
	f := &frame{Key: key, Machine: st.Processor, Index: idx, Worker: w,
		Src: m.Workers[w].Src, Last: m.Workers[w].Src, State: st.Processor.StartAt, Phase: phReady}
	if idx < len(m.Items) {
		f.Input = m.Items[idx]
	}
	if in, ok := dataString(extData(ev), kInput); ok {
		f.Input = in
	}
	x.frames[key] = f
	p.Children[idx] = key
	m.Running++
	if len(m.Redo) > 0 && m.Redo[0] == idx {
		m.Redo = m.Redo[1:]
	}
	if idx >= m.Next {
		m.Next = idx + 1
	}
	return f
}

func (x *Execution) closeIteration(f *frame, ev *events.HistoryEvent) {
	p := x.frames[parentKey(f.Key)]
	if p == nil || p.Map == nil {
		return
	}
	m := p.Map
	m.Running--
	w := &m.Workers[f.Worker]
	w.Busy = false
	if f.Src > w.Src {
		w.Src = f.Src
	}
	if f.Last > w.Last {
		w.Last = f.Last
	}
	switch ev.Type {
	case events.MapIterationSucceeded:
		m.Succeeded++
		p.Results[f.Index] = f.Input
		if m.Next >= len(m.Items) {
			w.Src = f.Last
			x.closeWorker(p, w)
		}
	default:
		m.Failed++
		x.closeWorker(p, w)
	}
	delete(p.Children, f.Index)
	delete(x.frames, f.Key)
}

func (x *Execution) closeWorker(p *frame, w *mapWorker) {
	if w.Closed {
		return
	}
	w.Closed = true
	if w.Src > p.Src {
		p.Src = w.Src
	}
	if w.Last > p.Last {
		p.Last = w.Last
	}
}

// closeChildren ends the Parallel/Map run of a frame, dropping its child frames.
func (x *Execution) closeChildren(f *frame) {
	if f.Par != nil {
		for _, k := range sortedChildKeys(f.Children) {
			if c := x.frames[k]; c != nil {
				if c.Src > f.Src {
					f.Src = c.Src
				}
				if c.Last > f.Last {
					f.Last = c.Last
				}
			}
		}
	}
	for _, k := range sortedChildKeys(f.Children) {
		x.dropFrame(k)
	}
	f.Children = nil
	f.Par = nil
	f.Map = nil
}

func (x *Execution) dropFrame(key string) {
	prefix := key + "/"
	for k := range x.frames {
		if k == key || strings.HasPrefix(k, prefix) {
			delete(x.frames, k)
		}
	}
	for id, t := range x.timers {
		if t.Frame == key || strings.HasPrefix(t.Frame, prefix) {
			delete(x.timers, id)
		}
	}
	for id, k := range x.tasks {
		if k == key || strings.HasPrefix(k, prefix) {
			delete(x.tasks, id)
		}
	}
}

func sortedChildKeys(m map[int]string) []string {
	idx := make([]int, 0, len(m))
	for i := range m {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	out := make([]string, len(idx))
	for i, n := range idx {
		out[i] = m[n]
	}
	return out
}

func asArray(v any) ([]any, bool) {
	a, ok := v.([]any)
	return a, ok
}
