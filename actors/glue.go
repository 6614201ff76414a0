package actors

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/actors/gluerun"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// GlueConfig tunes the Glue engine.
type GlueConfig struct {
	Now    func() time.Time
	Logger *slog.Logger
	// TimeScale multiplies job timeouts and crawl durations (tests run minutes in
	// seconds); 1 = real time.
	TimeScale float64
	// IdleTimeout passivates a run's actor that received nothing for this long.
	IdleTimeout time.Duration
	// WaitFor, when set, blocks until the resource read models applied the stream
	// sequence seq (a caller then reads its own writes).
	WaitFor func(ctx context.Context, seq uint64) error
}

// Glue runs Glue's workflow runs (one actor per run, rebuilt from its history subject
// and driven by the pure decider in actors/gluerun), and keeps job runs and crawls:
// it enqueues them on the GLUE_WORK queue and folds their runners' reports into their
// records (gluejobs.go).
type Glue struct {
	cfg    GlueConfig
	store  *jsstore.Store
	system *actor.ActorSystem
	props  *actor.Props
	ccs    []jetstream.ConsumeContext

	mu       sync.Mutex
	pids     map[string]*actor.PID
	watchers map[string][]chan string // run id -> status after each decision
	closed   bool
	// events queues events for EVENT triggers: folded one at a time, in order.
	events chan func()
	done   chan struct{}
	// fireTrigger starts a workflow run for a trigger's schedule or event batch (set by
	// the API, which owns the start path).
	fireTrigger func(ctx context.Context, cmd GlueCommand) error
}

// Kinds of GlueCommand.
const (
	GlueCmdRun      = "run"      // a trigger of a workflow run's decider
	GlueCmdSchedule = "schedule" // a SCHEDULED trigger's instant
	GlueCmdBatch    = "batch"    // an EVENT trigger's batch window ended
	GlueCmdEvent    = "event"    // an event for a workflow's EVENT trigger
)

// GlueEvent is an event for a workflow's EVENT start trigger, as published on
// jsstore.GlueEventSubject.
type GlueEvent struct {
	Workflow string `json:"workflow"`
	Id       string `json:"id"`
}

// GlueCommand is one message of the GLUE_CMD stream.
type GlueCommand struct {
	Kind     string           `json:"kind"`
	Workflow string           `json:"workflow,omitempty"`
	RunId    string           `json:"runId,omitempty"`
	Trigger  *gluerun.Trigger `json:"trigger,omitempty"`
	// TriggerName and Due: a schedule or batch-window command.
	TriggerName string    `json:"triggerName,omitempty"`
	Due         time.Time `json:"due,omitempty"`
	Batch       string    `json:"batch,omitempty"`
}

type glueMsg struct {
	cmd GlueCommand
	msg jetstream.Msg
}

// NewGlue starts the Glue engine: the run actors' command consumer and the work
// reports' consumer.
func NewGlue(ctx context.Context, store *jsstore.Store, cfg GlueConfig) (*Glue, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.TimeScale <= 0 {
		cfg.TimeScale = 1
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	g := &Glue{cfg: cfg, store: store, pids: map[string]*actor.PID{}, watchers: map[string][]chan string{}, events: make(chan func(), 1024), done: make(chan struct{})}
	go func() {
		for {
			select {
			case fn := <-g.events:
				fn()
			case <-g.done:
				return
			}
		}
	}()
	logger := cfg.Logger
	g.system = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(warnAndAbove{logger.Handler()}).With("lib", "protoactor")
	}))
	g.props = actor.PropsFromProducer(func() actor.Actor { return &glueRunActor{glue: g} })
	cons, err := jsstore.EnsureConsumer(ctx, store.GlueCommands(), jetstream.ConsumerConfig{
		Durable:       "sfnd-glue-runs",
		FilterSubject: jsstore.GlueCommandPrefix + ">",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxAckPending: 10000,
	})
	if err != nil {
		return nil, errors.Wrap(err, "create glue command consumer")
	}
	cc, err := cons.Consume(g.route)
	if err != nil {
		return nil, errors.Wrap(err, "consume glue commands")
	}
	g.ccs = append(g.ccs, cc)
	rcons, err := jsstore.EnsureConsumer(ctx, store.GlueWork(), jetstream.ConsumerConfig{
		Durable:       "sfnd-glue-reports",
		FilterSubject: jsstore.GlueReportSubject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxAckPending: 1, // reports are folded in order
	})
	if err != nil {
		return nil, errors.Wrap(err, "create glue report consumer")
	}
	rcc, err := rcons.Consume(g.report)
	if err != nil {
		return nil, errors.Wrap(err, "consume glue reports")
	}
	g.ccs = append(g.ccs, rcc)
	return g, nil
}

