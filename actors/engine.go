// Package actors runs executions: one protoactor actor per live execution, rebuilt by
// replaying its JetStream history, driving the pure decider in actors/asl. An actor
// appends each decision's events with an expected last subject sequence, then carries
// out the decision's effects (timers, tasks), then acknowledges the command that caused
// it. Idle actors are passivated; a later command rebuilds them from the history.
package actors

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/actors/asl"
	"github.com/sfnd/sfnd/actors/metrics"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// Config tunes the engine.
type Config struct {
	// WaitTimeScale multiplies every timer's delay (1: real time).
	WaitTimeScale float64
	// IdleTimeout passivates an actor that received nothing for this long.
	IdleTimeout time.Duration
	// Now is the clock; Seed the source of randomness. Both feed the decider's triggers.
	Now    func() time.Time
	Seed   func() uint64
	Logger *slog.Logger
	// Tasks carries out task effects (activities, integrations). Outcomes come back as
	// TaskResult commands on the execution's command subject.
	Tasks TaskDispatcher
	// Ended, when set, is called after a decision that ends an execution is appended,
	// with that decision's events: the owner brings the execution's read model up to
	// date at once (the projection would, a moment later).
	Ended func(ctx context.Context, execARN string, evs []events.HistoryEvent) error
	// Mocks is the mock configuration (SFN Local's MockConfigFile): executions started
	// on "<stateMachineArn>#<TestCase>" take their Task states' results from it.
	Mocks *MockConfig
	// MapRuns runs the Distributed Map effects (asl.ReadItems, asl.StartMapRun) and
	// hears the ends of Map Run children.
	MapRuns *MapRuns
	// NodeName names this node among the nodes sharing the streams (partitions.go);
	// Endpoint is its API address, published with its record.
	NodeName string
	Endpoint string
	// Acquired is called with the command partitions this node has just become the
	// preferred owner of (all of them at start-up on a single node): it wakes their
	// running executions, whose last owner may have left timers and tasks behind.
	Acquired func(partitions []int)
	// StartHold is how long an activity's ActivityStarted report waits for the
	// task's result, to be recorded with it in one decision (one append instead of
	// two; the event keeps its time and worker). 0: DefaultStartHold; negative: never.
	StartHold time.Duration
	// Metrics, when set, counts decisions, appends, starts, ends and timer lag.
	Metrics *metrics.Metrics
}

// TaskDispatcher runs the task effects of a decision (asl.ScheduleActivity,
// asl.InvokeTask) after its events are stored. Dispatch must be idempotent: after a
// crash, recovery dispatches again every task that has no outcome in the history.
type TaskDispatcher interface {
	Dispatch(ctx context.Context, execARN string, effect asl.Effect) error
}

// Progress is what an execution's actor reports after each decision.
type Progress struct {
	LastEventID int64
	Status      string
	// Settled is true once everything the decision causes is done, the execution's
	// read model included; progress is first reported right after the append.
	Settled bool
}

// Engine owns the actors of the executions whose partitions this node consumes.
type Engine struct {
	cfg    Config
	store  *jsstore.Store
	system *actor.ActorSystem
	props  *actor.Props
	owners *owners

	mu       sync.Mutex
	pids     map[string]*actor.PID
	watchers map[string][]chan Progress

	// io bounds the history reads and appends in flight (ioSlots): a burst of commands
	// (thousands of timers coming due, a restart's recovery) queues here, in order,
	// rather than as thousands of requests on the one NATS connection.
	io chan struct{}

	// parkedCount counts actors passivated because they waited only for durable
	// timers (execution.go, parked).
	parkedCount atomic.Int64

	smMu   sync.Mutex
	sms    map[string]*asl.StateMachine // parsed definitions, by definition text
	closed bool
}

// commandMsg is what an actor receives: a command and, when it came from the command
// stream, the message to acknowledge once the decision is durable.
type commandMsg struct {
	cmd   events.Command
	msg   jetstream.Msg
	tries int // in-process redeliveries so far
	// done, when not nil, is closed once the actor has handled the command (Wake).
	done chan struct{}
	// flush: a held ActivityStarted whose hold ended (execution.go, holdStart).
	flush bool
	// answer, when not nil, is a caller of Answer waiting for the command's outcome;
	// stored is set once the command's decision is appended.
	answer *answerWait
	stored bool
}

// answerWait is how a caller of Engine.Answer learns whether the actor stored a
// decision for its command. Exactly one of the actor's verdict and the caller's
// leaving wins (state): a caller that left is owed nothing, and a command it left
// behind is then handled like any in-process command (retried on failure).
type answerWait struct {
	state  atomic.Int32 // 0: waiting; 1: verdict given; 2: the caller left
	stored chan bool    // the verdict (buffered)
}

