package glue

import (
	"context"
	"strings"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/actors/gluerun"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
)

func (s *Server) registerTriggers() {
	s.ops["CreateTrigger"] = s.createTrigger
	s.ops["GetTrigger"] = s.getTrigger
	s.ops["GetTriggers"] = s.getTriggers
	s.ops["UpdateTrigger"] = s.updateTrigger
	s.ops["DeleteTrigger"] = s.deleteTrigger
	s.ops["StartTrigger"] = s.startTrigger
	s.ops["StopTrigger"] = s.stopTrigger
	s.ops["ListTriggers"] = s.listTriggers
	s.ops["BatchGetTriggers"] = s.batchGetTriggers
}

// Trigger types and states.
const (
	TriggerScheduled   = "SCHEDULED"
	TriggerConditional = "CONDITIONAL"
	TriggerOnDemand    = "ON_DEMAND"
	TriggerEvent       = "EVENT"

	TriggerCreated     = "CREATED"
	TriggerActivated   = "ACTIVATED"
	TriggerDeactivated = "DEACTIVATED"
)

func triggerNotFound(name string) func() error {
	return func() error { return fault.New(EntityNotFound, "Trigger with name: %s not found.", name) }
}

type createTriggerInput struct {
	Name                   *string                            `json:"Name"`
	WorkflowName           *string                            `json:"WorkflowName"`
	Type                   *string                            `json:"Type"`
	Schedule               *string                            `json:"Schedule"`
	Predicate              *events.GluePredicate              `json:"Predicate"`
	Actions                []events.GlueAction                `json:"Actions"`
	Description            *string                            `json:"Description"`
	StartOnCreation        *bool                              `json:"StartOnCreation"`
	Tags                   map[string]string                  `json:"Tags"`
	EventBatchingCondition *events.GlueEventBatchingCondition `json:"EventBatchingCondition"`
}

