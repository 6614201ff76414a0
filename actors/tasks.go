package actors

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	stderrors "errors"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/actors/asl"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// Tasks that leave the engine: activities, callbacks (.waitForTaskToken) and service
// integrations.
//
// Layout on JetStream:
//
//   - ActivityStream, one work-queue stream for every activity, one subject per
//     activity (ActivityPrefix + Token(activityARN)). A queued message is one task;
//     its Nats-Msg-Id is execution ARN + scheduled event id, so dispatching the same
//     task again (recovery) is deduplicated. Each activity has one durable pull
//     consumer (shared by every node) filtered on its subject; GetActivityTask is one
//     pull request of one message with a long poll of up to 60 s, so idle pollers cost
//     a waiting pull request on the server and a parked goroutine here, nothing that
//     spins. One stream rather than one per activity: creating an activity then needs
//     no stream, and the server keeps one set of limits.
//   - TaskBucket, the task table: one record per dispatched task, keyed by execution
//     and scheduled event id, saying where the task is (dispatching, queued, started,
//     waiting for its token, answered) and when it last showed a sign of life
//     (heartbeats). GetActivityTask claims a queued task by a compare-and-set on its
//     record, so a task is handed out at most once; SendTask* read it to answer
//     TaskTimedOut / TaskDoesNotExist as AWS does. When the decider closes a task
//     (result, timeout, abort, end of the execution) the record becomes a tombstone
//     that expires after TombstoneTTL.
//   - Results travel as TaskResult commands on the execution's command subject. A
//     result's Nats-Msg-Id is execution + scheduled event id + "result": of two racing
//     SendTaskSuccess calls the second is a duplicate and answers TaskTimedOut.
//
// DeleteActivity: GetActivityTask on a deleted activity answers ActivityDoesNotExist,
// and a Task state that reaches a deleted activity fails with States.Runtime (as
// AWS). Tasks queued before the deletion are not failed: their executions wait (for
// their TimeoutSeconds, the execution's timeout or StopExecution), tokens already
// handed out keep working, and an activity created again under the same name serves
// them.

// Stream, subject and bucket names of the task machinery.
const (
	ActivityStream = "SFN_ACTIVITIES"
	ActivityPrefix = "sfn.act."
	TaskBucket     = "sfn_tasks"
)

// ActivitySubject is the work-queue subject of an activity.
func ActivitySubject(activityARN string) string { return ActivityPrefix + jsstore.Token(activityARN) }

// Errors of the task API, mapped to AWS errors by the API.
var (
	// ErrTaskDoesNotExist: the token is genuine but names no task this deployment knows.
	ErrTaskDoesNotExist = errors.New("task does not exist")
	// ErrTaskTimedOut: the task timed out or was already closed.
	ErrTaskTimedOut = errors.New("task timed out or closed")
)

// Task record states.
const (
	taskDispatching = "dispatching" // record written, task not yet queued / invoked
	taskQueued      = "queued"      // activity task waiting in its queue
	taskStarted     = "started"     // handed to a worker / integration called
	taskWaiting     = "waiting"     // callback submitted, waiting for its token
	taskAnswered    = "answered"    // a result was sent to the execution
	taskClosed      = "closed"      // the execution recorded the task's end
)

// taskRecord is one row of the task table.
type taskRecord struct {
	Exec      string    `json:"exec"`
	Scheduled int64     `json:"sched"`
	Activity  string    `json:"activity,omitempty"`
	Resource  string    `json:"resource,omitempty"`
	State     string    `json:"state"`
	Heartbeat int64     `json:"hb,omitempty"` // HeartbeatSeconds
	Beat      time.Time `json:"beat,omitzero"`
	Worker    string    `json:"worker,omitempty"`
	Seq       uint64    `json:"seq,omitempty"` // stream sequence of the queued activity message
	Job       string    `json:"job,omitempty"` // a JobIntegration's job (the child execution of states:startExecution)
}

// activityMsg is a queued activity task. Rev is the revision of its task record
// when it was queued and Activity, Heartbeat that record's other fields: a poll
// claims the task with one compare-and-set at Rev, without reading the record first
// (the record can only be at Rev if nothing happened to the task since; otherwise
// the compare-and-set fails and the poll reads it). Messages without Rev (queued by
// an older sfnd) are claimed the reading way.
type activityMsg struct {
	Exec      string `json:"exec"`
	Scheduled int64  `json:"sched"`
	Input     string `json:"input"`
	Rev       uint64 `json:"rev,omitempty"`
	Activity  string `json:"activity,omitempty"`
	Heartbeat int64  `json:"hb,omitempty"`
}

// Integration calls a service for a Task state (Resource
// arn:aws:states:::<type>:<action>[.waitForTaskToken]). It returns the service's
// answer as JSON text, or an error; an *IntegrationError carries the AWS error name.
type Integration interface {
	Invoke(ctx context.Context, call IntegrationCall) (output string, err error)
}

// IntegrationCall is one call of an integration.
type IntegrationCall struct {
	ExecARN string
	Task    asl.InvokeTask
	// Action is the resource name without its pattern suffix; Pattern is "",
	// "sync" or "waitForTaskToken".
	Action  string
	Pattern string
	// Token is the task's token (what $$.Task.Token gave the Parameters).
	Token string
}

// JobIntegration is an Integration whose calls start a job that ends later
// (states:startExecution: a child execution). Submit replaces Invoke: it makes the
// job durable without running it and returns the call's output and the job's id;
// Launch runs it once the call's outcome (TaskSubmitted, or TaskSucceeded for fire and
// forget) is stored, so a job that ends at once cannot report before it. For .sync
// patterns the job reports its own end to the task. Cancel stops the job of a .sync
// task that closed without its result; Resume, on recovery, re-reports the end of a
// job whose report may have been lost.
type JobIntegration interface {
	Integration
	Submit(ctx context.Context, call IntegrationCall) (output, job string, err error)
	Launch(ctx context.Context, call IntegrationCall, job string) error
	Cancel(ctx context.Context, job string) error
	Resume(ctx context.Context, call IntegrationCall, job string) error
}

