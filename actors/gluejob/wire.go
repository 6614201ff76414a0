// Package gluejob runs Glue job runs and crawls for sfnd: the built-in worker of the
// Glue engine. The engine puts events.GlueJobTask and events.GlueCrawlTask messages on
// the GLUE_WORK work queue (events/jsstore/glue.go); a Runner takes them, runs the job
// (a local python3 process for pythonshell, an operator-supplied command template for
// other command names) or simulates the crawl, and publishes events.GlueWorkReport
// messages: RUNNING, then one terminal state. Stops arrive as core NATS messages on
// glue.stop.<token(run id)>. Outside workers can speak the same protocol.
//
// Output of a job run is kept in <OutputDir>/<JobRunId>/output (stdout) and
// <OutputDir>/<JobRunId>/error (stderr).
package gluejob

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// Durable consumers of GLUE_WORK (runners on several nodes share them).
const (
	JobConsumer   = "sfnd-glue-runner"
	CrawlConsumer = "sfnd-glue-crawler"
)

// Kinds of work.
const (
	KindJob   = events.GlueWorkJob
	KindCrawl = events.GlueWorkCrawl
)

// Job run and crawl states a Runner reports.
const (
	StateRunning   = "RUNNING"
	StateSucceeded = "SUCCEEDED"
	StateFailed    = "FAILED"
	StateTimeout   = "TIMEOUT"
	StateStopped   = "STOPPED"   // job stopped (BatchStopJobRun, StopWorkflowRun)
	StateCancelled = "CANCELLED" // crawl stopped (StopCrawler, StopWorkflowRun)
)

// request is a job run or crawl as the runner handles it.
type request struct {
	Kind          string
	RunID         string
	Name          string
	Attempt       int
	Command       events.GlueJobCommand
	Arguments     map[string]string
	WorkflowName  string
	WorkflowRunID string
	Timeout       int // minutes
	StartedOn     time.Time
	TimeScale     float64
	Crawler       json.RawMessage
	Tags          map[string]string
}

func jobRequest(t events.GlueJobTask) request {
	return request{
		Kind: KindJob, RunID: t.JobRunId, Name: t.JobName, Attempt: t.Attempt, Command: t.Command,
		Arguments: t.Arguments, WorkflowName: t.WorkflowName, WorkflowRunID: t.WorkflowRunId,
		Timeout: t.Timeout, StartedOn: t.StartedOn, TimeScale: t.TimeScale,
	}
}

func crawlRequest(t events.GlueCrawlTask) request {
	return request{Kind: KindCrawl, RunID: t.CrawlId, Name: t.CrawlerName, Crawler: t.Crawler, Tags: t.Tags, StartedOn: t.StartedOn}
}

func decodeJob(data []byte) (request, error) {
	var t events.GlueJobTask
	if err := json.Unmarshal(data, &t); err != nil {
		return request{}, errors.Wrap(err, "decode glue job task")
	}
	if t.JobRunId == "" {
		return request{}, errors.New("glue job task without JobRunId")
	}
	return jobRequest(t), nil
}

func decodeCrawl(data []byte) (request, error) {
	var t events.GlueCrawlTask
	if err := json.Unmarshal(data, &t); err != nil {
		return request{}, errors.Wrap(err, "decode glue crawl task")
	}
	if t.CrawlId == "" {
		return request{}, errors.New("glue crawl task without CrawlId")
	}
	return crawlRequest(t), nil
}

// RequestStop asks whichever runner holds the run to stop it (a core NATS message: the
// engine repeats it while the run is STOPPING).
func RequestStop(js jetstream.JetStream, runID string) error {
	return errors.Wrapf(js.Conn().Publish(jsstore.GlueStopSubject(runID), nil), "request stop of glue run %s", runID)
}

func publishReport(ctx context.Context, js jetstream.JetStream, r events.GlueWorkReport) error {
	return jsstore.ReportGlueWork(ctx, js, r)
}
