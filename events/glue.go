package events

import (
	"encoding/json"
	"strconv"
	"time"
)

// Glue control-plane events: every Glue resource (workflow, job, trigger, crawler,
// blueprint) and every job run, crawl and blueprint run is a subject of the resource
// stream whose events carry the whole record after the change, like state machines.
const (
	GlueCreated ResourceKind = "GlueCreated"
	GlueUpdated ResourceKind = "GlueUpdated"
	GlueDeleted ResourceKind = "GlueDeleted"
)

// Glue resource types (GlueResource.Type).
const (
	GlueWorkflow     = "workflow"
	GlueJob          = "job"
	GlueTrigger      = "trigger"
	GlueCrawler      = "crawler"
	GlueBlueprint    = "blueprint"
	GlueJobRun       = "jobrun"       // Parent: the job
	GlueCrawl        = "crawl"        // Parent: the crawler
	GlueBlueprintRun = "blueprintrun" // Parent: the blueprint
)

// GlueSubject is the name (in place of an ARN) of a Glue resource's subject in the
// resource stream. It is region-free: sfnd keeps one Glue catalogue per account (the
// ARNs on the wire carry the caller's region).
func GlueSubject(typ, parent, name string) string {
	if parent != "" {
		return "glue:" + typ + "/" + parent + "\x00/" + name
	}
	return "glue:" + typ + "/" + name
}

// GlueResource is the stored state of one Glue resource or run. Body is its AWS
// shape exactly as the Get operation answers it (GlueWorkflowBody, GlueJobBody, ...).
type GlueResource struct {
	Type   string            `json:"type"`
	Parent string            `json:"parent,omitempty"`
	Name   string            `json:"name"`
	Body   json.RawMessage   `json:"body"`
	Tags   map[string]string `json:"tags,omitempty"`
	// Active lists, for a job, its job runs not yet ended and, for a workflow, its runs
	// RUNNING or STOPPING: the concurrency limits are checked and taken in the same
	// optimistic-concurrency write that records a start.
	Active []string `json:"active,omitempty"`
	// Runs (job runs, crawls): the workflow run that started it, if any.
	Workflow    string `json:"workflow,omitempty"`
	WorkflowRun string `json:"workflowRun,omitempty"`
	// Current is, for a crawler, the id of its crawl RUNNING or CANCELLING.
	Current string `json:"current,omitempty"`
	// Log says where a run's output is kept (reported by its runner).
	Log string `json:"log,omitempty"`
	// Stopping: a stop was requested (job runs, crawls).
	Stopping bool `json:"stopping,omitempty"`
	// Seq is the resource-subject sequence of the last change.
	Seq uint64 `json:"seq,omitempty"`
}

// GlueTime is a timestamp in Glue's wire form: epoch seconds as a JSON number.
type GlueTime time.Time

// GlueNow converts a time.
func GlueNow(t time.Time) *GlueTime { g := GlueTime(t.UTC()); return &g }

// Time returns the time.
func (t GlueTime) Time() time.Time { return time.Time(t) }

// MarshalJSON implements json.Marshaler.
func (t GlueTime) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

// UnmarshalJSON implements json.Unmarshaler (epoch seconds or RFC 3339).
func (t *GlueTime) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		p, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return err
		}
		*t = GlueTime(p)
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*t = GlueTime(time.UnixMilli(int64(f * 1000)).UTC())
	return nil
}

// GlueWorkflowBody is the Workflow shape (without LastRun and Graph, which readers add).
type GlueWorkflowBody struct {
	Name                 string            `json:"Name"`
	Description          *string           `json:"Description,omitempty"`
	DefaultRunProperties map[string]string `json:"DefaultRunProperties,omitempty"`
	CreatedOn            *GlueTime         `json:"CreatedOn,omitempty"`
	LastModifiedOn       *GlueTime         `json:"LastModifiedOn,omitempty"`
	MaxConcurrentRuns    *int              `json:"MaxConcurrentRuns,omitempty"`
	BlueprintDetails     json.RawMessage   `json:"BlueprintDetails,omitempty"`
}

