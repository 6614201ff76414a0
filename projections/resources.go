// Package projections keeps the read models that Describe* and List* calls read:
// JetStream KV buckets fed by durable consumers of the event streams. Nothing here is
// the source of truth; every bucket can be dropped and rebuilt from the streams.
package projections

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// Bucket names of the control-plane read models.
const (
	StateMachineBucket = "sfn_state_machines"
	ActivityBucket     = "sfn_activities"
	resourceConsumer   = "sfnd-proj-resources"
)

// Resources projects the control-plane stream into the state-machine and activity
// buckets, one KV entry per live resource (keyed by jsstore.Token(arn)).
type Resources struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	done   chan struct{}
	stop   sync.Once
	sms    jetstream.KeyValue
	acts   jetstream.KeyValue
	vers   jetstream.KeyValue // state machine versions (versions.go)
	glue   jetstream.KeyValue // Glue resources and runs (glue.go)
	cons   jetstream.Consumer
	cc     jetstream.ConsumeContext
	track  *Tracker
	// Recently read records (cache.go), on once StartResources watches the buckets.
	smCache  recordCache
	actCache recordCache
}

// StartResources creates the buckets and the durable consumer and starts applying.
func StartResources(ctx context.Context, st *jsstore.Store, replicas int) (*Resources, error) {
	r, err := openResources(ctx, st, replicas)
	if err != nil {
		return nil, err
	}
	r.cons, err = jsstore.EnsureConsumer(ctx, st.ResourceStream(), jetstream.ConsumerConfig{
		Durable:       resourceConsumer,
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxAckPending: 1024,
		AckWait:       30 * time.Second,
	})
	if err != nil {
		return nil, errors.Wrap(err, "create resource consumer")
	}
	info, err := r.cons.Info(ctx)
	if err != nil {
		return nil, errors.Wrap(err, "resource consumer info")
	}
	r.track = NewTracker(info.AckFloor.Stream)
	r.track.UseFloor(func(ctx context.Context) (uint64, error) {
		info, err := r.cons.Info(ctx)
		if err != nil {
			return 0, err
		}
		return info.AckFloor.Stream, nil
	})
	r.cc, err = r.cons.Consume(r.handle)
	if err != nil {
		return nil, errors.Wrap(err, "consume resource stream")
	}
	go watch(r.sms, &r.smCache, r.done)
	go watch(r.acts, &r.actCache, r.done)
	return r, nil
}

// openResources opens (or creates) the resource buckets without consuming.
func openResources(ctx context.Context, st *jsstore.Store, replicas int) (*Resources, error) {
	r := &Resources{js: st.JS, stream: st.ResourceStream(), done: make(chan struct{})}
	var err error
	if r.sms, err = jsstore.EnsureKeyValue(ctx, st.JS, jetstream.KeyValueConfig{
		Bucket: StateMachineBucket, Storage: jetstream.FileStorage, Replicas: st.KeepReplicas(ctx, "KV_"+StateMachineBucket, replicas), History: 1,
	}); err != nil {
		return nil, errors.Wrap(err, "create state machine bucket")
	}
	if r.acts, err = jsstore.EnsureKeyValue(ctx, st.JS, jetstream.KeyValueConfig{
		Bucket: ActivityBucket, Storage: jetstream.FileStorage, Replicas: st.KeepReplicas(ctx, "KV_"+ActivityBucket, replicas), History: 1,
	}); err != nil {
		return nil, errors.Wrap(err, "create activity bucket")
	}
	if r.vers, err = createVersionBucket(ctx, st, replicas); err != nil {
		return nil, err
	}
	if r.glue, err = createGlueBucket(ctx, st, replicas); err != nil {
		return nil, err
	}
	return r, nil
}

// Stop stops consuming.
func (r *Resources) Stop() {
	r.stop.Do(func() { close(r.done) })
	if r.cc != nil {
		r.cc.Stop()
	}
}

