package events

import "time"

// CommandKind names something asked of an execution.
type CommandKind string

// Command kinds. A command is durable (in the command stream) before the API answers;
// the execution's owner turns it into a decider trigger.
const (
	CmdStart      CommandKind = "Start"
	CmdTimer      CommandKind = "TimerFired"
	CmdStop       CommandKind = "Stop"
	CmdTaskResult CommandKind = "TaskResult"
	CmdWake       CommandKind = "Wake" // re-examine the execution (recovery)
	CmdRedrive    CommandKind = "Redrive"
)

// Command is one message of the command stream.
type Command struct {
	Kind    CommandKind   `json:"kind"`
	ExecARN string        `json:"exec"`
	Time    time.Time     `json:"time"`
	Start   *StartCommand `json:"start,omitempty"`
	TimerID string        `json:"timer,omitempty"`
	Error   string        `json:"error,omitempty"`
	Cause   string        `json:"cause,omitempty"`
	Task    *TaskResult   `json:"task,omitempty"`
	// ClientToken is RedriveExecution's idempotency token (Redrive).
	ClientToken string `json:"clientToken,omitempty"`
}

// StartCommand carries everything an execution needs to start; the definition is a
// snapshot, so later updates of the state machine do not change running executions.
type StartCommand struct {
	Name                   string    `json:"name"`
	Input                  string    `json:"input"`
	StateMachineARN        string    `json:"stateMachineArn"`
	StateMachineName       string    `json:"stateMachineName"`
	StateMachineVersionARN string    `json:"stateMachineVersionArn,omitempty"`
	StateMachineAliasARN   string    `json:"stateMachineAliasArn,omitempty"`
	Definition             string    `json:"definition"`
	RoleARN                string    `json:"roleArn"`
	StartDate              time.Time `json:"startDate"`
	TraceHeader            string    `json:"traceHeader,omitempty"`
	// Parent names the Task state (arn:aws:states:::states:startExecution) that started
	// this execution; nil for executions started through the API.
	Parent *ParentTask `json:"parent,omitempty"`
	// MockTestCase is the test case of the mock configuration (SFN Local's
	// MockConfigFile) the execution runs, from a "<stateMachineArn>#<TestCase>" start.
	MockTestCase string `json:"mockTestCase,omitempty"`
	// MapRun names the Map Run (Distributed Map) this execution is a child of.
	MapRun *MapRunChild `json:"mapRun,omitempty"`
}

// MapRunChild is a child execution's place in its Map Run.
type MapRunChild struct {
	ARN   string `json:"arn"`
	Index int    `json:"index"`
	// Express: the child runs as an EXPRESS execution (ExecutionType).
	Express bool `json:"express,omitempty"`
}

// ParentTask is the task of a parent execution that started a child execution.
type ParentTask struct {
	ExecARN          string `json:"exec"`
	ScheduledEventID int64  `json:"sched"`
	// Pattern is the integration pattern: "" (fire and forget), "sync", "sync:2" or
	// "waitForTaskToken". For "sync" and "sync:2" the child's end is the task's result.
	Pattern string `json:"pattern,omitempty"`
}

// TaskResult is a task's outcome reported by a worker or an integration.
type TaskResult struct {
	ScheduledEventID int64  `json:"scheduled"`
	Status           string `json:"status"` // Started, Succeeded, Failed, Heartbeat
	Output           string `json:"output,omitempty"`
	Error            string `json:"error,omitempty"`
	Cause            string `json:"cause,omitempty"`
	WorkerName       string `json:"worker,omitempty"`
}
