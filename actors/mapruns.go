package actors

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/actors/asl"
	"github.com/sfnd/sfnd/actors/objects"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// Map Runs (Distributed Map). The parent execution's decider hands a run over as an
// asl.StartMapRun effect after MapRunStarted is stored; MapRuns runs each input as a
// child execution of its own (a real execution of the state machine
// "<state machine>/<label>", listed under the Map Run's ARN), at most MaxConcurrency
// at a time, counts the ends against the tolerated failures, writes the ResultWriter's
// files and reports the run's end to the parent as a task result for the MapRunStarted
// event.
//
// Durability without a log of its own: a child's name is derived from the Map Run's
// ARN and its index, children start in index order, and the name reservation
// (KV Create) refuses a second start. After a restart the parent's recovery re-issues
// StartMapRun; the runner then reads its children's records (the Map Run's list index)
// to learn which started and which ended, and goes on: no child is lost or started
// twice. Children report their end in memory (a child that ends while no runner
// listens is found by the runner's next read of the records, every few seconds).
//
// The read model (KV sfn_map_runs) holds one record per run (key "r.<token(arn)>") and
// one list entry per parent execution and run ("e.<token(exec)>.<token(arn)>").

// MapRunBucket is the KV bucket of Map Run records.
const MapRunBucket = "sfn_map_runs"

// Errors of the Map Run API.
var (
	ErrMapRunNotFound   = errors.New("map run does not exist")
	ErrMapRunNotRunning = errors.New("map run is not running")
)

// ChildReserver reserves a Map Run's child execution (the API's execution records):
// it fails with an error marked events.ErrConflict, returning the existing record,
// when the name is taken.
type ChildReserver func(ctx context.Context, rec events.ExecutionRecord) (events.ExecutionRecord, error)

// ChildLister pages the executions listed under an ARN (a Map Run's children).
type ChildLister func(ctx context.Context, listARN, cursor string, limit int) ([]events.ExecutionRecord, string, error)

// MapRuns runs the Map Runs of this node's executions and keeps their read model.
type MapRuns struct {
	engine  *Engine
	store   *jsstore.Store
	kv      jetstream.KeyValue
	objects *objects.Store
	logger  *slog.Logger
	reserve ChildReserver
	list    ChildLister

	// MarkPendingRedrive, when set, shows a child a redrive is to redrive as
	// PENDING_REDRIVE in the execution records.
	MarkPendingRedrive func(ctx context.Context, execARN string) error

	mu       sync.Mutex
	runs     map[string]*mapRunner // by Map Run ARN
	byParent map[string]string     // parent ARN#scheduled -> Map Run ARN
	readers  map[string]bool       // item reads in flight, by parent ARN#scheduled
}

// NewMapRuns opens the Map Run bucket.
func NewMapRuns(ctx context.Context, store *jsstore.Store, obj *objects.Store, logger *slog.Logger) (*MapRuns, error) {
	if logger == nil {
		logger = slog.Default()
	}
	kv, err := jsstore.EnsureKeyValue(ctx, store.JS, jetstream.KeyValueConfig{
		Bucket: MapRunBucket, Description: "sfnd Map Runs (Distributed Map)",
		Storage: jetstream.FileStorage, History: 1, Replicas: store.KeepReplicas(ctx, "KV_"+MapRunBucket, 0),
	})
	if err != nil {
		return nil, errors.Wrap(err, "create map run bucket")
	}
	return &MapRuns{store: store, kv: kv, objects: obj, logger: logger,
		runs: map[string]*mapRunner{}, byParent: map[string]string{}, readers: map[string]bool{}}, nil
}

// Bind connects the Map Runs to the engine and to the execution records.
func (m *MapRuns) Bind(e *Engine, reserve ChildReserver, list ChildLister) {
	m.engine, m.reserve, m.list = e, reserve, list
}

func parentKey(execARN string, scheduled int64) string {
	return execARN + "#" + strconv.FormatInt(scheduled, 10)
}

func recordKey(arn string) string { return "r." + jsstore.Token(arn) }
func listKey(execARN, arn string) string {
	return "e." + jsstore.Token(execARN) + "." + jsstore.Token(arn)
}