// GlueExecutionProperty is the ExecutionProperty shape.
type GlueExecutionProperty struct {
	MaxConcurrentRuns *int `json:"MaxConcurrentRuns,omitempty"`
}

// GlueJobBody is the Job shape. Members sfnd only stores are kept as given.
type GlueJobBody struct {
	Name                      string                 `json:"Name"`
	JobMode                   *string                `json:"JobMode,omitempty"`
	JobRunQueuingEnabled      *bool                  `json:"JobRunQueuingEnabled,omitempty"`
	Description               *string                `json:"Description,omitempty"`
	LogUri                    *string                `json:"LogUri,omitempty"`
	Role                      string                 `json:"Role"`
	CreatedOn                 *GlueTime              `json:"CreatedOn,omitempty"`
	LastModifiedOn            *GlueTime              `json:"LastModifiedOn,omitempty"`
	ExecutionProperty         *GlueExecutionProperty `json:"ExecutionProperty,omitempty"`
	Command                   GlueJobCommand         `json:"Command"`
	DefaultArguments          map[string]string      `json:"DefaultArguments,omitempty"`
	NonOverridableArguments   map[string]string      `json:"NonOverridableArguments,omitempty"`
	Connections               json.RawMessage        `json:"Connections,omitempty"`
	MaxRetries                int                    `json:"MaxRetries"`
	AllocatedCapacity         int                    `json:"AllocatedCapacity"`
	Timeout                   int                    `json:"Timeout,omitempty"`
	MaxCapacity               *float64               `json:"MaxCapacity,omitempty"`
	WorkerType                *string                `json:"WorkerType,omitempty"`
	NumberOfWorkers           *int                   `json:"NumberOfWorkers,omitempty"`
	SecurityConfiguration     *string                `json:"SecurityConfiguration,omitempty"`
	NotificationProperty      json.RawMessage        `json:"NotificationProperty,omitempty"`
	GlueVersion               *string                `json:"GlueVersion,omitempty"`
	CodeGenConfigurationNodes json.RawMessage        `json:"CodeGenConfigurationNodes,omitempty"`
	ExecutionClass            *string                `json:"ExecutionClass,omitempty"`
	SourceControlDetails      json.RawMessage        `json:"SourceControlDetails,omitempty"`
	MaintenanceWindow         *string                `json:"MaintenanceWindow,omitempty"`
}

// GlueCondition is the Condition shape.
type GlueCondition struct {
	LogicalOperator *string `json:"LogicalOperator,omitempty"`
	JobName         *string `json:"JobName,omitempty"`
	State           *string `json:"State,omitempty"`
	CrawlerName     *string `json:"CrawlerName,omitempty"`
	CrawlState      *string `json:"CrawlState,omitempty"`
}

// GluePredicate is the Predicate shape.
type GluePredicate struct {
	Logical    *string         `json:"Logical,omitempty"`
	Conditions []GlueCondition `json:"Conditions,omitempty"`
}

// GlueAction is the Action shape.
type GlueAction struct {
	JobName               *string           `json:"JobName,omitempty"`
	Arguments             map[string]string `json:"Arguments,omitempty"`
	Timeout               *int              `json:"Timeout,omitempty"`
	SecurityConfiguration *string           `json:"SecurityConfiguration,omitempty"`
	NotificationProperty  json.RawMessage   `json:"NotificationProperty,omitempty"`
	CrawlerName           *string           `json:"CrawlerName,omitempty"`
}

// GlueEventBatchingCondition is the EventBatchingCondition shape.
type GlueEventBatchingCondition struct {
	BatchSize   int  `json:"BatchSize"`
	BatchWindow *int `json:"BatchWindow,omitempty"`
}