// IntegrationError is an integration's failure with the error name the task fails
// with (for Retry and Catch).
type IntegrationError struct{ Name, Cause string }

func (e *IntegrationError) Error() string { return e.Name + ": " + e.Cause }

// TasksConfig configures Tasks.
type TasksConfig struct {
	Replicas int // of the activity stream and task buckets; 0: the store's (--replicas)
	// WaitTimeScale is the engine's timer scale: heartbeat deadlines shrink with it.
	WaitTimeScale float64
	Now           func() time.Time
	Logger        *slog.Logger
	// ActivityExists tells whether an activity exists (nil: assume it does).
	ActivityExists func(ctx context.Context, activityARN string) (bool, error)
	// Integrations by resource type ("sqs", "lambda", "aws-sdk:s3" ...).
	Integrations map[string]Integration
	// TombstoneTTL is how long the record of a closed task answers TaskTimedOut
	// before its token answers TaskDoesNotExist (default 7 days).
	TombstoneTTL time.Duration
	// AckWait bounds how long a task delivered to a poller that vanished stays
	// invisible before it is offered again (default 10 s).
	AckWait time.Duration
}

// Tasks is the engine's TaskDispatcher and the task side of the API (GetActivityTask,
// SendTaskSuccess/Failure/Heartbeat).
type Tasks struct {
	cfg    TasksConfig
	store  *jsstore.Store
	js     jetstream.JetStream
	stream jetstream.Stream
	kv     jetstream.KeyValue
	tokens *TaskTokens

	mu        sync.Mutex
	consumers map[string]*activityConsumer
	// workers are the workers this node handed each activity's tasks to, with when
	// (the console's "workers recently seen"; kept in memory, at most maxWorkersSeen).
	workers map[string]map[string]time.Time
	// local, when set, hands a command to this node's engine without the command
	// stream (see UseEngine).
	local atomic.Pointer[Engine]
}

// UseEngine lets the task side hand ActivityStarted reports to the node's own engine
// in memory. They need not be durable: a result implies its start, and the decider
// records ActivityStarted before the result when the report was lost. A result goes
// to the engine in memory only when the execution's actor is resident here, and is
// answered only once its decision is stored (Engine.Answer); otherwise it goes on the
// durable command stream.
func (t *Tasks) UseEngine(e *Engine) { t.local.Store(e) }

// activityConsumer is an activity's pull consumer, created once per node (concurrent
// first polls wait for one creation instead of each asking the JetStream API).
type activityConsumer struct {
	ready chan struct{}
	c     jetstream.Consumer
	err   error
}

var _ TaskDispatcher = (*Tasks)(nil)

// NewTasks opens (creating when needed) the activity stream, the task table and the
// token key.
func NewTasks(ctx context.Context, store *jsstore.Store, cfg TasksConfig) (*Tasks, error) {
	if cfg.WaitTimeScale <= 0 {
		cfg.WaitTimeScale = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.TombstoneTTL <= 0 {
		cfg.TombstoneTTL = 7 * 24 * time.Hour
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 10 * time.Second
	}
	t := &Tasks{cfg: cfg, store: store, js: store.JS, consumers: map[string]*activityConsumer{}}
	var err error
	t.stream, err = jsstore.EnsureStream(ctx, store.JS, jetstream.StreamConfig{
		Name:        ActivityStream,
		Description: "sfnd activity tasks: one work-queue subject per activity",
		Subjects:    []string{ActivityPrefix + ">"},
		Storage:     jetstream.FileStorage,
		Replicas:    store.KeepReplicas(ctx, ActivityStream, cfg.Replicas),
		Retention:   jetstream.WorkQueuePolicy,
		Duplicates:  2 * time.Minute,
	})
	if err != nil {
		return nil, errors.Wrap(err, "create activity stream")
	}
	t.kv, err = jsstore.EnsureKeyValue(ctx, store.JS, jetstream.KeyValueConfig{
		Bucket:         TaskBucket,
		Description:    "sfnd task table: dispatched tasks and tombstones of closed ones",
		Storage:        jetstream.FileStorage,
		Replicas:       store.KeepReplicas(ctx, "KV_"+TaskBucket, cfg.Replicas),
		History:        1,
		LimitMarkerTTL: time.Minute,
	})
	if err != nil {
		return nil, errors.Wrap(err, "create task bucket")
	}
	if t.tokens, err = LoadTaskTokens(ctx, store.JS, store.KeepReplicas(ctx, "KV_"+KeyBucket, cfg.Replicas)); err != nil {
		return nil, err
	}
	return t, nil
}

// TokenExecution returns the execution a task token belongs to, or an error marked
// ErrInvalidToken for a token this deployment did not issue.
func (t *Tasks) TokenExecution(token string) (string, error) {
	ref, err := t.tokens.Parse(token)
	return ref.ExecARN, err
}

// Token is the task token of a task (the engine's $$.Task.Token).
func (t *Tasks) Token(execARN string, scheduled int64) string {
	return t.tokens.Token(execARN, scheduled)
}

// TokenV1 is a task's token in the format issued before opaque tokens (replays of
// histories that recorded one).
func (t *Tasks) TokenV1(execARN string, scheduled int64) string {
	return t.tokens.TokenV1(execARN, scheduled)
}

func taskKey(execARN string, scheduled int64) string {
	return jsstore.Token(execARN) + "." + strconv.FormatInt(scheduled, 10)
}

// get reads a task record; a missing one is an error marked ErrTaskDoesNotExist.
func (t *Tasks) get(ctx context.Context, key string) (taskRecord, uint64, error) {
	var rec taskRecord
	var val []byte
	var rev uint64
	var err error
	if t.store.Replicas() > 1 {
		// On a replicated cluster a direct get may be answered by a replica that has
		// not caught up: a poll would drop a task just queued, a claim would keep
		// failing its compare-and-set. Task records are read from the leader.
		val, rev, err = jsstore.LeaderKVGet(ctx, t.js, TaskBucket, key)
	} else {
		var e jetstream.KeyValueEntry
		if e, err = t.kv.Get(ctx, key); err == nil {
			val, rev = e.Value(), e.Revision()
		}
	}
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return rec, 0, errors.Mark(errors.Newf("no task %s", key), ErrTaskDoesNotExist)
	}
	if err != nil {
		return rec, 0, errors.Wrap(err, "read task record")
	}
	if err := json.Unmarshal(val, &rec); err != nil {
		return rec, 0, errors.Wrap(err, "decode task record")
	}
	return rec, rev, nil
}

