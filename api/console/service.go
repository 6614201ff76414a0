package console

import (
	"context"
	"strings"
	"time"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/actors/audit"
	"github.com/sfnd/sfnd/api"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
)

// Prefix is the X-Amz-Target prefix of the console's own operations.
const Prefix = "SfndConsole."

// Deps is what the console's operations read: the same stores the Step Functions
// API reads.
type Deps struct {
	// History reads an execution's stored history (empty: no such execution).
	History func(ctx context.Context, execARN string) ([]events.HistoryEvent, error)
	// TaskToken reproduces a task's token, for verifying definitions that read it.
	TaskToken func(execARN string, scheduledEventID int64) string
	// TaskTokenV1 reproduces a token of the format issued before opaque tokens
	// (audit.VerifyOptions).
	TaskTokenV1 func(execARN string, scheduledEventID int64) string
	// ActivityExists tells whether an activity exists.
	ActivityExists func(ctx context.Context, activityARN string) (bool, error)
	// Queue and Workers describe an activity's tasks (nil: not served).
	Queue   func(ctx context.Context, activityARN string) (actors.ActivityQueue, error)
	Workers func(activityARN string) []actors.WorkerSeen
	// Targets lists the operations the edge serves.
	Targets func() []string
}

// Service is the console's read-only JSON service, registered with the edge like
// every AWS service (so the edge's authentication applies to it).
func Service(d Deps) *api.Service {
	return &api.Service{Name: "sfnd console", Prefix: Prefix, ContentType: "application/x-amz-json-1.0", Ops: map[string]api.Op{
		"DescribeConsole": func(ctx context.Context, r *api.Request) (any, error) {
			return struct {
				Targets []string `json:"targets"`
				Region  string   `json:"region"`
				Account string   `json:"account"`
			}{d.Targets(), r.Region, r.Account}, nil
		},
		"GetExecutionHistory":    d.history,
		"VerifyExecutionHistory": d.verify,
		"DescribeActivityQueue":  d.activityQueue,
	}}
}

// historyEvent is a HistoryEvent as GetExecutionHistory answers it (timestamps in
// epoch seconds, without sfnd's bookkeeping).
type historyEvent struct {
	events.HistoryEvent
	Timestamp api.Time  `json:"timestamp"`
	Ext       *struct{} `json:"sfnd,omitempty"`
}

// history answers a whole history in one response (GetExecutionHistory pages of at
// most 1,000 events each re-read the history: a 25,000-event one takes 25 reads),
// or the events after afterEventId, for following a running execution.
func (d Deps) history(ctx context.Context, r *api.Request) (any, error) {
	var in struct {
		ExecutionArn string `json:"executionArn"`
		AfterEventID int64  `json:"afterEventId"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if err := checkExecutionARN(in.ExecutionArn); err != nil {
		return nil, err
	}
	start := time.Now()
	h, err := d.History(ctx, in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	if len(h) == 0 {
		return nil, fault.New(fault.ExecutionDoesNotExist, "Execution Does Not Exist: '%s'", in.ExecutionArn)
	}
	out := struct {
		Events []historyEvent `json:"events"`
		Status string         `json:"status"`
		// ReadMillis is how long reading the stored history took (the console reports
		// its own rendering apart from the store's read).
		ReadMillis int64 `json:"readMillis"`
	}{Events: []historyEvent{}, Status: statusOf(h), ReadMillis: time.Since(start).Milliseconds()}
	for _, ev := range h {
		if ev.ID > in.AfterEventID {
			out.Events = append(out.Events, historyEvent{HistoryEvent: ev, Timestamp: api.Time(ev.Timestamp)})
		}
	}
	return out, nil
}

func checkExecutionARN(arn string) error {
	if arn == "" {
		return fault.New(fault.MissingRequiredParameter, "Value null at 'executionArn' failed to satisfy constraint: Member must not be null")
	}
	if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":execution:") || len(arn) > 2048 {
		return fault.New(fault.InvalidArn, "Invalid Arn: '%s'", arn)
	}
	return nil
}

// VerifyResult is the answer of VerifyExecutionHistory: audit.Verify's result, the
// status the history ends in, and Unverifiable when the history cannot be verified
// (no decider triggers, malformed).
type VerifyResult struct {
	ExecutionArn string       `json:"executionArn"`
	Status       string       `json:"status"`
	Events       int          `json:"events"`
	Decisions    int          `json:"decisions"`
	Fault        *audit.Fault `json:"fault,omitempty"`
	Unverifiable string       `json:"unverifiable,omitempty"`
	TookMillis   int64        `json:"tookMillis"`
}

func (d Deps) verify(ctx context.Context, r *api.Request) (any, error) {
	var in struct {
		ExecutionArn string `json:"executionArn"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if err := checkExecutionARN(in.ExecutionArn); err != nil {
		return nil, err
	}
	start := time.Now()
	h, err := d.History(ctx, in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	if len(h) == 0 {
		return nil, fault.New(fault.ExecutionDoesNotExist, "Execution Does Not Exist: '%s'", in.ExecutionArn)
	}
	res, err := audit.Verify(h, audit.VerifyOptions{TaskToken: d.TaskToken, TaskTokenV1: d.TaskTokenV1})
	out := VerifyResult{ExecutionArn: in.ExecutionArn, Status: statusOf(h), Events: res.Events, Decisions: res.Decisions, Fault: res.Fault}
	if err != nil {
		out.Unverifiable = err.Error()
	}
	out.TookMillis = time.Since(start).Milliseconds()
	return out, nil
}

func statusOf(h []events.HistoryEvent) string {
	switch h[len(h)-1].Type {
	case events.ExecutionSucceeded:
		return "SUCCEEDED"
	case events.ExecutionFailed:
		return "FAILED"
	case events.ExecutionAborted:
		return "ABORTED"
	case events.ExecutionTimedOut:
		return "TIMED_OUT"
	}
	return "RUNNING"
}

func (d Deps) activityQueue(ctx context.Context, r *api.Request) (any, error) {
	var in struct {
		ActivityArn string `json:"activityArn"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if in.ActivityArn == "" {
		return nil, fault.New(fault.MissingRequiredParameter, "Value null at 'activityArn' failed to satisfy constraint: Member must not be null")
	}
	if !strings.HasPrefix(in.ActivityArn, "arn:") || !strings.Contains(in.ActivityArn, ":activity:") {
		return nil, fault.New(fault.InvalidArn, "Invalid Arn: '%s'", in.ActivityArn)
	}
	if ok, err := d.ActivityExists(ctx, in.ActivityArn); err != nil {
		return nil, err
	} else if !ok {
		return nil, fault.New(fault.ActivityDoesNotExist, "Activity Does Not Exist: '%s'", in.ActivityArn)
	}
	type worker struct {
		Name     string   `json:"name"`
		LastSeen api.Time `json:"lastSeen"`
	}
	out := struct {
		ActivityArn string   `json:"activityArn"`
		Waiting     int      `json:"waiting"`
		Pollers     int      `json:"pollers"`
		Workers     []worker `json:"workers"`
	}{ActivityArn: in.ActivityArn, Workers: []worker{}}
	if d.Queue != nil {
		q, err := d.Queue(ctx, in.ActivityArn)
		if err != nil {
			return nil, err
		}
		out.Waiting, out.Pollers = q.Waiting, q.Pollers
	}
	if d.Workers != nil {
		for _, w := range d.Workers(in.ActivityArn) {
			out.Workers = append(out.Workers, worker{w.Name, api.Time(w.LastSeen)})
		}
	}
	return out, nil
}