// Dispatch carries out a distributed map effect of execution execARN (idempotent).
func (m *MapRuns) Dispatch(ctx context.Context, execARN string, ef asl.Effect) error {
	switch ef := ef.(type) {
	case asl.ReadItems:
		m.readItems(execARN, ef)
		return nil
	case asl.StartMapRun:
		return m.start(ctx, execARN, ef)
	case asl.RedriveMapRun:
		return m.redrive(ctx, execARN, ef)
	}
	return errors.Newf("not a map run effect: %T", ef)
}

// IsMapRunEffect tells the effects Dispatch takes.
func IsMapRunEffect(ef asl.Effect) bool {
	switch ef.(type) {
	case asl.ReadItems, asl.StartMapRun, asl.RedriveMapRun:
		return true
	}
	return false
}

// report sends a task result to the parent execution.
func (m *MapRuns) report(ctx context.Context, execARN string, r events.TaskResult, what string) error {
	return m.store.PublishCommand(ctx, events.Command{Kind: events.CmdTaskResult, ExecARN: execARN,
		Time: m.engine.cfg.Now().UTC(), Task: &r}, parentKey(execARN, r.ScheduledEventID)+"#"+what)
}

// ---- ItemReader ----

func (m *MapRuns) readItems(execARN string, ef asl.ReadItems) {
	key := parentKey(execARN, ef.ScheduledEventID)
	m.mu.Lock()
	if m.readers[key] {
		m.mu.Unlock()
		return
	}
	m.readers[key] = true
	m.mu.Unlock()
	go func() {
		defer func() {
			m.mu.Lock()
			delete(m.readers, key)
			m.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		r := events.TaskResult{ScheduledEventID: ef.ScheduledEventID, Status: "Succeeded"}
		items, err := ReadItems(ctx, m.objects, ef.Reader)
		if err != nil {
			r.Status, r.Error, r.Cause = "Failed", "States.ItemReaderFailed", err.Error()
		} else {
			r.Output = items
		}
		for attempt := range 5 {
			if attempt > 0 {
				time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
			}
			if err = m.report(ctx, execARN, r, "items"); err == nil {
				return
			}
		}
		m.logger.Error("report items read", "execution", execARN, "err", err)
	}()
}

// ---- Map Runs ----

// mapRunner runs one Map Run.
type mapRunner struct {
	m         *MapRuns
	spec      asl.MapRunSpec
	parent    string
	scheduled int64
	smARN     string // <state machine>/<label>
	names     []string
	sizes     []int // items per child (batches hold several)

	mu       sync.Mutex
	rec      events.MapRunRecord
	next     int // next index to start
	running  map[int]bool
	results  []*asl.ChildResult
	ended    int
	failed   int
	wake     chan struct{}
	dirty    bool
	finished bool
	lastSave time.Time
	// starting bounds the child starts in flight (each one reserves a name and an
	// index entry: a round trip or two to NATS).
	starting chan struct{}
	// A redrive of the run (redriveCount > 0): children that ended unsuccessfully
	// before redriveSince run again (redo, in index order), each redriven once.
	redriveCount int
	redriveSince time.Time
	redo         []int
	queued       map[int]bool // in redo (or taken from it)
	redriven     map[int]bool
	toMark       []int // queued, to be shown PENDING_REDRIVE
}

// childName is the name of child index of a Map Run: a UUID derived from both, so a
// start repeated after a crash finds the first one.
func childName(mapRunARN string, index int) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte(mapRunARN+"#"+strconv.Itoa(index))).String()
}

// mapRunStateMachine is the state machine ARN of a Map Run's children:
// arn:...:stateMachine:<state machine>/<label>.
func mapRunStateMachine(mapRunARN string) string {
	p := strings.SplitN(mapRunARN, ":", 7)
	if len(p) < 7 {
		return ""
	}
	name := p[6]
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		name = name[:i]
	}
	return strings.Join(p[:5], ":") + ":stateMachine:" + name
}

func childARN(smARN, name string, express bool) string {
	kind := ":execution:"
	if express {
		kind = ":express:"
	}
	return strings.Replace(smARN, ":stateMachine:", kind, 1) + ":" + name
}

func (m *MapRuns) start(ctx context.Context, execARN string, ef asl.StartMapRun) error {
	return m.run(ctx, execARN, ef.ScheduledEventID, ef.Run, 0)
}

