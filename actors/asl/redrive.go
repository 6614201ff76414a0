package asl

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/sfnd/sfnd/events"
)

// Redrive (RedriveExecution) as the decider sees it. A redrive is a trigger like any
// other: Decide records ExecutionRedriven and goes on from where the execution
// stopped, and Apply of that event rebuilds the same state on replay.
//
// What runs again: every state that was entered and not exited when the execution
// ended. A Task is scheduled again with its retry counts reset; a Pass, Choice, Wait,
// Succeed or Fail state is entered again; a Parallel state runs again only its
// branches that had not succeeded, each from the state it stopped in; an inline Map
// runs again the iterations that failed or were aborted, then those never started; a
// Distributed Map whose Map Run started redrives that Map Run (MapRunRedriven), one
// that had not started it starts it. States that succeeded are not run again. The
// state machine's TimeoutSeconds counts again from the redrive.

// TriggerRedrive asks to redrive an execution that failed, was aborted or timed out.
const TriggerRedrive TriggerKind = "Redrive"

// MaxMapRunRedrives is AWS's hard limit on redrives of one Map Run.
const MaxMapRunRedrives = 1000

// Ext.Data keys of a redrive.
const (
	kRedriveToken = events.ExtRedriveToken // the RedriveExecution clientToken (idempotency)
	kMapRunRedo   = "mapredrive"           // MapRunSpec JSON on MapRunRedriven
)

// phRedriveRun: a Distributed Map whose Map Run is to be redriven.
const phRedriveRun phase = 100

// RedriveMapRun asks the engine to redrive a Map Run (its failed, aborted, timed out
// and never started children run again) and report its end as a task result for
// ScheduledEventID (the MapRunRedriven event).
type RedriveMapRun struct {
	ScheduledEventID int64
	Run              MapRunSpec
	RedriveCount     int
}

func (RedriveMapRun) isEffect() {}

// childStash is a Parallel/Map run closed by a failure: what a redrive needs.
type childStash struct {
	par      *parallelRun
	m        *mapRun
	children map[int]string
	results  map[int]string
	frames   map[string]*frame
}

// RedriveCount is how often the execution was redriven.
func (x *Execution) RedriveCount() int { return x.redriveCount }

// Redrivable reports whether the execution's status allows a redrive.
func (x *Execution) Redrivable() bool {
	switch x.status {
	case StatusFailed, StatusAborted, StatusTimedOut:
		return true
	}
	return false
}

// RedriveToken is the clientToken recorded on a redrive event ("" if none).
func RedriveToken(ev *events.HistoryEvent) string { return ev.RedriveToken() }

// stashChildren keeps f's Parallel/Map run before a failure closes it.
func (x *Execution) stashChildren(f *frame) {
	if f.Par == nil && f.Map == nil {
		return
	}
	s := &childStash{par: f.Par, m: f.Map, children: f.Children, results: f.Results, frames: map[string]*frame{}}
	prefix := f.Key + "/"
	for k, c := range x.frames {
		if strings.HasPrefix(k, prefix) {
			s.frames[k] = c
		}
	}
	f.stash = s
}

// applyRedriven applies ExecutionRedriven: the execution runs again from where it
// stopped (see the package comment above).
func (x *Execution) applyRedriven(ev *events.HistoryEvent, d map[string]any) {
	x.status = StatusRunning
	x.Error, x.Cause, x.output = "", "", nil
	if det := ev.ExecutionRedrivenEventDetails; det != nil {
		x.redriveCount = det.RedriveCount
	}
	x.redriveTime = ev.Timestamp
	if kind, ok := dataString(d, kTimer); ok && ev.Ext != nil && ev.Ext.Due != nil {
		x.timers[timerID(ev.ID)] = &timer{Kind: timerKind(kind), Due: *ev.Ext.Due}
	}
	if root := x.frames[""]; root != nil {
		x.restart(root, ev.ID)
	}
}

