package audit

import (
	"time"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/actors/asl"
	"github.com/sfnd/sfnd/events"
)

// Step is one visit of a state, as a history records it.
type Step struct {
	// EventID is the id of the state's StateEntered event, ExitID of its StateExited
	// (0 when the state never exited: it failed, or the execution is still in it).
	EventID int64 `json:"eventId"`
	ExitID  int64 `json:"exitId,omitempty"`
	// Parent is the index in Timeline.Steps of the Parallel or Map state this visit runs
	// in (-1 at the top level); Depth is the nesting depth (0 at the top level).
	Parent int `json:"parent"`
	Depth  int `json:"depth"`
	// Iteration is the Map iteration index the visit runs in (-1 outside Map).
	Iteration int     `json:"iteration"`
	State     string  `json:"state"`
	Type      string  `json:"type"`
	Input     *string `json:"input,omitempty"`
	Output    *string `json:"output,omitempty"`
	// Error and Cause are the last failure recorded in the state (a failed task
	// attempt, a Fail state, a timeout), even when a retry or a catcher dealt with it.
	Error string `json:"error,omitempty"`
	Cause string `json:"cause,omitempty"`
	// Attempts counts task schedulings (1 + retries) of a Task state.
	Attempts int       `json:"attempts,omitempty"`
	Entered  time.Time `json:"entered"`
	Exited   time.Time `json:"exited,omitzero"`
}

// Timeline is an execution as its history tells it.
type Timeline struct {
	Steps []Step `json:"steps"`
	// Status is the execution status the history ends in (RUNNING when it has no
	// terminal event).
	Status string  `json:"status"`
	Output *string `json:"output,omitempty"`
	Error  string  `json:"error,omitempty"`
	Cause  string  `json:"cause,omitempty"`
	Events int     `json:"events"`
}

// BuildTimeline derives the state timeline from the events alone: it needs neither
// the definition nor sfnd's bookkeeping, so it reads histories exported from AWS as
// well as sfnd's. Nesting comes from previousEventId chains and the Map iteration
// events, as the AWS console draws it.
func BuildTimeline(h []events.HistoryEvent) (*Timeline, error) {
	if err := CheckInvariants(h, false); err != nil {
		return nil, err
	}
	b := &builder{h: h, stepOf: map[int64]int{}, exitOf: map[int64]int{}, open: map[string][]int{},
		tl: &Timeline{Status: string(asl.StatusRunning), Events: len(h)}}
	for i := range h {
		b.add(&h[i])
	}
	return b.tl, nil
}

type builder struct {
	h      []events.HistoryEvent
	tl     *Timeline
	stepOf map[int64]int    // StateEntered event id -> step index
	exitOf map[int64]int    // StateExited event id -> step index
	open   map[string][]int // state name -> indexes of open steps
}

func (b *builder) event(id int64) *events.HistoryEvent {
	if id < 1 || id > int64(len(b.h)) {
		return nil
	}
	return &b.h[id-1]
}

func (b *builder) add(ev *events.HistoryEvent) {
	switch {
	case ev.StateEnteredEventDetails != nil:
		det := ev.StateEnteredEventDetails
		parent, iter := b.context(ev.PreviousEventID)
		depth := 0
		if parent >= 0 {
			depth = b.tl.Steps[parent].Depth + 1
		}
		b.tl.Steps = append(b.tl.Steps, Step{EventID: ev.ID, Parent: parent, Depth: depth, Iteration: iter,
			State: det.Name, Type: StateType(ev.Type), Input: det.Input, Entered: ev.Timestamp})
		i := len(b.tl.Steps) - 1
		b.stepOf[ev.ID] = i
		b.open[det.Name] = append(b.open[det.Name], i)
		return
	case ev.StateExitedEventDetails != nil:
		det := ev.StateExitedEventDetails
		i := b.pair(det.Name, ev.PreviousEventID)
		if i < 0 {
			return
		}
		s := &b.tl.Steps[i]
		s.ExitID, s.Output, s.Exited = ev.ID, det.Output, ev.Timestamp
		b.exitOf[ev.ID] = i
		b.close(det.Name, i)
		return
	}
	switch ev.Type {
	case events.ActivityScheduled, events.TaskScheduled, events.LambdaFunctionScheduled:
		if i := b.owner(ev.PreviousEventID); i >= 0 {
			b.tl.Steps[i].Attempts++
		}
	case events.ExecutionSucceeded:
		b.tl.Status = string(asl.StatusSucceeded)
		if d := ev.ExecutionSucceededEventDetails; d != nil {
			b.tl.Output = d.Output
		}
	case events.ExecutionFailed, events.ExecutionAborted, events.ExecutionTimedOut:
		status, d := asl.StatusFailed, ev.ExecutionFailedEventDetails
		if ev.Type == events.ExecutionAborted {
			status, d = asl.StatusAborted, ev.ExecutionAbortedEventDetails
		}
		if ev.Type == events.ExecutionTimedOut {
			status, d = asl.StatusTimedOut, ev.ExecutionTimedOutEventDetails
		}
		b.tl.Status = string(status)
		if d != nil {
			b.tl.Error, b.tl.Cause = d.Error, d.Cause
			if i := b.owner(ev.PreviousEventID); i >= 0 && b.tl.Steps[i].Error == "" && ev.Type == events.ExecutionFailed {
				b.tl.Steps[i].Error, b.tl.Steps[i].Cause = d.Error, d.Cause
			}
		}
	default:
		if name, cause, ok := failure(ev); ok {
			if i := b.owner(ev.PreviousEventID); i >= 0 {
				b.tl.Steps[i].Error, b.tl.Steps[i].Cause = name, cause
			}
		}
	}
}

