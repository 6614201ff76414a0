package jsstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// WaitForJetStream blocks until JetStream answers on nc: on a cluster, until the
// servers have elected a meta leader. While it waits it logs one line every few
// seconds saying so; it gives up only when ctx ends.
func WaitForJetStream(ctx context.Context, nc *nats.Conn, logger *slog.Logger) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return errors.Wrap(err, "jetstream context")
	}
	start := time.Now()
	lastLog := time.Time{}
	for {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := js.AccountInfo(actx)
		cancel()
		if err == nil {
			if !lastLog.IsZero() {
				logger.Info("JetStream is ready", "waited", time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
		if ctx.Err() != nil {
			return errors.Wrap(err, "waiting for JetStream")
		}
		if time.Since(lastLog) > 5*time.Second {
			logger.Warn("waiting for the JetStream cluster to elect a leader (are a majority of the nodes up?)",
				"waited", time.Since(start).Round(time.Second), "err", err.Error())
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Retryable reports whether a JetStream API error means "not now" on a cluster that
// is still forming or electing leaders: no meta leader yet, too few servers for the
// replicas asked for, a request that timed out.
func Retryable(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case 10008, // JetStream system temporarily unavailable
			10005, // no suitable peers for placement
			10023: // insufficient resources
			return true
		}
		return apiErr.Code == 503
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled)
}

// RetryStartup runs fn until it succeeds, returns an error Retryable calls permanent,
// or ctx ends; it logs what it waits for every few seconds.
func RetryStartup(ctx context.Context, logger *slog.Logger, what string, fn func(context.Context) error) error {
	start := time.Now()
	var lastLog time.Time
	for {
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := fn(actx)
		cancel()
		if err == nil || !Retryable(err) || ctx.Err() != nil {
			return err
		}
		if time.Since(lastLog) > 5*time.Second {
			logger.Warn("waiting for the JetStream cluster: "+what,
				"waited", time.Since(start).Round(time.Second), "err", err.Error())
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// ReplicaMismatch is a stream (or KV bucket's stream) whose replica count is not the
// one the node was started with: sfnd never changes an existing stream's replicas by
// itself; `sfnd cluster scale` does.
type ReplicaMismatch struct {
	Stream string
	Have   int
	Want   int
}

func (m ReplicaMismatch) String() string {
	return fmt.Sprintf("%s has %d replica(s), --replicas is %d", m.Stream, m.Have, m.Want)
}

// replicaLog records the mismatches found while a node creates its streams.
type replicaLog struct {
	mu  sync.Mutex
	mis []ReplicaMismatch
}

// KeepReplicas is the replica count to create or update stream name with: want when
// the stream does not exist yet, else its current count (a difference is recorded,
// see ReplicaMismatches). KV bucket B's stream is KV_B.
func (s *Store) KeepReplicas(ctx context.Context, name string, want int) int {
	if want <= 0 {
		want = s.replicas
	}
	var st jetstream.Stream
	var err error
	for {
		lctx, cancel := context.WithTimeout(ctx, createTimeout)
		st, err = s.JS.Stream(lctx, name)
		cancel()
		if !lookupTimedOut(ctx, err) {
			break
		}
	}
	if err != nil {
		return want
	}
	have := st.CachedInfo().Config.Replicas
	if have == 0 {
		have = 1
	}
	if have != want {
		s.replicaLog.mu.Lock()
		if !slices.ContainsFunc(s.replicaLog.mis, func(m ReplicaMismatch) bool { return m.Stream == name }) {
			s.replicaLog.mis = append(s.replicaLog.mis, ReplicaMismatch{Stream: name, Have: have, Want: want})
		}
		s.replicaLog.mu.Unlock()
	}
	return have
}

// Replicas is the replica count the store was opened with.
func (s *Store) Replicas() int { return s.replicas }

// ReplicaMismatches lists the existing streams whose replica count differs from the
// node's --replicas.
func (s *Store) ReplicaMismatches() []ReplicaMismatch {
	s.replicaLog.mu.Lock()
	defer s.replicaLog.mu.Unlock()
	return slices.Clone(s.replicaLog.mis)
}

// StreamPrefixes name every stream sfnd creates: its own (SFN_*, GLUE_*) and its KV
// buckets' (KV_sfn_*, KV_glue_*).
var StreamPrefixes = []string{"SFN_", "KV_sfn_", "GLUE_", "KV_glue_"}

// OwnStream reports whether a stream name is one sfnd creates.
func OwnStream(name string) bool {
	for _, p := range StreamPrefixes {
		if len(name) > len(p) && name[:len(p)] == p {
			return true
		}
	}
	return false
}

// ScaleStreams sets the replica count of every stream sfnd created (a JetStream
// cluster copies the data to the new replicas in the background). It returns the
// streams it changed.
func ScaleStreams(ctx context.Context, js jetstream.JetStream, replicas int) ([]ReplicaMismatch, error) {
	var changed []ReplicaMismatch
	names := js.StreamNames(ctx)
	var all []string
	for n := range names.Name() {
		if OwnStream(n) {
			all = append(all, n)
		}
	}
	if err := names.Err(); err != nil {
		return nil, errors.Wrap(err, "list streams")
	}
	slices.Sort(all)
	for _, n := range all {
		st, err := js.Stream(ctx, n)
		if err != nil {
			return changed, errors.Wrapf(err, "stream %s", n)
		}
		cfg := st.CachedInfo().Config
		have := max(cfg.Replicas, 1)
		if have == replicas {
			continue
		}
		cfg.Replicas = replicas
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			return changed, errors.Wrapf(err, "scale stream %s to %d replicas", n, replicas)
		}
		changed = append(changed, ReplicaMismatch{Stream: n, Have: have, Want: replicas})
	}
	return changed, nil
}

// createTimeout bounds one create request: a JetStream cluster can leave concurrent
// creates of the same stream unanswered (nats-server 2.15, several nodes starting
// at once), while the stream gets created all the same.
const createTimeout = 4 * time.Second

// EnsureStream creates the stream, or updates it when its configuration lacks what
// cfg asks for; concurrent starts of several nodes are safe (see createTimeout).
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	for {
		lctx, lcancel := context.WithTimeout(ctx, createTimeout)
		st, err := js.Stream(lctx, cfg.Name)
		lcancel()
		if err == nil {
			if covers(st.CachedInfo().Config, cfg) {
				return st, nil
			}
			return js.UpdateStream(ctx, cfg)
		}
		if lookupTimedOut(ctx, err) {
			continue // the stream exists but has no leader yet
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, err
		}
		cctx, cancel := context.WithTimeout(ctx, createTimeout)
		st, err = js.CreateStream(cctx, cfg)
		cancel()
		if err == nil {
			return st, nil
		}
		if ctx.Err() != nil || !(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse)) {
			return nil, err
		}
	}
}

// EnsureKeyValue is EnsureStream for a KV bucket.
func EnsureKeyValue(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	for {
		lctx, lcancel := context.WithTimeout(ctx, createTimeout)
		_, err := js.KeyValue(lctx, cfg.Bucket)
		lcancel()
		if lookupTimedOut(ctx, err) {
			continue
		}
		if err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) {
			return nil, err
		}
		cctx, cancel := context.WithTimeout(ctx, createTimeout)
		var kv jetstream.KeyValue
		if err == nil {
			kv, err = js.CreateOrUpdateKeyValue(cctx, cfg)
		} else {
			kv, err = js.CreateKeyValue(cctx, cfg)
		}
		cancel()
		if err == nil {
			return kv, nil
		}
		if ctx.Err() != nil || !(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrBucketExists) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse)) {
			return nil, err
		}
	}
}