// restart makes frame f run its current state again (its subtree first).
func (x *Execution) restart(f *frame, id int64) {
	f.Src, f.Last = id, id
	if f.Phase == phDone || f.Phase == phReady {
		return
	}
	if s := f.stash; s != nil {
		f.Par, f.Map, f.Children, f.Results = s.par, s.m, s.children, s.results
		for k, c := range s.frames {
			x.frames[k] = c
		}
		f.stash = nil
	}
	f.Timer, f.RetryCount, f.Attempts = "", 0, nil
	st := f.Machine.States[f.State]
	switch {
	case f.Par != nil:
		f.Phase = phChildren
		for _, k := range sortedChildKeys(f.Children) {
			if c := x.frames[k]; c != nil {
				x.restart(c, id)
			}
		}
	case f.Map != nil && f.Map.Distributed && f.Map.Run != "":
		f.Task = nil
		f.Phase = phRedriveRun
	case f.Map != nil && !f.Map.Distributed:
		m := f.Map
		for _, k := range sortedChildKeys(f.Children) {
			x.dropFrame(k) // iterations still running when the execution stopped: run again
		}
		f.Children = map[int]string{}
		if f.Results == nil {
			f.Results = map[int]string{}
		}
		m.Redo = nil
		for i := 0; i < m.Next && i < len(m.Items); i++ {
			if _, ok := f.Results[i]; !ok {
				m.Redo = append(m.Redo, i)
			}
		}
		m.Running, m.Failed = 0, 0
		for i := range m.Workers {
			m.Workers[i] = mapWorker{Src: id, Last: id}
		}
		f.Phase = phChildren
	case st != nil && (st.Type == "Task" || st.Type == "Parallel" || st.Type == "Map"):
		f.Task, f.Par, f.Map, f.Children, f.Results = nil, nil, nil, nil, nil
		f.Phase = phRetry
	default:
		// Pass, Choice, Wait, Succeed, Fail (or a state that does not exist): entered
		// again with the input it had.
		f.Task = nil
		f.Phase = phReady
	}
}

// redrive records ExecutionRedriven; run() then goes on from the restarted frames.
func (d *decider) redrive() {
	x := d.x
	data := map[string]any{}
	if d.t.ClientToken != "" {
		data[kRedriveToken] = d.t.ClientToken
	}
	var due *time.Time
	if d.sm.TimeoutSeconds != nil {
		u := d.t.Time.Add(time.Duration(*d.sm.TimeoutSeconds) * time.Second).UTC()
		due = &u
		data[kTimer] = string(timerExecution)
	}
	ev := events.HistoryEvent{Type: events.ExecutionRedriven,
		ExecutionRedrivenEventDetails: &events.ExecutionRedrivenEventDetails{RedriveCount: x.redriveCount + 1}}
	if len(data) > 0 || due != nil {
		ev.Ext = &events.Ext{Data: data, Due: due}
	}
	ev.ID = x.LastEventID + 1
	ev.Timestamp = d.t.Time
	ev.PreviousEventID = x.LastEventID
	x.Apply(&ev)
	d.evs = append(d.evs, ev)
	if due != nil {
		d.effects = append(d.effects, ScheduleTimer{ID: timerID(ev.ID), Due: *due})
	}
}

// redriveMapRun records MapRunRedriven for a Distributed Map whose Map Run ended
// unsuccessfully and asks the engine to redrive the run.
func (d *decider) redriveMapRun(f *frame) {
	st := d.state(f)
	var spec MapRunSpec
	if err := json.Unmarshal([]byte(f.Map.Run), &spec); err != nil {
		d.runtimeFail(f, st, "The Map Run cannot be redriven: "+err.Error())
		return
	}
	n := f.Map.RunRedrives + 1
	if n > MaxMapRunRedrives {
		d.runtimeFail(f, st, "The Map Run reached the maximum number of redrives (1000)")
		return
	}
	ev := d.emit(f, events.HistoryEvent{Type: events.MapRunRedriven,
		MapRunRedrivenEventDetails: &events.MapRunRedrivenEventDetails{MapRunArn: spec.MapRunArn, RedriveCount: n}},
		map[string]any{kMapRunRedo: f.Map.Run})
	if ev.ID == 0 {
		return
	}
	d.effects = append(d.effects, RedriveMapRun{ScheduledEventID: ev.ID, Run: spec, RedriveCount: n})
}

// applyMapRunRedriven opens the redriven Map Run as the Map state's pending task.
func (x *Execution) applyMapRunRedriven(f *frame, ev *events.HistoryEvent) {
	if f.Map == nil {
		return
	}
	if det := ev.MapRunRedrivenEventDetails; det != nil {
		f.Map.RunRedrives = det.RedriveCount
	}
	f.Phase = phChildren
}
