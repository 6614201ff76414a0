package projections

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// ExecutionBucket holds one ExecutionRecord per execution, keyed
// <token(stateMachineArn)>.<token(executionArn)> so that one state machine's
// executions are listed with a key filter.
const (
	ExecutionBucket   = "sfn_executions"
	executionConsumer = "sfnd-proj-executions"
)

// Executions keeps the execution read model: the API creates a record when it accepts
// StartExecution (reserving the name), the projection folds the history's
// execution-level events into it.
type Executions struct {
	onTerminal atomic.Pointer[func(stateMachineARN string)]
	// ended remembers executions whose end this process already folded into the
	// record (the owner's fast path), so the projection skips them without a read.
	ended endedCache
	// reserved holds the records this process created and has not yet updated, with
	// their revisions: the update at an execution's end starts from it instead of a
	// read (the compare-and-set fails if anyone else wrote the record since).
	reserved reservedCache
	// ords are this node's blocks of list ordinals (executions_index.go).
	ords  ordinalLeases
	reads atomic.Int64 // records apply read from the bucket (tests)

	kv jetstream.KeyValue
	// leaderReads: the bucket is replicated, so apply reads the record from the
	// stream's leader (a direct get may come from a replica that has not caught up).
	leaderReads bool
	nc          *nats.Conn
	st          *jsstore.Store
	js          jetstream.JetStream
	cc          jetstream.ConsumeContext
	track       *Tracker
	done        chan struct{} // closed by Stop
	stop        sync.Once
}

// ExecutionKey is the bucket key of an execution.
func ExecutionKey(stateMachineARN, execARN string) string {
	return jsstore.Token(stateMachineARN) + "." + jsstore.Token(execARN)
}

// OpenExecutions creates (or opens) the execution bucket and list index without
// starting the projection: enough to Reserve, read and list executions.
func OpenExecutions(ctx context.Context, st *jsstore.Store, replicas int) (*Executions, error) {
	p := &Executions{nc: st.NC, st: st, js: st.JS, leaderReads: st.Replicas() > 1}
	var err error
	if p.kv, err = jsstore.EnsureKeyValue(ctx, st.JS, jetstream.KeyValueConfig{
		Bucket: ExecutionBucket, Storage: jetstream.FileStorage, Replicas: st.KeepReplicas(ctx, "KV_"+ExecutionBucket, replicas), History: 1,
	}); err != nil {
		return nil, errors.Wrap(err, "create execution bucket")
	}
	if err := openIndex(ctx, st, replicas); err != nil {
		return nil, err
	}
	return p, nil
}

// StartExecutions creates the bucket and the list index and starts the projection.
func StartExecutions(ctx context.Context, st *jsstore.Store, replicas int) (*Executions, error) {
	p, err := OpenExecutions(ctx, st, replicas)
	if err != nil {
		return nil, err
	}
	p.done = make(chan struct{})
	// Every history message is acknowledged on its own, and only once applied: an
	// acknowledgement covering a range (AckAll) would also cover a message delivered
	// before a crash and due again only after AckWait, which then was never applied.
	cfg := jetstream.ConsumerConfig{
		Durable:       executionConsumer,
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxAckPending: 20000,
		AckWait:       30 * time.Second,
	}
	stream := st.HistoryStream()
	cons, err := jsstore.EnsureConsumer(ctx, stream, cfg)
	if err != nil {
		// A consumer of an older sfnd (AckAll) cannot change its ack policy: replace
		// it, and fold every history again (applying an end twice changes nothing).
		old, gerr := stream.Consumer(ctx, executionConsumer)
		if gerr != nil || old.CachedInfo().Config.AckPolicy == cfg.AckPolicy {
			return nil, errors.Wrap(err, "create execution consumer")
		}
		if err := stream.DeleteConsumer(ctx, executionConsumer); err != nil {
			return nil, errors.Wrap(err, "replace execution consumer")
		}
		if cons, err = jsstore.EnsureConsumer(ctx, stream, cfg); err != nil {
			return nil, errors.Wrap(err, "create execution consumer")
		}
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return nil, errors.Wrap(err, "execution consumer info")
	}
	p.track = NewTracker(info.AckFloor.Stream)
	if p.cc, err = cons.Consume(p.handle, jetstream.PullMaxMessages(1024)); err != nil {
		return nil, errors.Wrap(err, "consume history")
	}
	return p, nil
}

