package projections

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// Read models are disposable: every bucket here is derived from the resource and
// history streams, and can be rebuilt from them at any time.
//
// Check compares each read model with the streams it is derived from, using only the
// streams' state (no record is read): a bucket that is missing, that the store
// reports as having lost data, or that holds fewer keys than its source has subjects
// is stale. (Every resource subject has exactly one key, live or deleted; every
// execution with a history has a record. A bucket keeps one revision per key, so a
// write lost in a damaged block loses its key, which the count sees.) Rebuild then
// writes what is missing: the newest event of every resource, and for every history
// the record its ExecutionStarted and end describe. Both run before the projections
// start (app start-up) or on demand (`sfnd projections rebuild`); applying what a
// read model already has changes nothing, so a rebuild is safe at any time.

// Staleness says which read models Check found missing or behind, and why.
type Staleness struct {
	Resources  bool // state machines, versions, activities, Glue resources
	Executions bool // execution records
	Index      bool // the execution list index (stream and ordinals)
	Reasons    []string
}

// Any tells whether any read model is stale.
func (s Staleness) Any() bool { return s.Resources || s.Executions || s.Index }

// streamState is the part of a stream's state Check compares.
type streamState struct {
	exists   bool
	msgs     uint64
	subjects uint64
	lost     bool
}

func stateOf(ctx context.Context, js jetstream.JetStream, name string) (streamState, error) {
	s, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return streamState{}, nil
	}
	if err != nil {
		return streamState{}, errors.Wrapf(err, "stream %s", name)
	}
	info := s.CachedInfo()
	st := info.State
	return streamState{exists: true, msgs: st.Msgs, subjects: st.NumSubjects, lost: st.Lost != nil && len(st.Lost.Msgs) > 0}, nil
}

// Check finds the read models that are missing or behind their streams. Call it
// before anything creates the buckets (a missing bucket is created empty).
func Check(ctx context.Context, st *jsstore.Store) (Staleness, error) {
	var out Staleness
	get := func(name string) streamState {
		if ctx.Err() != nil {
			return streamState{}
		}
		s, err := stateOf(ctx, st.JS, name)
		if err != nil {
			out.Reasons = append(out.Reasons, err.Error())
		}
		return s
	}
	res, hist := get(jsstore.ResourceStream), get(jsstore.HistoryStream)
	if len(out.Reasons) > 0 {
		return out, errors.Newf("read the streams' state: %s", strings.Join(out.Reasons, "; "))
	}
	var keys uint64
	for _, b := range []string{StateMachineBucket, ActivityBucket, VersionBucket, GlueBucket} {
		kv := get("KV_" + b)
		switch {
		case !kv.exists && res.msgs > 0:
			out.Resources = true
			out.Reasons = append(out.Reasons, "bucket "+b+" is missing")
		case kv.lost:
			out.Resources = true
			out.Reasons = append(out.Reasons, "bucket "+b+" lost data")
		}
		keys += kv.subjects
	}
	if !out.Resources && keys < res.subjects {
		out.Resources = true
		out.Reasons = append(out.Reasons, "the resource buckets hold fewer keys than "+jsstore.ResourceStream+" has resources")
	}
	ex := get("KV_" + ExecutionBucket)
	switch {
	case !ex.exists && hist.msgs > 0:
		out.Executions = true
		out.Reasons = append(out.Reasons, "bucket "+ExecutionBucket+" is missing")
	case ex.lost:
		out.Executions = true
		out.Reasons = append(out.Reasons, "bucket "+ExecutionBucket+" lost data")
	case ex.subjects < hist.subjects:
		out.Executions = true
		out.Reasons = append(out.Reasons, "bucket "+ExecutionBucket+" holds fewer records than "+jsstore.HistoryStream+" has executions")
	}
	idx, cnt := get(ExecutionIndexStream), get(ExecutionCounterStream)
	records := max(ex.subjects, hist.subjects)
	switch {
	case records == 0:
	case !idx.exists || !cnt.exists:
		out.Index = true
		out.Reasons = append(out.Reasons, "the execution list index is missing")
	case idx.lost || cnt.lost:
		out.Index = true
		out.Reasons = append(out.Reasons, "the execution list index lost data")
	case idx.msgs < hist.subjects:
		out.Index = true
		out.Reasons = append(out.Reasons, "the execution list index lists fewer entries than "+jsstore.HistoryStream+" has executions")
	}
	return out, ctx.Err()
}

// RebuildStats counts what a rebuild read and wrote.
type RebuildStats struct {
	Resources  int // resources whose newest event was applied
	Histories  int // executions whose history was read
	Created    int // execution records written because they were missing
	Ended      int // ends folded into records that still said RUNNING
	Indexed    int // list index entries written
	Took       time.Duration
	Executions time.Duration // time spent on execution records
}

