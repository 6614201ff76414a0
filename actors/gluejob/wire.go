// Package gluejob runs Glue job runs and crawls for sfnd: the built-in worker of the
// Glue engine. The engine puts a Request on the GLUE_JOBQ work queue; a Runner takes
// it, runs the job (a local python3 process for pythonshell, an operator-supplied
// command template for other command names) or simulates the crawl, and publishes
// Reports (RUNNING, then one terminal state) to the JetStream subject the request
// names. Stops travel on GLUE_JOBCTL. Outside workers can speak the same protocol.
//
// Output of a job run is kept in <OutputDir>/<runId>/output (stdout) and
// <OutputDir>/<runId>/error (stderr).
package gluejob

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Streams and subjects of the protocol.
const (
	QueueStream   = "GLUE_JOBQ"    // work queue of Requests
	QueuePrefix   = "glue.jobq."   // glue.jobq.<kind>.<token(command name)>
	ControlStream = "GLUE_JOBCTL"  // stop requests, kept 7 days
	ControlPrefix = "glue.jobctl." // glue.jobctl.<token(run id)>
	// ReportHeader names the kind of a Report message ("job" or "crawl").
	ReportHeader = "Glue-Report"
)

// Kinds of work.
const (
	KindJob   = "job"
	KindCrawl = "crawl"
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

// Command is the job's JobCommand.
type Command struct {
	Name           string `json:"Name,omitempty"` // pythonshell, glueetl, gluestreaming, glueray, ...
	ScriptLocation string `json:"ScriptLocation,omitempty"`
	PythonVersion  string `json:"PythonVersion,omitempty"`
	Runtime        string `json:"Runtime,omitempty"`
}

// Request asks a runner to run one job run or crawl.
type Request struct {
	Kind    string  `json:"kind,omitempty"` // KindJob (default) or KindCrawl
	RunID   string  `json:"runId"`          // job run id (jr_...) or crawl id
	Name    string  `json:"name"`           // job or crawler name
	Attempt int     `json:"attempt,omitempty"`
	Command Command `json:"command,omitzero"`
	// Arguments are the effective arguments (DefaultArguments, overridden by the run's or
	// action's Arguments, then NonOverridableArguments), keys with their "--".
	Arguments     map[string]string `json:"arguments,omitempty"`
	WorkflowName  string            `json:"workflowName,omitempty"`
	WorkflowRunID string            `json:"workflowRunId,omitempty"`
	// Timeout is the run's timeout in minutes (0: Glue's default, 2880); the deadline is
	// StartedOn + Timeout.
	Timeout   int       `json:"timeout,omitempty"`
	StartedOn time.Time `json:"startedOn,omitzero"`
	// ReportSubject is the JetStream subject the Reports are published to.
	ReportSubject string `json:"reportSubject"`
	// Crawler is the crawler's definition (crawls): the hook command's stdin.
	Crawler json.RawMessage `json:"crawler,omitempty"`
	// Tags are the crawler's tags (crawls): sfnd:crawl-outcome, sfnd:crawl-seconds.
	Tags map[string]string `json:"tags,omitempty"`
}

// Report is a runner's account of a run: RUNNING once, then one terminal state.
type Report struct {
	Kind          string    `json:"kind"`
	RunID         string    `json:"runId"`
	Name          string    `json:"name"`
	Attempt       int       `json:"attempt,omitempty"`
	WorkflowName  string    `json:"workflowName,omitempty"`
	WorkflowRunID string    `json:"workflowRunId,omitempty"`
	State         string    `json:"state"`
	ErrorMessage  string    `json:"errorMessage,omitempty"`
	Time          time.Time `json:"time"`                    // started (RUNNING) or completed
	ExecutionTime int       `json:"executionTime,omitempty"` // whole seconds the run took
	LogPath       string    `json:"logPath,omitempty"`       // directory of output and error
}

// Terminal tells whether the reported state ends the run.
func (r Report) Terminal() bool { return r.State != StateRunning }

// Stop asks the runner holding a run to end it. Reason is StateStopped (the default)
// or StateTimeout.
type Stop struct {
	RunID  string `json:"runId"`
	Reason string `json:"reason,omitempty"`
}

func token(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// QueueSubject is the subject a request is queued on.
func QueueSubject(req Request) string {
	kind := req.Kind
	if kind == "" {
		kind = KindJob
	}
	name := req.Command.Name
	if kind == KindCrawl {
		name = "crawler"
	}
	return QueuePrefix + kind + "." + token(name)
}

// ControlSubject is the subject of a run's stop requests.
func ControlSubject(runID string) string { return ControlPrefix + token(runID) }

// EnsureStreams creates (or updates) GLUE_JOBQ and GLUE_JOBCTL. Both the engine and
// the runner may call it.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, replicas int) error {
	if replicas == 0 {
		replicas = 1
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        QueueStream,
		Description: "sfnd Glue job runs and crawls waiting for a runner",
		Subjects:    []string{QueuePrefix + ">"},
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		Retention:   jetstream.WorkQueuePolicy,
		Duplicates:  2 * time.Minute,
	}); err != nil {
		return errors.Wrap(err, "create glue job queue stream")
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:              ControlStream,
		Description:       "sfnd Glue job run and crawl stop requests",
		Subjects:          []string{ControlPrefix + ">"},
		Storage:           jetstream.FileStorage,
		Replicas:          replicas,
		MaxAge:            7 * 24 * time.Hour,
		MaxMsgsPerSubject: 1,
		AllowDirect:       true,
	}); err != nil {
		return errors.Wrap(err, "create glue job control stream")
	}
	return nil
}

// Enqueue puts a request on the work queue (idempotent per run id).
func Enqueue(ctx context.Context, js jetstream.JetStream, req Request) error {
	if req.Kind == "" {
		req.Kind = KindJob
	}
	data, err := json.Marshal(req)
	if err != nil {
		return errors.Wrap(err, "encode glue run request")
	}
	_, err = js.Publish(ctx, QueueSubject(req), data, jetstream.WithMsgID("gluejob-"+req.RunID))
	return errors.Wrapf(err, "enqueue glue run %s", req.RunID)
}

// RequestStop asks whichever runner holds the run (or takes it later) to stop it.
// reason is StateStopped or StateTimeout ("" means StateStopped).
func RequestStop(ctx context.Context, js jetstream.JetStream, runID, reason string) error {
	if reason == "" {
		reason = StateStopped
	}
	data, err := json.Marshal(Stop{RunID: runID, Reason: reason})
	if err != nil {
		return errors.Wrap(err, "encode glue stop request")
	}
	_, err = js.Publish(ctx, ControlSubject(runID), data)
	return errors.Wrapf(err, "request stop of glue run %s", runID)
}

func reportMsg(subject string, rep Report) (*nats.Msg, error) {
	data, err := json.Marshal(rep)
	if err != nil {
		return nil, errors.Wrap(err, "encode glue run report")
	}
	m := nats.NewMsg(subject)
	m.Data = data
	m.Header.Set(ReportHeader, rep.Kind)
	// Every terminal report of a run shares one id, so a report repeated after a crash
	// (or a late "interrupted" one) is dropped by the stream's duplicate window.
	id := "gluejob-" + rep.RunID + "-end"
	if !rep.Terminal() {
		id = "gluejob-" + rep.RunID + "-running"
	}
	m.Header.Set(jetstream.MsgIDHeader, id)
	return m, nil
}
