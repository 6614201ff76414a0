package actors

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/actors/gluerun"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
	"github.com/sfnd/sfnd/events/jsstore"
)

// Job run states.
const (
	JobStarting  = "STARTING"
	JobRunning   = "RUNNING"
	JobStopping  = "STOPPING"
	JobStopped   = "STOPPED"
	JobSucceeded = "SUCCEEDED"
	JobFailed    = "FAILED"
	JobTimeout   = "TIMEOUT"
	JobError     = "ERROR"
)

// JobRunEnded reports whether a job run state is terminal.
func JobRunEnded(state string) bool {
	switch state {
	case JobStopped, JobSucceeded, JobFailed, JobTimeout, JobError, "EXPIRED":
		return true
	}
	return false
}

// GlueJobRunRequest asks for one job run (StartJobRun, a trigger action, a retry).
type GlueJobRunRequest struct {
	JobName string
	// RunId is the run's id; empty: a new random one. Starting the same id twice is a
	// no-op (a workflow run's actor re-issues its starts after a restart).
	RunId string
	// Arguments are the run's own (StartJobRun's or the trigger action's).
	Arguments     map[string]string
	Timeout       int
	TriggerName   string
	Workflow      string
	WorkflowRunId string
	Attempt       int
	PreviousRunId string
	// API: the caller is StartJobRun, which answers errors (job unknown, concurrency)
	// as AWS errors; otherwise they become the run's outcome.
	API bool
}

// Glue error codes the engine answers with.
const (
	glueEntityNotFound         fault.Code = "EntityNotFoundException"
	glueConcurrentRunsExceeded fault.Code = "ConcurrentRunsExceededException"
	glueInvalidInput           fault.Code = "InvalidInputException"
	glueCrawlerRunning         fault.Code = "CrawlerRunningException"
	glueCrawlerNotRunning      fault.Code = "CrawlerNotRunningException"
	glueCrawlerStopping        fault.Code = "CrawlerStoppingException"
)

// NewJobRunID returns a fresh job run id: "jr_" and 64 hex digits.
func NewJobRunID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "jr_" + hex.EncodeToString(b[:])
}

func retryRunID(prev string) string {
	h := sha256.Sum256([]byte(prev + "\x00retry"))
	return "jr_" + hex.EncodeToString(h[:])
}

// StartJobRun records a job run and puts it on the work queue.
func (g *Glue) StartJobRun(ctx context.Context, req GlueJobRunRequest) (string, error) {
	if req.RunId == "" {
		req.RunId = NewJobRunID()
	}
	id := req.RunId
	now := g.now()
	jobRec, err := g.glueResource(ctx, events.GlueJob, "", req.JobName)
	if err != nil {
		return "", err
	}
	if jobRec == nil {
		msg := "Job with name: " + req.JobName + " not found."
		if req.API {
			return "", fault.New(glueEntityNotFound, "%s", msg)
		}
		return id, g.failedStart(ctx, req, JobError, msg, nil)
	}
	job, err := decode[events.GlueJobBody](jobRec.Body)
	if err != nil {
		return "", err
	}
	max := 1
	if job.ExecutionProperty != nil && job.ExecutionProperty.MaxConcurrentRuns != nil {
		max = *job.ExecutionProperty.MaxConcurrentRuns
	}
	over := false
	if err := g.mutate(ctx, events.GlueJob, "", req.JobName, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		over = false
		if cur == nil || contains(cur.Active, id) {
			return nil, "", nil
		}
		if len(cur.Active) >= max {
			over = true
			return nil, "", nil
		}
		next := *cur
		next.Active = append(append([]string{}, cur.Active...), id)
		return &next, events.GlueUpdated, nil
	}); err != nil {
		return "", err
	}
	if over {
		if req.API {
			return "", fault.New(glueConcurrentRunsExceeded, "Concurrent runs exceeded for %s", req.JobName)
		}
		return id, g.failedStart(ctx, req, JobFailed, "The job exceeded its maximum allowed concurrent runs", &job)
	}
	timeout := req.Timeout
	if timeout == 0 {
		timeout = job.Timeout
	}
	if timeout == 0 {
		timeout = 2880
	}
	body := g.jobRunBody(req, &job, now, JobStarting)
	body.Timeout = timeout
	created := false
	state := JobStarting
	if err := g.mutate(ctx, events.GlueJobRun, req.JobName, id, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur != nil {
			b, _ := decode[events.GlueJobRunBody](cur.Body)
			state = b.JobRunState
			return nil, "", nil
		}
		created = true
		return &events.GlueResource{Body: encode(body), Workflow: req.Workflow, WorkflowRun: req.WorkflowRunId}, events.GlueCreated, nil
	}); err != nil {
		return "", err
	}
	if !created && state != JobStarting {
		return id, nil // started before: the runner has it
	}
	args := map[string]string{}
	maps.Copy(args, job.DefaultArguments)
	maps.Copy(args, req.Arguments)
	maps.Copy(args, job.NonOverridableArguments)
	task := events.GlueJobTask{
		JobName: req.JobName, JobRunId: id, Attempt: req.Attempt, WorkflowName: req.Workflow, WorkflowRunId: req.WorkflowRunId,
		Command: job.Command, Arguments: args, Timeout: timeout, StartedOn: now, TimeScale: g.cfg.TimeScale,
	}
	return id, g.store.EnqueueGlueJob(ctx, task)
}