// checkTriggerShape records the shape-constraint violations of a trigger's members.
func checkTriggerShape(v *violations, prefix string, t *events.GlueTriggerBody) {
	v.OptionalString(prefix+"description", t.Description, 0, 2048)
	for i := range t.Actions {
		a := &t.Actions[i]
		nameString(v, prefix+"actions.member.jobName", a.JobName, false)
		nameString(v, prefix+"actions.member.crawlerName", a.CrawlerName, false)
		if a.Timeout != nil && *a.Timeout < 1 {
			v.Add("Value '%d' at '%sactions.member.timeout' failed to satisfy constraint: Member must have value greater than or equal to 1", *a.Timeout, prefix)
		}
	}
	if p := t.Predicate; p != nil {
		enumCheck(v, prefix+"predicate.logical", p.Logical, "AND", "ANY")
		if len(p.Conditions) > 500 {
			v.Add("Value at '%spredicate.conditions' failed to satisfy constraint: Member must have length less than or equal to 500", prefix)
		}
		for i, c := range p.Conditions {
			f := prefix + "predicate.conditions." + itoa(i+1) + ".member."
			enumCheck(v, f+"logicalOperator", c.LogicalOperator, "EQUALS")
			enumCheck(v, f+"state", c.State, "STARTING", "RUNNING", "STOPPING", "STOPPED", "SUCCEEDED", "FAILED", "TIMEOUT", "ERROR", "WAITING", "EXPIRED")
			enumCheck(v, f+"crawlState", c.CrawlState, "RUNNING", "CANCELLING", "CANCELLED", "SUCCEEDED", "FAILED", "ERROR")
			nameString(v, f+"jobName", c.JobName, false)
			nameString(v, f+"crawlerName", c.CrawlerName, false)
		}
	}
	if b := t.EventBatchingCondition; b != nil {
		if b.BatchSize < 1 || b.BatchSize > 100 {
			v.Add("Value '%d' at '%seventBatchingCondition.batchSize' failed to satisfy constraint: Member must have value between 1 and 100", b.BatchSize, prefix)
		}
		if b.BatchWindow != nil && (*b.BatchWindow < 1 || *b.BatchWindow > 900) {
			v.Add("Value '%d' at '%seventBatchingCondition.batchWindow' failed to satisfy constraint: Member must have value between 1 and 900", *b.BatchWindow, prefix)
		}
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// checkTriggerRules applies the semantic rules of GLUE.md §3.3 (InvalidInput).
func (s *Server) checkTriggerRules(ctx context.Context, t *events.GlueTriggerBody) error {
	if len(t.Actions) == 0 {
		return fault.New(InvalidInput, "Actions cannot be null or empty")
	}
	crawlers := 0
	actionJobs := map[string]bool{}
	for _, a := range t.Actions {
		switch {
		case a.JobName != nil && a.CrawlerName != nil:
			return fault.New(InvalidInput, "Both JobName and CrawlerName cannot be set together in an action")
		case a.JobName == nil && a.CrawlerName == nil:
			return fault.New(InvalidInput, "Either JobName or CrawlerName must be set in an action")
		case a.JobName != nil:
			actionJobs[*a.JobName] = true
			if _, err := s.resource(ctx, events.GlueJob, "", *a.JobName, jobNotFound(*a.JobName)); err != nil {
				return err
			}
		default:
			crawlers++
			if _, err := s.resource(ctx, events.GlueCrawler, "", *a.CrawlerName, crawlerNotFound(*a.CrawlerName)); err != nil {
				return err
			}
		}
	}
	if crawlers > 2 {
		return fault.New(InvalidInput, "A trigger can start at most two crawlers")
	}
	switch t.Type {
	case TriggerScheduled:
		if t.Schedule == nil || *t.Schedule == "" {
			return fault.New(InvalidInput, "Schedule cannot be null or empty for a SCHEDULED trigger")
		}
		if _, err := gluerun.ParseCron(*t.Schedule); err != nil {
			return fault.New(InvalidInput, "Invalid schedule expression %s: %s", *t.Schedule, err.Error())
		}
	case TriggerConditional:
		p := t.Predicate
		if p == nil || len(p.Conditions) == 0 {
			return fault.New(InvalidInput, "Predicate cannot be null or empty")
		}
		if len(p.Conditions) > 1 && p.Logical == nil {
			return fault.New(InvalidInput, "Logical cannot be null or empty when a predicate has more than one condition")
		}
		for _, c := range p.Conditions {
			if c.LogicalOperator == nil || *c.LogicalOperator == "" {
				return fault.New(InvalidInput, "Logical operator cannot be null or empty")
			}
			switch {
			case c.JobName != nil && c.CrawlerName != nil:
				return fault.New(InvalidInput, "Both JobName and CrawlerName cannot be set together in a condition")
			case c.JobName != nil:
				if c.State == nil || *c.State == "" || !oneOf(*c.State, "SUCCEEDED", "STOPPED", "FAILED", "TIMEOUT") {
					return fault.New(InvalidInput, "State cannot be null or empty, choose from one of the following job state: [SUCCEEDED, STOPPED, FAILED, TIMEOUT]")
				}
				if actionJobs[*c.JobName] {
					return fault.New(InvalidInput, "Job cannot be a Predicate and Action for Conditional Trigger.")
				}
			case c.CrawlerName != nil:
				if c.CrawlState == nil || *c.CrawlState == "" || !oneOf(*c.CrawlState, "SUCCEEDED", "FAILED", "CANCELLED") {
					return fault.New(InvalidInput, "CrawlState cannot be null or empty, choose from one of the following crawl state: [SUCCEEDED, FAILED, CANCELLED]")
				}
			default:
				return fault.New(InvalidInput, "Either JobName or CrawlerName must be set in a condition")
			}
		}
	case TriggerEvent:
		if t.WorkflowName == nil {
			return fault.New(InvalidInput, "An EVENT trigger must belong to a workflow")
		}
	}
	if t.Type != TriggerConditional && t.Predicate != nil && len(t.Predicate.Conditions) > 0 {
		return fault.New(InvalidInput, "Predicate can only be set for a CONDITIONAL trigger")
	}
	if t.Type != TriggerScheduled && t.Schedule != nil {
		return fault.New(InvalidInput, "Schedule can only be set for a SCHEDULED trigger")
	}
	if t.Type != TriggerEvent && t.EventBatchingCondition != nil {
		return fault.New(InvalidInput, "EventBatchingCondition can only be set for an EVENT trigger")
	}
	return nil
}

func oneOf(s string, set ...string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

// isStartType reports whether a trigger of this type starts a workflow's runs.
func isStartType(typ string) bool { return typ != TriggerConditional }

// checkWorkflowMembership checks that t's workflow exists and, for a start trigger,
// that the workflow has no other.
func (s *Server) checkWorkflowMembership(ctx context.Context, t *events.GlueTriggerBody) error {
	if t.WorkflowName == nil {
		return nil
	}
	wf := *t.WorkflowName
	if _, err := s.resource(ctx, events.GlueWorkflow, "", wf, workflowNotFound(wf)); err != nil {
		return err
	}
	if !isStartType(t.Type) {
		return nil
	}
	trigs, err := s.workflowTriggers(ctx, wf)
	if err != nil {
		return err
	}
	for _, o := range trigs {
		if o.Name != t.Name && isStartType(o.Type) {
			return fault.New(InvalidInput, "Workflow %s already has a start trigger: %s", wf, o.Name)
		}
	}
	return nil
}

func (s *Server) createTrigger(ctx context.Context, r *request) (any, error) {
	var in createTriggerInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "name", in.Name, true)
	nameString(&v, "workflowName", in.WorkflowName, false)
	v.Required("type", in.Type != nil)
	enumCheck(&v, "type", in.Type, TriggerScheduled, TriggerConditional, TriggerOnDemand, TriggerEvent)
	v.Required("actions", in.Actions != nil)
	t := events.GlueTriggerBody{
		Name: deref(in.Name), WorkflowName: in.WorkflowName, Type: deref(in.Type), Description: in.Description,
		Schedule: in.Schedule, Actions: in.Actions, Predicate: in.Predicate, EventBatchingCondition: in.EventBatchingCondition,
	}
	checkTriggerShape(&v, "", &t)
	tagErr := checkTags(&v, in.Tags)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if tagErr != nil {
		return nil, tagErr
	}
	start := deref(in.StartOnCreation)
	if start && t.Type == TriggerOnDemand {
		return nil, fault.New(InvalidInput, "StartOnCreation is not supported for ON_DEMAND triggers")
	}
	if err := s.checkTriggerRules(ctx, &t); err != nil {
		return nil, err
	}
	if err := s.checkWorkflowMembership(ctx, &t); err != nil {
		return nil, err
	}
	if t.Type == TriggerEvent && t.EventBatchingCondition == nil {
		t.EventBatchingCondition = &events.GlueEventBatchingCondition{BatchSize: 1, BatchWindow: ptr(900)}
	}
	if t.EventBatchingCondition != nil && t.EventBatchingCondition.BatchWindow == nil {
		t.EventBatchingCondition.BatchWindow = ptr(900)
	}
	t.State = TriggerCreated
	if start {
		t.State = TriggerActivated
	}
	if _, err := s.mutate(ctx, events.GlueTrigger, "", t.Name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur != nil {
			return nil, "", fault.New(AlreadyExists, "Trigger with name %s already exists.", t.Name)
		}
		return &events.GlueResource{Body: encodeBody(t), Tags: in.Tags}, events.GlueCreated, nil
	}); err != nil {
		return nil, err
	}
	s.triggerChanged(ctx, t)
	return nameOutput{Name: t.Name}, nil
}

// triggerChanged tells the scheduler about a trigger's new state.
func (s *Server) triggerChanged(ctx context.Context, t events.GlueTriggerBody) {
	if s.runs == nil {
		return
	}
	if err := s.armSchedule(ctx, t); err != nil {
		s.cfg.Logger.Error("schedule trigger", "trigger", t.Name, "err", err)
	}
}

func (s *Server) getTrigger(ctx context.Context, r *request) (any, error) {
	var in nameInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "name", in.Name, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	rec, err := s.resource(ctx, events.GlueTrigger, "", *in.Name, triggerNotFound(*in.Name))
	if err != nil {
		return nil, err
	}
	return map[string]any{"Trigger": rec.Body}, nil
}

type getTriggersInput struct {
	listInput
	DependentJobName *string `json:"DependentJobName"`
}

// dependentFilter returns the filter of Get/ListTriggers' DependentJobName: the
// triggers that can start the job, or all of them if none can.
func (s *Server) dependentFilter(ctx context.Context, job *string) (func(events.GlueResource) bool, error) {
	if job == nil {
		return nil, nil
	}
	if _, err := s.resource(ctx, events.GlueJob, "", *job, jobNotFound(*job)); err != nil {
		return nil, err
	}
	recs, err := s.list(ctx, events.GlueTrigger, "")
	if err != nil {
		return nil, err
	}
	starts := map[string]bool{}
	for _, rec := range recs {
		t, err := decodeBody[events.GlueTriggerBody](rec)
		if err != nil {
			return nil, err
		}
		for _, a := range t.Actions {
			if deref(a.JobName) == *job {
				starts[t.Name] = true
			}
		}
	}
	if len(starts) == 0 {
		return nil, nil
	}
	return func(rec events.GlueResource) bool { return starts[rec.Name] }, nil
}

func (s *Server) getTriggers(ctx context.Context, r *request) (any, error) {
	var in getTriggersInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	keep, err := s.dependentFilter(ctx, in.DependentJobName)
	if err != nil {
		return nil, err
	}
	return s.getBodies(ctx, r, events.GlueTrigger, 200, "Triggers", keep)
}

func (s *Server) listTriggers(ctx context.Context, r *request) (any, error) {
	var in getTriggersInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	limit := maxResults(&v, in.MaxResults, 200)
	if err := v.Err(); err != nil {
		return nil, err
	}
	keep, err := s.dependentFilter(ctx, in.DependentJobName)
	if err != nil {
		return nil, err
	}
	recs, err := s.list(ctx, events.GlueTrigger, "")
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, rec := range recs {
		if (keep == nil || keep(rec)) && tagsMatch(rec.Tags, in.Tags) {
			names = append(names, rec.Name)
		}
	}
	page, next, err := paginate(r.Op, names, func(n string) string { return n }, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"TriggerNames": page}
	if next != nil {
		out["NextToken"] = *next
	}
	return out, nil
}

type triggerUpdate struct {
	Name                   *string                            `json:"Name"`
	Description            *string                            `json:"Description"`
	Schedule               *string                            `json:"Schedule"`
	Actions                []events.GlueAction                `json:"Actions"`
	Predicate              *events.GluePredicate              `json:"Predicate"`
	EventBatchingCondition *events.GlueEventBatchingCondition `json:"EventBatchingCondition"`
}

func (s *Server) updateTrigger(ctx context.Context, r *request) (any, error) {
	var in struct {
		Name          *string        `json:"Name"`
		TriggerUpdate *triggerUpdate `json:"TriggerUpdate"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "name", in.Name, true)
	v.Required("triggerUpdate", in.TriggerUpdate != nil)
	if err := v.Err(); err != nil {
		return nil, err
	}
	u := in.TriggerUpdate
	if u.Name != nil && *u.Name != *in.Name {
		return nil, fault.New(InvalidInput, "A trigger cannot be renamed")
	}
	cur, err := s.resource(ctx, events.GlueTrigger, "", *in.Name, triggerNotFound(*in.Name))
	if err != nil {
		return nil, err
	}
	t, err := decodeBody[events.GlueTriggerBody](cur)
	if err != nil {
		return nil, err
	}
	if u.Description != nil {
		t.Description = u.Description
	}
	if u.Schedule != nil {
		t.Schedule = u.Schedule
	}
	if u.Actions != nil {
		t.Actions = u.Actions
	}
	if u.Predicate != nil {
		t.Predicate = u.Predicate
	}
	if u.EventBatchingCondition != nil {
		t.EventBatchingCondition = u.EventBatchingCondition
	}
	checkTriggerShape(&v, "triggerUpdate.", &t)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.checkTriggerRules(ctx, &t); err != nil {
		return nil, err
	}
	var out events.GlueTriggerBody
	if _, err := s.mutate(ctx, events.GlueTrigger, "", t.Name, func(c *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if c == nil {
			return nil, "", triggerNotFound(t.Name)()
		}
		old, err := decodeBody[events.GlueTriggerBody](*c)
		if err != nil {
			return nil, "", err
		}
		out = t
		out.State = old.State // a state change in between wins
		next := *c
		next.Body = encodeBody(out)
		return &next, events.GlueUpdated, nil
	}); err != nil {
		return nil, err
	}
	s.triggerChanged(ctx, out)
	return map[string]any{"Trigger": out}, nil
}

func (s *Server) deleteTrigger(ctx context.Context, r *request) (any, error) {
	var in nameInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "name", in.Name, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.removeTrigger(ctx, *in.Name); err != nil {
		return nil, err
	}
	return nameOutput{Name: *in.Name}, nil
}

// removeTrigger deletes a trigger (nothing when it does not exist).
func (s *Server) removeTrigger(ctx context.Context, name string) error {
	var gone *events.GlueTriggerBody
	_, err := s.mutate(ctx, events.GlueTrigger, "", name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil {
			return nil, "", nil
		}
		t, err := decodeBody[events.GlueTriggerBody](*cur)
		if err != nil {
			return nil, "", err
		}
		t.State = "DELETING"
		gone = &t
		next := *cur
		return &next, events.GlueDeleted, nil
	})
	if err == nil && gone != nil {
		s.triggerChanged(ctx, *gone)
	}
	return err
}

// setTriggerState activates or deactivates a trigger (nothing for ON_DEMAND ones).
func (s *Server) setTriggerState(ctx context.Context, name, state string) (events.GlueTriggerBody, error) {
	var out events.GlueTriggerBody
	_, err := s.mutate(ctx, events.GlueTrigger, "", name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil {
			return nil, "", triggerNotFound(name)()
		}
		t, err := decodeBody[events.GlueTriggerBody](*cur)
		if err != nil {
			return nil, "", err
		}
		out = t
		if t.Type == TriggerOnDemand || t.State == state {
			return nil, "", nil
		}
		t.State = state
		out = t
		next := *cur
		next.Body = encodeBody(t)
		return &next, events.GlueUpdated, nil
	})
	return out, err
}

func (s *Server) startTrigger(ctx context.Context, r *request) (any, error) {
	var in nameInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "name", in.Name, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	t, err := s.setTriggerState(ctx, *in.Name, TriggerActivated)
	if err != nil {
		return nil, err
	}
	if t.Type == TriggerOnDemand {
		if err := s.fireOnDemand(ctx, r, t); err != nil {
			return nil, err
		}
	} else {
		s.triggerChanged(ctx, t)
	}
	return nameOutput{Name: *in.Name}, nil
}

// fireOnDemand fires an ON_DEMAND trigger: a workflow's start trigger starts a run;
// one outside a workflow starts its actions as plain job runs and crawls.
func (s *Server) fireOnDemand(ctx context.Context, r *request, t events.GlueTriggerBody) error {
	if s.runs == nil {
		return errors.New("runs are not enabled")
	}
	if wf := deref(t.WorkflowName); wf != "" {
		_, err := s.startRun(ctx, wf, nil)
		return err
	}
	for _, a := range t.Actions {
		var err error
		if a.JobName != nil {
			_, err = s.runs.StartJobRun(ctx, JobRunRequest{JobName: *a.JobName, Arguments: a.Arguments, Timeout: deref(a.Timeout), TriggerName: t.Name, API: true})
		} else if a.CrawlerName != nil {
			_, err = s.runs.StartCrawl(ctx, actors.GlueCrawlRequest{CrawlerName: *a.CrawlerName, API: true})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) stopTrigger(ctx context.Context, r *request) (any, error) {
	var in nameInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "name", in.Name, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	t, err := s.setTriggerState(ctx, *in.Name, TriggerDeactivated)
	if err != nil {
		return nil, err
	}
	s.triggerChanged(ctx, t)
	return nameOutput{Name: *in.Name}, nil
}

func (s *Server) batchGetTriggers(ctx context.Context, r *request) (any, error) {
	var in struct {
		TriggerNames []string `json:"TriggerNames"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	return s.batchGet(ctx, in.TriggerNames, "triggerNames", 1000, events.GlueTrigger, "Triggers", "TriggersNotFound")
}

var _ = strings.TrimSpace