// OnTerminal sets a function called (on its own goroutine) with the state machine ARN
// of every execution whose end the projection applies.
func (p *Executions) OnTerminal(fn func(stateMachineARN string)) { p.onTerminal.Store(&fn) }

// Stop stops the projection.
func (p *Executions) Stop() {
	if p.done != nil {
		p.stop.Do(func() { close(p.done) })
	}
	if p.cc != nil {
		p.cc.Stop()
	}
}

// handle folds one history message and acknowledges it once folded. A failure is
// retried in place rather than nak'ed, so the message is never left behind.
func (p *Executions) handle(m jetstream.Msg) {
	md, err := m.Metadata()
	if err != nil {
		_ = m.Term()
		return
	}
	for delay := 50 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		err := p.fold(m)
		if err == nil {
			break
		}
		select {
		case <-p.done:
			return // not acked: delivered again after a restart
		case <-time.After(delay):
		}
	}
	_ = m.Ack()
	p.track.Advance(md.Sequence.Stream)
}

// fold applies the execution-level events of one history message to its record.
func (p *Executions) fold(m jetstream.Msg) error {
	// The header lists the message's event types: most messages hold nothing this
	// projection folds and are passed without decoding.
	if !executionLevel(m.Headers().Get(jsstore.TypeHeader)) {
		return nil
	}
	execARN, err := jsstore.Untoken(strings.TrimPrefix(m.Subject(), jsstore.HistoryPrefix))
	if err != nil {
		return nil // not an execution's subject: nothing to fold, ever
	}
	// The execution's end is the message's last event: when the owner already applied
	// it in this process, nothing needs decoding.
	if last, err := strconv.ParseInt(m.Headers().Get(jsstore.LastIDHeader), 10, 64); err == nil && p.ended.covers(execARN, last) {
		return nil
	}
	evs, err := decodeExecutionLevel(m.Headers().Get(jsstore.TypeHeader), m.Data())
	if err != nil {
		return nil // a message we cannot read will never become readable
	}
	// Only an execution's end changes its record; an end the owner already applied
	// in this process needs no read.
	if last := lastTerminalID(evs); last == 0 || p.ended.covers(execARN, last) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return p.apply(ctx, execARN, evs)
}

// decodeExecutionLevel decodes only the execution-level events of a history message:
// a decision holds a few of them among many state events.
func decodeExecutionLevel(types string, data []byte) ([]events.HistoryEvent, error) {
	if len(data) == 0 || data[0] != '[' {
		return events.DecodeHistoryMsg(data, nil)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, errors.Wrap(err, "decode history message")
	}
	var out []events.HistoryEvent
	i := 0
	for t := range strings.FieldsSeq(types) {
		if i < len(raw) && executionLevel(t) {
			var ev events.HistoryEvent
			if err := json.Unmarshal(raw[i], &ev); err != nil {
				return nil, errors.Wrap(err, "decode history event")
			}
			out = append(out, ev)
		}
		i++
	}
	return out, nil
}

// executionLevel tells whether a TypeHeader value names an event the projection folds.
func executionLevel(types string) bool {
	for t := range strings.FieldsSeq(types) {
		switch events.Type(t) {
		case events.ExecutionSucceeded, events.ExecutionFailed, events.ExecutionAborted, events.ExecutionTimedOut,
			events.ExecutionRedriven:
			return true // only an execution's end and its redrives change its record
		}
	}
	return false
}

// Apply folds the execution-level events of a decision into the execution's record.
// The projection calls it for every history message; the execution's owner calls it
// right after appending a decision that ends the execution, so that Describe and List
// see the end without waiting for the projection (the later, second application is a
// no-op). Concurrent appliers are safe: the write is a compare-and-set on the record's
// revision, and events at or below the record's LastEventID are skipped.
func (p *Executions) Apply(ctx context.Context, execARN string, evs []events.HistoryEvent) error {
	if p.ended.covers(execARN, lastTerminalID(evs)) {
		return nil
	}
	if err := p.apply(ctx, execARN, evs); err != nil {
		return err
	}
	p.ended.add(execARN, lastTerminalID(evs))
	return nil
}

