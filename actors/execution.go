package actors

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/actors/asl"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// execActor owns one execution while it is resident.
type execActor struct {
	engine  *Engine
	arn     string
	loaded  bool
	sm      *asl.StateMachine
	x       *asl.Execution // nil: the execution has no history yet
	lastSeq uint64         // stream sequence of the last stored event
	// readOnce: the history was read (or presumed empty for a start) at least once.
	readOnce bool
	// recovered lists the task effects to re-dispatch after a Wake (see tasks.go).
	recovered []asl.Effect
	// parent is the task that started this nested execution (integ_states.go); mock
	// the mock test case it runs (mocks.go).
	parent *events.ParentTask
	mock   *mockRun
	// ending holds the stored events that ended the execution (nil while it runs):
	// a command reaching an ended execution reports the end to the read model again.
	ending []events.HistoryEvent
	// mapRun is the Map Run this execution is a child of (mapruns.go).
	mapRun *events.MapRunChild
	// held are ActivityStarted reports waiting for their task's result, by scheduled
	// event id (holdStart).
	held map[int64]heldStart
}

// heldStart is an ActivityStarted report not decided yet.
type heldStart struct {
	cmd events.Command
}

// Receive implements actor.Actor.
func (a *execActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		ctx.SetReceiveTimeout(a.engine.cfg.IdleTimeout)
	case *commandMsg:
		a.arn = m.cmd.ExecARN
		// A caller of Engine.Answer hears whether the decision was stored even when
		// handling ends in a panic (the actor is then restarted and the message lost).
		defer func() { m.answer.reply(m.stored) }()
		a.handle(m)
		if m.done != nil {
			close(m.done)
		}
		// An execution that now waits only for durable timers is passivated at once:
		// its timer's command wakes it (a new actor rebuilds it from its history), so
		// resident memory does not grow with the number of parked executions.
		if a.parked() && a.engine.passivate(a.arn, ctx.Self()) {
			a.engine.parkedCount.Add(1)
			ctx.Poison(ctx.Self())
		} else if a.ended() && a.engine.passivate(a.arn, ctx.Self()) {
			// An ended execution waits for nothing: a later command (a stale result, a
			// redrive) rebuilds it from its history like any other.
			ctx.Poison(ctx.Self())
		}
	case *actor.ReceiveTimeout:
		if a.engine.passivate(a.arn, ctx.Self()) {
			ctx.Poison(ctx.Self())
		}
	}
}

const maxAttempts = 8