// reply gives the caller the verdict; false when the caller had left (or a verdict was
// given already).
func (w *answerWait) reply(stored bool) bool {
	if w == nil || !w.state.CompareAndSwap(0, 1) {
		return false
	}
	w.stored <- stored
	return true
}

// NewEngine starts the actor system and the command consumer.
func NewEngine(ctx context.Context, store *jsstore.Store, cfg Config) (*Engine, error) {
	if cfg.WaitTimeScale <= 0 {
		cfg.WaitTimeScale = 1
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	if cfg.StartHold == 0 {
		cfg.StartHold = DefaultStartHold
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Seed == nil {
		cfg.Seed = rand.Uint64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	e := &Engine{
		cfg:      cfg,
		store:    store,
		pids:     map[string]*actor.PID{},
		watchers: map[string][]chan Progress{},
		sms:      map[string]*asl.StateMachine{},
		io:       make(chan struct{}, ioSlots),
	}
	logger := cfg.Logger
	e.system = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		// protoactor's own info lines (system started, ...) are noise in sfnd's log.
		return slog.New(warnAndAbove{logger.Handler()}).With("lib", "protoactor")
	}))
	e.props = actor.PropsFromProducer(func() actor.Actor { return &execActor{engine: e} })
	return e, nil
}

// Run starts consuming the command partitions (partitions.go); call it once the
// node can serve everything its executions need (Config.Acquired is called from here).
func (e *Engine) Run(ctx context.Context) error {
	o, err := newOwners(ctx, e)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.owners = o
	e.mu.Unlock()
	return nil
}

// OwnedPartitions reports, per command partition, whether this node's client is the
// one the server pinned (checked every few seconds); nil before Run.
func (e *Engine) OwnedPartitions() []bool {
	e.mu.Lock()
	o := e.owners
	e.mu.Unlock()
	if o == nil {
		return nil
	}
	return o.Owned()
}

// NotPulling lists the command partitions this node should own (the live nodes'
// rendezvous hash prefers it) and does not pull on (checked every second); nil
// before Run.
func (e *Engine) NotPulling() []int {
	e.mu.Lock()
	o := e.owners
	e.mu.Unlock()
	if o == nil {
		return nil
	}
	return o.NotPulling()
}

// route hands a command from the stream to its execution's actor.
func (e *Engine) route(m jetstream.Msg) {
	var cmd events.Command
	if err := json.Unmarshal(m.Data(), &cmd); err != nil || cmd.ExecARN == "" {
		e.cfg.Logger.Warn("dropping unreadable command", "subject", m.Subject(), "err", err)
		_ = m.Term()
		return
	}
	e.Deliver(cmd, m)
}

// Deliver sends a command to its execution's actor, spawning it if needed. msg, when
// not nil, is acknowledged by the actor once the command's decision is durable.
func (e *Engine) Deliver(cmd events.Command, msg jetstream.Msg) { e.deliver(cmd, msg, 0) }

func (e *Engine) deliver(cmd events.Command, msg jetstream.Msg, tries int) {
	e.send(&commandMsg{cmd: cmd, msg: msg, tries: tries})
}

// send hands a command message to its execution's actor, spawning it if needed. The
// message is enqueued under e.mu: an actor that passivates (also under e.mu, then
// poisons itself) has every message sent to it before its poison pill, and later
// messages go to a new actor.
func (e *Engine) send(m *commandMsg) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	pid, ok := e.pids[m.cmd.ExecARN]
	if !ok {
		pid = e.system.Root.Spawn(e.props)
		e.pids[m.cmd.ExecARN] = pid
	}
	e.system.Root.Send(pid, m)
	return true
}

// Answer hands a task's result (a CmdTaskResult command) to its execution's actor
// when that actor is resident on this node, and waits until the actor has handled it.
// It returns true once the decision the result causes is appended, its effects run
// and the read model updated: the result is then as durable as on the command stream
// (and a DescribeExecution after it sees what it caused). It returns false when the
// actor is not resident here, or stored no decision for the result (the task is not
// pending in the state the actor holds, or its append failed): nothing was recorded,
// and the caller sends the result the durable way (Tasks.answer). An error is ctx's:
// the caller left, and the command is handled without it.
func (e *Engine) Answer(ctx context.Context, cmd events.Command) (bool, error) {
	w := &answerWait{stored: make(chan bool, 1)}
	e.mu.Lock()
	pid, ok := e.pids[cmd.ExecARN]
	if ok && !e.closed {
		e.system.Root.Send(pid, &commandMsg{cmd: cmd, answer: w})
	}
	e.mu.Unlock()
	if !ok {
		return false, nil
	}
	select {
	case stored := <-w.stored:
		return stored, nil
	case <-ctx.Done():
		if w.state.CompareAndSwap(0, 2) {
			return false, ctx.Err()
		}
		return <-w.stored, nil
	}
}