// EnsureConsumer is EnsureStream for a durable consumer.
func EnsureConsumer(ctx context.Context, st jetstream.Stream, cfg jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	for {
		lctx, lcancel := context.WithTimeout(ctx, createTimeout)
		c, err := st.Consumer(lctx, cfg.Durable)
		lcancel()
		if err == nil {
			if covers(c.CachedInfo().Config, cfg) {
				return c, nil
			}
			return st.UpdateConsumer(ctx, cfg)
		}
		if lookupTimedOut(ctx, err) {
			continue
		}
		if !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, err
		}
		cctx, cancel := context.WithTimeout(ctx, createTimeout)
		c, err = st.CreateConsumer(cctx, cfg)
		cancel()
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil || !(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrConsumerExists)) {
			return nil, err
		}
	}
}

// lookupTimedOut reports whether a bounded look-up went unanswered while ctx still
// runs: the object's RAFT group has no leader yet (just created, or its leader died);
// look again rather than wait out ctx on one request.
func lookupTimedOut(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded)
}

// covers reports whether have already has every non-zero setting of want (compared
// as JSON): then an update would change nothing.
func covers(have, want any) bool {
	hb, err1 := json.Marshal(have)
	wb, err2 := json.Marshal(want)
	if err1 != nil || err2 != nil {
		return false
	}
	var h, w map[string]any
	if json.Unmarshal(hb, &h) != nil || json.Unmarshal(wb, &w) != nil {
		return false
	}
	for k, v := range w {
		switch v := v.(type) {
		case nil:
			continue
		case bool:
			if !v {
				continue
			}
		case float64:
			if v == 0 {
				continue
			}
		case string:
			if v == "" {
				continue
			}
		}
		if !reflect.DeepEqual(h[k], v) {
			return false
		}
	}
	return true
}