// failure returns the error a failure event carries.
func failure(ev *events.HistoryEvent) (name, cause string, ok bool) {
	var d *events.ErrorDetails
	var td *events.TaskErrorDetails
	switch {
	case ev.ActivityFailedEventDetails != nil:
		d = ev.ActivityFailedEventDetails
	case ev.ActivityScheduleFailedEventDetails != nil:
		d = ev.ActivityScheduleFailedEventDetails
	case ev.ActivityTimedOutEventDetails != nil:
		d = ev.ActivityTimedOutEventDetails
	case ev.LambdaFunctionFailedEventDetails != nil:
		d = ev.LambdaFunctionFailedEventDetails
	case ev.LambdaFunctionScheduleFailedEventDetails != nil:
		d = ev.LambdaFunctionScheduleFailedEventDetails
	case ev.LambdaFunctionStartFailedEventDetails != nil:
		d = ev.LambdaFunctionStartFailedEventDetails
	case ev.LambdaFunctionTimedOutEventDetails != nil:
		d = ev.LambdaFunctionTimedOutEventDetails
	case ev.MapRunFailedEventDetails != nil:
		d = ev.MapRunFailedEventDetails
	case ev.TaskFailedEventDetails != nil:
		td = ev.TaskFailedEventDetails
	case ev.TaskStartFailedEventDetails != nil:
		td = ev.TaskStartFailedEventDetails
	case ev.TaskSubmitFailedEventDetails != nil:
		td = ev.TaskSubmitFailedEventDetails
	case ev.TaskTimedOutEventDetails != nil:
		td = ev.TaskTimedOutEventDetails
	case ev.EvaluationFailedEventDetails != nil:
		return ev.EvaluationFailedEventDetails.Error, ev.EvaluationFailedEventDetails.Cause, true
	}
	switch {
	case d != nil:
		return d.Error, d.Cause, true
	case td != nil:
		return td.Error, td.Cause, true
	}
	return "", "", false
}

// owner is the open step an event whose previousEventId is prev belongs to: the
// nearest open state up the previousEventId chain.
func (b *builder) owner(prev int64) int {
	for steps := 0; prev > 0 && steps < len(b.h); steps++ {
		ev := b.event(prev)
		if ev == nil {
			return -1
		}
		if i, ok := b.stepOf[ev.ID]; ok && b.tl.Steps[i].ExitID == 0 {
			return i
		}
		if i, ok := b.exitOf[ev.ID]; ok {
			// The chain passes a finished state: what follows belongs to its context.
			p, _ := b.contextOfStep(i)
			return p
		}
		prev = ev.PreviousEventID
	}
	return -1
}

// context is the enclosing Map/Parallel step (and Map iteration) of a state entered
// right after event prev.
func (b *builder) context(prev int64) (parent, iteration int) {
	for steps := 0; prev > 0 && steps < len(b.h); steps++ {
		ev := b.event(prev)
		if ev == nil {
			break
		}
		if i, ok := b.exitOf[ev.ID]; ok {
			return b.contextOfStep(i)
		}
		if i, ok := b.stepOf[ev.ID]; ok {
			if b.tl.Steps[i].ExitID == 0 && (b.tl.Steps[i].Type == "Map" || b.tl.Steps[i].Type == "Parallel") {
				return i, -1
			}
			return b.contextOfStep(i)
		}
		switch ev.Type {
		case events.ParallelStateStarted:
			return b.owner(ev.PreviousEventID), -1
		case events.MapIterationStarted:
			idx := -1
			name := ""
			if d := ev.MapIterationStartedEventDetails; d != nil {
				idx, name = d.Index, d.Name
			}
			return b.openMap(name, ev.ID), idx
		}
		prev = ev.PreviousEventID
	}
	return -1, -1
}

