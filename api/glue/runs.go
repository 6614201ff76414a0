package glue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"maps"
	"sort"
	"time"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/actors/gluerun"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
)

// Runs carries out what starts, stops and changes runs: the Glue engine (workflow run
// actors, job runs and crawls on the work queue).
type Runs = *actors.Glue

// JobRunRequest asks for one job run.
type JobRunRequest = actors.GlueJobRunRequest

// EnableRuns binds the Glue engine: from now on runs start.
func (s *Server) EnableRuns(g *actors.Glue) {
	s.runs = g
	g.OnTrigger(s.fireScheduled)
}

func (s *Server) registerRuns() {
	s.ops["StartWorkflowRun"] = s.startWorkflowRun
	s.ops["GetWorkflowRun"] = s.getWorkflowRun
	s.ops["GetWorkflowRuns"] = s.getWorkflowRuns
	s.ops["GetWorkflowRunProperties"] = s.getWorkflowRunProperties
	s.ops["PutWorkflowRunProperties"] = s.putWorkflowRunProperties
	s.ops["StopWorkflowRun"] = s.stopWorkflowRun
	s.ops["ResumeWorkflowRun"] = s.resumeWorkflowRun
	s.ops["StartJobRun"] = s.startJobRun
	s.ops["GetJobRun"] = s.getJobRun
	s.ops["GetJobRuns"] = s.getJobRuns
	s.ops["BatchStopJobRun"] = s.batchStopJobRun
}

func newWorkflowRunID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "wr_" + hex.EncodeToString(b[:])
}

// Statistics is the WorkflowRunStatistics shape.
type Statistics struct {
	TotalActions     int `json:"TotalActions"`
	TimeoutActions   int `json:"TimeoutActions"`
	FailedActions    int `json:"FailedActions"`
	StoppedActions   int `json:"StoppedActions"`
	SucceededActions int `json:"SucceededActions"`
	RunningActions   int `json:"RunningActions"`
	ErroredActions   int `json:"ErroredActions"`
	WaitingActions   int `json:"WaitingActions"`
}

// WorkflowRun is the WorkflowRun shape.
type WorkflowRun struct {
	Name                        string            `json:"Name"`
	WorkflowRunId               string            `json:"WorkflowRunId"`
	PreviousRunId               *string           `json:"PreviousRunId,omitempty"`
	WorkflowRunProperties       map[string]string `json:"WorkflowRunProperties"`
	StartedOn                   *events.GlueTime  `json:"StartedOn,omitempty"`
	CompletedOn                 *events.GlueTime  `json:"CompletedOn,omitempty"`
	Status                      string            `json:"Status"`
	ErrorMessage                *string           `json:"ErrorMessage,omitempty"`
	Statistics                  *Statistics       `json:"Statistics,omitempty"`
	Graph                       *wireGraph        `json:"Graph,omitempty"`
	StartingEventBatchCondition *gluerun.Batch    `json:"StartingEventBatchCondition,omitempty"`
}

func runNotFound(wf, id string) func() error {
	return func() error { return fault.New(EntityNotFound, "Workflow run %s of workflow %s not found.", id, wf) }
}

// readRun reads a run's read model.
func (s *Server) readRun(ctx context.Context, wf, id string) (*gluerun.Run, error) {
	rec, err := s.resource(ctx, actors.GlueWorkflowRun, wf, id, runNotFound(wf, id))
	if err != nil {
		return nil, err
	}
	var run gluerun.Run
	return &run, errors.Wrap(json.Unmarshal(rec.Body, &run), "decode workflow run")
}

// nodeRuns returns the job run or crawl records of a node in a run, oldest first.
func (s *Server) nodeRuns(ctx context.Context, n *gluerun.Node) ([]json.RawMessage, string, error) {
	typ := events.GlueJobRun
	if n.Type == gluerun.NodeCrawler {
		typ = events.GlueCrawl
	}
	var out []json.RawMessage
	state := ""
	for _, id := range n.Runs {
		rec, err := s.res.Glue(ctx, typ, n.Name, id)
		if errors.Is(err, events.ErrNotFound) {
			continue // not recorded yet: the start is in flight
		}
		if err != nil {
			return nil, "", err
		}
		out = append(out, rec.Body)
		var st struct {
			JobRunState string
			State       string
		}
		_ = json.Unmarshal(rec.Body, &st)
		state = st.JobRunState + st.State
	}
	if state == "" && len(n.Runs) > 0 {
		state = "STARTING"
		if n.Type == gluerun.NodeCrawler {
			state = "RUNNING"
		}
	}
	return out, state, nil
}

