package events

import (
	"encoding/json"
	"time"
)

// Glue work travels on the GLUE_WORK stream (see jsstore/glue.go): the core enqueues
// job runs and crawls, a runner takes them, runs them and reports what happened. The
// contract between the two sides is written down in docs/ARCHITECTURE.md ("Glue
// rooms") and these three types.

// GlueJobCommand is the Glue JobCommand shape.
type GlueJobCommand struct {
	Name           string `json:"Name,omitempty"`
	ScriptLocation string `json:"ScriptLocation,omitempty"`
	PythonVersion  string `json:"PythonVersion,omitempty"`
	Runtime        string `json:"Runtime,omitempty"`
}

// GlueJobTask is one job run (one attempt) for a runner to execute.
type GlueJobTask struct {
	JobName       string `json:"JobName"`
	JobRunId      string `json:"JobRunId"`
	Attempt       int    `json:"Attempt"`
	WorkflowName  string `json:"WorkflowName,omitempty"`
	WorkflowRunId string `json:"WorkflowRunId,omitempty"`
	// Command is the job's command when the run started.
	Command GlueJobCommand `json:"Command"`
	// Arguments are the effective arguments: DefaultArguments, overridden by the run's
	// (StartJobRun or trigger action), NonOverridableArguments re-applied on top; keys
	// keep their "--". The runner adds --JOB_NAME, --JOB_ID, --JOB_RUN_ID,
	// --WORKFLOW_NAME and --WORKFLOW_RUN_ID from the fields above.
	Arguments map[string]string `json:"Arguments,omitempty"`
	// Timeout is in minutes, already defaulted; the runner enforces it (scaled).
	Timeout   int       `json:"Timeout"`
	StartedOn time.Time `json:"StartedOn"`
	// TimeScale multiplies Timeout (tests run minute timeouts in seconds); 0 or 1 =
	// real time.
	TimeScale float64 `json:"TimeScale,omitempty"`
}

// GlueCrawlTask is one crawl for the crawl simulation.
type GlueCrawlTask struct {
	CrawlerName string            `json:"CrawlerName"`
	CrawlId     string            `json:"CrawlId"`
	Tags        map[string]string `json:"Tags,omitempty"`
	// Crawler is the Crawler shape as GetCrawler returns it.
	Crawler   json.RawMessage `json:"Crawler,omitempty"`
	StartedOn time.Time       `json:"StartedOn"`
	// TimeScale multiplies the crawl's duration; 0 or 1 = real time.
	TimeScale float64 `json:"TimeScale,omitempty"`
}

// Kinds of GlueWorkReport.
const (
	GlueWorkJob   = "job"
	GlueWorkCrawl = "crawl"
)

// GlueWorkReport is what a runner reports about a job run or a crawl.
type GlueWorkReport struct {
	Kind  string `json:"Kind"`  // GlueWorkJob or GlueWorkCrawl
	RunId string `json:"RunId"` // JobRunId or CrawlId
	Name  string `json:"Name"`  // JobName or CrawlerName
	// State: jobs RUNNING (process started), SUCCEEDED, FAILED, TIMEOUT, STOPPED;
	// crawls RUNNING, SUCCEEDED, FAILED, CANCELLED.
	State         string    `json:"State"`
	ErrorMessage  string    `json:"ErrorMessage,omitempty"`
	Time          time.Time `json:"Time"`
	ExecutionTime int       `json:"ExecutionTime,omitempty"` // whole seconds (jobs)
	LogLocation   string    `json:"LogLocation,omitempty"`
}
