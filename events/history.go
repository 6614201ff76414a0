// Package events holds the AWS Step Functions HistoryEvent in its wire shape, the
// control-plane (resource) events, and the Store interface the engine appends to.
//
// It is pure data: no NATS, no protoactor, no HTTP. The JetStream implementation of
// Store lives in events/jsstore.
package events

import (
	"encoding/json"
	"time"
)

// Type is an AWS HistoryEventType name.
type Type string

// Every HistoryEventType of the AWS API reference.
const (
	ActivityFailed               Type = "ActivityFailed"
	ActivityScheduled            Type = "ActivityScheduled"
	ActivityScheduleFailed       Type = "ActivityScheduleFailed"
	ActivityStarted              Type = "ActivityStarted"
	ActivitySucceeded            Type = "ActivitySucceeded"
	ActivityTimedOut             Type = "ActivityTimedOut"
	ChoiceStateEntered           Type = "ChoiceStateEntered"
	ChoiceStateExited            Type = "ChoiceStateExited"
	ExecutionAborted             Type = "ExecutionAborted"
	ExecutionFailed              Type = "ExecutionFailed"
	ExecutionStarted             Type = "ExecutionStarted"
	ExecutionSucceeded           Type = "ExecutionSucceeded"
	ExecutionTimedOut            Type = "ExecutionTimedOut"
	FailStateEntered             Type = "FailStateEntered"
	LambdaFunctionFailed         Type = "LambdaFunctionFailed"
	LambdaFunctionScheduled      Type = "LambdaFunctionScheduled"
	LambdaFunctionScheduleFailed Type = "LambdaFunctionScheduleFailed"
	LambdaFunctionStarted        Type = "LambdaFunctionStarted"
	LambdaFunctionStartFailed    Type = "LambdaFunctionStartFailed"
	LambdaFunctionSucceeded      Type = "LambdaFunctionSucceeded"
	LambdaFunctionTimedOut       Type = "LambdaFunctionTimedOut"
	MapIterationAborted          Type = "MapIterationAborted"
	MapIterationFailed           Type = "MapIterationFailed"
	MapIterationStarted          Type = "MapIterationStarted"
	MapIterationSucceeded        Type = "MapIterationSucceeded"
	MapStateAborted              Type = "MapStateAborted"
	MapStateEntered              Type = "MapStateEntered"
	MapStateExited               Type = "MapStateExited"
	MapStateFailed               Type = "MapStateFailed"
	MapStateStarted              Type = "MapStateStarted"
	MapStateSucceeded            Type = "MapStateSucceeded"
	ParallelStateAborted         Type = "ParallelStateAborted"
	ParallelStateEntered         Type = "ParallelStateEntered"
	ParallelStateExited          Type = "ParallelStateExited"
	ParallelStateFailed          Type = "ParallelStateFailed"
	ParallelStateStarted         Type = "ParallelStateStarted"
	ParallelStateSucceeded       Type = "ParallelStateSucceeded"
	PassStateEntered             Type = "PassStateEntered"
	PassStateExited              Type = "PassStateExited"
	SucceedStateEntered          Type = "SucceedStateEntered"
	SucceedStateExited           Type = "SucceedStateExited"
	TaskFailed                   Type = "TaskFailed"
	TaskScheduled                Type = "TaskScheduled"
	TaskStarted                  Type = "TaskStarted"
	TaskStartFailed              Type = "TaskStartFailed"
	TaskStateAborted             Type = "TaskStateAborted"
	TaskStateEntered             Type = "TaskStateEntered"
	TaskStateExited              Type = "TaskStateExited"
	TaskSubmitFailed             Type = "TaskSubmitFailed"
	TaskSubmitted                Type = "TaskSubmitted"
	TaskSucceeded                Type = "TaskSucceeded"
	TaskTimedOut                 Type = "TaskTimedOut"
	WaitStateAborted             Type = "WaitStateAborted"
	WaitStateEntered             Type = "WaitStateEntered"
	WaitStateExited              Type = "WaitStateExited"
	MapRunAborted                Type = "MapRunAborted"
	MapRunFailed                 Type = "MapRunFailed"
	MapRunStarted                Type = "MapRunStarted"
	MapRunSucceeded              Type = "MapRunSucceeded"
	ExecutionRedriven            Type = "ExecutionRedriven"
	MapRunRedriven               Type = "MapRunRedriven"
	EvaluationFailed             Type = "EvaluationFailed"
)