// redrive runs a Map Run again (RedriveExecution of its parent): its children that
// failed, were aborted or timed out are redriven, those never started start; the
// run's end is reported for the MapRunRedriven event.
func (m *MapRuns) redrive(ctx context.Context, execARN string, ef asl.RedriveMapRun) error {
	return m.run(ctx, execARN, ef.ScheduledEventID, ef.Run, ef.RedriveCount)
}

func (m *MapRuns) run(ctx context.Context, execARN string, scheduled int64, spec asl.MapRunSpec, redrive int) error {
	ef := asl.StartMapRun{ScheduledEventID: scheduled, Run: spec}
	arn := ef.Run.MapRunArn
	m.mu.Lock()
	if old, ok := m.runs[arn]; ok {
		if old.scheduled == scheduled || !old.finished {
			m.mu.Unlock()
			return nil
		}
		delete(m.runs, arn) // an ended run's runner still winding down: redrive anew
	}
	r := &mapRunner{m: m, spec: ef.Run, parent: execARN, scheduled: ef.ScheduledEventID,
		smARN: mapRunStateMachine(arn), running: map[int]bool{}, wake: make(chan struct{}, 1),
		starting: make(chan struct{}, 32), redriveCount: redrive, redriven: map[int]bool{}, queued: map[int]bool{}}
	m.runs[arn] = r
	m.byParent[parentKey(execARN, ef.ScheduledEventID)] = arn
	m.mu.Unlock()
	n := len(ef.Run.Inputs)
	r.names = make([]string, n)
	r.sizes = make([]int, n)
	r.results = make([]*asl.ChildResult, n)
	for i := range r.names {
		r.names[i] = childName(arn, i)
		r.sizes[i] = 1
		if ef.Run.Batched {
			var b struct {
				Items []json.RawMessage `json:"Items"`
			}
			if json.Unmarshal([]byte(ef.Run.Inputs[i]), &b) == nil {
				r.sizes[i] = len(b.Items)
			}
		}
	}
	if err := r.load(ctx); err != nil {
		m.forget(r)
		return err
	}
	go r.loop()
	return nil
}

func (m *MapRuns) forget(r *mapRunner) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.runs[r.spec.MapRunArn] == r {
		delete(m.runs, r.spec.MapRunArn)
		delete(m.byParent, parentKey(r.parent, r.scheduled))
	}
}

// load reads (or creates) the run's record.
func (r *mapRunner) load(ctx context.Context) error {
	m := r.m
	e, err := m.kv.Get(ctx, recordKey(r.spec.MapRunArn))
	switch {
	case err == nil:
		if err := json.Unmarshal(e.Value(), &r.rec); err != nil {
			return errors.Wrap(err, "decode map run record")
		}
		if r.redriveCount > r.rec.RedriveCount {
			return r.beginRedrive(ctx, e.Revision())
		}
		if r.rec.RedriveCount > 0 && r.rec.RedriveDate != nil {
			r.redriveSince = *r.rec.RedriveDate
		}
		return nil
	case !errors.Is(err, jetstream.ErrKeyNotFound):
		return errors.Wrap(err, "read map run record")
	}
	now := m.engine.cfg.Now().UTC()
	rec := events.MapRunRecord{ARN: r.spec.MapRunArn, ExecutionARN: r.parent, StateMachineARN: r.smARN,
		Scheduled: r.scheduled, Status: "RUNNING", StartDate: now, MaxConcurrency: r.spec.MaxConcurrency}
	if r.spec.ToleratedCount != nil {
		n := int64(*r.spec.ToleratedCount)
		rec.ToleratedFailureCount = &n
	}
	if r.spec.ToleratedPct != nil {
		p := *r.spec.ToleratedPct
		rec.ToleratedFailurePercentage = &p
	}
	items := 0
	for _, s := range r.sizes {
		items += s
	}
	rec.Items = events.MapRunCounts{Pending: int64(items), Total: int64(items)}
	rec.Executions = events.MapRunCounts{Pending: int64(len(r.names)), Total: int64(len(r.names))}
	b, _ := json.Marshal(rec)
	if _, err := m.kv.Create(ctx, recordKey(rec.ARN), b); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return r.load(ctx)
		}
		return errors.Wrap(err, "create map run record")
	}
	lb, _ := json.Marshal(map[string]any{"arn": rec.ARN, "startDate": rec.StartDate})
	if _, err := m.kv.Put(ctx, listKey(r.parent, rec.ARN), lb); err != nil {
		return errors.Wrap(err, "list map run")
	}
	r.rec = rec
	return nil
}