// OnTrigger sets what starts a workflow run for a schedule instant or an event batch.
func (g *Glue) OnTrigger(fn func(ctx context.Context, cmd GlueCommand) error) { g.fireTrigger = fn }

// Close stops consuming and stops every actor.
func (g *Glue) Close() {
	g.mu.Lock()
	was := g.closed
	g.closed = true
	g.mu.Unlock()
	if was {
		return
	}
	for _, cc := range g.ccs {
		cc.Stop()
	}
	close(g.done)
	g.system.Shutdown()
}

func (g *Glue) now() time.Time { return g.cfg.Now().UTC() }

func (g *Glue) route(m jetstream.Msg) {
	var cmd GlueCommand
	if m.Subject() == jsstore.GlueEventSubject {
		var ev GlueEvent
		if err := json.Unmarshal(m.Data(), &ev); err != nil || ev.Workflow == "" {
			g.cfg.Logger.Warn("dropping unreadable glue event", "err", err)
			_ = m.Term()
			return
		}
		if ev.Id == "" {
			if md, err := m.Metadata(); err == nil {
				ev.Id = "event-" + itoa64(int64(md.Sequence.Stream))
			}
		}
		cmd = GlueCommand{Kind: GlueCmdEvent, Workflow: ev.Workflow, Batch: ev.Id}
		g.fire(m, cmd)
		return
	}
	if err := json.Unmarshal(m.Data(), &cmd); err != nil {
		g.cfg.Logger.Warn("dropping unreadable glue command", "subject", m.Subject(), "err", err)
		_ = m.Term()
		return
	}
	switch cmd.Kind {
	case GlueCmdRun:
		g.deliver(cmd, m)
	case GlueCmdSchedule, GlueCmdBatch:
		g.fire(m, cmd)
	default:
		_ = m.Term()
	}
}

// fire hands a schedule instant, batch window or event to the API's start path, off
// the consumer's goroutine (a start waits for the run's first decision, which this
// consumer delivers). Events go through one queue, so a batch keeps their order.
func (g *Glue) fire(m jetstream.Msg, cmd GlueCommand) {
	run := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if g.fireTrigger == nil {
			_ = m.NakWithDelay(time.Second)
			return
		}
		if err := g.fireTrigger(ctx, cmd); err != nil {
			g.cfg.Logger.Error("fire trigger", "trigger", cmd.TriggerName, "workflow", cmd.Workflow, "err", err)
			_ = m.NakWithDelay(time.Second)
			return
		}
		_ = m.Ack()
	}
	if cmd.Kind == GlueCmdEvent {
		select {
		case g.events <- run:
		case <-g.done:
		}
		return
	}
	go run()
}

func (g *Glue) deliver(cmd GlueCommand, m jetstream.Msg) {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return
	}
	pid, ok := g.pids[cmd.RunId]
	if !ok {
		pid = g.system.Root.Spawn(g.props)
		g.pids[cmd.RunId] = pid
	}
	g.mu.Unlock()
	g.system.Root.Send(pid, &glueMsg{cmd: cmd, msg: m})
}

// Send makes a command to a workflow run durable; with wait, it returns once the run
// decided on it (bounded: the command is durable either way).
func (g *Glue) Send(ctx context.Context, workflow, runID string, t gluerun.Trigger, msgID string, wait bool) error {
	cmd := GlueCommand{Kind: GlueCmdRun, Workflow: workflow, RunId: runID, Trigger: &t}
	data, err := json.Marshal(cmd)
	if err != nil {
		return errors.Wrap(err, "encode glue command")
	}
	var ch <-chan string
	var stop func()
	var before int64
	if wait {
		ch, stop = g.watch(runID)
		defer stop()
		before = g.runModelEvent(ctx, workflow, runID)
	}
	if err := g.store.PublishGlueCommand(ctx, jsstore.GlueRunCommandSubject(runID), data, msgID); err != nil {
		return err
	}
	if !wait {
		return nil
	}
	// The run's actor may live on another node: its read model moving on says the
	// decision is made as well as this node's own actor does.
	bound := time.NewTimer(10 * time.Second)
	defer bound.Stop()
	poll := time.NewTicker(25 * time.Millisecond)
	defer poll.Stop()
	for {
		select {
		case <-ch:
			return nil
		case <-poll.C:
			if g.runModelEvent(ctx, workflow, runID) > before {
				return nil
			}
		case <-bound.C:
			return nil // durable either way
		case <-ctx.Done():
			return errors.Wrap(ctx.Err(), "wait for workflow run")
		}
	}
}