// handle applies one delivered event. It does not apply the delivered event itself
// but the resource's newest one (every event carries the whole record), so a
// redelivered old event — after a restart, or an ack lost — can never roll a read
// model back. A failure is retried in place rather than nak'ed: a nak would let
// later events overtake this one, and the tracker would report a sequence applied
// that is not.
func (r *Resources) handle(m jetstream.Msg) {
	md, err := m.Metadata()
	if err != nil {
		_ = m.Term()
		return
	}
	for delay := 50 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		err := r.refresh(m.Subject(), md.Sequence.Stream)
		if err == nil {
			break
		}
		select {
		case <-r.done:
			return // not acked: delivered again to the next consumer
		case <-time.After(delay):
		}
	}
	_ = m.Ack()
	r.track.Advance(md.Sequence.Stream)
}

// refresh projects the newest event of the resource whose subject is subj, which is
// at least the delivered sequence seq.
func (r *Resources) refresh(subj string, seq uint64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	last, err := r.stream.GetLastMsgForSubject(ctx, subj)
	if err != nil {
		return errors.Wrapf(err, "read newest event of %s", subj)
	}
	if last.Sequence < seq {
		// A direct get served by a replica that lags behind: read again.
		return errors.Newf("stale read of %s: sequence %d, delivered %d", subj, last.Sequence, seq)
	}
	var ev events.ResourceEvent
	if err := json.Unmarshal(last.Data, &ev); err != nil {
		// An event we cannot read will never become readable: skip it.
		return nil
	}
	return r.apply(ctx, ev, last.Sequence)
}

func (r *Resources) apply(ctx context.Context, ev events.ResourceEvent, seq uint64) error {
	key := jsstore.Token(ev.ARN)
	switch {
	case ev.Glue != nil:
		return r.applyGlue(ctx, ev, seq)
	case ev.StateMachine != nil:
		if ev.Kind == events.StateMachineDeleted {
			return ignoreNotFound(r.sms.Delete(ctx, key))
		}
		rec := *ev.StateMachine
		rec.Seq = seq
		return put(ctx, r.sms, key, rec)
	case ev.Version != nil:
		return r.applyVersion(ctx, key, ev, seq)
	case ev.Activity != nil:
		if ev.Kind == events.ActivityDeleted {
			return ignoreNotFound(r.acts.Delete(ctx, key))
		}
		rec := *ev.Activity
		rec.Seq = seq
		return put(ctx, r.acts, key, rec)
	}
	return nil
}

// WaitFor blocks until the event at stream sequence seq has been applied (a client
// sees its own writes), or ctx ends.
func (r *Resources) WaitFor(ctx context.Context, seq uint64) error {
	err := r.track.WaitFor(ctx, seq)
	// The write is applied (or the wait gave up): what this node cached may predate it.
	r.smCache.clear()
	r.actCache.clear()
	return err
}

// StateMachine returns one state machine, or an error marked events.ErrNotFound.
func (r *Resources) StateMachine(ctx context.Context, arn string) (events.StateMachineRecord, error) {
	var rec events.StateMachineRecord
	return rec, cached(ctx, &r.smCache, r.sms, jsstore.Token(arn), &rec)
}

// Activity returns one activity, or an error marked events.ErrNotFound.
func (r *Resources) Activity(ctx context.Context, arn string) (events.ActivityRecord, error) {
	var rec events.ActivityRecord
	return rec, cached(ctx, &r.actCache, r.acts, jsstore.Token(arn), &rec)
}

// StateMachines lists every state machine, oldest first (ties broken by ARN).
func (r *Resources) StateMachines(ctx context.Context) ([]events.StateMachineRecord, error) {
	out, err := list[events.StateMachineRecord](ctx, r.sms)
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreationDate.Equal(out[j].CreationDate) {
			return out[i].CreationDate.Before(out[j].CreationDate)
		}
		return out[i].ARN < out[j].ARN
	})
	return out, err
}

// Activities lists every activity, oldest first (ties broken by ARN).
func (r *Resources) Activities(ctx context.Context) ([]events.ActivityRecord, error) {
	out, err := list[events.ActivityRecord](ctx, r.acts)
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreationDate.Equal(out[j].CreationDate) {
			return out[i].CreationDate.Before(out[j].CreationDate)
		}
		return out[i].ARN < out[j].ARN
	})
	return out, err
}

func put(ctx context.Context, kv jetstream.KeyValue, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return errors.Wrap(err, "encode read model")
	}
	_, err = kv.Put(ctx, key, b)
	return errors.Wrapf(err, "put %s", key)
}