// runView assembles the WorkflowRun shape of a run.
func (s *Server) runView(ctx context.Context, run *gluerun.Run, graph bool) (*WorkflowRun, error) {
	w := &WorkflowRun{
		Name: run.Workflow, WorkflowRunId: run.RunId, WorkflowRunProperties: run.Properties,
		StartedOn: events.GlueNow(run.StartedOn), Status: run.Status, StartingEventBatchCondition: run.Batch,
	}
	if w.WorkflowRunProperties == nil {
		w.WorkflowRunProperties = map[string]string{}
	}
	if run.PreviousRunId != "" {
		w.PreviousRunId = &run.PreviousRunId
	}
	if run.CompletedOn != nil {
		w.CompletedOn = events.GlueNow(*run.CompletedOn)
	}
	if run.ErrorMessage != "" {
		w.ErrorMessage = &run.ErrorMessage
	}
	g := gluerun.BuildGraph(run.Workflow, run.Triggers)
	stats := &Statistics{}
	details := map[string][]json.RawMessage{}
	for _, n := range g.Nodes {
		if n.Type == gluerun.NodeTrigger {
			continue
		}
		stats.TotalActions++
		node := run.Nodes[n.Key()]
		if node == nil || len(node.Runs) == 0 {
			continue
		}
		recs, state, err := s.nodeRuns(ctx, node)
		if err != nil {
			return nil, err
		}
		details[n.Key()] = recs
		switch state {
		case "SUCCEEDED":
			stats.SucceededActions++
		case "FAILED":
			stats.FailedActions++
		case "TIMEOUT":
			stats.TimeoutActions++
		case "STOPPED", "CANCELLED":
			stats.StoppedActions++
		case "ERROR":
			stats.ErroredActions++
		case "WAITING":
			stats.WaitingActions++
		default:
			stats.RunningActions++
		}
	}
	w.Statistics = stats
	if graph {
		wg := staticGraph(g)
		for i := range wg.Nodes {
			n := &wg.Nodes[i]
			recs, ok := details[gluerun.NodeKey(n.Type, n.Name)]
			if !ok {
				continue
			}
			if n.Type == gluerun.NodeJob {
				n.JobDetails = &jobDetails{JobRuns: recs}
			} else {
				n.CrawlerDetails = &crawlerDetails{Crawls: recs}
			}
		}
		w.Graph = wg
	}
	return w, nil
}

// workflowRuns returns a workflow's runs, newest first.
func (s *Server) workflowRuns(ctx context.Context, wf string) ([]*gluerun.Run, error) {
	recs, err := s.list(ctx, actors.GlueWorkflowRun, wf)
	if err != nil {
		return nil, err
	}
	out := make([]*gluerun.Run, 0, len(recs))
	for _, rec := range recs {
		var run gluerun.Run
		if err := json.Unmarshal(rec.Body, &run); err != nil {
			return nil, errors.Wrap(err, "decode workflow run")
		}
		out = append(out, &run)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].StartedOn.Equal(out[j].StartedOn) {
			return out[i].StartedOn.After(out[j].StartedOn)
		}
		return out[i].RunId > out[j].RunId
	})
	return out, nil
}

func (s *Server) lastRun(ctx context.Context, r *request, workflow string) (*WorkflowRun, error) {
	runs, err := s.workflowRuns(ctx, workflow)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return s.runView(ctx, runs[0], false)
}

// startRun starts a run of a workflow: the API's start path, StartTrigger's, and (with
// refused set) schedule and event starts, which record a refused start as a run in
// ERROR rather than answering an error.
func (s *Server) startRun(ctx context.Context, wf string, props map[string]string) (string, error) {
	return s.startRunWith(ctx, wf, props, nil, false)
}