// HistoryEvent is one event of an execution history, in the AWS shape. Exactly one of
// the *EventDetails fields is set (or none, for types that carry no details).
//
// Ext carries sfnd's own bookkeeping (recorded randomness, timer deadlines, task
// tokens' attempt numbers ...). It is stored with the event so that replay reproduces
// every decision, and is stripped by the API before an event reaches a client.
type HistoryEvent struct {
	Timestamp       time.Time `json:"timestamp"`
	Type            Type      `json:"type"`
	ID              int64     `json:"id"`
	PreviousEventID int64     `json:"previousEventId"`

	ActivityFailedEventDetails               *ErrorDetails                   `json:"activityFailedEventDetails,omitempty"`
	ActivityScheduleFailedEventDetails       *ErrorDetails                   `json:"activityScheduleFailedEventDetails,omitempty"`
	ActivityScheduledEventDetails            *ActivityScheduledEventDetails  `json:"activityScheduledEventDetails,omitempty"`
	ActivityStartedEventDetails              *ActivityStartedEventDetails    `json:"activityStartedEventDetails,omitempty"`
	ActivitySucceededEventDetails            *OutputDetails                  `json:"activitySucceededEventDetails,omitempty"`
	ActivityTimedOutEventDetails             *ErrorDetails                   `json:"activityTimedOutEventDetails,omitempty"`
	TaskFailedEventDetails                   *TaskErrorDetails               `json:"taskFailedEventDetails,omitempty"`
	TaskScheduledEventDetails                *TaskScheduledEventDetails      `json:"taskScheduledEventDetails,omitempty"`
	TaskStartFailedEventDetails              *TaskErrorDetails               `json:"taskStartFailedEventDetails,omitempty"`
	TaskStartedEventDetails                  *TaskResourceDetails            `json:"taskStartedEventDetails,omitempty"`
	TaskSubmitFailedEventDetails             *TaskErrorDetails               `json:"taskSubmitFailedEventDetails,omitempty"`
	TaskSubmittedEventDetails                *TaskOutputDetails              `json:"taskSubmittedEventDetails,omitempty"`
	TaskSucceededEventDetails                *TaskOutputDetails              `json:"taskSucceededEventDetails,omitempty"`
	TaskTimedOutEventDetails                 *TaskErrorDetails               `json:"taskTimedOutEventDetails,omitempty"`
	ExecutionFailedEventDetails              *ErrorDetails                   `json:"executionFailedEventDetails,omitempty"`
	ExecutionStartedEventDetails             *ExecutionStartedEventDetails   `json:"executionStartedEventDetails,omitempty"`
	ExecutionSucceededEventDetails           *OutputDetails                  `json:"executionSucceededEventDetails,omitempty"`
	ExecutionAbortedEventDetails             *ErrorDetails                   `json:"executionAbortedEventDetails,omitempty"`
	ExecutionTimedOutEventDetails            *ErrorDetails                   `json:"executionTimedOutEventDetails,omitempty"`
	ExecutionRedrivenEventDetails            *ExecutionRedrivenEventDetails  `json:"executionRedrivenEventDetails,omitempty"`
	MapStateStartedEventDetails              *MapStateStartedEventDetails    `json:"mapStateStartedEventDetails,omitempty"`
	MapIterationStartedEventDetails          *MapIterationEventDetails       `json:"mapIterationStartedEventDetails,omitempty"`
	MapIterationSucceededEventDetails        *MapIterationEventDetails       `json:"mapIterationSucceededEventDetails,omitempty"`
	MapIterationFailedEventDetails           *MapIterationEventDetails       `json:"mapIterationFailedEventDetails,omitempty"`
	MapIterationAbortedEventDetails          *MapIterationEventDetails       `json:"mapIterationAbortedEventDetails,omitempty"`
	LambdaFunctionFailedEventDetails         *ErrorDetails                   `json:"lambdaFunctionFailedEventDetails,omitempty"`
	LambdaFunctionScheduleFailedEventDetails *ErrorDetails                   `json:"lambdaFunctionScheduleFailedEventDetails,omitempty"`
	LambdaFunctionScheduledEventDetails      *LambdaFunctionScheduledDetails `json:"lambdaFunctionScheduledEventDetails,omitempty"`
	LambdaFunctionStartFailedEventDetails    *ErrorDetails                   `json:"lambdaFunctionStartFailedEventDetails,omitempty"`
	LambdaFunctionSucceededEventDetails      *OutputDetails                  `json:"lambdaFunctionSucceededEventDetails,omitempty"`
	LambdaFunctionTimedOutEventDetails       *ErrorDetails                   `json:"lambdaFunctionTimedOutEventDetails,omitempty"`
	StateEnteredEventDetails                 *StateEnteredEventDetails       `json:"stateEnteredEventDetails,omitempty"`
	StateExitedEventDetails                  *StateExitedEventDetails        `json:"stateExitedEventDetails,omitempty"`
	MapRunStartedEventDetails                *MapRunStartedEventDetails      `json:"mapRunStartedEventDetails,omitempty"`
	MapRunFailedEventDetails                 *ErrorDetails                   `json:"mapRunFailedEventDetails,omitempty"`
	MapRunRedrivenEventDetails               *MapRunRedrivenEventDetails     `json:"mapRunRedrivenEventDetails,omitempty"`
	EvaluationFailedEventDetails             *EvaluationFailedEventDetails   `json:"evaluationFailedEventDetails,omitempty"`

	Ext *Ext `json:"sfnd,omitempty"`
}