// lastTerminalID is the id of the last event of evs that changes the record (an end
// or a redrive; 0: none).
func lastTerminalID(evs []events.HistoryEvent) int64 {
	var id int64
	for i := range evs {
		switch evs[i].Type {
		case events.ExecutionSucceeded, events.ExecutionFailed, events.ExecutionAborted, events.ExecutionTimedOut,
			events.ExecutionRedriven:
			id = evs[i].ID
		}
	}
	return id
}

// endedCache is a bounded set of (execution, terminal event id) the owner applied.
type endedCache struct {
	mu    sync.Mutex
	ids   map[string]int64
	order []string
}

const endedCacheSize = 1 << 16

func (c *endedCache) add(arn string, id int64) {
	if id == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil {
		c.ids = make(map[string]int64, endedCacheSize)
	}
	if _, ok := c.ids[arn]; !ok {
		if len(c.order) >= endedCacheSize {
			delete(c.ids, c.order[0])
			c.order = c.order[1:]
		}
		c.order = append(c.order, arn)
	}
	c.ids[arn] = id
}

// covers reports whether the owner already applied an end at or after id.
func (c *endedCache) covers(arn string, id int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	got, ok := c.ids[arn]
	return ok && got >= id
}

// read returns an execution record's bytes and revision, from the bucket's leader on
// a replicated bucket (a direct get may come from a replica that has not caught up).
func (p *Executions) read(ctx context.Context, key string) ([]byte, uint64, error) {
	if p.leaderReads {
		return jsstore.LeaderKVGet(ctx, p.js, ExecutionBucket, key)
	}
	entry, err := p.kv.Get(ctx, key)
	if err != nil {
		return nil, 0, err
	}
	return entry.Value(), entry.Revision(), nil
}

// reservedCache is a bounded set of records this process created, by key: the bytes
// it wrote and their revision. Only small records are kept (an execution's input can
// be 256 KiB), and only the newest reservedCacheSize of them.
type reservedCache struct {
	mu      sync.Mutex
	entries map[string]reservedRecord
	order   []string // keys in insertion order (some already taken)
}

type reservedRecord struct {
	value []byte
	rev   uint64
}

const (
	reservedCacheSize = 1 << 14
	reservedMaxBytes  = 4 << 10
)

func (c *reservedCache) add(key string, value []byte, rev uint64) {
	if len(value) > reservedMaxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]reservedRecord)
	}
	for len(c.order) >= reservedCacheSize {
		delete(c.entries, c.order[0])
		c.order = c.order[1:]
	}
	if len(c.entries) == 0 {
		c.order = c.order[:0:0] // let a long-drained backing array go
	}
	c.entries[key] = reservedRecord{value: value, rev: rev}
	c.order = append(c.order, key)
}

// take returns and forgets the record created under key, if kept.
func (c *reservedCache) take(key string) ([]byte, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.entries[key]
	if ok {
		delete(c.entries, key)
	}
	return r.value, r.rev, ok
}

// apply: one read (none for a record this process created and nobody changed since)
// and at most one (conditional) write, whatever the number of events.
func (p *Executions) apply(ctx context.Context, execARN string, evs []events.HistoryEvent) error {
	key := ExecutionKey(StateMachineOf(execARN), execARN)
	for attempt := 0; ; attempt++ {
		var val []byte
		var rev uint64
		var err error
		// First the record as this process created it, if kept: the compare-and-set
		// below fails if anyone wrote it since, and the next attempt reads it.
		created := false
		if attempt == 0 {
			val, rev, created = p.reserved.take(key)
		}
		if !created {
			p.reads.Add(1)
			val, rev, err = p.read(ctx, key)
		}
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil // not accepted through this API (or purged): nothing to project
		}
		if err != nil {
			return errors.Wrapf(err, "get %s", key)
		}
		var rec events.ExecutionRecord
		if err := json.Unmarshal(val, &rec); err != nil {
			return errors.Wrap(err, "decode execution record")
		}
		if !foldExecution(&rec, evs) {
			return nil
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return errors.Wrap(err, "encode execution record")
		}
		_, err = p.kv.Update(ctx, key, b, rev)
		if (errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch)) && attempt < 16 {
			continue // another applier wrote first: read again
		}
		if err != nil {
			return errors.Wrapf(err, "update %s", key)
		}
		if fn := p.onTerminal.Load(); fn != nil && rec.Status != "RUNNING" {
			go (*fn)(rec.StateMachineARN)
		}
		return nil
	}
}