func (g *Glue) jobRunBody(req GlueJobRunRequest, job *events.GlueJobBody, now time.Time, state string) events.GlueJobRunBody {
	b := events.GlueJobRunBody{
		Id: req.RunId, Attempt: req.Attempt, JobName: req.JobName, StartedOn: events.GlueNow(now), LastModifiedOn: events.GlueNow(now),
		JobRunState: state, PredecessorRuns: []events.GluePredecessor{},
	}
	if req.PreviousRunId != "" {
		b.PreviousRunId = &req.PreviousRunId
	}
	if req.TriggerName != "" {
		b.TriggerName = &req.TriggerName
	}
	if len(req.Arguments) > 0 || req.Workflow != "" {
		b.Arguments = maps.Clone(req.Arguments)
		if b.Arguments == nil {
			b.Arguments = map[string]string{}
		}
		if req.Workflow != "" {
			b.Arguments["--WORKFLOW_NAME"] = req.Workflow
			b.Arguments["--WORKFLOW_RUN_ID"] = req.WorkflowRunId
		}
	}
	if job != nil {
		b.JobMode, b.AllocatedCapacity, b.MaxCapacity = job.JobMode, job.AllocatedCapacity, job.MaxCapacity
		b.WorkerType, b.NumberOfWorkers, b.GlueVersion = job.WorkerType, job.NumberOfWorkers, job.GlueVersion
		b.SecurityConfiguration, b.ExecutionClass = job.SecurityConfiguration, job.ExecutionClass
		lg := "/aws-glue/jobs"
		if job.Command.Name == "pythonshell" {
			lg = "/aws-glue/python-jobs"
		}
		b.LogGroupName = &lg
	}
	return b
}

// failedStart records a job run that could not start (ERROR: job deleted; FAILED: at
// its concurrency limit) and settles its workflow node.
func (g *Glue) failedStart(ctx context.Context, req GlueJobRunRequest, state, msg string, job *events.GlueJobBody) error {
	now := g.now()
	body := g.jobRunBody(req, job, now, state)
	body.ErrorMessage = &msg
	body.CompletedOn = events.GlueNow(now)
	if err := g.mutate(ctx, events.GlueJobRun, req.JobName, req.RunId, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur != nil {
			return nil, "", nil
		}
		return &events.GlueResource{Body: encode(body), Workflow: req.Workflow, WorkflowRun: req.WorkflowRunId}, events.GlueCreated, nil
	}); err != nil {
		return err
	}
	return g.settle(ctx, req.Workflow, req.WorkflowRunId, gluerun.NodeJob, req.JobName, req.RunId, state, msg)
}

// settle tells a workflow run that one of its nodes' latest attempt ended.
func (g *Glue) settle(ctx context.Context, workflow, runID, typ, name, id, state, msg string) error {
	if runID == "" {
		return nil
	}
	return g.Send(ctx, workflow, runID, gluerun.Trigger{
		Kind: gluerun.TrActionEnded, Node: gluerun.NodeKey(typ, name), RunId: id, State: state, ErrorMessage: msg,
	}, id+"#ended", false)
}