func (t *Tasks) create(ctx context.Context, key string, rec taskRecord, opts ...jetstream.KVCreateOpt) (uint64, error) {
	b, _ := json.Marshal(rec)
	return t.kv.Create(ctx, key, b, opts...)
}

func (t *Tasks) update(ctx context.Context, key string, rec taskRecord, rev uint64) (uint64, error) {
	b, _ := json.Marshal(rec)
	return t.kv.Update(ctx, key, b, rev)
}

// tombstone overwrites a task record at revision rev with its closed state and a
// per-message TTL, in one publish to the bucket's subject (KV Update takes no TTL).
func (t *Tasks) tombstone(ctx context.Context, key string, rec taskRecord, rev uint64) error {
	b, _ := json.Marshal(rec)
	_, err := t.js.Publish(ctx, "$KV."+TaskBucket+"."+key, b,
		jetstream.WithMsgTTL(t.cfg.TombstoneTTL), jetstream.WithExpectLastSequencePerSubject(rev))
	return err
}

// ---- dispatch (engine side) ----

// Dispatch implements TaskDispatcher: it queues an activity task or starts an
// integration call. It is idempotent: a task whose record shows it queued (or
// further) is left alone.
func (t *Tasks) Dispatch(ctx context.Context, execARN string, effect asl.Effect) error {
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return err
			case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
			}
		}
		switch ef := effect.(type) {
		case asl.ScheduleActivity:
			err = t.dispatchActivity(ctx, execARN, ef)
		case asl.InvokeTask:
			err = t.dispatchInvoke(ctx, execARN, ef)
		default:
			return errors.Newf("unknown task effect %T", effect)
		}
		if err == nil {
			return nil
		}
	}
	return err
}

// claimRecord returns the task's record, creating it (state dispatching) when
// missing, and whether the task still needs dispatching.
func (t *Tasks) claimRecord(ctx context.Context, key string, fresh taskRecord) (taskRecord, uint64, bool, error) {
	for range 4 {
		// A new task is the common case: create first, read only when it exists.
		rev, err := t.create(ctx, key, fresh)
		if err == nil {
			return fresh, rev, true, nil
		}
		if isWrongSequence(err) {
			rec, rev, err := t.get(ctx, key)
			if err == nil {
				return rec, rev, rec.State == taskDispatching || (rec.Resource != "" && rec.State == taskStarted), nil
			}
			if !errors.Is(err, ErrTaskDoesNotExist) {
				return rec, 0, false, err
			}
			continue
		}
		return taskRecord{}, 0, false, errors.Wrap(err, "create task record")
	}
	return taskRecord{}, 0, false, errors.Newf("task record %s keeps changing", key)
}

func (t *Tasks) dispatchActivity(ctx context.Context, execARN string, ef asl.ScheduleActivity) error {
	key := taskKey(execARN, ef.ScheduledEventID)
	rec, rev, todo, err := t.claimRecord(ctx, key, taskRecord{Exec: execARN, Scheduled: ef.ScheduledEventID,
		Activity: ef.ActivityArn, State: taskDispatching, Heartbeat: ef.HeartbeatSeconds})
	if err != nil || !todo {
		return err
	}
	am := activityMsg{Exec: execARN, Scheduled: ef.ScheduledEventID, Input: ef.Input}
	if rec.State == taskDispatching && rec.Worker == "" && rec.Beat.IsZero() && rec.Resource == "" && rec.Job == "" && rec.Seq == 0 {
		am.Rev, am.Activity, am.Heartbeat = rev, rec.Activity, rec.Heartbeat
	}
	data, _ := json.Marshal(am)
	if _, err := jsstore.PublishRetry(ctx, t.js, &nats.Msg{Subject: ActivitySubject(ef.ActivityArn), Data: data},
		jetstream.WithMsgID(execARN+"#"+strconv.FormatInt(ef.ScheduledEventID, 10))); err != nil {
		return errors.Wrap(err, "queue activity task")
	}
	// The record stays "dispatching" (no second write): a poll claims the task with a
	// compare-and-set on it, and a message whose task closed meanwhile is dropped by
	// the poll that receives it.
	return nil
}

// isWrongSequence reports a failed compare-and-set on a task record.
func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return stderrors.Is(err, jetstream.ErrKeyRevisionMismatch) || stderrors.Is(err, jetstream.ErrKeyExists) ||
		(stderrors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant))
}

// splitPattern splits a resource name into its action and pattern suffix.
func splitPattern(name string) (action, pattern string) {
	for _, p := range []string{"waitForTaskToken", "sync:2", "sync"} {
		if a, ok := strings.CutSuffix(name, "."+p); ok {
			return a, p
		}
	}
	return name, ""
}

func (t *Tasks) dispatchInvoke(ctx context.Context, execARN string, ef asl.InvokeTask) error {
	key := taskKey(execARN, ef.ScheduledEventID)
	rec, rev, todo, err := t.claimRecord(ctx, key, taskRecord{Exec: execARN, Scheduled: ef.ScheduledEventID,
		Resource: ef.Resource, State: taskDispatching, Heartbeat: ef.HeartbeatSeconds})
	if err == nil && !todo && rec.Job != "" && rec.State == taskWaiting {
		// A .sync job submitted before a crash: its end may have been reported while
		// nobody listened.
		if ji, ok := t.cfg.Integrations[ef.ResourceType].(JobIntegration); ok {
			action, pattern := splitPattern(ef.ResourceName)
			return ji.Resume(ctx, IntegrationCall{ExecARN: execARN, Task: ef, Action: action, Pattern: pattern,
				Token: t.Token(execARN, ef.ScheduledEventID)}, rec.Job)
		}
	}
	if err != nil || !todo {
		return err
	}
	// The call runs outside the actor: a slow service must not stall the execution's
	// other work. Its outcome comes back as commands.
	go t.invoke(execARN, ef, key, rec, rev)
	return nil
}