func (a *execActor) handle(m *commandMsg) {
	e := a.engine
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if m.cmd.Kind == events.CmdTimer && !m.cmd.Time.IsZero() && m.tries == 0 {
		e.cfg.Metrics.TimerLag(e.cfg.Now().Sub(m.cmd.Time))
	}
	if a.holdStart(m) {
		return
	}
	if len(a.held) > 0 && !a.resultOfHeld(m) {
		a.flushHeld() // every other trigger comes after the starts already reported
	}
	if m.flush {
		h, ok := a.held[m.cmd.Task.ScheduledEventID]
		if !ok {
			return // decided already, with its result
		}
		delete(a.held, m.cmd.Task.ScheduledEventID)
		m = &commandMsg{cmd: h.cmd, flush: true}
	}
	if m.cmd.Kind == events.CmdWake {
		// A wake (recovery, a partition taken over from a node that left) reads the
		// history afresh and re-arms what the execution waits for.
		a.loaded = false
	}
	fresh := false // the state was read from the store while handling this command
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if !a.loaded {
			fresh = true
			if err := a.load(ctx, m); err != nil {
				e.cfg.Logger.Error("load execution", "execution", a.arn, "err", err)
				a.nak(m)
				return
			}
			if m.cmd.Kind == events.CmdWake {
				a.rearm(ctx)
			}
		}
		if a.x == nil && (m.cmd.Start == nil || a.sm == nil) {
			a.loaded = false // a start arriving later loads afresh
			a.ack(m)         // nothing to act on: no such execution
			return
		}
		if a.x == nil {
			a.x = asl.NewExecution(a.sm)
		}
		if m.cmd.Kind == events.CmdTimer && a.heartbeatExtended(ctx, m.cmd.TimerID) {
			a.ack(m) // the task sent heartbeats: its deadline moved
			return
		}
		pending := a.pendingTasks()
		trig := a.trigger(m.cmd)
		if m.flush {
			trig.Time = m.cmd.Time // a held start is recorded when the worker took the task
		}
		if r := m.cmd.Task; r != nil && (trig.Kind == asl.TriggerTaskSucceeded || trig.Kind == asl.TriggerTaskFailed) {
			if h, ok := a.held[r.ScheduledEventID]; ok {
				// The result came within the hold: ActivityStarted goes in this
				// decision, at the time and with the worker of the report.
				delete(a.held, r.ScheduledEventID)
				at := h.cmd.Time
				trig.StartedAt, trig.WorkerName = &at, h.cmd.Task.WorkerName
			}
		}
		evs, effects, err := asl.Decide(a.sm, a.x, trig)
		if (err != nil || len(evs) == 0) && !fresh && a.stale(ctx) {
			// Nothing to do for this state, but another node has decided since this
			// actor last read or wrote (a cluster runs an execution's commands where
			// they arrive): a trigger unknown here may be the newer state's.
			a.loaded = false
			continue
		}
		if err != nil {
			if !errors.Is(err, asl.ErrAlreadyStarted) && !errors.Is(err, asl.ErrNotStarted) {
				e.cfg.Logger.Error("decide", "execution", a.arn, "trigger", trig.Kind, "err", err)
			}
			a.loaded = false // the decider may have touched x: rebuild before the next command
			a.reconcile(ctx)
			a.ack(m)
			return
		}
		if len(evs) == 0 {
			// Nothing to store; a retried Map state's item read is keyed on its
			// back-off timer, which a restart re-arms (asl: backoffRead).
			a.run(ctx, effects, false)
			a.reconcile(ctx)
			a.ack(m)
			// Nothing new (a stale or repeated command), but a waiter here may be
			// waiting for the state another node's decision produced.
			e.publish(a.arn, Progress{LastEventID: a.x.LastEventID, Status: string(a.x.Status()), Settled: true})
			return
		}
		if evs[0].Ext == nil {
			evs[0].Ext = &events.Ext{}
		}
		if evs[0].Type == events.ExecutionStarted && m.cmd.Start != nil {
			st := m.cmd.Start
			evs[0].Ext.Definition = st.Definition
			evs[0].Ext.Parent, evs[0].Ext.MockTestCase = st.Parent, st.MockTestCase
			evs[0].Ext.TraceHeader = st.TraceHeader
			a.nestedStarted(st.Parent, st.StateMachineName, st.MockTestCase)
			evs[0].Ext.MapRun, a.mapRun = st.MapRun, st.MapRun
		}
		if evs[0].Ext.Trigger, err = json.Marshal(trig); err != nil {
			e.cfg.Logger.Error("encode trigger", "execution", a.arn, "err", err)
		}
		appendStart := time.Now()
		release, err := e.acquireIO(ctx, m)
		if err != nil {
			a.loaded = false
			a.nak(m)
			return
		}
		// A decision that leaves the execution parked on durable timers arms them
		// before its events are appended and says so on the message: recovery then
		// need not wake the execution (a timer armed for a decision that is not
		// stored fires into nothing: the decider ignores unknown timers).
		var parkedOn []string // the timers the decision parks the execution on
		parked := a.parked() && a.armFirst(ctx, effects)
		if parked {
			for _, t := range a.x.PendingTimers() {
				parkedOn = append(parkedOn, t.ID)
			}
		}
		seq, err := e.store.AppendDecision(ctx, a.arn, a.lastSeq, evs, parkedOn)
		release()
		if errors.Is(err, events.ErrConflict) {
			e.cfg.Metrics.Conflict()
			a.loaded = false // another owner wrote: reload and decide again
			continue
		}
		if err != nil {
			e.cfg.Logger.Error("append history", "execution", a.arn, "err", err)
			a.loaded = false
			a.nak(m)
			return
		}
		a.lastSeq = seq
		m.stored = true
		e.cfg.Metrics.Decision(len(evs), time.Since(appendStart))
		if evs[0].Type == events.ExecutionStarted {
			e.cfg.Metrics.Started()
		}
		if st := a.x.Status(); st != asl.StatusRunning {
			e.cfg.Metrics.Ended(string(st))
		}
		// Report the durable decision at once (StartExecution waits for this), and
		// again when its effects and the read model are done.
		e.publish(a.arn, Progress{LastEventID: a.x.LastEventID, Status: string(a.x.Status())})
		a.run(ctx, effects, parked)
		a.tasksClosed(ctx, pending, trig)
		a.childEnded(ctx, evs)
		// The read model shows the end only once its consequences are done (queued
		// tasks dropped, children told).
		if a.x.Status() != asl.StatusRunning {
			a.ending = evs
		}
		redriven := evs[0].Type == events.ExecutionRedriven
		if redriven {
			a.ending = nil
		}
		if e.cfg.Ended != nil && (a.x.Status() != asl.StatusRunning || redriven) {
			if err := e.cfg.Ended(ctx, a.arn, evs); err != nil {
				e.cfg.Logger.Warn("update ended execution's read model", "execution", a.arn, "err", err)
			}
		}
		if a.mapRun != nil && e.cfg.MapRuns != nil && a.x.Status() != asl.StatusRunning {
			e.cfg.MapRuns.ChildEnded(*a.mapRun, a.x)
		}
		a.ack(m)
		e.publish(a.arn, Progress{LastEventID: a.x.LastEventID, Status: string(a.x.Status()), Settled: true})
		return
	}
	e.cfg.Logger.Error("too many append conflicts", "execution", a.arn)
	a.nak(m)
}