// reconcile reads the children's records: which started, which ended.
func (r *mapRunner) reconcile(ctx context.Context) error {
	index := make(map[string]int, len(r.names))
	for i, n := range r.names {
		index[n] = i
	}
	cursor := ""
	seen := map[int]events.ExecutionRecord{}
	for {
		page, next, err := r.m.list(ctx, r.spec.MapRunArn, cursor, 1000)
		if err != nil {
			return err
		}
		for _, rec := range page {
			if i, ok := index[rec.Name]; ok {
				seen[i] = rec
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, rec := range seen {
		if i >= r.next {
			r.next = i + 1
		}
		if r.results[i] != nil {
			continue
		}
		if rec.Status == "RUNNING" {
			r.running[i] = true
			continue
		}
		if r.toRedriveLocked(i, rec) {
			continue
		}
		res := asl.ChildResult{Status: rec.Status, Error: rec.Error, Cause: rec.Cause}
		if rec.Output != nil {
			res.Output = *rec.Output
		}
		r.endLocked(i, res)
	}
	sort.Ints(r.redo) // children run again in index order
	r.dirty = true
	return nil
}

func (r *mapRunner) endLocked(i int, res asl.ChildResult) {
	if r.results[i] != nil {
		return
	}
	r.results[i] = &res
	delete(r.running, i)
	r.ended++
	if res.Status != string(asl.StatusSucceeded) {
		r.failed++
	}
	r.dirty = true
}

// childEnded is a child's report.
func (r *mapRunner) childEnded(i int, res asl.ChildResult) {
	r.mu.Lock()
	if i >= 0 && i < len(r.results) {
		r.endLocked(i, res)
	}
	r.mu.Unlock()
	r.poke()
}

func (r *mapRunner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *mapRunner) loop() {
	ctx := context.Background()
	defer r.m.forget(r)
	if r.rec.Status != "RUNNING" {
		r.reportEnd(ctx) // ended before: report again (the parent may not have it)
		return
	}
	for attempt := 0; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := r.reconcile(rctx)
		cancel()
		if err == nil {
			r.markPending(ctx)
			break
		}
		r.m.logger.Error("read map run children", "mapRun", r.spec.MapRunArn, "err", err)
		time.Sleep(time.Second)
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	lastReconcile := time.Now()
	for {
		if r.step(ctx) {
			return
		}
		select {
		case <-r.wake:
		case <-tick.C:
			r.mu.Lock()
			idle := len(r.running) > 0 && time.Since(lastReconcile) > 5*time.Second
			r.mu.Unlock()
			if idle {
				rctx, cancel := context.WithTimeout(ctx, time.Minute)
				if err := r.reconcile(rctx); err != nil {
					r.m.logger.Warn("read map run children", "mapRun", r.spec.MapRunArn, "err", err)
				}
				cancel()
				r.markPending(ctx)
				lastReconcile = time.Now()
			}
		}
	}
}

// step starts children up to the concurrency, checks the tolerance and the end, and
// saves the record. It returns true once the run is over.
func (r *mapRunner) step(ctx context.Context) bool {
	r.mu.Lock()
	if r.finished {
		r.mu.Unlock()
		return true
	}
	rec := r.rec
	total := len(r.names)
	if !asl.Tolerated(r.failed, total, intPtr(rec.ToleratedFailureCount), rec.ToleratedFailurePercentage) {
		r.mu.Unlock()
		r.finish(ctx, "FAILED", asl.ErrExceedToleratedFailureThreshold, asl.CauseExceedToleratedFailureThreshold)
		return true
	}
	if r.ended == total {
		r.mu.Unlock()
		r.finish(ctx, "SUCCEEDED", "", "")
		return true
	}
	limit := rec.MaxConcurrency
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	var toStart, toRedrive []int
	for len(r.redo) > 0 && len(r.running)+len(toRedrive) < limit {
		i := r.redo[0]
		r.redo = r.redo[1:]
		if r.results[i] != nil || r.redriven[i] {
			continue
		}
		r.redriven[i] = true
		toRedrive = append(toRedrive, i)
	}
	for len(r.redo) == 0 && r.next < total && len(r.running)+len(toRedrive)+len(toStart) < limit {
		toStart = append(toStart, r.next)
		r.next++
	}
	for _, i := range toStart {
		r.running[i] = true
	}
	for _, i := range toRedrive {
		r.running[i] = true
	}
	r.mu.Unlock()
	for _, i := range toRedrive {
		if err := r.redriveChild(ctx, i); err != nil {
			r.m.logger.Error("redrive map run child", "mapRun", r.spec.MapRunArn, "index", i, "err", err)
			r.childEnded(i, asl.ChildResult{Status: "FAILED", Error: "States.Runtime", Cause: err.Error()})
		}
	}
	for _, i := range toStart {
		r.starting <- struct{}{}
		go func(i int) {
			defer func() { <-r.starting }()
			if err := r.startChild(ctx, i); err != nil {
				r.m.logger.Error("start map run child", "mapRun", r.spec.MapRunArn, "index", i, "err", err)
				r.childEnded(i, asl.ChildResult{Status: "FAILED", Error: "States.Runtime", Cause: err.Error()})
			}
		}(i)
	}
	if time.Since(r.lastSave) >= 100*time.Millisecond {
		r.save(ctx, false)
		r.lastSave = time.Now()
	}
	return false
}

func intPtr(p *int64) *int {
	if p == nil {
		return nil
	}
	n := int(*p)
	return &n
}

func (r *mapRunner) startChild(ctx context.Context, i int) error {
	m := r.m
	express := r.spec.ExecutionType == "EXPRESS"
	now := m.engine.cfg.Now().UTC()
	name := r.names[i]
	smName := r.smARN[strings.LastIndex(r.smARN, ":")+1:]
	start := &events.StartCommand{Name: name, Input: r.spec.Inputs[i], StateMachineARN: r.smARN,
		StateMachineName: smName, Definition: r.spec.Definition, RoleARN: r.spec.RoleArn, StartDate: now,
		MapRun: &events.MapRunChild{ARN: r.spec.MapRunArn, Index: i, Express: express}}
	rec := events.ExecutionRecord{ARN: childARN(r.smARN, name, express), StateMachineARN: r.smARN, Name: name,
		Status: "RUNNING", StartDate: now, Start: start, IndexARN: r.spec.MapRunArn}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := m.reserve(rctx, rec); err != nil {
		if errors.Is(err, events.ErrConflict) {
			return nil // started before (a restart): its end reaches us as any other
		}
		return err
	}
	m.engine.Deliver(events.Command{Kind: events.CmdStart, ExecARN: rec.ARN, Time: now, Start: start}, nil)
	return nil
}

// counts fills the record's counters from the runner's state (r.mu held).
func (r *mapRunner) countsLocked() {
	var it, ex events.MapRunCounts
	for i := range r.names {
		sz := int64(r.sizes[i])
		it.Total += sz
		ex.Total++
		res := r.results[i]
		switch {
		case res == nil && r.pendingRedriveLocked(i):
			it.Pending += sz
			ex.Pending++
			it.PendingRedrive += sz
			ex.PendingRedrive++
		case res == nil && r.running[i]:
			it.Running += sz
			ex.Running++
		case res == nil:
			it.Pending += sz
			ex.Pending++
		case res.Status == "SUCCEEDED":
			it.Succeeded += sz
			ex.Succeeded++
		case res.Status == "TIMED_OUT":
			it.TimedOut += sz
			ex.TimedOut++
		case res.Status == "ABORTED":
			it.Aborted += sz
			ex.Aborted++
		default:
			it.Failed += sz
			ex.Failed++
		}
	}
	it.ResultsWritten, ex.ResultsWritten = r.rec.Items.ResultsWritten, r.rec.Executions.ResultsWritten
	r.rec.Items, r.rec.Executions = it, ex
}

// save writes the record when something changed (at most every 100 ms unless forced);
// an UpdateMapRun in between is kept.
func (r *mapRunner) save(ctx context.Context, force bool) {
	r.mu.Lock()
	if !r.dirty && !force {
		r.mu.Unlock()
		return
	}
	r.dirty = false
	r.countsLocked()
	r.mu.Unlock()
	for range 10 {
		e, err := r.m.kv.Get(ctx, recordKey(r.spec.MapRunArn))
		if err != nil {
			r.m.logger.Warn("read map run record", "mapRun", r.spec.MapRunArn, "err", err)
			return
		}
		var cur events.MapRunRecord
		if err := json.Unmarshal(e.Value(), &cur); err != nil {
			return
		}
		r.mu.Lock()
		// Settings belong to UpdateMapRun: take the stored ones.
		r.rec.MaxConcurrency = cur.MaxConcurrency
		r.rec.ToleratedFailureCount, r.rec.ToleratedFailurePercentage = cur.ToleratedFailureCount, cur.ToleratedFailurePercentage
		rec := r.rec
		r.mu.Unlock()
		b, _ := json.Marshal(rec)
		if _, err := r.m.kv.Update(ctx, recordKey(rec.ARN), b, e.Revision()); err == nil {
			return
		}
	}
}

// finish ends the run: stops what still runs, writes the results, saves the record
// and reports to the parent.
func (r *mapRunner) finish(ctx context.Context, status, errName, cause string) {
	r.mu.Lock()
	r.finished = true
	var running []int
	for i := range r.running {
		running = append(running, i)
	}
	r.mu.Unlock()
	if status != "SUCCEEDED" {
		for _, i := range running {
			arn := childARN(r.smARN, r.names[i], r.spec.ExecutionType == "EXPRESS")
			_ = r.m.store.PublishCommand(ctx, events.Command{Kind: events.CmdStop, ExecARN: arn, Time: r.m.engine.cfg.Now().UTC(),
				Error: "", Cause: "The Map Run was stopped"}, arn+"#maprun-stop")
		}
	}
	output := ""
	if status == "SUCCEEDED" {
		r.mu.Lock()
		results := make([]asl.ChildResult, len(r.results))
		for i, res := range r.results {
			if res != nil {
				results[i] = *res
			}
		}
		r.mu.Unlock()
		if w := r.spec.ResultWriter; w != nil {
			out, err := r.writeResults(ctx, w, status)
			if err != nil {
				status, errName, cause = "FAILED", "States.ResultWriterFailed", err.Error()
			} else {
				output = out
			}
		} else {
			output = asl.MapRunOutput(results)
		}
	} else if w := r.spec.ResultWriter; w != nil && w.Resource != "" {
		_, _ = r.writeResults(ctx, w, status) // AWS writes what it has on failure too
	}
	now := r.m.engine.cfg.Now().UTC()
	r.mu.Lock()
	r.rec.Status, r.rec.StopDate, r.rec.Error, r.rec.Cause, r.rec.Output = status, &now, errName, cause, output
	r.dirty = true
	r.mu.Unlock()
	r.save(ctx, true)
	r.reportEnd(ctx)
}

// reportEnd tells the parent how the run ended (from the record).
func (r *mapRunner) reportEnd(ctx context.Context) {
	r.mu.Lock()
	rec := r.rec
	r.mu.Unlock()
	res := events.TaskResult{ScheduledEventID: r.scheduled, Status: "Succeeded", Output: rec.Output}
	if rec.Status != "SUCCEEDED" {
		res = events.TaskResult{ScheduledEventID: r.scheduled, Status: "Failed", Error: rec.Error, Cause: rec.Cause}
	}
	var err error
	for attempt := range 5 {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
		}
		if err = r.m.report(ctx, r.parent, res, "maprun"); err == nil {
			return
		}
	}
	r.m.logger.Error("report map run end", "mapRun", rec.ARN, "err", err)
}

// ChildEnded is called by a Map Run child's actor after its end is stored.
func (m *MapRuns) ChildEnded(link events.MapRunChild, x *asl.Execution) {
	m.mu.Lock()
	r := m.runs[link.ARN]
	m.mu.Unlock()
	if r == nil {
		return // the runner reads the record when it resumes
	}
	res := asl.ChildResult{Status: string(x.Status()), Error: x.Error, Cause: x.Cause}
	if o := x.Output(); o != nil {
		res.Output = *o
	}
	r.childEnded(link.Index, res)
}

// Closed aborts the Map Runs of tasks the parent closed without their result (the
// parent was stopped, timed out or failed).
func (m *MapRuns) Closed(ctx context.Context, execARN string, scheduled []int64) {
	for _, s := range scheduled {
		m.mu.Lock()
		arn := m.byParent[parentKey(execARN, s)]
		r := m.runs[arn]
		m.mu.Unlock()
		if r == nil {
			continue
		}
		r.mu.Lock()
		done := r.finished
		r.finished = true
		var running []int
		for i := range r.running {
			running = append(running, i)
		}
		r.mu.Unlock()
		if done {
			continue
		}
		for _, i := range running {
			arn := childARN(r.smARN, r.names[i], r.spec.ExecutionType == "EXPRESS")
			_ = m.store.PublishCommand(ctx, events.Command{Kind: events.CmdStop, ExecARN: arn, Time: m.engine.cfg.Now().UTC(),
				Cause: "The parent execution was stopped"}, arn+"#maprun-stop")
		}
		now := m.engine.cfg.Now().UTC()
		r.mu.Lock()
		r.rec.Status, r.rec.StopDate = "ABORTED", &now
		r.dirty = true
		r.mu.Unlock()
		r.save(ctx, true)
		r.poke()
	}
}

// ---- the API's side ----

// Describe returns a Map Run's record (ErrMapRunNotFound when there is none).
func (m *MapRuns) Describe(ctx context.Context, arn string) (events.MapRunRecord, error) {
	var rec events.MapRunRecord
	e, err := m.kv.Get(ctx, recordKey(arn))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return rec, errors.Mark(errors.Newf("map run %s", arn), ErrMapRunNotFound)
	}
	if err != nil {
		return rec, err
	}
	return rec, json.Unmarshal(e.Value(), &rec)
}

// List returns the Map Runs of a parent execution, oldest first.
func (m *MapRuns) List(ctx context.Context, execARN string) ([]events.MapRunRecord, error) {
	keys, err := m.kv.ListKeysFiltered(ctx, "e."+jsstore.Token(execARN)+".>")
	if err != nil {
		return nil, err
	}
	var out []events.MapRunRecord
	for k := range keys.Keys() {
		e, err := m.kv.Get(ctx, k)
		if err != nil {
			continue
		}
		var l struct {
			ARN string `json:"arn"`
		}
		if json.Unmarshal(e.Value(), &l) != nil {
			continue
		}
		rec, err := m.Describe(ctx, l.ARN)
		if err == nil {
			out = append(out, rec)
		}
	}
	sortMapRuns(out)
	return out, nil
}

func sortMapRuns(rs []events.MapRunRecord) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].StartDate.Before(rs[j-1].StartDate); j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