// invoke runs an integration call and reports TaskStarted, then TaskSubmitted
// (callbacks) or TaskSucceeded/TaskFailed.
func (t *Tasks) invoke(execARN string, ef asl.InvokeTask, key string, rec taskRecord, rev uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 16*time.Minute) // Lambda runs up to 15 minutes
	defer cancel()
	log := t.cfg.Logger.With("execution", execARN, "task", ef.ScheduledEventID, "resource", ef.Resource)
	action, pattern := splitPattern(ef.ResourceName)
	integ := t.cfg.Integrations[ef.ResourceType]
	fail := func(name, cause string) {
		if _, err := t.report(ctx, execARN, events.TaskResult{ScheduledEventID: ef.ScheduledEventID, Status: "Failed",
			Error: name, Cause: cause}, "result"); err != nil {
			log.Error("report task failure", "err", err)
		}
	}
	job, _ := integ.(JobIntegration)
	if integ == nil || ((pattern == "sync" || pattern == "sync:2") && job == nil) {
		// No faked results: a call sfnd cannot make fails the task, uncatchably.
		fail("States.Runtime", unsupported(ef))
		return
	}
	rec.State, rec.Beat = taskStarted, t.cfg.Now().UTC()
	if _, err := t.update(ctx, key, rec, rev); err != nil && !isWrongSequence(err) {
		log.Error("mark task started", "err", err)
		return
	}
	if _, err := t.report(ctx, execARN, events.TaskResult{ScheduledEventID: ef.ScheduledEventID, Status: "Started"}, "started"); err != nil {
		log.Error("report task started", "err", err)
		return
	}
	call := IntegrationCall{ExecARN: execARN, Task: ef, Action: action, Pattern: pattern,
		Token: t.Token(execARN, ef.ScheduledEventID)}
	if job != nil {
		t.invokeJob(ctx, job, call, key, fail)
		return
	}
	out, err := integ.Invoke(ctx, call)
	if err != nil {
		var ie *IntegrationError
		if errors.As(err, &ie) {
			fail(ie.Name, ie.Cause)
		} else {
			fail("States.TaskFailed", err.Error())
		}
		return
	}
	if pattern != "waitForTaskToken" {
		if _, err := t.report(ctx, execARN, events.TaskResult{ScheduledEventID: ef.ScheduledEventID, Status: "Succeeded",
			Output: out}, "result"); err != nil {
			log.Error("report task result", "err", err)
		}
		return
	}
	if _, err := t.report(ctx, execARN, events.TaskResult{ScheduledEventID: ef.ScheduledEventID, Status: "Submitted",
		Output: out}, "submitted"); err != nil {
		log.Error("report task submitted", "err", err)
		return
	}
	// From here the token's holder answers. Mark the record so recovery does not call
	// the service again.
	for range 4 {
		cur, rev, err := t.get(ctx, key)
		if err != nil || cur.State != taskStarted {
			return
		}
		cur.State = taskWaiting
		if _, err := t.update(ctx, key, cur, rev); err == nil || !isWrongSequence(err) {
			return
		}
	}
}

// invokeJob runs a JobIntegration call: submit, report the outcome (TaskSubmitted, or
// TaskSucceeded for fire and forget), remember the job, launch it.
func (t *Tasks) invokeJob(ctx context.Context, ji JobIntegration, call IntegrationCall, key string, fail func(name, cause string)) {
	log := t.cfg.Logger.With("execution", call.ExecARN, "task", call.Task.ScheduledEventID, "resource", call.Task.Resource)
	out, job, err := ji.Submit(ctx, call)
	// A stream electing a new leader (a node died) answers nothing for a few seconds:
	// submit again rather than fail the task (a child start is idempotent by name).
	for until := time.Now().Add(time.Minute); err != nil && jsstore.Transient(err) && time.Now().Before(until) && ctx.Err() == nil; {
		time.Sleep(500 * time.Millisecond)
		out, job, err = ji.Submit(ctx, call)
	}
	if err != nil {
		var ie *IntegrationError
		if errors.As(err, &ie) {
			fail(ie.Name, ie.Cause)
		} else {
			fail("States.TaskFailed", err.Error())
		}
		return
	}
	status, what := "Submitted", "submitted"
	if call.Pattern == "" {
		status, what = "Succeeded", "result"
	}
	if _, err := t.report(ctx, call.ExecARN, events.TaskResult{ScheduledEventID: call.Task.ScheduledEventID,
		Status: status, Output: out}, what); err != nil {
		log.Error("report job submitted", "err", err)
		return
	}
	closed := false
	for range 4 {
		cur, rev, err := t.get(ctx, key)
		if err != nil || cur.State != taskStarted {
			closed = err == nil && cur.State == taskClosed
			break
		}
		cur.State, cur.Job = taskWaiting, job
		if _, err := t.update(ctx, key, cur, rev); err == nil || !isWrongSequence(err) {
			break
		}
	}
	if closed && (call.Pattern == "sync" || call.Pattern == "sync:2") {
		// The task closed (its execution was stopped) before the job was recorded on
		// it: the job is stopped as soon as it starts.
		if err := ji.Cancel(ctx, job); err != nil {
			log.Error("cancel job of closed task", "job", job, "err", err)
		}
		return
	}
	if err := ji.Launch(ctx, call, job); err != nil {
		log.Error("launch job", "job", job, "err", err)
	}
}