func (s *Server) startRunWith(ctx context.Context, wf string, props map[string]string, batch *gluerun.Batch, recordRefusal bool) (string, error) {
	if s.runs == nil {
		return "", fault.New(fault.InternalFailure, "workflow runs are not enabled")
	}
	if _, err := s.resource(ctx, events.GlueWorkflow, "", wf, workflowNotFound(wf)); err != nil {
		return "", err
	}
	trigs, err := s.workflowTriggers(ctx, wf)
	if err != nil {
		return "", err
	}
	hasStart := false
	for _, t := range trigs {
		hasStart = hasStart || isStartType(t.Type)
	}
	if !hasStart {
		return "", fault.New(InvalidInput, "Workflow %s has no start trigger", wf)
	}
	start := &gluerun.Start{Workflow: wf, RunId: newWorkflowRunID(), Triggers: trigs, Batch: batch}
	if err := s.takeSlot(ctx, wf, start, props); err != nil {
		if !recordRefusal || !fault.Is(err, ConcurrentRunsExceeded) {
			return "", err
		}
		start.ErrorMessage = "Concurrent runs exceeded for workflow: " + wf + "."
	}
	if err := s.runs.Send(ctx, wf, start.RunId, gluerun.Trigger{Kind: gluerun.TrStart, Start: start, Time: s.now()}, start.RunId+"#start", true); err != nil {
		return "", err
	}
	return start.RunId, nil
}

// takeSlot records a new run among the workflow's active runs, unless MaxConcurrentRuns
// of them are RUNNING or STOPPING; it fills the run's properties from the workflow's
// defaults and the request's.
func (s *Server) takeSlot(ctx context.Context, wf string, start *gluerun.Start, props map[string]string) error {
	_, err := s.mutate(ctx, events.GlueWorkflow, "", wf, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil {
			return nil, "", workflowNotFound(wf)()
		}
		body, err := decodeBody[events.GlueWorkflowBody](*cur)
		if err != nil {
			return nil, "", err
		}
		start.Properties = maps.Clone(body.DefaultRunProperties)
		if start.Properties == nil {
			start.Properties = map[string]string{}
		}
		maps.Copy(start.Properties, props)
		if start.Properties == nil || len(start.Properties) == 0 {
			start.Properties = nil
		}
		if m := body.MaxConcurrentRuns; m != nil && *m > 0 && len(cur.Active) >= *m {
			return nil, "", fault.New(ConcurrentRunsExceeded, "Concurrent runs exceeded for workflow: %s.", wf)
		}
		next := *cur
		next.Active = append(append([]string{}, cur.Active...), start.RunId)
		return &next, events.GlueUpdated, nil
	})
	return err
}

func (s *Server) startWorkflowRun(ctx context.Context, r *request) (any, error) {
	var in struct {
		Name          *string           `json:"Name"`
		RunProperties map[string]string `json:"RunProperties"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "name", in.Name, true)
	checkRunProperties(&v, "runProperties", in.RunProperties)
	if err := v.Err(); err != nil {
		return nil, err
	}
	id, err := s.startRun(ctx, *in.Name, in.RunProperties)
	if err != nil {
		return nil, err
	}
	return map[string]string{"RunId": id}, nil
}

type runInput struct {
	Name         *string `json:"Name"`
	RunId        *string `json:"RunId"`
	IncludeGraph *bool   `json:"IncludeGraph"`
}

func (in *runInput) check() error {
	var v violations
	nameString(&v, "name", in.Name, true)
	nameString(&v, "runId", in.RunId, true)
	return v.Err()
}

func (s *Server) getWorkflowRun(ctx context.Context, r *request) (any, error) {
	var in runInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	run, err := s.readRun(ctx, *in.Name, *in.RunId)
	if err != nil {
		return nil, err
	}
	w, err := s.runView(ctx, run, deref(in.IncludeGraph))
	if err != nil {
		return nil, err
	}
	return map[string]any{"Run": w}, nil
}

func (s *Server) getWorkflowRuns(ctx context.Context, r *request) (any, error) {
	var in struct {
		Name         *string `json:"Name"`
		IncludeGraph *bool   `json:"IncludeGraph"`
		NextToken    *string `json:"NextToken"`
		MaxResults   *int    `json:"MaxResults"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "name", in.Name, true)
	limit := maxResults(&v, in.MaxResults, 1000)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, err := s.resource(ctx, events.GlueWorkflow, "", *in.Name, workflowNotFound(*in.Name)); err != nil {
		return nil, err
	}
	runs, err := s.workflowRuns(ctx, *in.Name)
	if err != nil {
		return nil, err
	}
	// Newest first: the cursor is a key that sorts ascending in that order.
	key := func(run *gluerun.Run) string { return runSortKey(run) }
	page, next, err := paginate(r.Op, runs, key, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	out := []*WorkflowRun{}
	for _, run := range page {
		w, err := s.runView(ctx, run, deref(in.IncludeGraph))
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	res := map[string]any{"Runs": out}
	if next != nil {
		res["NextToken"] = *next
	}
	return res, nil
}

// runSortKey orders runs newest first as ascending strings.
func runSortKey(run *gluerun.Run) string { return newestFirstKey(run.StartedOn, run.RunId) }

// newestFirstKey is a sort key that puts later start times (then greater ids) first.
func newestFirstKey(started time.Time, id string) string {
	inv := uint64(1<<63-1) - uint64(started.UnixNano())
	return hex.EncodeToString([]byte{byte(inv >> 56), byte(inv >> 48), byte(inv >> 40), byte(inv >> 32), byte(inv >> 24), byte(inv >> 16), byte(inv >> 8), byte(inv)}) +
		"/" + invert(id)
}

func invert(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] = 255 - b[i]
	}
	return hex.EncodeToString(b)
}