// MapRunUpdate is an UpdateMapRun request (nil fields unchanged).
type MapRunUpdate struct {
	MaxConcurrency             *int
	ToleratedFailureCount      *int64
	ToleratedFailurePercentage *float64
}

// Update changes a running Map Run's settings; the runner takes them at once.
func (m *MapRuns) Update(ctx context.Context, arn string, u MapRunUpdate) error {
	for range 10 {
		e, err := m.kv.Get(ctx, recordKey(arn))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return errors.Mark(errors.Newf("map run %s", arn), ErrMapRunNotFound)
		}
		if err != nil {
			return err
		}
		var rec events.MapRunRecord
		if err := json.Unmarshal(e.Value(), &rec); err != nil {
			return err
		}
		if u.MaxConcurrency != nil {
			rec.MaxConcurrency = *u.MaxConcurrency
		}
		if u.ToleratedFailureCount != nil {
			n := *u.ToleratedFailureCount
			rec.ToleratedFailureCount = &n
		}
		if u.ToleratedFailurePercentage != nil {
			p := *u.ToleratedFailurePercentage
			rec.ToleratedFailurePercentage = &p
		}
		b, _ := json.Marshal(rec)
		if _, err := m.kv.Update(ctx, recordKey(arn), b, e.Revision()); err != nil {
			continue
		}
		m.mu.Lock()
		r := m.runs[arn]
		m.mu.Unlock()
		if r != nil {
			r.mu.Lock()
			r.rec.MaxConcurrency = rec.MaxConcurrency
			r.rec.ToleratedFailureCount, r.rec.ToleratedFailurePercentage = rec.ToleratedFailureCount, rec.ToleratedFailurePercentage
			r.mu.Unlock()
			r.poke()
		}
		return nil
	}
	return errors.New("map run record kept changing")
}