// runModelEvent is the last event id the run's read model shows (0: none yet).
func (g *Glue) runModelEvent(ctx context.Context, workflow, runID string) int64 {
	rec, err := g.glueResource(ctx, GlueWorkflowRun, workflow, runID)
	if err != nil || rec == nil {
		return 0
	}
	var r struct {
		LastEventID int64 `json:"lastEventId"`
	}
	_ = json.Unmarshal(rec.Body, &r)
	return r.LastEventID
}

// Wake re-examines a run (recovery after a restart): its actor rebuilds from the
// history and re-issues what the run waits for.
func (g *Glue) Wake(ctx context.Context, workflow, runID string) error {
	return g.Send(ctx, workflow, runID, gluerun.Trigger{Kind: gluerun.TrWake}, "", false)
}

func (g *Glue) watch(runID string) (<-chan string, func()) {
	ch := make(chan string, 1)
	g.mu.Lock()
	g.watchers[runID] = append(g.watchers[runID], ch)
	g.mu.Unlock()
	return ch, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		ws := g.watchers[runID]
		for i, w := range ws {
			if w == ch {
				g.watchers[runID] = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(g.watchers[runID]) == 0 {
			delete(g.watchers, runID)
		}
	}
}

func (g *Glue) publish(runID, status string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, ch := range g.watchers[runID] {
		select {
		case ch <- status:
		default:
		}
	}
}

func (g *Glue) passivate(runID string, pid *actor.PID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if cur, ok := g.pids[runID]; ok && cur.Equal(pid) {
		delete(g.pids, runID)
		return true
	}
	return false
}

// ReadRun rebuilds a workflow run from its history (nil when it has none), with the
// history itself.
func (g *Glue) ReadRun(ctx context.Context, runID string) (*gluerun.Run, []gluerun.Event, uint64, error) {
	var evs []gluerun.Event
	last, err := g.store.ReadGlueHistory(ctx, runID, func(data []byte) error {
		var batch []gluerun.Event
		if err := json.Unmarshal(data, &batch); err != nil {
			return errors.Wrap(err, "decode glue run events")
		}
		evs = append(evs, batch...)
		return nil
	})
	if err != nil || len(evs) == 0 {
		return nil, evs, last, err
	}
	return gluerun.Rebuild(evs), evs, last, nil
}

// glueRunActor owns one workflow run while it is resident.
type glueRunActor struct {
	glue    *Glue
	runID   string
	run     *gluerun.Run // nil: no history yet
	lastSeq uint64
	loaded  bool
}

// Receive implements actor.Actor.
func (a *glueRunActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		ctx.SetReceiveTimeout(a.glue.cfg.IdleTimeout)
	case *glueMsg:
		a.runID = m.cmd.RunId
		a.handle(m)
	case *actor.ReceiveTimeout:
		if a.glue.passivate(a.runID, ctx.Self()) {
			ctx.Poison(ctx.Self())
		}
	}
}

func (a *glueRunActor) handle(m *glueMsg) {
	g := a.glue
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t := *m.cmd.Trigger
	if t.Time.IsZero() {
		t.Time = g.now()
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if !a.loaded {
			run, _, last, err := g.ReadRun(ctx, a.runID)
			if err != nil {
				g.cfg.Logger.Error("load workflow run", "run", a.runID, "err", err)
				_ = m.msg.NakWithDelay(time.Second)
				return
			}
			a.run, a.lastSeq, a.loaded = run, last, true
		}
		if a.run == nil {
			if t.Kind != gluerun.TrStart {
				_ = m.msg.Ack() // no such run
				g.publish(a.runID, "")
				return
			}
			a.run = gluerun.New()
		}
		evs, effects, err := gluerun.Decide(a.run, t)
		if err != nil {
			a.loaded = false // the decider may have touched the state: rebuild
			_ = m.msg.Ack()
			g.publish(a.runID, a.run.Status)
			return
		}
		if len(evs) == 0 {
			a.run_(ctx, effects)
			_ = m.msg.Ack()
			g.publish(a.runID, a.run.Status)
			return
		}
		decided := t
		evs[0].Decided = &decided
		data, err := json.Marshal(evs)
		if err != nil {
			g.cfg.Logger.Error("encode glue run events", "run", a.runID, "err", err)
			_ = m.msg.Term()
			return
		}
		seq, err := g.store.AppendGlueHistory(ctx, a.runID, a.lastSeq, data, a.runID+"#"+itoa64(evs[0].ID))
		if errors.Is(err, events.ErrConflict) {
			a.loaded = false
			continue
		}
		if err != nil {
			g.cfg.Logger.Error("append glue run history", "run", a.runID, "err", err)
			a.loaded = false
			_ = m.msg.NakWithDelay(time.Second)
			return
		}
		a.lastSeq = seq
		if err := g.writeRunModel(ctx, a.run); err != nil {
			g.cfg.Logger.Warn("update workflow run read model", "run", a.runID, "err", err)
		}
		a.run_(ctx, effects)
		_ = m.msg.Ack()
		g.publish(a.runID, a.run.Status)
		return
	}
	g.cfg.Logger.Error("too many append conflicts", "run", a.runID)
	_ = m.msg.NakWithDelay(time.Second)
}