// Transient reports an error of a JetStream request that may succeed when repeated
// a little later: Retryable, or no stream answered (its leader is being elected).
func Transient(err error) bool {
	return Retryable(err) || errors.Is(err, jetstream.ErrNoStreamResponse)
}

// publishAttempt bounds one attempt of PublishRetry.
const publishAttempt = 4 * time.Second

// PublishRetry publishes m and waits for its acknowledgement, trying again while no
// stream leader answers (the leader died with a node and its RAFT group is electing
// another: no responders, a request that timed out, 503; or an earlier attempt of the
// same message still in process) until ctx ends. Each
// attempt waits at most publishAttempt. Only for messages whose repeat is harmless:
// ones with a Nats-Msg-Id (the stream drops the repeat) or commands (a repeated
// trigger decides nothing).
func PublishRetry(ctx context.Context, js jetstream.JetStream, m *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	for {
		actx, cancel := context.WithTimeout(ctx, publishAttempt)
		ack, err := js.PublishMsg(actx, m, opts...)
		cancel()
		if err == nil || ctx.Err() != nil || !(Transient(err) || inProcess(err)) {
			return ack, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// inProcess reports JetStream's "duplicate message id is in process" (10158): on a
// replicated stream an earlier attempt of the same publish (same Nats-Msg-Id) is still
// being proposed; asking again a little later gets its outcome (stored: a duplicate
// acknowledgement). Seen when a schedule's first attempt timed out during a leader
// change and the retry arrived while it was still in flight: the timer's arming failed.
func inProcess(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == 10158
}

// LeaderKVGet reads the newest value of key in bucket from the bucket stream's leader
// ($JS.API.STREAM.MSG.GET). A KV Get is a direct get that any replica may answer,
// one that has not caught up included: on a replicated cluster a node can then miss
// a key another node has just written. Deleted or purged keys and missing ones are
// jetstream.ErrKeyNotFound. It returns the value and its revision.
func LeaderKVGet(ctx context.Context, js jetstream.JetStream, bucket, key string) ([]byte, uint64, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	req, _ := json.Marshal(map[string]string{"last_by_subj": "$KV." + bucket + "." + key})
	resp, err := js.Conn().RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET.KV_"+bucket, req)
	if err != nil {
		return nil, 0, errors.Wrapf(err, "get %s from the leader", key)
	}
	var r struct {
		Message *struct {
			Seq  uint64 `json:"seq"`
			Hdrs []byte `json:"hdrs"`
			Data []byte `json:"data"`
		} `json:"message"`
		Error *struct {
			Code        int    `json:"code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(resp.Data, &r); err != nil {
		return nil, 0, errors.Wrap(err, "decode message get")
	}
	if r.Error != nil {
		if r.Error.Code == 404 {
			return nil, 0, jetstream.ErrKeyNotFound
		}
		return nil, 0, errors.Newf("get %s from the leader: %s (%d)", key, r.Error.Description, r.Error.Code)
	}
	if r.Message == nil {
		return nil, 0, jetstream.ErrKeyNotFound
	}
	if h := r.Message.Hdrs; bytes.Contains(h, []byte("KV-Operation: DEL")) || bytes.Contains(h, []byte("KV-Operation: PURGE")) {
		return nil, 0, jetstream.ErrKeyNotFound
	}
	return r.Message.Data, r.Message.Seq, nil
}