func get(ctx context.Context, kv jetstream.KeyValue, key string, v any) error {
	b, err := getValue(ctx, kv, key)
	if err != nil {
		return err
	}
	return errors.Wrap(json.Unmarshal(b, v), "decode read model")
}

// getValue reads the stored bytes of key (an error marked events.ErrNotFound when it
// has none).
func getValue(ctx context.Context, kv jetstream.KeyValue, key string) ([]byte, error) {
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, errors.Mark(errors.Newf("%s not found", key), events.ErrNotFound)
	}
	if err != nil {
		return nil, errors.Wrapf(err, "get %s", key)
	}
	return e.Value(), nil
}

// list reads every live entry of a bucket with one watcher (one ordered consumer
// delivering the newest value per key), not a key listing plus one read per key.
func list[T any](ctx context.Context, kv jetstream.KeyValue) ([]T, error) {
	return listWhere[T](ctx, kv, nil)
}

// listWhere is list of the entries whose stored bytes keep accepts (nil: every
// entry); the others are not decoded nor kept.
func listWhere[T any](ctx context.Context, kv jetstream.KeyValue, keep func([]byte) bool) ([]T, error) {
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, errors.Wrap(err, "watch bucket")
	}
	defer func() { _ = w.Stop() }()
	var out []T
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("bucket watcher closed")
			}
			if e == nil { // every initial value delivered
				return out, nil
			}
			if keep != nil && !keep(e.Value()) {
				continue
			}
			var v T
			if err := json.Unmarshal(e.Value(), &v); err != nil {
				return nil, errors.Wrapf(err, "decode read model %s", e.Key())
			}
			out = append(out, v)
		case <-ctx.Done():
			return nil, errors.Wrap(ctx.Err(), "list bucket")
		}
	}
}

func ignoreNotFound(err error) error {
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	return err
}

// Tracker records the highest stream sequence a projection has applied and lets
// callers wait for a sequence.
type Tracker struct {
	mu      sync.Mutex
	applied uint64
	waiters map[chan struct{}]uint64
	// floor, when set, reads the durable consumer's ack floor: on a cluster the nodes
	// share the consumer, so another node may apply the sequence a caller waits for.
	floor func(ctx context.Context) (uint64, error)
}

// waitBound bounds how long a write waits for its projection: the write is durable
// either way, so after this the call answers and the read model catches up.
const waitBound = 10 * time.Second

// pollAfter is how long a waiter relies on this node's own progress before it also
// polls the consumer's ack floor (work another node applied).
const pollAfter = 20 * time.Millisecond

// UseFloor makes waiters also accept the shared consumer's ack floor.
func (t *Tracker) UseFloor(floor func(ctx context.Context) (uint64, error)) {
	t.mu.Lock()
	t.floor = floor
	t.mu.Unlock()
}

// NewTracker starts a tracker at the given applied sequence.
func NewTracker(applied uint64) *Tracker {
	return &Tracker{applied: applied, waiters: map[chan struct{}]uint64{}}
}

// Advance records that seq (and everything before it) is applied.
func (t *Tracker) Advance(seq uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if seq <= t.applied {
		return
	}
	t.applied = seq
	for ch, want := range t.waiters {
		if want <= seq {
			close(ch)
			delete(t.waiters, ch)
		}
	}
}

// Applied returns the highest applied sequence.
func (t *Tracker) Applied() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.applied
}

// WaitFor blocks until seq is applied or ctx ends.
func (t *Tracker) WaitFor(ctx context.Context, seq uint64) error {
	t.mu.Lock()
	if seq <= t.applied {
		t.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	t.waiters[ch] = seq
	floor := t.floor
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.waiters, ch)
		t.mu.Unlock()
	}()
	bound := time.NewTimer(waitBound)
	defer bound.Stop()
	poll := time.NewTicker(pollAfter)
	defer poll.Stop()
	for {
		select {
		case <-ch:
			return nil
		case <-poll.C:
			if floor == nil {
				continue
			}
			if f, err := floor(ctx); err == nil && f >= seq {
				t.Advance(f)
				return nil
			}
		case <-bound.C:
			return nil // durable already; the read model will show it shortly
		case <-ctx.Done():
			return errors.Wrapf(ctx.Err(), "wait for projection to reach %d", seq)
		}
	}
}