// GlueTriggerBody is the Trigger shape.
type GlueTriggerBody struct {
	Name                   string                      `json:"Name"`
	WorkflowName           *string                     `json:"WorkflowName,omitempty"`
	Id                     *string                     `json:"Id,omitempty"`
	Type                   string                      `json:"Type"`
	State                  string                      `json:"State"`
	Description            *string                     `json:"Description,omitempty"`
	Schedule               *string                     `json:"Schedule,omitempty"`
	Actions                []GlueAction                `json:"Actions"`
	Predicate              *GluePredicate              `json:"Predicate,omitempty"`
	EventBatchingCondition *GlueEventBatchingCondition `json:"EventBatchingCondition,omitempty"`
}

// GlueLastCrawl is the LastCrawlInfo shape.
type GlueLastCrawl struct {
	Status        string    `json:"Status,omitempty"`
	ErrorMessage  string    `json:"ErrorMessage,omitempty"`
	LogGroup      string    `json:"LogGroup,omitempty"`
	LogStream     string    `json:"LogStream,omitempty"`
	MessagePrefix string    `json:"MessagePrefix,omitempty"`
	StartTime     *GlueTime `json:"StartTime,omitempty"`
}

// GlueCrawlerBody is the part of the Crawler shape the engine reads and writes; the
// stored body also holds the definition members as given (Targets, DatabaseName, ...).
type GlueCrawlerBody struct {
	Name             string          `json:"Name"`
	Role             string          `json:"Role,omitempty"`
	State            string          `json:"State"`
	CrawlElapsedTime int64           `json:"CrawlElapsedTime"`
	CreationTime     *GlueTime       `json:"CreationTime,omitempty"`
	LastUpdated      *GlueTime       `json:"LastUpdated,omitempty"`
	LastCrawl        *GlueLastCrawl  `json:"LastCrawl,omitempty"`
	Version          int64           `json:"Version"`
	Schedule         json.RawMessage `json:"Schedule,omitempty"`
}

// GlueJobRunBody is the JobRun shape.
type GlueJobRunBody struct {
	Id                    string            `json:"Id"`
	Attempt               int               `json:"Attempt"`
	PreviousRunId         *string           `json:"PreviousRunId,omitempty"`
	TriggerName           *string           `json:"TriggerName,omitempty"`
	JobName               string            `json:"JobName"`
	JobMode               *string           `json:"JobMode,omitempty"`
	StartedOn             *GlueTime         `json:"StartedOn,omitempty"`
	LastModifiedOn        *GlueTime         `json:"LastModifiedOn,omitempty"`
	CompletedOn           *GlueTime         `json:"CompletedOn,omitempty"`
	JobRunState           string            `json:"JobRunState"`
	Arguments             map[string]string `json:"Arguments,omitempty"`
	ErrorMessage          *string           `json:"ErrorMessage,omitempty"`
	PredecessorRuns       []GluePredecessor `json:"PredecessorRuns"`
	AllocatedCapacity     int               `json:"AllocatedCapacity"`
	ExecutionTime         int               `json:"ExecutionTime"`
	Timeout               int               `json:"Timeout,omitempty"`
	MaxCapacity           *float64          `json:"MaxCapacity,omitempty"`
	WorkerType            *string           `json:"WorkerType,omitempty"`
	NumberOfWorkers       *int              `json:"NumberOfWorkers,omitempty"`
	SecurityConfiguration *string           `json:"SecurityConfiguration,omitempty"`
	LogGroupName          *string           `json:"LogGroupName,omitempty"`
	GlueVersion           *string           `json:"GlueVersion,omitempty"`
	ExecutionClass        *string           `json:"ExecutionClass,omitempty"`
}

// GluePredecessor is the Predecessor shape.
type GluePredecessor struct {
	JobName string `json:"JobName"`
	RunId   string `json:"RunId"`
}

// GlueCrawlBody is the Crawl shape of a workflow graph's crawler node.
type GlueCrawlBody struct {
	State        string    `json:"State"`
	StartedOn    *GlueTime `json:"StartedOn,omitempty"`
	CompletedOn  *GlueTime `json:"CompletedOn,omitempty"`
	ErrorMessage *string   `json:"ErrorMessage,omitempty"`
	LogGroup     string    `json:"LogGroup,omitempty"`
	LogStream    string    `json:"LogStream,omitempty"`
}