func (b *builder) contextOfStep(i int) (int, int) {
	return b.tl.Steps[i].Parent, b.tl.Steps[i].Iteration
}

// openMap is the newest open Map step named name entered before event id.
func (b *builder) openMap(name string, id int64) int {
	list := b.open[name]
	for k := len(list) - 1; k >= 0; k-- {
		s := b.tl.Steps[list[k]]
		if s.Type == "Map" && s.EventID < id {
			return list[k]
		}
	}
	return -1
}

// pair finds the open step a StateExited of name (previousEventId prev) closes.
func (b *builder) pair(name string, prev int64) int {
	list := b.open[name]
	switch len(list) {
	case 0:
		return -1
	case 1:
		return list[0]
	}
	// Several visits of the same state are open (Map iterations): follow the chain.
	for steps := 0; prev > 0 && steps < len(b.h); steps++ {
		if i, ok := b.stepOf[prev]; ok && b.tl.Steps[i].State == name && b.tl.Steps[i].ExitID == 0 {
			return i
		}
		ev := b.event(prev)
		if ev == nil {
			break
		}
		prev = ev.PreviousEventID
	}
	return list[len(list)-1]
}

func (b *builder) close(name string, i int) {
	list := b.open[name]
	for k, j := range list {
		if j == i {
			b.open[name] = append(list[:k:k], list[k+1:]...)
			return
		}
	}
}

// ErrMismatch marks a history whose rebuilt execution does not end as the history
// says (Replay), or whose decisions differ from what the decider decides (Verify).
var ErrMismatch = errors.New("history and decider disagree")

// Replay is the result of replaying a history.
type Replay struct {
	Timeline
	// Rebuilt says the history carries sfnd's bookkeeping (the definition on
	// ExecutionStarted, Ext on events) and was folded with the decider's own Apply;
	// the fields below are what that execution looks like.
	Rebuilt       bool                `json:"rebuilt"`
	RebuiltStatus string              `json:"rebuiltStatus,omitempty"`
	PendingTimers []asl.ScheduleTimer `json:"pendingTimers,omitempty"`
	PendingTasks  []int64             `json:"pendingTasks,omitempty"`
}

// ReplayHistory builds the timeline of a history and, when the history is sfnd's
// (its ExecutionStarted records the definition), rebuilds the execution with
// asl.Rebuild, the fold the engine itself uses, and checks that it ends in the same
// status, output and error as the events say (an error marked ErrMismatch if not).
// An AWS export has no such bookkeeping: its replay is the timeline alone.
func ReplayHistory(h []events.HistoryEvent) (*Replay, error) {
	tl, err := BuildTimeline(h)
	if err != nil {
		return nil, err
	}
	r := &Replay{Timeline: *tl}
	if h[0].Ext == nil || h[0].Ext.Definition == "" {
		return r, nil
	}
	sm, err := asl.Parse(h[0].Ext.Definition)
	if err != nil {
		return r, errors.Wrap(err, "parse the definition recorded on ExecutionStarted")
	}
	x := asl.Rebuild(sm, h)
	r.Rebuilt = true
	r.RebuiltStatus = string(x.Status())
	if x.Status() == asl.StatusRunning {
		r.PendingTimers = x.PendingTimers()
		r.PendingTasks = x.PendingTasks()
	}
	switch {
	case x.LastEventID != h[len(h)-1].ID:
		return r, errors.Mark(errors.Newf("rebuilt execution stops at event %d of %d", x.LastEventID, len(h)), ErrMismatch)
	case string(x.Status()) != tl.Status:
		return r, errors.Mark(errors.Newf("rebuilt execution is %s, the history says %s", x.Status(), tl.Status), ErrMismatch)
	case tl.Status == string(asl.StatusSucceeded) && str(x.Output()) != str(tl.Output):
		return r, errors.Mark(errors.Newf("rebuilt output %s, the history says %s", str(x.Output()), str(tl.Output)), ErrMismatch)
	case tl.Status != string(asl.StatusSucceeded) && tl.Status != string(asl.StatusRunning) && (x.Error != tl.Error || x.Cause != tl.Cause):
		return r, errors.Mark(errors.Newf("rebuilt error %q (%q), the history says %q (%q)", x.Error, x.Cause, tl.Error, tl.Cause), ErrMismatch)
	}
	return r, nil
}

func str(p *string) string {
	if p == nil {
		return "<none>"
	}
	return *p
}