// report sends a task outcome to the execution; what ("started", "result" ...)
// deduplicates repeats of the same report.
func (t *Tasks) report(ctx context.Context, execARN string, r events.TaskResult, what string) (dup bool, err error) {
	data, err := json.Marshal(events.Command{Kind: events.CmdTaskResult, ExecARN: execARN, Time: t.cfg.Now().UTC(), Task: &r})
	if err != nil {
		return false, errors.Wrap(err, "encode task result")
	}
	ack, err := jsstore.PublishRetry(ctx, t.js, &nats.Msg{Subject: jsstore.CommandSubject(execARN), Data: data},
		jetstream.WithMsgID(execARN+"#"+strconv.FormatInt(r.ScheduledEventID, 10)+"#"+what))
	if err != nil {
		return false, errors.Wrap(err, "publish task result")
	}
	return ack.Duplicate, nil
}

// ---- workers (API side) ----

// pullWindow is the longest one pull request of a poll waits on the server.
const pullWindow = 5 * time.Second

// MaxPoll is the longest GetActivityTask holds a poll (AWS: 60 s).
const MaxPoll = 60 * time.Second

// ActivityTask is a task handed to an activity worker.
type ActivityTask struct {
	Token string
	Input string
}

// consumer returns the activity's durable pull consumer, creating it on first use.
func (t *Tasks) consumer(ctx context.Context, activityARN string) (jetstream.Consumer, error) {
	t.mu.Lock()
	ac := t.consumers[activityARN]
	creator := ac == nil
	if creator {
		ac = &activityConsumer{ready: make(chan struct{})}
		t.consumers[activityARN] = ac
	}
	t.mu.Unlock()
	if !creator {
		select {
		case <-ac.ready:
			return ac.c, ac.err
		case <-ctx.Done():
			return nil, errors.Wrap(ctx.Err(), "wait for activity consumer")
		}
	}
	ac.c, ac.err = t.createConsumer(activityARN)
	if ac.err != nil {
		t.mu.Lock()
		delete(t.consumers, activityARN) // let a later poll try again
		t.mu.Unlock()
	}
	close(ac.ready)
	return ac.c, ac.err
}

func (t *Tasks) createConsumer(activityARN string) (jetstream.Consumer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sum := sha256.Sum256([]byte(activityARN))
	c, err := jsstore.EnsureConsumer(ctx, t.stream, jetstream.ConsumerConfig{
		Durable:       "act-" + hex.EncodeToString(sum[:16]),
		Description:   activityARN,
		FilterSubject: ActivitySubject(activityARN),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       t.cfg.AckWait,
		MaxAckPending: -1,
		MaxWaiting:    100000, // one waiting pull request per idle GetActivityTask
	})
	return c, errors.Wrap(err, "create activity consumer")
}

// maxWorkersSeen bounds the workers remembered per activity (the oldest go first).
const maxWorkersSeen = 64

// WorkerSeen is a worker that took a task of an activity on this node.
type WorkerSeen struct {
	Name     string    `json:"name"`
	LastSeen time.Time `json:"lastSeen"`
}

// sawWorker remembers that worker took a task of the activity.
func (t *Tasks) sawWorker(activityARN, worker string) {
	if worker == "" {
		worker = "(unnamed)"
	}
	now := t.cfg.Now().UTC()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.workers == nil {
		t.workers = map[string]map[string]time.Time{}
	}
	m := t.workers[activityARN]
	if m == nil {
		m = map[string]time.Time{}
		t.workers[activityARN] = m
	}
	m[worker] = now
	if len(m) > maxWorkersSeen {
		oldest, at := "", now
		for w, ts := range m {
			if ts.Before(at) {
				oldest, at = w, ts
			}
		}
		delete(m, oldest)
	}
}

// Workers lists the workers this node handed tasks of the activity to since it
// started, most recent first (GetActivityTask's workerName; "(unnamed)" without one).
func (t *Tasks) Workers(activityARN string) []WorkerSeen {
	t.mu.Lock()
	out := make([]WorkerSeen, 0, len(t.workers[activityARN]))
	for w, ts := range t.workers[activityARN] {
		out = append(out, WorkerSeen{Name: w, LastSeen: ts})
	}
	t.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].LastSeen.Equal(out[j].LastSeen) {
			return out[i].LastSeen.After(out[j].LastSeen)
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// ActivityQueue is the state of an activity's task queue, on every node.
type ActivityQueue struct {
	Waiting int `json:"waiting"` // tasks scheduled and not yet handed to a worker
	Pollers int `json:"pollers"` // GetActivityTask polls waiting for a task
}

// Queue describes the activity's task queue.
func (t *Tasks) Queue(ctx context.Context, activityARN string) (ActivityQueue, error) {
	c, err := t.consumer(ctx, activityARN)
	if err != nil {
		return ActivityQueue{}, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return ActivityQueue{}, errors.Wrap(err, "activity consumer info")
	}
	return ActivityQueue{Waiting: int(info.NumPending) + info.NumAckPending, Pollers: info.NumWaiting}, nil
}

// Pollers is the number of GetActivityTask polls waiting for a task of the activity,
// on every node.
func (t *Tasks) Pollers(ctx context.Context, activityARN string) (int, error) {
	c, err := t.consumer(ctx, activityARN)
	if err != nil {
		return 0, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0, errors.Wrap(err, "activity consumer info")
	}
	return info.NumWaiting, nil
}

// Poll waits up to wait (at most MaxPoll) for a task of the activity and hands it to
// the worker, reporting ActivityStarted to its execution. It returns nil when no task
// came (or ctx ended: the worker went away).
func (t *Tasks) Poll(ctx context.Context, activityARN, worker string, wait time.Duration) (*ActivityTask, error) {
	if wait <= 0 || wait > MaxPoll {
		wait = MaxPoll
	}
	cons, err := t.consumer(ctx, activityARN)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		dl, _ := ctx.Deadline()
		if ctx.Err() != nil || time.Until(dl) < 20*time.Millisecond {
			return nil, nil
		}
		// Short pull requests, not one for the whole long poll: a worker that leaves
		// must not leave a pull request on the server that swallows the next task.
		// The fetch outlives the worker by at most pullWindow, and a task it brings
		// after the worker left is handed back at once (Nak below).
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(min(time.Until(dl), pullWindow)))
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil
			}
			return nil, errors.Wrap(err, "poll activity")
		}
		var m jetstream.Msg
		for msg := range batch.Messages() {
			m = msg
		}
		if m == nil {
			if err := batch.Error(); err != nil && ctx.Err() == nil {
				// A transient failure (lost heartbeat, leader change): do not spin.
				t.cfg.Logger.Debug("activity poll", "activity", activityARN, "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
			}
			continue
		}
		if ctx.Err() != nil {
			// The worker left (or the poll ended) as the task arrived: offer it to
			// the next poll rather than hand it to nobody.
			_ = m.Nak()
			return nil, nil
		}
		task, err := t.claim(m, worker)
		if err != nil {
			t.cfg.Logger.Error("claim activity task", "activity", activityARN, "err", err)
			continue
		}
		if task != nil {
			return task, nil
		}
	}
}