// StopJobRun asks a job run to stop: STOPPING now, STOPPED when its runner reports.
func (g *Glue) StopJobRun(ctx context.Context, jobName, id string) error {
	err := g.mutate(ctx, events.GlueJobRun, jobName, id, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil {
			return nil, "", fault.New(glueEntityNotFound, "Job run %s not found for job %s", id, jobName)
		}
		b, err := decode[events.GlueJobRunBody](cur.Body)
		if err != nil {
			return nil, "", err
		}
		if JobRunEnded(b.JobRunState) {
			return nil, "", fault.New(glueInvalidInput, "Job run %s is already in a terminal state: %s", id, b.JobRunState)
		}
		if cur.Stopping {
			return nil, "", nil
		}
		b.JobRunState = JobStopping
		b.LastModifiedOn = events.GlueNow(g.now())
		next := *cur
		next.Body, next.Stopping = encode(b), true
		return &next, events.GlueUpdated, nil
	})
	if err != nil {
		return err
	}
	return errors.Wrap(g.store.NC.Publish(jsstore.GlueStopSubject(id), nil), "publish stop")
}

// report folds one runner report into its run.
func (g *Glue) report(m jetstream.Msg) {
	var r events.GlueWorkReport
	if err := json.Unmarshal(m.Data(), &r); err != nil {
		g.cfg.Logger.Warn("dropping unreadable glue report", "err", err)
		_ = m.Term()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	switch r.Kind {
	case events.GlueWorkJob:
		err = g.jobReport(ctx, r)
	case events.GlueWorkCrawl:
		err = g.crawlReport(ctx, r)
	}
	if err != nil {
		g.cfg.Logger.Error("glue report", "run", r.RunId, "state", r.State, "err", err)
		_ = m.NakWithDelay(time.Second)
		return
	}
	_ = m.Ack()
}

func (g *Glue) jobReport(ctx context.Context, r events.GlueWorkReport) error {
	var rec *events.GlueResource
	var body events.GlueJobRunBody
	restop := false
	if err := g.mutate(ctx, events.GlueJobRun, r.Name, r.RunId, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		rec, restop = cur, false
		if cur == nil {
			return nil, "", nil
		}
		b, err := decode[events.GlueJobRunBody](cur.Body)
		if err != nil {
			return nil, "", err
		}
		body = b
		if JobRunEnded(b.JobRunState) {
			return nil, "", nil // a repeated or late report
		}
		now := events.GlueNow(r.Time)
		if r.Time.IsZero() {
			now = events.GlueNow(g.now())
		}
		if r.State == JobRunning {
			if cur.Stopping {
				restop = true
				return nil, "", nil
			}
			if b.JobRunState != JobStarting {
				return nil, "", nil
			}
			b.JobRunState, b.LastModifiedOn = JobRunning, now
		} else {
			b.JobRunState, b.LastModifiedOn, b.CompletedOn = r.State, now, now
			b.ExecutionTime = r.ExecutionTime
			if r.ErrorMessage != "" {
				msg := r.ErrorMessage
				b.ErrorMessage = &msg
			}
		}
		body = b
		next := *cur
		next.Body = encode(b)
		if r.LogLocation != "" {
			next.Log = r.LogLocation
		}
		return &next, events.GlueUpdated, nil
	}); err != nil {
		return err
	}
	if rec == nil {
		return nil // a run sfnd does not know
	}
	if restop {
		return errors.Wrap(g.store.NC.Publish(jsstore.GlueStopSubject(r.RunId), nil), "publish stop")
	}
	if !JobRunEnded(body.JobRunState) {
		return nil
	}
	// Ended (now or before: every step below is idempotent, so a redelivered report
	// finishes what a crash interrupted).
	if err := g.mutate(ctx, events.GlueJob, "", r.Name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil || !contains(cur.Active, r.RunId) {
			return nil, "", nil
		}
		next := *cur
		next.Active = remove(cur.Active, r.RunId)
		return &next, events.GlueUpdated, nil
	}); err != nil {
		return err
	}
	if body.JobRunState == JobFailed && !rec.Stopping {
		job, err := g.glueResource(ctx, events.GlueJob, "", r.Name)
		if err != nil {
			return err
		}
		if job != nil {
			jb, err := decode[events.GlueJobBody](job.Body)
			if err != nil {
				return err
			}
			if body.Attempt < jb.MaxRetries {
				next := retryRunID(r.RunId)
				if rec.WorkflowRun != "" {
					if err := g.Send(ctx, rec.Workflow, rec.WorkflowRun, gluerun.Trigger{
						Kind: gluerun.TrActionRetried, Node: gluerun.NodeKey(gluerun.NodeJob, r.Name), RunId: r.RunId,
						NewRunId: next, Attempt: body.Attempt + 1,
					}, r.RunId+"#retried", false); err != nil {
						return err
					}
				}
				args := maps.Clone(body.Arguments)
				delete(args, "--WORKFLOW_NAME")
				delete(args, "--WORKFLOW_RUN_ID")
				_, err := g.StartJobRun(ctx, GlueJobRunRequest{
					JobName: r.Name, RunId: next, Arguments: args, Timeout: body.Timeout, TriggerName: deref(body.TriggerName),
					Workflow: rec.Workflow, WorkflowRunId: rec.WorkflowRun, Attempt: body.Attempt + 1, PreviousRunId: r.RunId,
				})
				return err
			}
		}
	}
	return g.settle(ctx, rec.Workflow, rec.WorkflowRun, gluerun.NodeJob, r.Name, r.RunId, body.JobRunState, deref(body.ErrorMessage))
}