// holdStart keeps an in-memory ActivityStarted report (a worker took the task on
// this node) for up to Config.StartHold, waiting for the task's result: both are then
// decided together, one append instead of two. The history is the same: the trigger
// of the result's decision carries the report's time and worker (asl.Trigger
// StartedAt). Only for a loaded execution whose task has no heartbeat (its timer
// starts with ActivityStarted). A report lost with the node is what a lost in-memory
// report always was: the result implies the start.
func (a *execActor) holdStart(m *commandMsg) bool {
	r, e := m.cmd.Task, a.engine
	if m.flush || m.msg != nil || e.cfg.StartHold < 0 || m.cmd.Kind != events.CmdTaskResult || r == nil || r.Status != "Started" {
		return false
	}
	if !a.loaded || a.x == nil || !a.x.HoldableStart(r.ScheduledEventID) {
		return false
	}
	if _, ok := a.held[r.ScheduledEventID]; ok {
		return true // a repeated report
	}
	if a.held == nil {
		a.held = map[int64]heldStart{}
	}
	if m.cmd.Time.IsZero() {
		m.cmd.Time = e.cfg.Now().UTC()
	}
	a.held[r.ScheduledEventID] = heldStart{cmd: m.cmd}
	cmd := m.cmd
	time.AfterFunc(e.cfg.StartHold, func() { e.send(&commandMsg{cmd: cmd, flush: true}) })
	return true
}

// resultOfHeld tells whether a command is the result of a task whose start is held.
func (a *execActor) resultOfHeld(m *commandMsg) bool {
	r := m.cmd.Task
	if m.cmd.Kind != events.CmdTaskResult || r == nil || r.Status == "Started" {
		return m.flush
	}
	_, ok := a.held[r.ScheduledEventID]
	return ok
}

// flushHeld decides every held ActivityStarted now, oldest task first.
func (a *execActor) flushHeld() {
	ids := make([]int64, 0, len(a.held))
	for id := range a.held {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if h, ok := a.held[id]; ok {
			a.handle(&commandMsg{cmd: h.cmd, flush: true})
		}
	}
}

// load rebuilds the execution from its stored history.
func (a *execActor) load(ctx context.Context, m *commandMsg) error {
	cmd := m.cmd
	if cmd.Kind == events.CmdStart && cmd.Start != nil && !a.readOnce {
		// A start reaching a fresh actor is a new execution (the API has just
		// reserved its name): skip reading an empty history. Should one exist after
		// all, the append conflicts and the next load reads it.
		a.readOnce = true
		sm, err := a.engine.parse(cmd.Start.Definition)
		if err != nil {
			return errors.Wrap(err, "parse definition")
		}
		a.lastSeq, a.x, a.sm, a.loaded = 0, nil, sm, true
		return nil
	}
	a.readOnce = true
	release, err := a.engine.acquireIO(ctx, m)
	if err != nil {
		return err
	}
	hist, last, err := a.engine.store.ReadHistory(ctx, a.arn)
	release()
	if err != nil {
		return err
	}
	a.lastSeq = last
	a.x, a.sm, a.ending = nil, nil, nil
	if n := len(hist); n > 0 && terminal(hist[n-1].Type) {
		a.ending = hist[n-1:]
	}
	if len(hist) == 0 {
		if cmd.Start != nil {
			if a.sm, err = a.engine.parse(cmd.Start.Definition); err != nil {
				return errors.Wrap(err, "parse definition")
			}
		}
		a.loaded = true
		return nil
	}
	def := ""
	if hist[0].Ext != nil {
		def = hist[0].Ext.Definition
	}
	if a.sm, err = a.engine.parse(def); err != nil {
		return errors.Wrap(err, "parse recorded definition")
	}
	a.parent, a.mock, a.mapRun = nil, nil, nil
	if ext := hist[0].Ext; ext != nil {
		a.mapRun = ext.MapRun
	}
	if ext := hist[0].Ext; ext != nil && (ext.Parent != nil || ext.MockTestCase != "") {
		a.x = a.rebuildNested(hist) // integ_states.go, mocks.go
	} else {
		a.x = asl.Rebuild(a.sm, hist)
	}
	if cmd.Kind == events.CmdWake {
		a.recovered = pendingTaskEffects(hist, a.x.PendingTasks())
	}
	a.loaded = true
	return nil
}