// dispatchMapRun hands a distributed map effect to the node's Map Runs.
func (a *execActor) dispatchMapRun(ctx context.Context, ef asl.Effect) {
	mr := a.engine.cfg.MapRuns
	if mr == nil {
		a.engine.cfg.Logger.Warn("no map runs for effect", "execution", a.arn)
		return
	}
	if err := mr.Dispatch(ctx, a.arn, ef); err != nil {
		a.engine.cfg.Logger.Error("start map run", "execution", a.arn, "err", err)
	}
}

// ---- redriving a Map Run ----

// beginRedrive marks the run's record as redriven (RUNNING again, its redrive count
// and date), once per redrive: a redrive re-issued after a crash finds it done.
func (r *mapRunner) beginRedrive(ctx context.Context, rev uint64) error {
	m := r.m
	now := m.engine.cfg.Now().UTC()
	rec := r.rec
	rec.Status, rec.StopDate, rec.Error, rec.Cause, rec.Output = "RUNNING", nil, "", "", ""
	rec.RedriveCount, rec.RedriveDate, rec.Scheduled = r.redriveCount, &now, r.scheduled
	b, _ := json.Marshal(rec)
	if _, err := m.kv.Update(ctx, recordKey(rec.ARN), b, rev); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return r.load(ctx) // changed meanwhile (UpdateMapRun, another node): read again
		}
		return errors.Wrap(err, "redrive map run record")
	}
	r.rec, r.redriveSince = rec, now
	return nil
}