// GlueCrawlRequest asks for one crawl.
type GlueCrawlRequest struct {
	CrawlerName   string
	CrawlId       string // empty: a new one
	Workflow      string
	WorkflowRunId string
	API           bool
}

// StartCrawl starts a crawl of a READY crawler and puts it on the work queue.
func (g *Glue) StartCrawl(ctx context.Context, req GlueCrawlRequest) (string, error) {
	if req.CrawlId == "" {
		req.CrawlId = uuid.NewString()
	}
	id := req.CrawlId
	now := g.now()
	var crawler *events.GlueResource
	busy, missing := false, false
	if err := g.mutate(ctx, events.GlueCrawler, "", req.CrawlerName, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		crawler, busy, missing = cur, false, cur == nil
		if cur == nil || cur.Current == id {
			return nil, "", nil
		}
		if cur.Current != "" {
			busy = true
			return nil, "", nil
		}
		next := *cur
		next.Current = id
		next.Body = setMembers(cur.Body, map[string]any{"State": "RUNNING"})
		crawler = &next
		return &next, events.GlueUpdated, nil
	}); err != nil {
		return "", err
	}
	fail := func(msg string) (string, error) {
		crawl := events.GlueCrawlBody{State: JobError, StartedOn: events.GlueNow(now), CompletedOn: events.GlueNow(now), ErrorMessage: &msg}
		if err := g.mutate(ctx, events.GlueCrawl, req.CrawlerName, id, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
			if cur != nil {
				return nil, "", nil
			}
			return &events.GlueResource{Body: encode(crawl), Workflow: req.Workflow, WorkflowRun: req.WorkflowRunId}, events.GlueCreated, nil
		}); err != nil {
			return "", err
		}
		return id, g.settle(ctx, req.Workflow, req.WorkflowRunId, gluerun.NodeCrawler, req.CrawlerName, id, JobError, msg)
	}
	switch {
	case missing && req.API:
		return "", fault.New(glueEntityNotFound, "Crawler entry with name %s does not exist", req.CrawlerName)
	case missing:
		return fail("Crawler entry with name " + req.CrawlerName + " does not exist")
	case busy && req.API:
		return "", fault.New(glueCrawlerRunning, "Crawler with name %s has already started", req.CrawlerName)
	case busy:
		return fail("Crawler with name " + req.CrawlerName + " has already started")
	}
	crawl := events.GlueCrawlBody{State: "RUNNING", StartedOn: events.GlueNow(now), LogGroup: "/aws-glue/crawlers", LogStream: req.CrawlerName}
	if err := g.mutate(ctx, events.GlueCrawl, req.CrawlerName, id, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur != nil {
			return nil, "", nil
		}
		return &events.GlueResource{Body: encode(crawl), Workflow: req.Workflow, WorkflowRun: req.WorkflowRunId}, events.GlueCreated, nil
	}); err != nil {
		return "", err
	}
	return id, g.store.EnqueueGlueCrawl(ctx, events.GlueCrawlTask{
		CrawlerName: req.CrawlerName, CrawlId: id, Tags: crawler.Tags, Crawler: crawler.Body, StartedOn: now, TimeScale: g.cfg.TimeScale,
	})
}