// parked tells whether the execution waits for nothing but timers that are durable
// (JetStream scheduled messages, armed when at least a second away): no task, Map Run
// or child execution in flight, nothing to re-dispatch, no in-memory timer. Keeping
// such an actor resident only costs memory; the timer's command brings it back.
func (a *execActor) parked() bool {
	if !a.loaded || a.x == nil || a.x.Status() != asl.StatusRunning || len(a.recovered) > 0 {
		return false
	}
	if len(a.x.PendingTasks()) > 0 {
		return false
	}
	timers := a.x.PendingTimers()
	if len(timers) == 0 {
		return false
	}
	for _, t := range timers {
		if !a.engine.durable(t.Due) {
			return false
		}
	}
	return true
}

// ended tells whether the execution has ended with everything its end causes done
// (nothing held).
func (a *execActor) ended() bool {
	return a.loaded && a.x != nil && a.x.Status() != asl.StatusRunning && len(a.held) == 0 && len(a.recovered) == 0
}

// stale tells whether the stored history has moved past what this actor has seen.
func (a *execActor) stale(ctx context.Context) bool {
	if a.x == nil || a.lastSeq == 0 {
		return false
	}
	last, err := a.engine.store.LastHistorySeq(ctx, a.arn)
	return err == nil && last > a.lastSeq
}

// reconcile reports the end of an ended execution to the read model again when a
// command finds nothing to do: the read model may have missed it (the process died
// between the append and the update, or the projection's update was lost), and a
// Wake at recovery or a StopExecution must not leave it RUNNING. Applying an end the
// read model has is a no-op.
func (a *execActor) reconcile(ctx context.Context) {
	if len(a.ending) == 0 || a.engine.cfg.Ended == nil {
		return
	}
	if err := a.engine.cfg.Ended(ctx, a.arn, a.ending); err != nil {
		a.engine.cfg.Logger.Warn("update ended execution's read model", "execution", a.arn, "err", err)
	}
}

// terminal tells whether an event ends an execution.
func terminal(t events.Type) bool {
	switch t {
	case events.ExecutionSucceeded, events.ExecutionFailed, events.ExecutionAborted, events.ExecutionTimedOut:
		return true
	}
	return false
}

// rearm re-issues what a recovered execution waits for: its timers and its tasks.
func (a *execActor) rearm(ctx context.Context) {
	if a.x == nil || a.x.Status() != asl.StatusRunning {
		return
	}
	for _, t := range a.x.PendingTimers() {
		if err := a.engine.armTimer(ctx, a.arn, t.ID, t.Due); err != nil {
			a.engine.cfg.Logger.Error("re-arm timer", "execution", a.arn, "timer", t.ID, "err", err)
		}
	}
	a.redispatch(ctx)
}