// claim takes a delivered message: the task goes to this worker when its record
// still shows it queued (compare-and-set), else the message is stale and dropped. The
// claim finishes even when the worker's request is gone meanwhile: the task then
// times out as it would on AWS.
func (t *Tasks) claim(m jetstream.Msg, worker string) (*ActivityTask, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var am activityMsg
	if err := json.Unmarshal(m.Data(), &am); err != nil || am.Exec == "" {
		_ = m.Ack()
		return nil, nil
	}
	key := taskKey(am.Exec, am.Scheduled)
	for attempt := range 8 {
		var rec taskRecord
		var rev uint64
		var err error
		if attempt == 0 && am.Rev > 0 {
			// The record as dispatch wrote it (activityMsg): a compare-and-set at its
			// revision fails unless it is still exactly that.
			rec, rev = taskRecord{Exec: am.Exec, Scheduled: am.Scheduled, Activity: am.Activity,
				State: taskDispatching, Heartbeat: am.Heartbeat}, am.Rev
		} else {
			rec, rev, err = t.get(ctx, key)
		}
		if errors.Is(err, ErrTaskDoesNotExist) {
			_ = m.Ack()
			return nil, nil
		}
		if err != nil {
			_ = m.Nak()
			return nil, err
		}
		if rec.State != taskDispatching && rec.State != taskQueued {
			_ = m.Ack() // closed, or a duplicate of a task already handed out
			return nil, nil
		}
		rec.State, rec.Worker, rec.Beat = taskStarted, worker, t.cfg.Now().UTC()
		if _, err := t.update(ctx, key, rec, rev); err != nil {
			if isWrongSequence(err) {
				continue
			}
			_ = m.Nak()
			return nil, errors.Wrap(err, "claim task record")
		}
		_ = m.Ack()
		t.sawWorker(rec.Activity, worker)
		started := events.TaskResult{ScheduledEventID: am.Scheduled, Status: "Started", WorkerName: worker}
		if e := t.local.Load(); e != nil {
			e.Deliver(events.Command{Kind: events.CmdTaskResult, ExecARN: am.Exec, Time: t.cfg.Now().UTC(), Task: &started}, nil)
		} else if _, err := t.report(ctx, am.Exec, started, "started"); err != nil {
			// The worker has the task; its result records the start if this was lost.
			t.cfg.Logger.Error("report activity started", "execution", am.Exec, "err", err)
		}
		return &ActivityTask{Token: t.Token(am.Exec, am.Scheduled), Input: am.Input}, nil
	}
	_ = m.Nak()
	return nil, errors.Newf("task record %s keeps changing", key)
}

// Succeed reports a task's success (SendTaskSuccess).
func (t *Tasks) Succeed(ctx context.Context, token, output string) error {
	return t.answer(ctx, token, events.TaskResult{Status: "Succeeded", Output: output})
}

// Fail reports a task's failure (SendTaskFailure).
func (t *Tasks) Fail(ctx context.Context, token, errName, cause string) error {
	return t.answer(ctx, token, events.TaskResult{Status: "Failed", Error: errName, Cause: cause})
}

// answer sends a task's result to its execution. Errors are marked ErrInvalidToken,
// ErrTaskDoesNotExist or ErrTaskTimedOut (also for a task already answered).
func (t *Tasks) answer(ctx context.Context, token string, r events.TaskResult) error {
	ref, err := t.tokens.Parse(token)
	if err != nil {
		return err
	}
	r.ScheduledEventID = ref.ScheduledEventID
	if e := t.local.Load(); e != nil {
		// The execution's actor lives on this node: it decides the result at once and
		// the answer returns once that decision is stored (no read of the task, no
		// command to publish and acknowledge). Otherwise, or when it stored nothing,
		// the result goes the durable way below.
		cmd := events.Command{Kind: events.CmdTaskResult, ExecARN: ref.ExecARN, Time: t.cfg.Now().UTC(), Task: &r}
		if stored, err := e.Answer(ctx, cmd); err != nil || stored {
			return err
		}
	}
	key := taskKey(ref.ExecARN, ref.ScheduledEventID)
	rec, _, err := t.get(ctx, key)
	if err != nil {
		return err
	}
	if rec.State == taskAnswered || rec.State == taskClosed {
		return errors.Mark(errors.Newf("task %s is closed", key), ErrTaskTimedOut)
	}
	dup, err := t.report(ctx, ref.ExecARN, r, "result")
	if err != nil {
		return err
	}
	if dup {
		return errors.Mark(errors.Newf("task %s was answered already", key), ErrTaskTimedOut)
	}
	// No write here: a repeat within the stream's duplicate window is caught above,
	// and the execution closing the task tombstones its record (answers after that
	// get TaskTimedOut).
	return nil
}

// Heartbeat records a sign of life of a task (SendTaskHeartbeat): its heartbeat
// deadline moves to now + HeartbeatSeconds. It does not touch TimeoutSeconds.
func (t *Tasks) Heartbeat(ctx context.Context, token string) error {
	ref, err := t.tokens.Parse(token)
	if err != nil {
		return err
	}
	key := taskKey(ref.ExecARN, ref.ScheduledEventID)
	for range 8 {
		rec, rev, err := t.get(ctx, key)
		if err != nil {
			return err
		}
		if rec.State == taskAnswered || rec.State == taskClosed {
			return errors.Mark(errors.Newf("task %s is closed", key), ErrTaskTimedOut)
		}
		rec.Beat = t.cfg.Now().UTC()
		if _, err := t.update(ctx, key, rec, rev); err == nil {
			return nil
		} else if !isWrongSequence(err) {
			return errors.Wrap(err, "record heartbeat")
		}
	}
	return nil // concurrent heartbeats: one of them landed
}