// foldExecution applies execution-level events newer than the record to it and says
// whether anything changed.
func foldExecution(rec *events.ExecutionRecord, evs []events.HistoryEvent) bool {
	changed := false
	for i := range evs {
		ev := &evs[i]
		if ev.ID <= rec.LastEventID {
			continue
		}
		stop := ev.Timestamp
		switch ev.Type {
		case events.ExecutionSucceeded:
			rec.Status, rec.StopDate = "SUCCEEDED", &stop
			if d := ev.ExecutionSucceededEventDetails; d != nil {
				rec.Output = d.Output
			}
		case events.ExecutionFailed:
			rec.Status, rec.StopDate = "FAILED", &stop
			setError(rec, ev.ExecutionFailedEventDetails)
		case events.ExecutionAborted:
			rec.Status, rec.StopDate = "ABORTED", &stop
			setError(rec, ev.ExecutionAbortedEventDetails)
		case events.ExecutionTimedOut:
			rec.Status, rec.StopDate = "TIMED_OUT", &stop
			setError(rec, ev.ExecutionTimedOutEventDetails)
		case events.ExecutionRedriven:
			rec.Status, rec.StopDate, rec.Output, rec.Error, rec.Cause = "RUNNING", nil, nil, "", ""
			if d := ev.ExecutionRedrivenEventDetails; d != nil {
				rec.RedriveCount = d.RedriveCount
			}
			rec.RedriveDate = &stop
			if tok := ev.RedriveToken(); tok != "" {
				rec.RedriveTokens = append(rec.RedriveTokens, events.RedriveToken{Token: tok, Date: stop})
				if n := len(rec.RedriveTokens); n > 10 {
					rec.RedriveTokens = rec.RedriveTokens[n-10:]
				}
			}
		default:
			continue
		}
		rec.LastEventID, changed = ev.ID, true
	}
	return changed
}

func setError(rec *events.ExecutionRecord, d *events.ErrorDetails) {
	if d != nil {
		rec.Error, rec.Cause = d.Error, d.Cause
	}
}

// StateMachineOf derives the state machine ARN from an execution ARN
// (arn:...:execution:<sm>:<name> -> arn:...:stateMachine:<sm>).
func StateMachineOf(execARN string) string {
	parts := strings.SplitN(execARN, ":", 8)
	if len(parts) < 7 {
		return ""
	}
	return strings.Join(parts[:5], ":") + ":stateMachine:" + parts[6]
}

// Reserve creates the record of a new execution and lists it in its state machine's
// index, failing with an error marked events.ErrConflict when the name is taken (the
// existing record is returned).
func (p *Executions) Reserve(ctx context.Context, rec events.ExecutionRecord) (_ events.ExecutionRecord, err error) {
	key := ExecutionKey(rec.StateMachineARN, rec.ARN)
	b, err := json.Marshal(rec)
	if err != nil {
		return rec, errors.Wrap(err, "encode execution record")
	}
	// The index entry first, stored before the record is created (the two streams
	// are written independently): a crash between the two leaves an entry without a
	// record (skipped by Page), never an execution missing from the list.
	indexed, err := p.indexStart(ctx, rec)
	if err != nil {
		return rec, err
	}
	if err := indexed(); err != nil {
		return rec, err
	}
	rev, err := p.kv.Create(ctx, key, b)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			var cur events.ExecutionRecord
			if gerr := get(ctx, p.kv, key, &cur); gerr != nil {
				return rec, gerr
			}
			return cur, errors.Mark(errors.Newf("execution %s exists", rec.ARN), events.ErrConflict)
		}
		return rec, errors.Wrap(err, "reserve execution name")
	}
	p.reserved.add(key, b, rev)
	return rec, nil
}