// Ext is sfnd's private part of a stored event. Never sent to clients.
type Ext struct {
	// Seed is recorded randomness (States.UUID, States.MathRandom, jitter, $random).
	Seed uint64 `json:"seed,omitempty"`
	// Due is a timer deadline decided with this event (Wait, retry back-off, timeouts).
	Due *time.Time `json:"due,omitempty"`
	// Data is free-form decider bookkeeping (e.g. the branch/iteration path of an event
	// inside Parallel or Map, variables assigned) that replay needs.
	Data map[string]any `json:"data,omitempty"`
	// Definition is the state machine definition an execution runs, recorded on its
	// ExecutionStarted event so a history replays without any other record.
	Definition string `json:"definition,omitempty"`
	// Trigger is the decider trigger (JSON of asl.Trigger) that produced the decision
	// this event opens. Only the first event of each decision carries it, which also
	// marks the decision boundaries: an audit re-runs Decide with it and compares.
	Trigger json.RawMessage `json:"trigger,omitempty"`
	// Parent, on ExecutionStarted, names the parent's task that started the execution
	// (nested executions): the execution reports its end to it.
	Parent *ParentTask `json:"parent,omitempty"`
	// MockTestCase, on ExecutionStarted, is the mock configuration test case the
	// execution runs (SFN Local's "<stateMachineArn>#<TestCase>").
	MockTestCase string `json:"mockTestCase,omitempty"`
	// TraceHeader, on ExecutionStarted, is the start request's X-Ray trace header (the
	// history holds everything the execution's read model is rebuilt from).
	TraceHeader string `json:"traceHeader,omitempty"`
	// MapRun, on ExecutionStarted, names the Map Run the execution is a child of.
	MapRun *MapRunChild `json:"mapRun,omitempty"`
}

// ExecutionDataDetails says whether input or output was truncated.
type ExecutionDataDetails struct {
	Truncated bool `json:"truncated"`
}

// ErrorDetails is the {error, cause} pair many event types carry.
type ErrorDetails struct {
	Error string `json:"error,omitempty"`
	Cause string `json:"cause,omitempty"`
}

// OutputDetails is the {output, outputDetails} pair.
type OutputDetails struct {
	Output        *string               `json:"output,omitempty"`
	OutputDetails *ExecutionDataDetails `json:"outputDetails,omitempty"`
}

// ActivityScheduledEventDetails is the AWS type of the same name.
type ActivityScheduledEventDetails struct {
	Resource           string                `json:"resource"`
	Input              *string               `json:"input,omitempty"`
	InputDetails       *ExecutionDataDetails `json:"inputDetails,omitempty"`
	TimeoutInSeconds   *int64                `json:"timeoutInSeconds,omitempty"`
	HeartbeatInSeconds *int64                `json:"heartbeatInSeconds,omitempty"`
}

// ActivityStartedEventDetails is the AWS type of the same name.
type ActivityStartedEventDetails struct {
	WorkerName string `json:"workerName,omitempty"`
}

// TaskResourceDetails is {resourceType, resource} (TaskStartedEventDetails).
type TaskResourceDetails struct {
	ResourceType string `json:"resourceType"`
	Resource     string `json:"resource"`
}

// TaskErrorDetails is the AWS shape of TaskFailed/StartFailed/SubmitFailed/TimedOut details.
type TaskErrorDetails struct {
	ResourceType string `json:"resourceType"`
	Resource     string `json:"resource"`
	Error        string `json:"error,omitempty"`
	Cause        string `json:"cause,omitempty"`
}

// TaskOutputDetails is the AWS shape of TaskSucceeded/TaskSubmitted details.
type TaskOutputDetails struct {
	ResourceType  string                `json:"resourceType"`
	Resource      string                `json:"resource"`
	Output        *string               `json:"output,omitempty"`
	OutputDetails *ExecutionDataDetails `json:"outputDetails,omitempty"`
}