func (a *execActor) trigger(cmd events.Command) asl.Trigger {
	t := asl.Trigger{Time: a.engine.cfg.Now().UTC(), Seed: a.engine.cfg.Seed()}
	a.taskTrigger(&t)
	switch cmd.Kind {
	case events.CmdStart, events.CmdWake:
		t.Kind = asl.TriggerStart
		if s := cmd.Start; s != nil {
			t.Start = &asl.StartInfo{
				Input: s.Input, ExecutionArn: cmd.ExecARN, Name: s.Name,
				StateMachineArn: s.StateMachineARN, StateMachineName: s.StateMachineName,
				RoleArn: s.RoleARN, StartTime: s.StartDate,
				StateMachineVersionArn: s.StateMachineVersionARN, StateMachineAliasArn: s.StateMachineAliasARN,
			}
			t.Time = s.StartDate
		}
	case events.CmdTimer:
		t.Kind = asl.TriggerTimerFired
		t.TimerID = cmd.TimerID
	case events.CmdRedrive:
		t.Kind = asl.TriggerRedrive
		t.ClientToken = cmd.ClientToken
	case events.CmdStop:
		t.Kind = asl.TriggerStop
		t.Error, t.Cause = cmd.Error, cmd.Cause
	case events.CmdTaskResult:
		if r := cmd.Task; r != nil {
			t.ScheduledEventID, t.Output, t.WorkerName = r.ScheduledEventID, r.Output, r.WorkerName
			t.Error, t.Cause = r.Error, r.Cause
			switch r.Status {
			case "Started":
				t.Kind = asl.TriggerTaskStarted
			case "Submitted":
				t.Kind = asl.TriggerTaskSubmitted
			case "Succeeded":
				t.Kind = asl.TriggerTaskSucceeded
			default:
				t.Kind = asl.TriggerTaskFailed
			}
		}
	}
	return t
}

// armFirst arms a parked decision's timers as durable scheduled messages before the
// decision is appended; false when one could not be armed (they are armed again
// after the append, the usual way).
func (a *execActor) armFirst(ctx context.Context, effects []asl.Effect) bool {
	for _, ef := range effects {
		if t, ok := ef.(asl.ScheduleTimer); ok {
			if err := a.engine.armDurable(ctx, a.arn, t.ID, t.Due); err != nil {
				a.engine.cfg.Logger.Warn("arm timer", "execution", a.arn, "timer", t.ID, "err", err)
				return false
			}
		}
	}
	return true
}

// run carries out a decision's effects after its events are stored (timers armed
// already when armed is true).
func (a *execActor) run(ctx context.Context, effects []asl.Effect, armed bool) {
	for _, ef := range effects {
		switch ef := ef.(type) {
		case asl.ScheduleTimer:
			if armed {
				continue
			}
			if err := a.engine.armTimer(ctx, a.arn, ef.ID, ef.Due); err != nil {
				a.engine.cfg.Logger.Error("arm timer", "execution", a.arn, "timer", ef.ID, "err", err)
			}
		case asl.CancelTimer:
			// A cancelled timer that fires anyway is ignored by the decider.
		default:
			if IsMapRunEffect(ef) {
				a.dispatchMapRun(ctx, ef)
				continue
			}
			if a.mocked(ctx, ef) {
				continue // the execution's mock test case answered the task
			}
			if a.engine.cfg.Tasks == nil {
				a.engine.cfg.Logger.Warn("no task dispatcher for effect", "execution", a.arn, "effect", ef)
				continue
			}
			err := a.engine.cfg.Tasks.Dispatch(ctx, a.arn, ef)
			// A stream or bucket electing a new leader (a node died) answers nothing
			// for a few seconds; dispatching again is idempotent (the task record's
			// compare-and-set, message ids).
			for err != nil && jsstore.Transient(err) && ctx.Err() == nil {
				time.Sleep(250 * time.Millisecond)
				err = a.engine.cfg.Tasks.Dispatch(ctx, a.arn, ef)
			}
			if err != nil {
				a.engine.cfg.Logger.Error("dispatch task", "execution", a.arn, "err", err)
			}
		}
	}
}

func (a *execActor) ack(m *commandMsg) {
	if m.msg != nil {
		_ = m.msg.Ack()
	}
}

// nak asks for the command again later: the stream redelivers its own messages; an
// in-process command (start, short timer) is re-delivered by the engine, with back-off;
// a result whose caller waits (Engine.Answer) goes back to the caller, who sends it the
// durable way.
func (a *execActor) nak(m *commandMsg) {
	if m.msg != nil {
		_ = m.msg.NakWithDelay(time.Second)
		return
	}
	if m.answer.reply(false) {
		return
	}
	if m.tries >= maxRedeliveries {
		a.engine.cfg.Logger.Error("giving up on command", "execution", a.arn, "kind", m.cmd.Kind)
		return
	}
	delay := time.Duration(100<<min(m.tries, 5)) * time.Millisecond
	time.AfterFunc(delay, func() { a.engine.deliver(m.cmd, nil, m.tries+1) })
}

// maxRedeliveries bounds the retries of an in-process command (about a minute).
const maxRedeliveries = 20