func (s *Server) getWorkflowRunProperties(ctx context.Context, r *request) (any, error) {
	var in runInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	run, err := s.readRun(ctx, *in.Name, *in.RunId)
	if err != nil {
		return nil, err
	}
	props := run.Properties
	if props == nil {
		props = map[string]string{}
	}
	return map[string]any{"RunProperties": props}, nil
}

func (s *Server) putWorkflowRunProperties(ctx context.Context, r *request) (any, error) {
	var in struct {
		Name          *string           `json:"Name"`
		RunId         *string           `json:"RunId"`
		RunProperties map[string]string `json:"RunProperties"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "name", in.Name, true)
	nameString(&v, "runId", in.RunId, true)
	v.Required("runProperties", in.RunProperties != nil)
	checkRunProperties(&v, "runProperties", in.RunProperties)
	if err := v.Err(); err != nil {
		return nil, err
	}
	run, err := s.readRun(ctx, *in.Name, *in.RunId)
	if err != nil {
		return nil, err
	}
	if len(run.Properties)+len(in.RunProperties) > 1000 {
		return nil, fault.New(ResourceNumberLimitExceeded, "A workflow run may have at most 1000 run properties")
	}
	if err := s.runs.Send(ctx, *in.Name, *in.RunId, gluerun.Trigger{Kind: gluerun.TrProperties, Properties: in.RunProperties, Time: s.now()}, "", true); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) stopWorkflowRun(ctx context.Context, r *request) (any, error) {
	var in runInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	run, err := s.readRun(ctx, *in.Name, *in.RunId)
	if err != nil {
		return nil, err
	}
	if run.Status != gluerun.StatusRunning {
		return nil, fault.New(IllegalWorkflowState, "Workflow run %s is not in RUNNING state (it is %s)", run.RunId, run.Status)
	}
	if err := s.runs.Send(ctx, *in.Name, *in.RunId, gluerun.Trigger{Kind: gluerun.TrStop, Time: s.now()}, *in.RunId+"#stop", true); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) resumeWorkflowRun(ctx context.Context, r *request) (any, error) {
	var in struct {
		Name    *string  `json:"Name"`
		RunId   *string  `json:"RunId"`
		NodeIds []string `json:"NodeIds"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "name", in.Name, true)
	nameString(&v, "runId", in.RunId, true)
	v.Required("nodeIds", in.NodeIds != nil)
	if err := v.Err(); err != nil {
		return nil, err
	}
	wf := *in.Name
	if _, err := s.resource(ctx, events.GlueWorkflow, "", wf, workflowNotFound(wf)); err != nil {
		return nil, err
	}
	orig, err := s.readRun(ctx, wf, *in.RunId)
	if err != nil {
		return nil, err
	}
	if orig.Status != gluerun.StatusCompleted {
		return nil, fault.New(IllegalWorkflowState, "Workflow run %s is not COMPLETED (it is %s); only a completed run can be resumed", orig.RunId, orig.Status)
	}
	if len(in.NodeIds) == 0 {
		return nil, fault.New(InvalidInput, "NodeIds cannot be null or empty")
	}
	g := gluerun.BuildGraph(wf, orig.Triggers)
	byID := map[string]gluerun.GraphNode{}
	for _, n := range g.Nodes {
		byID[n.UniqueId] = n
	}
	var keys []string
	for _, id := range in.NodeIds {
		n, ok := byID[id]
		switch {
		case !ok:
			return nil, fault.New(InvalidInput, "Node %s is not a node of workflow run %s", id, orig.RunId)
		case n.Type == gluerun.NodeTrigger:
			return nil, fault.New(InvalidInput, "Node %s is a trigger; only job and crawler nodes can be resumed", id)
		}
		node := orig.Nodes[n.Key()]
		if node == nil || len(node.Runs) == 0 {
			return nil, fault.New(InvalidInput, "Node %s (%s) has no run attempt in workflow run %s", id, n.Name, orig.RunId)
		}
		keys = append(keys, n.Key())
	}
	kept, copied, fired := gluerun.ResumePlan(orig, keys)
	start := &gluerun.Start{
		Workflow: wf, RunId: newWorkflowRunID(), PreviousRunId: orig.RunId, Triggers: orig.Triggers,
		Copied: copied, Fired: fired, Resume: kept,
	}
	if err := s.takeSlot(ctx, wf, start, nil); err != nil {
		return nil, err
	}
	start.Properties = maps.Clone(orig.Properties)
	if err := s.runs.Send(ctx, wf, start.RunId, gluerun.Trigger{Kind: gluerun.TrStart, Start: start, Time: s.now()}, start.RunId+"#start", true); err != nil {
		return nil, err
	}
	ids := []string{}
	for _, k := range kept {
		typ, name := splitNodeKey(k)
		ids = append(ids, gluerun.NodeID(wf, typ, name))
	}
	return map[string]any{"RunId": start.RunId, "NodeIds": ids}, nil
}