// TaskCredentials is the role a task runs with.
type TaskCredentials struct {
	RoleArn string `json:"roleArn,omitempty"`
}

// TaskScheduledEventDetails is the AWS type of the same name.
type TaskScheduledEventDetails struct {
	ResourceType       string           `json:"resourceType"`
	Resource           string           `json:"resource"`
	Region             string           `json:"region"`
	Parameters         string           `json:"parameters"`
	TimeoutInSeconds   *int64           `json:"timeoutInSeconds,omitempty"`
	HeartbeatInSeconds *int64           `json:"heartbeatInSeconds,omitempty"`
	TaskCredentials    *TaskCredentials `json:"taskCredentials,omitempty"`
}

// ExecutionStartedEventDetails is the AWS type of the same name.
type ExecutionStartedEventDetails struct {
	Input                  *string               `json:"input,omitempty"`
	InputDetails           *ExecutionDataDetails `json:"inputDetails,omitempty"`
	RoleArn                string                `json:"roleArn,omitempty"`
	StateMachineAliasArn   string                `json:"stateMachineAliasArn,omitempty"`
	StateMachineVersionArn string                `json:"stateMachineVersionArn,omitempty"`
}

// ExtRedriveToken is the Ext.Data key of ExecutionRedriven's clientToken.
const ExtRedriveToken = "token"

// RedriveToken is the RedriveExecution clientToken an ExecutionRedriven event records
// ("" if none).
func (ev *HistoryEvent) RedriveToken() string {
	if ev.Ext == nil {
		return ""
	}
	s, _ := ev.Ext.Data[ExtRedriveToken].(string)
	return s
}

// ExecutionRedrivenEventDetails is the AWS type of the same name.
type ExecutionRedrivenEventDetails struct {
	RedriveCount int `json:"redriveCount"`
}

// MapStateStartedEventDetails is the AWS type of the same name.
type MapStateStartedEventDetails struct {
	Length int `json:"length"`
}

// MapIterationEventDetails is the AWS type of the same name.
type MapIterationEventDetails struct {
	Name  string `json:"name,omitempty"`
	Index int    `json:"index"`
}

// LambdaFunctionScheduledDetails is the AWS LambdaFunctionScheduledEventDetails.
type LambdaFunctionScheduledDetails struct {
	Resource         string                `json:"resource"`
	Input            *string               `json:"input,omitempty"`
	InputDetails     *ExecutionDataDetails `json:"inputDetails,omitempty"`
	TimeoutInSeconds *int64                `json:"timeoutInSeconds,omitempty"`
	TaskCredentials  *TaskCredentials      `json:"taskCredentials,omitempty"`
}

// StateEnteredEventDetails is the AWS type of the same name.
type StateEnteredEventDetails struct {
	Name         string                `json:"name"`
	Input        *string               `json:"input,omitempty"`
	InputDetails *ExecutionDataDetails `json:"inputDetails,omitempty"`
}

// AssignedVariablesDetails says whether assigned variables were truncated.
type AssignedVariablesDetails struct {
	Truncated bool `json:"truncated"`
}

// StateExitedEventDetails is the AWS type of the same name.
type StateExitedEventDetails struct {
	Name                     string                    `json:"name"`
	Output                   *string                   `json:"output,omitempty"`
	OutputDetails            *ExecutionDataDetails     `json:"outputDetails,omitempty"`
	AssignedVariables        map[string]string         `json:"assignedVariables,omitempty"`
	AssignedVariablesDetails *AssignedVariablesDetails `json:"assignedVariablesDetails,omitempty"`
}

// MapRunStartedEventDetails is the AWS type of the same name.
type MapRunStartedEventDetails struct {
	MapRunArn string `json:"mapRunArn"`
}

// MapRunRedrivenEventDetails is the AWS type of the same name.
type MapRunRedrivenEventDetails struct {
	MapRunArn    string `json:"mapRunArn"`
	RedriveCount int    `json:"redriveCount"`
}

// EvaluationFailedEventDetails is the AWS type of the same name.
type EvaluationFailedEventDetails struct {
	Error    string `json:"error,omitempty"`
	Cause    string `json:"cause,omitempty"`
	Location string `json:"location,omitempty"`
	State    string `json:"state"`
}

// Str returns a pointer to s, for the optional string fields above.
func Str(s string) *string { return &s }

// NotTruncated is the ExecutionDataDetails every untruncated payload carries.
func NotTruncated() *ExecutionDataDetails { return &ExecutionDataDetails{} }