// ---- engine hooks ----

// activityExists tells the decider whether an activity exists; when the answer is
// unknown (a read failed) it says yes rather than fail an execution.
func (t *Tasks) activityExists(arn string) bool {
	if t.cfg.ActivityExists == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ok, err := t.cfg.ActivityExists(ctx, arn)
	if err != nil {
		t.cfg.Logger.Warn("activity lookup", "activity", arn, "err", err)
		return true
	}
	return ok
}

// heartbeatDeadline is the (real) time by which a started task must send a heartbeat.
func (t *Tasks) heartbeatDeadline(ctx context.Context, execARN string, scheduled int64) (time.Time, bool) {
	rec, _, err := t.get(ctx, taskKey(execARN, scheduled))
	if err != nil || rec.Heartbeat <= 0 || rec.Beat.IsZero() || rec.State == taskClosed {
		return time.Time{}, false
	}
	d := time.Duration(float64(rec.Heartbeat) * float64(time.Second) * t.cfg.WaitTimeScale)
	return rec.Beat.Add(d), true
}

// closed turns the records of tasks the execution closed into tombstones (their
// tokens answer TaskTimedOut) and drops activity tasks still queued. answered (0:
// none) is a task closed by its own result, the decision's trigger: it has nothing
// queued and no job to stop, so its tombstone is written without reading the record
// first (a closed record never changes again, so no compare-and-set is needed: a
// claim or heartbeat racing with it reads the tombstone on its own compare-and-set's
// failure, or is overwritten by it).
func (t *Tasks) closed(ctx context.Context, execARN string, scheduled []int64, answered int64) {
	for _, s := range scheduled {
		key := taskKey(execARN, s)
		if s == answered {
			b, _ := json.Marshal(taskRecord{Exec: execARN, Scheduled: s, State: taskClosed})
			if _, err := t.js.Publish(ctx, "$KV."+TaskBucket+"."+key, b, jetstream.WithMsgTTL(t.cfg.TombstoneTTL)); err == nil {
				continue
			} else {
				t.cfg.Logger.Warn("tombstone answered task", "task", key, "err", err)
			}
		}
		rec, rev, err := t.get(ctx, key)
		switch {
		case err == nil && rec.State == taskClosed:
			continue
		case errors.Is(err, ErrTaskDoesNotExist):
			rec = taskRecord{Exec: execARN, Scheduled: s}
		case err != nil:
			t.cfg.Logger.Warn("read closed task", "task", key, "err", err)
			continue
		}
		if rec.Seq > 0 && (rec.State == taskQueued || rec.State == taskDispatching) {
			_ = t.stream.DeleteMsg(ctx, rec.Seq)
		}
		if rec.Job != "" && rec.State == taskWaiting {
			// A .sync job (child execution) whose task closed without its end: stop it.
			// A job that ended (its result closed the task) ignores the stop.
			integ, name := t.integrationOf(rec.Resource)
			_, pattern := splitPattern(name)
			if ji, ok := integ.(JobIntegration); ok && (pattern == "sync" || pattern == "sync:2") {
				if err := ji.Cancel(ctx, rec.Job); err != nil {
					t.cfg.Logger.Warn("cancel job of closed task", "task", key, "job", rec.Job, "err", err)
				}
			}
		}
		rec.State, rec.Seq = taskClosed, 0
		if rev > 0 {
			// One write: the tombstone replaces the record (compare-and-set) and
			// expires by itself.
			if err := t.tombstone(ctx, key, rec, rev); err == nil {
				continue
			} else if !isWrongSequence(err) {
				t.cfg.Logger.Warn("tombstone closed task", "task", key, "err", err)
			}
		}
		if err := t.kv.Purge(ctx, key); err != nil {
			t.cfg.Logger.Warn("purge closed task", "task", key, "err", err)
		}
		if _, err := t.create(ctx, key, rec, jetstream.KeyTTL(t.cfg.TombstoneTTL)); err != nil && !isWrongSequence(err) {
			t.cfg.Logger.Warn("tombstone closed task", "task", key, "err", err)
		}
	}
}

// integrationOf is the integration serving a resource ARN
// (arn:aws:states:::<type>:<name>), and the resource's name.
func (t *Tasks) integrationOf(resource string) (Integration, string) {
	parts := strings.SplitN(resource, ":", 7)
	if len(parts) < 7 {
		return nil, ""
	}
	return t.cfg.Integrations[parts[5]], parts[6]
}

// ---- the execution actor's side ----

// taskTracker is what the execution actor needs of a dispatcher that tracks tasks
// beyond dispatching them (Tasks does).
type taskTracker interface {
	Token(execARN string, scheduled int64) string
	activityExists(arn string) bool
	heartbeatDeadline(ctx context.Context, execARN string, scheduled int64) (time.Time, bool)
	closed(ctx context.Context, execARN string, scheduled []int64, answered int64)
}

var _ taskTracker = (*Tasks)(nil)

func (a *execActor) tracker() taskTracker {
	tr, _ := a.engine.cfg.Tasks.(taskTracker)
	return tr
}

// taskTrigger gives a trigger the task token and activity lookups.
func (a *execActor) taskTrigger(t *asl.Trigger) {
	tr := a.tracker()
	if tr == nil {
		return
	}
	arn := a.arn
	t.TaskToken = func(scheduled int64) string { return tr.Token(arn, scheduled) }
	t.ActivityExists = tr.activityExists
}