// Wake delivers a Wake command (recovery) and waits until the execution's actor has
// handled it or ctx ends: recovery wakes a bounded number of executions at a time, so
// thousands of parked executions do not all load their histories at once while the
// node serves and their timers fire.
func (e *Engine) Wake(ctx context.Context, cmd events.Command) {
	cmd.Kind = events.CmdWake
	m := &commandMsg{cmd: cmd, done: make(chan struct{})}
	if !e.send(m) {
		return
	}
	select {
	case <-m.done:
	case <-ctx.Done():
	}
}

// Parked is how many actors were passivated because they waited only for durable
// timers (since the engine started).
func (e *Engine) Parked() int64 { return e.parkedCount.Load() }

// DefaultStartHold is Config.StartHold's default.
const DefaultStartHold = time.Second

// ioSlots is how many history reads and appends an engine runs at once: enough to
// keep the store busy while each waits for its reply (a timer burst: every firing
// reads a history and appends), few enough that a burst waits in the engine rather
// than as thousands of requests on the one NATS connection. 20,000 parked timers
// coming due at ~600/s (bench parked, load ~5): p99 lateness 4.4 s with 64 slots,
// 0.45 s with 256, 9 s with 1,024.
const ioSlots = 256

// acquireIO waits for an I/O slot; the returned function gives it back. While it
// waits, the command's stream message (when it has one) is kept in progress, so the
// server does not deliver it again after CommandAckWait: redelivered copies of
// commands queued here would only lengthen the queue.
func (e *Engine) acquireIO(ctx context.Context, m *commandMsg) (func(), error) {
	select {
	case e.io <- struct{}{}:
		return func() { <-e.io }, nil
	default:
	}
	tick := time.NewTicker(CommandAckWait / 3)
	defer tick.Stop()
	for {
		select {
		case e.io <- struct{}{}:
			return func() { <-e.io }, nil
		case <-tick.C:
			if m != nil && m.msg != nil {
				_ = m.msg.InProgress()
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// maxParsed bounds the parsed-definition cache (it is emptied when full).
const maxParsed = 1024

// parse returns the parsed state machine of a definition. Parsed machines are shared
// by every execution of the same definition (the decider only reads them): parsing
// costs more than running a short execution.
func (e *Engine) parse(def string) (*asl.StateMachine, error) {
	e.smMu.Lock()
	sm := e.sms[def]
	e.smMu.Unlock()
	if sm != nil {
		return sm, nil
	}
	sm, err := asl.Parse(def)
	if err != nil {
		return nil, err
	}
	e.smMu.Lock()
	if len(e.sms) >= maxParsed {
		clear(e.sms)
	}
	e.sms[def] = sm
	e.smMu.Unlock()
	return sm, nil
}

// Mocks is the engine's mock configuration (nil: none).
func (e *Engine) Mocks() *MockConfig { return e.cfg.Mocks }

// passivate forgets an idle actor; it returns false when a newer actor took its place.
func (e *Engine) passivate(arn string, pid *actor.PID) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if cur, ok := e.pids[arn]; ok && cur.Equal(pid) {
		delete(e.pids, arn)
		return true
	}
	return false
}

// Resident is the number of live execution actors (passivated ones excluded).
func (e *Engine) Resident() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.pids)
}

// Watch returns a channel that receives the execution's progress after each decision,
// and a function to stop watching.
func (e *Engine) Watch(arn string) (<-chan Progress, func()) {
	ch := make(chan Progress, 16)
	e.mu.Lock()
	e.watchers[arn] = append(e.watchers[arn], ch)
	e.mu.Unlock()
	return ch, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		ws := e.watchers[arn]
		for i, w := range ws {
			if w == ch {
				e.watchers[arn] = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(e.watchers[arn]) == 0 {
			delete(e.watchers, arn)
		}
	}
}

func (e *Engine) publish(arn string, p Progress) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ch := range e.watchers[arn] {
		select {
		case ch <- p:
		default: // a slow watcher misses intermediate progress, never the latest state
			select {
			case <-ch:
			default:
			}
			select {
			case ch <- p:
			default:
			}
		}
	}
}

// durableAfter is the delay (after --wait-time-scale) from which a timer is a
// JetStream scheduled message rather than an in-memory one.
const durableAfter = time.Second

// durable tells whether a timer due at due, armed now, is (or was, when armed
// earlier) a durable scheduled message.
func (e *Engine) durable(due time.Time) bool {
	return time.Duration(float64(due.Sub(e.cfg.Now()))*e.cfg.WaitTimeScale) >= durableAfter
}

// armTimer makes a TimerFired command arrive at due (scaled). Timers are JetStream
// scheduled messages, durable while the execution's actor is passivated or the node is
// down. A timer due within a second also runs in memory, so that it fires on time (a
// scheduled message can come a little late): its durable copy is then due
// ShortTimerBackstop later, and fires only if the in-memory one died with its process
// and recovery did not re-arm it; the decider ignores whichever firing comes second.
// Arming a timer again (a recovered execution, a decision made again after its append
// failed) schedules it anew, replacing a schedule still pending
// (jsstore.Store.ScheduleCommand).
func (e *Engine) armTimer(ctx context.Context, arn, id string, due time.Time) error {
	now := e.cfg.Now()
	delay := time.Duration(float64(due.Sub(now)) * e.cfg.WaitTimeScale)
	// Time is when the timer is due to fire (for the timer-lag metric only: the
	// decider takes the firing's time from the engine's clock).
	cmd := events.Command{Kind: events.CmdTimer, ExecARN: arn, TimerID: id, Time: now.Add(max(delay, 0))}
	if delay >= durableAfter {
		err := e.store.ScheduleCommand(ctx, cmd, id, now.Add(delay))
		if err != nil {
			// Not durable (the command stream answered nothing until ctx ended): the
			// timer still fires from memory while this process lives; the execution
			// was not marked parked, so a recovery after a crash wakes and re-arms it.
			time.AfterFunc(delay, func() { e.Deliver(cmd, nil) })
		}
		return err
	}
	delay = max(delay, 0)
	time.AfterFunc(delay, func() { e.Deliver(cmd, nil) })
	backstop := cmd
	backstop.Time = time.Time{} // a late backstop is no timer lag
	return e.store.ScheduleCommand(ctx, backstop, id, now.Add(delay+ShortTimerBackstop))
}

// armDurable arms a timer as a JetStream scheduled message whatever its delay.
func (e *Engine) armDurable(ctx context.Context, arn, id string, due time.Time) error {
	now := e.cfg.Now()
	delay := max(time.Duration(float64(due.Sub(now))*e.cfg.WaitTimeScale), 0)
	cmd := events.Command{Kind: events.CmdTimer, ExecARN: arn, TimerID: id, Time: now.Add(delay)}
	return e.store.ScheduleCommand(ctx, cmd, id, now.Add(delay))
}

// ShortTimerBackstop is how long after its due time the durable copy of an in-memory
// timer fires.
const ShortTimerBackstop = 2 * time.Second

// Close stops consuming and stops every actor.
func (e *Engine) Close() {
	e.mu.Lock()
	was := e.closed
	e.closed = true
	o := e.owners
	e.mu.Unlock()
	if was {
		return
	}
	if o != nil {
		o.close()
	}
	e.system.Shutdown()
}

// warnAndAbove passes only warnings and errors to its handler.
type warnAndAbove struct{ slog.Handler }

func (h warnAndAbove) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h warnAndAbove) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnAndAbove{h.Handler.WithAttrs(attrs)}
}

func (h warnAndAbove) WithGroup(name string) slog.Handler {
	return warnAndAbove{h.Handler.WithGroup(name)}
}

// Now is the engine's clock.
func (e *Engine) Now() time.Time { return e.cfg.Now() }

// PublishCommand makes a command to an execution durable (msgID deduplicates).
func (e *Engine) PublishCommand(ctx context.Context, cmd events.Command, msgID string) error {
	return e.store.PublishCommand(ctx, cmd, msgID)
}

// ReadExecution rebuilds an execution from its stored history (without its actor).
func (e *Engine) ReadExecution(ctx context.Context, execARN string) ([]events.HistoryEvent, *asl.Execution, error) {
	hist, _, err := e.store.ReadHistory(ctx, execARN)
	if err != nil || len(hist) == 0 {
		return hist, nil, err
	}
	def := ""
	if hist[0].Ext != nil {
		def = hist[0].Ext.Definition
	}
	sm, err := e.parse(def)
	if err != nil {
		return hist, nil, err
	}
	return hist, asl.Rebuild(sm, hist), nil
}