// MarkPendingRedrive shows a Map Run's child that a redrive of the run is to redrive
// as PENDING_REDRIVE, if it still is FAILED, ABORTED or TIMED_OUT (the child's own
// ExecutionRedriven, folded later, makes it RUNNING; a compare-and-set keeps the two
// apart).
func (p *Executions) MarkPendingRedrive(ctx context.Context, execARN string) error {
	key := ExecutionKey(StateMachineOf(execARN), execARN)
	for attempt := 0; attempt < 16; attempt++ {
		entry, err := p.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return errors.Wrapf(err, "get %s", key)
		}
		var rec events.ExecutionRecord
		if err := json.Unmarshal(entry.Value(), &rec); err != nil {
			return errors.Wrap(err, "decode execution record")
		}
		switch rec.Status {
		case "FAILED", "ABORTED", "TIMED_OUT":
		default:
			return nil
		}
		rec.Status = "PENDING_REDRIVE"
		b, err := json.Marshal(rec)
		if err != nil {
			return errors.Wrap(err, "encode execution record")
		}
		if _, err := p.kv.Update(ctx, key, b, entry.Revision()); err == nil {
			return nil
		} else if !errors.Is(err, jetstream.ErrKeyExists) {
			return errors.Wrapf(err, "update %s", key)
		}
	}
	return errors.Newf("execution record %s kept changing", execARN)
}

// Execution returns one execution's record, or an error marked events.ErrNotFound.
func (p *Executions) Execution(ctx context.Context, execARN string) (events.ExecutionRecord, error) {
	var rec events.ExecutionRecord
	key := ExecutionKey(StateMachineOf(execARN), execARN)
	err := get(ctx, p.kv, key, &rec)
	if errors.Is(err, events.ErrNotFound) && p.js != nil {
		// A direct get may be answered by a replica that has not caught up with a
		// start another node has just recorded: ask the bucket's leader before saying
		// it does not exist.
		val, _, lerr := jsstore.LeaderKVGet(ctx, p.js, ExecutionBucket, key)
		if lerr == nil {
			return rec, errors.Wrap(json.Unmarshal(val, &rec), "decode read model")
		}
	}
	return rec, err
}

// List returns a state machine's executions, newest first.
func (p *Executions) List(ctx context.Context, stateMachineARN string) ([]events.ExecutionRecord, error) {
	keys, err := p.kv.ListKeysFiltered(ctx, jsstore.Token(stateMachineARN)+".>")
	if err != nil {
		return nil, errors.Wrap(err, "list execution keys")
	}
	var out []events.ExecutionRecord
	for k := range keys.Keys() {
		var rec events.ExecutionRecord
		if err := get(ctx, p.kv, k, &rec); err != nil {
			if errors.Is(err, events.ErrNotFound) {
				continue
			}
			return nil, err
		}
		out = append(out, rec)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].StartDate.Equal(out[j].StartDate) {
			return out[i].StartDate.After(out[j].StartDate)
		}
		return out[i].ARN > out[j].ARN
	})
	return out, nil
}

// Running lists every execution whose record says RUNNING (recovery at start-up).
func (p *Executions) Running(ctx context.Context) ([]events.ExecutionRecord, error) {
	// One watcher over the bucket (the newest value of every key in one pass), not a
	// key listing and a read per key: 20,000 sequential reads held recovery back for
	// seconds after a restart. A record whose bytes do not hold the JSON string
	// "RUNNING" (as a value: inside a string it would be escaped) is not running and
	// is neither decoded nor kept: with many ended executions (each record carries its
	// input and start command) recovery held them all in memory at once.
	all, err := listWhere[events.ExecutionRecord](ctx, p.kv, func(b []byte) bool { return bytes.Contains(b, runningValue) })
	if err != nil {
		return nil, errors.Wrap(err, "list executions")
	}
	out := all[:0]
	for _, rec := range all {
		if rec.Status == "RUNNING" {
			out = append(out, rec)
		}
	}
	return out, nil
}

// runningValue is how a RUNNING status appears in a stored record.
var runningValue = []byte(`"RUNNING"`)

// WaitFor blocks until the projection applied the history message at seq.
func (p *Executions) WaitFor(ctx context.Context, seq uint64) error { return p.track.WaitFor(ctx, seq) }