// heartbeatExtended handles a heartbeat timer that fired: when the task sent a
// heartbeat since the timer was set, the timer is set again for the new deadline and
// the decider never sees it.
func (a *execActor) heartbeatExtended(ctx context.Context, timerID string) bool {
	tr := a.tracker()
	if tr == nil || a.x == nil || a.x.Status() != asl.StatusRunning {
		return false
	}
	scheduled, heartbeat, ok := a.x.TaskTimer(timerID)
	if !ok || !heartbeat {
		return false
	}
	deadline, ok := tr.heartbeatDeadline(ctx, a.arn, scheduled)
	if !ok {
		return false
	}
	now := a.engine.cfg.Now()
	if !deadline.After(now) {
		return false
	}
	cmd := events.Command{Kind: events.CmdTimer, ExecARN: a.arn, TimerID: timerID}
	if delay := deadline.Sub(now); delay < time.Second {
		e := a.engine
		time.AfterFunc(delay, func() { e.Deliver(cmd, nil) })
		return true
	}
	id := timerID + "-hb-" + strconv.FormatInt(deadline.UnixNano(), 36)
	if err := a.engine.store.ScheduleCommand(ctx, cmd, id, deadline); err != nil {
		a.engine.cfg.Logger.Error("re-arm heartbeat timer", "execution", a.arn, "err", err)
		return false
	}
	return true
}

// pendingTasks lists the tasks without outcome before a decision.
func (a *execActor) pendingTasks() []int64 {
	if a.tracker() == nil || a.x == nil {
		return nil
	}
	return a.x.PendingTasks()
}

// tasksClosed tells the tracker which of the tasks pending before a decision it
// closed; trig is the decision's trigger (a task's result closes that task).
func (a *execActor) tasksClosed(ctx context.Context, before []int64, trig asl.Trigger) {
	tr := a.tracker()
	if tr == nil || len(before) == 0 {
		return
	}
	still := map[int64]bool{}
	if a.x != nil {
		for _, s := range a.x.PendingTasks() {
			still[s] = true
		}
	}
	var closed []int64
	for _, s := range before {
		if !still[s] {
			closed = append(closed, s)
		}
	}
	if len(closed) > 0 {
		answered := int64(0)
		if trig.Kind == asl.TriggerTaskSucceeded || trig.Kind == asl.TriggerTaskFailed {
			answered = trig.ScheduledEventID
		}
		tr.closed(ctx, a.arn, closed, answered)
		if mr := a.engine.cfg.MapRuns; mr != nil {
			mr.Closed(ctx, a.arn, closed)
		}
	}
}

// redispatch re-issues the tasks of a recovered execution (idempotent: tasks already
// queued or handed out are left alone).
func (a *execActor) redispatch(ctx context.Context) {
	effects := a.recovered
	a.recovered = nil
	for _, ef := range effects {
		if IsMapRunEffect(ef) {
			a.dispatchMapRun(ctx, ef)
		}
	}
	if a.engine.cfg.Tasks == nil {
		return
	}
	for _, ef := range effects {
		if IsMapRunEffect(ef) {
			continue
		}
		if a.mocked(ctx, ef) {
			continue // mocks.go
		}
		if err := a.engine.cfg.Tasks.Dispatch(ctx, a.arn, ef); err != nil {
			a.engine.cfg.Logger.Error("re-dispatch task", "execution", a.arn, "err", err)
		}
	}
}

// pendingTaskEffects rebuilds the task effects of the pending tasks from the events
// that scheduled them.
func pendingTaskEffects(hist []events.HistoryEvent, pending []int64) []asl.Effect {
	want := map[int64]bool{}
	for _, s := range pending {
		want[s] = true
	}
	var out []asl.Effect
	for i := range hist {
		ev := &hist[i]
		if !want[ev.ID] {
			continue
		}
		if ef, ok := asl.EffectOf(ev); ok {
			out = append(out, ef) // a Distributed Map's reader or Map Run (mapruns.go)
			continue
		}
		switch {
		case ev.ActivityScheduledEventDetails != nil:
			d := ev.ActivityScheduledEventDetails
			ef := asl.ScheduleActivity{ActivityArn: d.Resource, ScheduledEventID: ev.ID}
			if d.Input != nil {
				ef.Input = *d.Input
			}
			if d.TimeoutInSeconds != nil {
				ef.TimeoutSeconds = *d.TimeoutInSeconds
			}
			if d.HeartbeatInSeconds != nil {
				ef.HeartbeatSeconds = *d.HeartbeatInSeconds
			}
			out = append(out, ef)
		case ev.TaskScheduledEventDetails != nil:
			d := ev.TaskScheduledEventDetails
			ef := asl.InvokeTask{Resource: "arn:aws:states:::" + d.ResourceType + ":" + d.Resource,
				ResourceType: d.ResourceType, ResourceName: d.Resource, Parameters: d.Parameters, ScheduledEventID: ev.ID}
			if d.TimeoutInSeconds != nil {
				ef.TimeoutSeconds = *d.TimeoutInSeconds
			}
			if d.HeartbeatInSeconds != nil {
				ef.HeartbeatSeconds = *d.HeartbeatInSeconds
			}
			out = append(out, ef)
		case ev.LambdaFunctionScheduledEventDetails != nil:
			d := ev.LambdaFunctionScheduledEventDetails
			ef := asl.InvokeTask{Resource: d.Resource, ResourceType: "lambda", ResourceName: "invoke", ScheduledEventID: ev.ID}
			if d.Input != nil {
				ef.Parameters = *d.Input
			}
			if d.TimeoutInSeconds != nil {
				ef.TimeoutSeconds = *d.TimeoutInSeconds
			}
			out = append(out, ef)
		}
	}
	return out
}

// unsupported is the cause of a task no integration serves: it names the missing
// integration and where sfnd documents what it calls.
func unsupported(ef asl.InvokeTask) string {
	what := "no integration serves the resource type '" + ef.ResourceType + "'"
	if ef.ResourceType == "" {
		what = "no integration serves it"
	}
	return "The resource '" + ef.Resource + "' is not supported by this sfnd server: " + what +
		" (README, \"Service integrations\", lists the integrations served and their endpoint settings)."
}
