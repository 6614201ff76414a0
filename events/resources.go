package events

import "time"

// ResourceKind names a control-plane event.
type ResourceKind string

// Control-plane event kinds. Each is appended to the resource's own subject; the
// projections fold them into the read models.
const (
	StateMachineCreated ResourceKind = "StateMachineCreated"
	StateMachineUpdated ResourceKind = "StateMachineUpdated"
	StateMachineDeleted ResourceKind = "StateMachineDeleted"
	ActivityCreated     ResourceKind = "ActivityCreated"
	ActivityDeleted     ResourceKind = "ActivityDeleted"
	TagsAdded           ResourceKind = "TagsAdded"
	TagsRemoved         ResourceKind = "TagsRemoved"
)

// ResourceEvent is one change to a state machine, an activity or their tags.
// Created/Updated events carry the whole record after the change, so a projection
// (and a reader rebuilding one resource) needs no other event to apply it.
type ResourceEvent struct {
	Kind         ResourceKind        `json:"kind"`
	Time         time.Time           `json:"time"`
	ARN          string              `json:"arn"`
	StateMachine *StateMachineRecord `json:"stateMachine,omitempty"`
	Activity     *ActivityRecord     `json:"activity,omitempty"`
	// Version is a version's snapshot, on the version's own subject (see versions.go).
	Version *StateMachineRecord `json:"version,omitempty"`
	Tags    []Tag               `json:"tags,omitempty"`
	TagKeys []string            `json:"tagKeys,omitempty"`
	// Glue is a Glue resource or run after the change (glue.go).
	Glue *GlueResource `json:"glue,omitempty"`
}

// Tag is a key-value pair attached to a resource.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// LoggingConfiguration is the AWS type of the same name, kept as given.
type LoggingConfiguration struct {
	Level                string           `json:"level,omitempty"`
	IncludeExecutionData bool             `json:"includeExecutionData"`
	Destinations         []map[string]any `json:"destinations,omitempty"`
}

// TracingConfiguration is the AWS type of the same name.
type TracingConfiguration struct {
	Enabled bool `json:"enabled"`
}

// StateMachineRecord is the stored state of one state machine.
type StateMachineRecord struct {
	ARN          string                `json:"arn"`
	Name         string                `json:"name"`
	Type         string                `json:"type"`
	Definition   string                `json:"definition"`
	RoleARN      string                `json:"roleArn"`
	CreationDate time.Time             `json:"creationDate"`
	UpdateDate   *time.Time            `json:"updateDate,omitempty"`
	RevisionID   string                `json:"revisionId,omitempty"`
	Description  string                `json:"description,omitempty"`
	Status       string                `json:"status"`
	Logging      *LoggingConfiguration `json:"loggingConfiguration,omitempty"`
	Tracing      *TracingConfiguration `json:"tracingConfiguration,omitempty"`
	Encryption   map[string]any        `json:"encryptionConfiguration,omitempty"`
	Tags         []Tag                 `json:"tags,omitempty"`
	Seq          uint64                `json:"seq,omitempty"` // resource-subject sequence of the last change
	// Versioning indexes the versions and aliases (see versions.go); nil until the first.
	Versioning *Versioning `json:"versioning,omitempty"`
}

// ActivityRecord is the stored state of one activity.
type ActivityRecord struct {
	ARN          string         `json:"arn"`
	Name         string         `json:"name"`
	CreationDate time.Time      `json:"creationDate"`
	Encryption   map[string]any `json:"encryptionConfiguration,omitempty"`
	Tags         []Tag          `json:"tags,omitempty"`
	Seq          uint64         `json:"seq,omitempty"`
}

// ExecutionRecord is the read model of one execution (Describe/List).
type ExecutionRecord struct {
	ARN             string        `json:"arn"`
	StateMachineARN string        `json:"stateMachineArn"`
	Name            string        `json:"name"`
	Status          string        `json:"status"`
	StartDate       time.Time     `json:"startDate"`
	StopDate        *time.Time    `json:"stopDate,omitempty"`
	Output          *string       `json:"output,omitempty"`
	Error           string        `json:"error,omitempty"`
	Cause           string        `json:"cause,omitempty"`
	Start           *StartCommand `json:"start"`
	// LastEventID is the id of the newest history event the projection applied.
	LastEventID int64 `json:"lastEventId,omitempty"`
	// IndexARN, when set, is the list the execution is listed in instead of its state
	// machine's: a Map Run's children are listed under the Map Run's ARN.
	IndexARN string `json:"indexArn,omitempty"`
	// RedriveCount and RedriveDate: how often and when the execution was last
	// redriven; RedriveTokens the clientTokens of its last redrives (at most 10).
	RedriveCount  int            `json:"redriveCount,omitempty"`
	RedriveDate   *time.Time     `json:"redriveDate,omitempty"`
	RedriveTokens []RedriveToken `json:"redriveTokens,omitempty"`
}

// RedriveToken is a RedriveExecution clientToken and the redrive it started.
type RedriveToken struct {
	Token string    `json:"token"`
	Date  time.Time `json:"date"`
}

// MapRunRecord is the read model of a Map Run (Distributed Map): DescribeMapRun and
// ListMapRuns answer from it, UpdateMapRun changes it.
type MapRunRecord struct {
	ARN             string     `json:"arn"`
	ExecutionARN    string     `json:"executionArn"`    // the parent execution
	StateMachineARN string     `json:"stateMachineArn"` // <state machine>/<label>
	Scheduled       int64      `json:"scheduled"`       // the parent's MapRunStarted event id
	Status          string     `json:"status"`          // RUNNING, SUCCEEDED, FAILED, ABORTED
	StartDate       time.Time  `json:"startDate"`
	StopDate        *time.Time `json:"stopDate,omitempty"`
	MaxConcurrency  int        `json:"maxConcurrency"`
	// ToleratedFailureCount / Percentage; nil when not set.
	ToleratedFailureCount      *int64       `json:"toleratedFailureCount,omitempty"`
	ToleratedFailurePercentage *float64     `json:"toleratedFailurePercentage,omitempty"`
	Items                      MapRunCounts `json:"itemCounts"`
	Executions                 MapRunCounts `json:"executionCounts"`
	Error                      string       `json:"error,omitempty"`
	Cause                      string       `json:"cause,omitempty"`
	// Output is the run's result reported to the parent (kept to report it again).
	Output       string     `json:"output,omitempty"`
	RedriveCount int        `json:"redriveCount"`
	RedriveDate  *time.Time `json:"redriveDate,omitempty"`
}

// MapRunCounts counts a Map Run's items or child executions by state.
type MapRunCounts struct {
	Pending        int64 `json:"pending"`
	Running        int64 `json:"running"`
	Succeeded      int64 `json:"succeeded"`
	Failed         int64 `json:"failed"`
	TimedOut       int64 `json:"timedOut"`
	Aborted        int64 `json:"aborted"`
	Total          int64 `json:"total"`
	ResultsWritten int64 `json:"resultsWritten"`
	// PendingRedrive: unsuccessful children a redrive of the run has yet to redrive;
	// FailuresNotRedrivable: unsuccessful children it cannot redrive.
	PendingRedrive        int64 `json:"pendingRedrive,omitempty"`
	FailuresNotRedrivable int64 `json:"failuresNotRedrivable,omitempty"`
}