// toRedriveLocked says whether child i (its record rec, ended) is one a redrive of the
// run runs again, and queues it (r.mu held).
func (r *mapRunner) toRedriveLocked(i int, rec events.ExecutionRecord) bool {
	if r.redriveSince.IsZero() || rec.Status == "SUCCEEDED" || r.redriven[i] {
		return false
	}
	if rec.StopDate != nil && !rec.StopDate.Before(r.redriveSince) {
		return false // ended in this attempt of the run
	}
	if !r.queued[i] {
		r.queued[i] = true
		r.redo = append(r.redo, i)
		r.toMark = append(r.toMark, i)
	}
	return true
}

// markPending shows the children queued for a redrive as PENDING_REDRIVE.
func (r *mapRunner) markPending(ctx context.Context) {
	r.mu.Lock()
	marks := r.toMark
	r.toMark = nil
	r.mu.Unlock()
	if r.m.MarkPendingRedrive == nil {
		return
	}
	for _, i := range marks {
		arn := childARN(r.smARN, r.names[i], r.spec.ExecutionType == "EXPRESS")
		if err := r.m.MarkPendingRedrive(ctx, arn); err != nil {
			r.m.logger.Warn("mark map run child pending redrive", "execution", arn, "err", err)
		}
	}
}

// pendingRedriveLocked: child i waits for the run's redrive to redrive it (r.mu held).
func (r *mapRunner) pendingRedriveLocked(i int) bool {
	return r.queued[i] && !r.redriven[i]
}

// redriveChild redrives child i: the same execution runs again from where it stopped
// (its history continues with ExecutionRedriven).
func (r *mapRunner) redriveChild(ctx context.Context, i int) error {
	m := r.m
	arn := childARN(r.smARN, r.names[i], r.spec.ExecutionType == "EXPRESS")
	cmd := events.Command{Kind: events.CmdRedrive, ExecARN: arn, Time: m.engine.cfg.Now().UTC(),
		ClientToken: "maprun-" + strconv.Itoa(r.redriveCount)}
	if err := m.store.PublishCommand(ctx, cmd, arn+"#maprun-redrive#"+strconv.Itoa(r.redriveCount)); err != nil {
		return err
	}
	m.engine.Deliver(cmd, nil)
	return nil
}