// Rebuild rebuilds the read models which marks (resources, executions, then the
// list index) from the streams. The projections may run meanwhile.
func Rebuild(ctx context.Context, st *jsstore.Store, which Staleness, replicas int, log *slog.Logger) (RebuildStats, error) {
	if log == nil {
		log = slog.Default()
	}
	began := time.Now()
	var stats RebuildStats
	if which.Resources {
		r, err := openResources(ctx, st, replicas)
		if err != nil {
			return stats, err
		}
		if stats.Resources, err = r.rebuild(ctx); err != nil {
			return stats, err
		}
		log.Info("read model rebuilt", "model", "resources", "resources", stats.Resources)
	}
	if which.Executions || which.Index {
		p, err := OpenExecutions(ctx, st, replicas)
		if err != nil {
			return stats, err
		}
		if which.Executions {
			t0 := time.Now()
			if err := p.rebuild(ctx, st, &stats); err != nil {
				return stats, err
			}
			stats.Executions = time.Since(t0)
			log.Info("read model rebuilt", "model", "executions", "histories", stats.Histories,
				"created", stats.Created, "ended", stats.Ended, "took", stats.Executions.Round(time.Millisecond))
		}
		if which.Index {
			if stats.Indexed, err = p.rebuildIndex(ctx); err != nil {
				return stats, err
			}
			log.Info("read model rebuilt", "model", "execution list index", "entries", stats.Indexed)
		}
	}
	stats.Took = time.Since(began)
	return stats, nil
}

// Repair checks the read models and rebuilds the stale ones (start-up).
func Repair(ctx context.Context, st *jsstore.Store, replicas int, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	stale, err := Check(ctx, st)
	if err != nil {
		return err
	}
	if !stale.Any() {
		return nil
	}
	log.Warn("read model missing or behind its streams: rebuilding", "reasons", strings.Join(stale.Reasons, "; "))
	stats, err := Rebuild(ctx, st, stale, replicas, log)
	if err != nil {
		return errors.Wrap(err, "rebuild read models")
	}
	log.Warn("read models rebuilt", "resources", stats.Resources, "histories", stats.Histories,
		"created", stats.Created, "ended", stats.Ended, "indexed", stats.Indexed, "took", stats.Took.Round(time.Millisecond))
	return nil
}

// rebuild applies the newest event of every resource subject.
func (r *Resources) rebuild(ctx context.Context) (int, error) {
	n := 0
	err := scan(ctx, r.stream, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy},
		func(m jetstream.Msg, seq uint64) error {
			var ev events.ResourceEvent
			if err := json.Unmarshal(m.Data(), &ev); err != nil {
				return nil // an event we cannot read will never become readable
			}
			n++
			return r.apply(ctx, ev, seq)
		})
	return n, err
}

// scan reads a stream from an ordered consumer up to the last message it holds when
// the scan starts, calling fn for each.
func scan(ctx context.Context, s jetstream.Stream, cfg jetstream.OrderedConsumerConfig, fn func(m jetstream.Msg, seq uint64) error) error {
	info, err := s.Info(ctx)
	if err != nil {
		return errors.Wrap(err, "stream info")
	}
	last := info.State.LastSeq
	if info.State.Msgs == 0 {
		return nil
	}
	cons, err := s.OrderedConsumer(ctx, cfg)
	if err != nil {
		return errors.Wrap(err, "ordered consumer")
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1024))
	if err != nil {
		return errors.Wrap(err, "read stream")
	}
	defer it.Stop()
	for {
		m, err := it.Next()
		if err != nil {
			return errors.Wrap(err, "read stream")
		}
		md, err := m.Metadata()
		if err != nil {
			return errors.Wrap(err, "message metadata")
		}
		if err := fn(m, md.Sequence.Stream); err != nil {
			return err
		}
		if md.Sequence.Stream >= last || md.NumPending == 0 {
			return nil
		}
	}
}