// run_ carries out a decision's effects after its events are stored.
func (a *glueRunActor) run_(ctx context.Context, effects []gluerun.Effect) {
	g := a.glue
	r := a.run
	for _, ef := range effects {
		var err error
		switch ef := ef.(type) {
		case gluerun.StartJob:
			_, err = g.StartJobRun(ctx, GlueJobRunRequest{
				JobName: ef.JobName, RunId: ef.RunId, Arguments: ef.Arguments, Timeout: ef.Timeout,
				TriggerName: ef.TriggerName, Workflow: r.Workflow, WorkflowRunId: r.RunId,
			})
		case gluerun.StartCrawl:
			_, err = g.StartCrawl(ctx, GlueCrawlRequest{
				CrawlerName: ef.CrawlerName, CrawlId: ef.CrawlId, Workflow: r.Workflow, WorkflowRunId: r.RunId,
			})
		case gluerun.StopAction:
			if ef.Type == gluerun.NodeJob {
				err = g.StopJobRun(ctx, ef.Name, ef.RunId)
			} else {
				err = g.StopCrawl(ctx, ef.Name)
			}
			if err != nil {
				err = nil // already over: its end report settles the node
			}
		case gluerun.Ended:
			err = g.releaseWorkflowSlot(ctx, r.Workflow, r.RunId)
		}
		if err != nil {
			g.cfg.Logger.Error("glue run effect", "run", r.RunId, "effect", ef, "err", err)
		}
	}
}

// GlueWorkflowRun is the resource type of workflow runs' read models.
const GlueWorkflowRun = "workflowrun"

// writeRunModel brings the run's read model up to date (its whole state).
func (g *Glue) writeRunModel(ctx context.Context, r *gluerun.Run) error {
	body, err := json.Marshal(r)
	if err != nil {
		return errors.Wrap(err, "encode workflow run")
	}
	return g.mutate(ctx, GlueWorkflowRun, r.Workflow, r.RunId, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		kind := events.GlueUpdated
		if cur == nil {
			kind = events.GlueCreated
		}
		return &events.GlueResource{Body: body}, kind, nil
	})
}

// releaseWorkflowSlot takes an ended run out of its workflow's active runs.
func (g *Glue) releaseWorkflowSlot(ctx context.Context, workflow, runID string) error {
	return g.mutate(ctx, events.GlueWorkflow, "", workflow, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil || !contains(cur.Active, runID) {
			return nil, "", nil
		}
		next := *cur
		next.Active = remove(cur.Active, runID)
		return &next, events.GlueUpdated, nil
	})
}

// mutate changes one Glue resource with optimistic concurrency (see api/glue).
func (g *Glue) mutate(ctx context.Context, typ, parent, name string,
	decide func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error)) error {
	subj := events.GlueSubject(typ, parent, name)
	_, seq, err := events.Mutate(ctx, g.store, subj, func(cur *events.ResourceEvent) (events.Decision, error) {
		var rec *events.GlueResource
		if cur != nil && cur.Kind != events.GlueDeleted && cur.Glue != nil {
			c := *cur.Glue
			rec = &c
		}
		next, kind, err := decide(rec)
		if err != nil || next == nil {
			return nil, err
		}
		next.Type, next.Parent, next.Name = typ, parent, name
		return &events.ResourceEvent{Kind: kind, Time: g.now(), ARN: subj, Glue: next}, nil
	})
	if err != nil || seq == 0 || g.cfg.WaitFor == nil {
		return err
	}
	return g.cfg.WaitFor(ctx, seq)
}

// glueResource reads one Glue resource from the resource stream (nil: none).
func (g *Glue) glueResource(ctx context.Context, typ, parent, name string) (*events.GlueResource, error) {
	ev, _, err := g.store.LastResource(ctx, events.GlueSubject(typ, parent, name))
	if errors.Is(err, events.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if ev.Kind == events.GlueDeleted || ev.Glue == nil {
		return nil, nil
	}
	return ev.Glue, nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func remove(s []string, v string) []string {
	out := make([]string, 0, len(s))
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

func itoa64(i int64) string {
	b, _ := json.Marshal(i)
	return string(b)
}
