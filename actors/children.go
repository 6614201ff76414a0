package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/sfnd/sfnd/actors/asl"
	"github.com/sfnd/sfnd/events"
)

// ChildStart asks to start a nested execution.
type ChildStart struct {
	StateMachineARN *string
	Name            *string
	Input           *string
	TraceHeader     *string
	Parent          events.ParentTask
}

// ChildStarted is a reserved (not yet launched) nested execution.
type ChildStarted struct {
	ExecutionARN string
	StartDate    time.Time
	// Start is the reserved start command; nil when the child existed already.
	Start *events.StartCommand
	// Reserved is the existing child's reserved start when Start is nil: an earlier
	// reservation whose answer was lost (a timeout while a stream elected a leader)
	// may never have been launched.
	Reserved *events.StartCommand
}

// ExecutionStarter reserves a nested execution the way StartExecution does (the API
// implements it). Errors are *fault.Error values for what StartExecution refuses; a
// name taken by an execution of the same parent task is not an error (re-dispatch).
type ExecutionStarter func(ctx context.Context, req ChildStart) (ChildStarted, error)

// childResult is a finished child's result for its parent's .sync or .sync:2 task:
// DescribeExecution's answer (Java SDK field names, in their order) as the task's
// output, or, for a child that did not succeed, States.TaskFailed with it as the cause.
func childResult(x *asl.Execution, pattern string, stop time.Time) events.TaskResult {
	info := x.Info()
	parsed := pattern == "sync:2"
	data := func(text string) string {
		if parsed && json.Valid([]byte(text)) {
			var buf bytes.Buffer
			if json.Compact(&buf, []byte(text)) == nil {
				return buf.String()
			}
		}
		return JSONString(text)
	}
	status := string(x.Status())
	var b bytes.Buffer
	b.WriteByte('{')
	if status != string(asl.StatusSucceeded) {
		if x.Cause != "" {
			b.WriteString(`"Cause":` + JSONString(x.Cause) + `,`)
		}
		if x.Error != "" {
			b.WriteString(`"Error":` + JSONString(x.Error) + `,`)
		}
	}
	b.WriteString(`"ExecutionArn":` + JSONString(info.ExecutionArn))
	b.WriteString(`,"Input":` + data(info.Input) + `,"InputDetails":{"Included":true}`)
	b.WriteString(`,"Name":` + JSONString(info.Name))
	if out := x.Output(); status == string(asl.StatusSucceeded) && out != nil {
		b.WriteString(`,"Output":` + data(*out) + `,"OutputDetails":{"Included":true}`)
	}
	b.WriteString(`,"StartDate":` + strconv.FormatInt(info.StartTime.UnixMilli(), 10))
	b.WriteString(`,"StateMachineArn":` + JSONString(info.StateMachineArn))
	if info.StateMachineAliasArn != "" {
		b.WriteString(`,"StateMachineAliasArn":` + JSONString(info.StateMachineAliasArn))
	}
	if info.StateMachineVersionArn != "" {
		b.WriteString(`,"StateMachineVersionArn":` + JSONString(info.StateMachineVersionArn))
	}
	b.WriteString(`,"Status":` + JSONString(status))
	b.WriteString(`,"StopDate":` + strconv.FormatInt(stop.UnixMilli(), 10) + `}`)
	if status == string(asl.StatusSucceeded) {
		return events.TaskResult{Status: "Succeeded", Output: b.String()}
	}
	return events.TaskResult{Status: "Failed", Error: "States.TaskFailed", Cause: b.String()}
}

// NotifyParent sends a finished child's result to its parent's task.
func NotifyParent(ctx context.Context, e *Engine, parent events.ParentTask, x *asl.Execution, stop time.Time, what string) error {
	if parent.Pattern != "sync" && parent.Pattern != "sync:2" {
		return nil
	}
	r := childResult(x, parent.Pattern, stop)
	r.ScheduledEventID = parent.ScheduledEventID
	return e.store.PublishCommand(ctx, events.Command{Kind: events.CmdTaskResult, ExecARN: parent.ExecARN,
		Time: e.cfg.Now().UTC(), Task: &r}, parent.ExecARN+"#"+strconv.FormatInt(parent.ScheduledEventID, 10)+"#"+what)
}

// ---- the execution actor's side ----

// nestedStarted records what an execution's start says about its parent and its mock
// test case (from the start command, or from ExecutionStarted on reload).
func (a *execActor) nestedStarted(parent *events.ParentTask, stateMachineName, testCase string) {
	a.parent = parent
	a.mock = nil
	if testCase != "" && a.engine.cfg.Mocks != nil {
		if tc, ok := a.engine.cfg.Mocks.TestCase(stateMachineName, testCase); ok {
			a.mock = &mockRun{tc: tc, counts: map[string]int{}, index: map[int64]int{}}
		}
	}
}

// childEnded reports the end of a nested execution to its parent, after the decision
// that ended it is stored. A lost report is re-sent by the parent's recovery (Resume).
func (a *execActor) childEnded(ctx context.Context, evs []events.HistoryEvent) {
	if a.parent == nil || a.x == nil || len(evs) == 0 {
		return
	}
	if st := a.x.Status(); st == asl.StatusRunning || st == asl.StatusPending {
		return
	}
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
		}
		if err = NotifyParent(ctx, a.engine, *a.parent, a.x, evs[len(evs)-1].Timestamp, "result"); err == nil {
			return
		}
	}
	a.engine.cfg.Logger.Error("report child result to parent", "execution", a.arn, "parent", a.parent.ExecARN, "err", err)
}

// JSONString is s as a JSON string literal, escaped as encoding/json escapes it. The
// DescribeExecution-shaped results of nested executions are written with it, here and in
// the states:startExecution integration.
func JSONString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