// rebuild reads every history message that starts or ends an execution and writes
// the records that are missing, folding the ends into those that are behind. The
// messages of one execution go to one worker, in stream order.
func (p *Executions) rebuild(ctx context.Context, st *jsstore.Store, stats *RebuildStats) error {
	const workers = 8
	type job struct {
		arn   string
		types string
		data  []byte
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		queues   [workers]chan job
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	for i := range queues {
		queues[i] = make(chan job, 256)
		wg.Go(func() {
			for j := range queues[i] {
				created, ended, err := p.rebuildOne(ctx, j.arn, j.types, j.data)
				if err != nil {
					fail(err)
					continue
				}
				mu.Lock()
				if created {
					stats.Created++
				}
				if ended {
					stats.Ended++
				}
				mu.Unlock()
			}
		})
	}
	err := scan(ctx, st.HistoryStream(), jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy},
		func(m jetstream.Msg, _ uint64) error {
			types := m.Headers().Get(jsstore.TypeHeader)
			starts := strings.Contains(types, string(events.ExecutionStarted))
			if !starts && !executionLevel(types) {
				return nil
			}
			arn, err := jsstore.Untoken(strings.TrimPrefix(m.Subject(), jsstore.HistoryPrefix))
			if err != nil {
				return nil
			}
			if starts {
				mu.Lock()
				stats.Histories++
				mu.Unlock()
			}
			h := fnv.New32a()
			h.Write([]byte(arn))
			select {
			case queues[h.Sum32()%workers] <- job{arn: arn, types: types, data: m.Data()}:
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		})
	for i := range queues {
		close(queues[i])
	}
	wg.Wait()
	if err != nil {
		return err
	}
	return firstErr
}

// rebuildOne applies one history message to its execution's record: an
// ExecutionStarted creates the record when it is missing, an end is folded in.
func (p *Executions) rebuildOne(ctx context.Context, arn, types string, data []byte) (created, ended bool, err error) {
	evs, err := events.DecodeHistoryMsg(data, nil)
	if err != nil || len(evs) == 0 {
		return false, false, nil // a message we cannot read will never become readable
	}
	if evs[0].Type == events.ExecutionStarted {
		rec, ok := recordFromStart(arn, evs)
		if ok {
			b, err := json.Marshal(rec)
			if err != nil {
				return false, false, errors.Wrap(err, "encode execution record")
			}
			_, err = p.kv.Create(ctx, ExecutionKey(rec.StateMachineARN, arn), b)
			switch {
			case err == nil:
				return true, rec.Status != "RUNNING", nil
			case !errors.Is(err, jetstream.ErrKeyExists):
				return false, false, errors.Wrapf(err, "create record of %s", arn)
			}
		}
	}
	if lastTerminalID(evs) == 0 {
		return false, false, nil
	}
	before, err := p.Execution(ctx, arn)
	if err != nil && !errors.Is(err, events.ErrNotFound) {
		return false, false, err
	}
	if err := p.apply(ctx, arn, evs); err != nil {
		return false, false, err
	}
	return false, before.Status == "RUNNING", nil
}

// recordFromStart builds an execution's record from its history's first message:
// ExecutionStarted and its bookkeeping (start command, definition, parent, trace
// header), with any end in the same message folded in.
func recordFromStart(arn string, evs []events.HistoryEvent) (events.ExecutionRecord, bool) {
	first := evs[0]
	ext, det := first.Ext, first.ExecutionStartedEventDetails
	if ext == nil || det == nil {
		return events.ExecutionRecord{}, false
	}
	var trig struct {
		Start *struct {
			Name             string    `json:"name"`
			StateMachineArn  string    `json:"stateMachineArn"`
			StateMachineName string    `json:"stateMachineName"`
			StartTime        time.Time `json:"startTime"`
		}
	}
	if err := json.Unmarshal(ext.Trigger, &trig); err != nil || trig.Start == nil {
		return events.ExecutionRecord{}, false
	}
	s := trig.Start
	smARN := s.StateMachineArn
	if smARN == "" {
		smARN = StateMachineOf(arn)
	}
	start := s.StartTime
	if start.IsZero() {
		start = first.Timestamp
	}
	input := ""
	if det.Input != nil {
		input = *det.Input
	}
	rec := events.ExecutionRecord{
		ARN: arn, StateMachineARN: smARN, Name: s.Name, Status: "RUNNING", StartDate: start,
		Start: &events.StartCommand{
			Name: s.Name, Input: input, StateMachineARN: smARN, StateMachineName: s.StateMachineName,
			StateMachineVersionARN: det.StateMachineVersionArn, StateMachineAliasARN: det.StateMachineAliasArn,
			Definition: ext.Definition, RoleARN: det.RoleArn, StartDate: start, TraceHeader: ext.TraceHeader,
			Parent: ext.Parent, MockTestCase: ext.MockTestCase,
		},
	}
	foldExecution(&rec, evs)
	return rec, true
}

// rebuildIndex writes the execution list index afresh from the records: the index
// and the ordinals are purged, then every execution gets an entry, oldest first per
// state machine. Run it only when the index is missing or damaged: starts accepted
// meanwhile could be listed twice.
func (p *Executions) rebuildIndex(ctx context.Context) (int, error) {
	for _, name := range []string{ExecutionIndexStream, ExecutionCounterStream} {
		s, err := p.js.Stream(ctx, name)
		if err != nil {
			return 0, errors.Wrapf(err, "stream %s", name)
		}
		if err := s.Purge(ctx); err != nil {
			return 0, errors.Wrapf(err, "purge %s", name)
		}
	}
	keys, err := p.kv.ListKeys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return 0, nil
	}
	if err != nil {
		return 0, errors.Wrap(err, "list executions")
	}
	var recs []events.ExecutionRecord
	for k := range keys.Keys() {
		var rec events.ExecutionRecord
		if err := get(ctx, p.kv, k, &rec); err == nil {
			rec.Start, rec.Output = nil, nil // only the ARN and dates are needed
			recs = append(recs, rec)
		}
	}
	slices.SortFunc(recs, func(a, b events.ExecutionRecord) int {
		if c := strings.Compare(a.StateMachineARN, b.StateMachineARN); c != 0 {
			return c
		}
		if c := a.StartDate.Compare(b.StartDate); c != 0 {
			return c
		}
		return strings.Compare(a.ARN, b.ARN)
	})
	for _, rec := range recs {
		done, err := p.indexStart(ctx, rec)
		if err != nil {
			return 0, err
		}
		if err := done(); err != nil {
			return 0, err
		}
	}
	return len(recs), nil
}