func splitNodeKey(k string) (string, string) {
	for i := 0; i < len(k); i++ {
		if k[i] == ':' {
			return k[:i], k[i+1:]
		}
	}
	return "", k
}

func (s *Server) startJobRun(ctx context.Context, r *request) (any, error) {
	var in struct {
		JobName   *string           `json:"JobName"`
		JobRunId  *string           `json:"JobRunId"`
		Arguments map[string]string `json:"Arguments"`
		Timeout   *int              `json:"Timeout"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "jobName", in.JobName, true)
	nameString(&v, "jobRunId", in.JobRunId, false)
	if in.Timeout != nil && *in.Timeout < 1 {
		v.Add("Value '%d' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.Timeout)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.Timeout != nil && *in.Timeout >= maxJobTimeout {
		return nil, fault.New(InvalidInput, "Timeout must be less than %d minutes", maxJobTimeout)
	}
	if _, err := s.resource(ctx, events.GlueJob, "", *in.JobName, jobNotFound(*in.JobName)); err != nil {
		return nil, err
	}
	req := JobRunRequest{JobName: *in.JobName, Arguments: in.Arguments, Timeout: deref(in.Timeout), API: true}
	if in.JobRunId != nil {
		prev, err := s.resource(ctx, events.GlueJobRun, *in.JobName, *in.JobRunId, func() error {
			return fault.New(EntityNotFound, "Job run %s not found for job %s", *in.JobRunId, *in.JobName)
		})
		if err != nil {
			return nil, err
		}
		pb, err := decodeBody[events.GlueJobRunBody](prev)
		if err != nil {
			return nil, err
		}
		req.PreviousRunId, req.Attempt = pb.Id, pb.Attempt+1
		if req.Arguments == nil {
			req.Arguments = pb.Arguments
		}
	}
	if s.runs == nil {
		return nil, fault.New(fault.InternalFailure, "job runs are not enabled")
	}
	id, err := s.runs.StartJobRun(ctx, req)
	if err != nil {
		return nil, err
	}
	return map[string]string{"JobRunId": id}, nil
}

func jobRunNotFound(job, id string) func() error {
	return func() error { return fault.New(EntityNotFound, "Job run %s not found for job %s", id, job) }
}

func (s *Server) getJobRun(ctx context.Context, r *request) (any, error) {
	var in struct {
		JobName              *string `json:"JobName"`
		RunId                *string `json:"RunId"`
		PredecessorsIncluded *bool   `json:"PredecessorsIncluded"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "jobName", in.JobName, true)
	nameString(&v, "runId", in.RunId, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, err := s.resource(ctx, events.GlueJob, "", *in.JobName, jobNotFound(*in.JobName)); err != nil {
		return nil, err
	}
	rec, err := s.resource(ctx, events.GlueJobRun, *in.JobName, *in.RunId, jobRunNotFound(*in.JobName, *in.RunId))
	if err != nil {
		return nil, err
	}
	return map[string]any{"JobRun": rec.Body}, nil
}

func (s *Server) getJobRuns(ctx context.Context, r *request) (any, error) {
	var in struct {
		JobName    *string `json:"JobName"`
		NextToken  *string `json:"NextToken"`
		MaxResults *int    `json:"MaxResults"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "jobName", in.JobName, true)
	limit := maxResults(&v, in.MaxResults, 200)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, err := s.resource(ctx, events.GlueJob, "", *in.JobName, jobNotFound(*in.JobName)); err != nil {
		return nil, err
	}
	recs, err := s.list(ctx, events.GlueJobRun, *in.JobName)
	if err != nil {
		return nil, err
	}
	type item struct {
		key  string
		body json.RawMessage
	}
	items := make([]item, 0, len(recs))
	for _, rec := range recs {
		b, err := decodeBody[events.GlueJobRunBody](rec)
		if err != nil {
			return nil, err
		}
		run := &gluerun.Run{RunId: b.Id}
		if b.StartedOn != nil {
			run.StartedOn = b.StartedOn.Time()
		}
		items = append(items, item{runSortKey(run), rec.Body})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].key < items[j].key })
	page, next, err := paginate(r.Op, items, func(it item) string { return it.key }, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, 0, len(page))
	for _, it := range page {
		out = append(out, it.body)
	}
	res := map[string]any{"JobRuns": out}
	if next != nil {
		res["NextToken"] = *next
	}
	return res, nil
}

func (s *Server) batchStopJobRun(ctx context.Context, r *request) (any, error) {
	var in struct {
		JobName   *string  `json:"JobName"`
		JobRunIds []string `json:"JobRunIds"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "jobName", in.JobName, true)
	v.Required("jobRunIds", in.JobRunIds != nil)
	if in.JobRunIds != nil && (len(in.JobRunIds) < 1 || len(in.JobRunIds) > 25) {
		v.Add("Value at 'jobRunIds' failed to satisfy constraint: Member must have length between 1 and 25")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	type submission struct {
		JobName  string `json:"JobName"`
		JobRunId string `json:"JobRunId"`
	}
	type errorDetail struct {
		ErrorCode    string `json:"ErrorCode"`
		ErrorMessage string `json:"ErrorMessage"`
	}
	type batchError struct {
		JobName     string      `json:"JobName"`
		JobRunId    string      `json:"JobRunId"`
		ErrorDetail errorDetail `json:"ErrorDetail"`
	}
	ok := []submission{}
	bad := []batchError{}
	for _, id := range in.JobRunIds {
		err := s.runs.StopJobRun(ctx, *in.JobName, id)
		if err == nil {
			ok = append(ok, submission{*in.JobName, id})
			continue
		}
		e, isFault := fault.As(err)
		if !isFault {
			return nil, err
		}
		bad = append(bad, batchError{*in.JobName, id, errorDetail{string(e.Code), e.Message}})
	}
	return map[string]any{"SuccessfulSubmissions": ok, "Errors": bad}, nil
}

// Recover wakes every workflow run that is RUNNING or STOPPING (after a restart) and
// returns how many.
func (s *Server) Recover(ctx context.Context) (int, error) {
	if err := s.recoverBlueprints(ctx); err != nil {
		return 0, err
	}
	if s.runs == nil {
		return 0, nil
	}
	recs, err := s.list(ctx, actors.GlueWorkflowRun, "")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, rec := range recs {
		var run gluerun.Run
		if err := json.Unmarshal(rec.Body, &run); err != nil {
			continue
		}
		if run.Status == gluerun.StatusRunning || run.Status == gluerun.StatusStopping {
			if err := s.runs.Wake(ctx, run.Workflow, run.RunId); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