// StopCrawl asks a crawler's running crawl to stop.
func (g *Glue) StopCrawl(ctx context.Context, name string) error {
	var id string
	if err := g.mutate(ctx, events.GlueCrawler, "", name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil {
			return nil, "", fault.New(glueEntityNotFound, "Crawler entry with name %s does not exist", name)
		}
		if cur.Current == "" {
			return nil, "", fault.New(glueCrawlerNotRunning, "Crawler with name %s isn't running.", name)
		}
		if cur.Stopping {
			return nil, "", fault.New(glueCrawlerStopping, "Crawler with name %s is stopping.", name)
		}
		id = cur.Current
		next := *cur
		next.Stopping = true
		next.Body = setMembers(cur.Body, map[string]any{"State": "STOPPING"})
		return &next, events.GlueUpdated, nil
	}); err != nil {
		return err
	}
	if err := g.mutate(ctx, events.GlueCrawl, name, id, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil {
			return nil, "", nil
		}
		next := *cur
		next.Stopping = true
		next.Body = setMembers(cur.Body, map[string]any{"State": "CANCELLING"})
		return &next, events.GlueUpdated, nil
	}); err != nil {
		return err
	}
	return errors.Wrap(g.store.NC.Publish(jsstore.GlueStopSubject(id), nil), "publish stop")
}

func (g *Glue) crawlReport(ctx context.Context, r events.GlueWorkReport) error {
	if r.State == "RUNNING" {
		return nil
	}
	now := r.Time
	if now.IsZero() {
		now = g.now()
	}
	var rec *events.GlueResource
	var started time.Time
	if err := g.mutate(ctx, events.GlueCrawl, r.Name, r.RunId, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		rec = cur
		if cur == nil {
			return nil, "", nil
		}
		b, err := decode[events.GlueCrawlBody](cur.Body)
		if err != nil {
			return nil, "", err
		}
		if b.StartedOn != nil {
			started = b.StartedOn.Time()
		}
		if b.State != "RUNNING" && b.State != "CANCELLING" {
			return nil, "", nil
		}
		b.State, b.CompletedOn = r.State, events.GlueNow(now)
		if r.ErrorMessage != "" {
			msg := r.ErrorMessage
			b.ErrorMessage = &msg
		}
		next := *cur
		next.Body = encode(b)
		return &next, events.GlueUpdated, nil
	}); err != nil {
		return err
	}
	if rec == nil {
		return nil
	}
	if err := g.mutate(ctx, events.GlueCrawler, "", r.Name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil || cur.Current != r.RunId {
			return nil, "", nil
		}
		next := *cur
		next.Current, next.Stopping = "", false
		last := events.GlueLastCrawl{Status: r.State, ErrorMessage: r.ErrorMessage, LogGroup: "/aws-glue/crawlers",
			LogStream: r.Name, MessagePrefix: r.RunId, StartTime: events.GlueNow(started)}
		next.Body = setMembers(cur.Body, map[string]any{
			"State": "READY", "LastCrawl": last, "CrawlElapsedTime": now.Sub(started).Milliseconds(),
		})
		return &next, events.GlueUpdated, nil
	}); err != nil {
		return err
	}
	return g.settle(ctx, rec.Workflow, rec.WorkflowRun, gluerun.NodeCrawler, r.Name, r.RunId, r.State, r.ErrorMessage)
}

// setMembers returns a JSON object with members replaced.
func setMembers(body json.RawMessage, set map[string]any) json.RawMessage {
	m := map[string]json.RawMessage{}
	_ = json.Unmarshal(body, &m)
	for k, v := range set {
		b, _ := json.Marshal(v)
		m[k] = b
	}
	return encode(m)
}

func decode[T any](b json.RawMessage) (T, error) {
	var v T
	err := json.Unmarshal(b, &v)
	return v, errors.Wrap(err, "decode glue record")
}

func encode(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}
