package glue

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/sfnd/sfnd/actors/gluerun"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
)

type createWorkflowInput struct {
	Name                 *string           `json:"Name"`
	Description          *string           `json:"Description"`
	DefaultRunProperties map[string]string `json:"DefaultRunProperties"`
	Tags                 map[string]string `json:"Tags"`
	MaxConcurrentRuns    *int              `json:"MaxConcurrentRuns"`
	BlueprintDetails     json.RawMessage   `json:"BlueprintDetails"` // in-process calls only
}

type nameOutput struct {
	Name string `json:"Name"`
}

func workflowNotFound(name string) func() error {
	return func() error { return fault.New(EntityNotFound, "Workflow with name: %s not found.", name) }
}

func checkRunProperties(v *violations, field string, props map[string]string) {
	for k := range props {
		nameString(v, field+".key", &k, false)
	}
}

func (s *Server) createWorkflow(ctx context.Context, r *request) (any, error) {
	var in createWorkflowInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "name", in.Name, true)
	v.OptionalString("description", in.Description, 0, 120000)
	checkRunProperties(&v, "defaultRunProperties", in.DefaultRunProperties)
	tagErr := checkTags(&v, in.Tags)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if tagErr != nil {
		return nil, tagErr
	}
	if in.MaxConcurrentRuns != nil && *in.MaxConcurrentRuns < 0 {
		return nil, fault.New(InvalidInput, "MaxConcurrentRuns must not be negative")
	}
	if len(in.BlueprintDetails) > 0 && !inProcess(ctx) {
		in.BlueprintDetails = nil // not a request member
	}
	now := events.GlueNow(s.now())
	body := events.GlueWorkflowBody{
		Name: *in.Name, Description: in.Description, DefaultRunProperties: in.DefaultRunProperties,
		CreatedOn: now, LastModifiedOn: now, MaxConcurrentRuns: in.MaxConcurrentRuns, BlueprintDetails: in.BlueprintDetails,
	}
	_, err := s.mutate(ctx, events.GlueWorkflow, "", *in.Name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur != nil {
			return nil, "", fault.New(AlreadyExists, "Workflow with name %s already exists.", *in.Name)
		}
		return &events.GlueResource{Body: encodeBody(body), Tags: in.Tags}, events.GlueCreated, nil
	})
	if err != nil {
		return nil, err
	}
	return nameOutput{Name: *in.Name}, nil
}

type updateWorkflowInput struct {
	Name                 *string           `json:"Name"`
	Description          *string           `json:"Description"`
	DefaultRunProperties map[string]string `json:"DefaultRunProperties"`
	MaxConcurrentRuns    *int              `json:"MaxConcurrentRuns"`
}

func (s *Server) updateWorkflow(ctx context.Context, r *request) (any, error) {
	var in updateWorkflowInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "name", in.Name, true)
	v.OptionalString("description", in.Description, 0, 120000)
	checkRunProperties(&v, "defaultRunProperties", in.DefaultRunProperties)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.MaxConcurrentRuns != nil && *in.MaxConcurrentRuns < 0 {
		return nil, fault.New(InvalidInput, "MaxConcurrentRuns must not be negative")
	}
	_, err := s.mutate(ctx, events.GlueWorkflow, "", *in.Name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil {
			return nil, "", workflowNotFound(*in.Name)()
		}
		body, err := decodeBody[events.GlueWorkflowBody](*cur)
		if err != nil {
			return nil, "", err
		}
		if in.Description != nil {
			body.Description = in.Description
		}
		if in.DefaultRunProperties != nil {
			body.DefaultRunProperties = in.DefaultRunProperties
		}
		if in.MaxConcurrentRuns != nil {
			body.MaxConcurrentRuns = in.MaxConcurrentRuns
		}
		body.LastModifiedOn = events.GlueNow(s.now())
		next := *cur
		next.Body = encodeBody(body)
		return &next, events.GlueUpdated, nil
	})
	if err != nil {
		return nil, err
	}
	return nameOutput{Name: *in.Name}, nil
}

type nameInput struct {
	Name *string `json:"Name"`
}

func (s *Server) deleteWorkflow(ctx context.Context, r *request) (any, error) {
	var in nameInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "name", in.Name, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	name := *in.Name
	_, err := s.mutate(ctx, events.GlueWorkflow, "", name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil {
			return nil, "", nil // deleting an unknown workflow succeeds
		}
		if len(cur.Active) > 0 {
			return nil, "", fault.New(ConcurrentModification, "Workflow %s has a run in progress (%s); stop it first", name, cur.Active[0])
		}
		next := *cur
		return &next, events.GlueDeleted, nil
	})
	if err != nil {
		return nil, err
	}
	// Its triggers cannot exist without the workflow's graph.
	trigs, err := s.workflowTriggers(ctx, name)
	if err != nil {
		return nil, err
	}
	for _, t := range trigs {
		if err := s.removeTrigger(ctx, t.Name); err != nil {
			return nil, err
		}
	}
	if s.runs != nil {
		if err := s.deleteRuns(ctx, name); err != nil {
			return nil, err
		}
	}
	return nameOutput{Name: name}, nil
}

type getWorkflowInput struct {
	Name         *string `json:"Name"`
	IncludeGraph *bool   `json:"IncludeGraph"`
}

// wireWorkflow is the Workflow shape with its computed members.
type wireWorkflow struct {
	events.GlueWorkflowBody
	LastRun *WorkflowRun `json:"LastRun,omitempty"`
	Graph   *wireGraph   `json:"Graph,omitempty"`
}

type wireNode struct {
	Type           string          `json:"Type"`
	Name           string          `json:"Name"`
	UniqueId       string          `json:"UniqueId"`
	TriggerDetails *triggerDetails `json:"TriggerDetails,omitempty"`
	JobDetails     *jobDetails     `json:"JobDetails,omitempty"`
	CrawlerDetails *crawlerDetails `json:"CrawlerDetails,omitempty"`
}

type triggerDetails struct {
	Trigger events.GlueTriggerBody `json:"Trigger"`
}

type jobDetails struct {
	JobRuns []json.RawMessage `json:"JobRuns"`
}

type crawlerDetails struct {
	Crawls []json.RawMessage `json:"Crawls"`
}

type wireGraph struct {
	Nodes []wireNode     `json:"Nodes"`
	Edges []gluerun.Edge `json:"Edges"`
}

func staticGraph(g gluerun.Graph) *wireGraph {
	out := &wireGraph{Nodes: []wireNode{}, Edges: g.Edges}
	if out.Edges == nil {
		out.Edges = []gluerun.Edge{}
	}
	for _, n := range g.Nodes {
		wn := wireNode{Type: n.Type, Name: n.Name, UniqueId: n.UniqueId}
		if n.Trigger != nil {
			wn.TriggerDetails = &triggerDetails{Trigger: *n.Trigger}
		}
		out.Nodes = append(out.Nodes, wn)
	}
	return out
}

func (s *Server) workflowView(ctx context.Context, r *request, rec events.GlueResource, graph bool) (*wireWorkflow, error) {
	body, err := decodeBody[events.GlueWorkflowBody](rec)
	if err != nil {
		return nil, err
	}
	w := &wireWorkflow{GlueWorkflowBody: body}
	if s.runs != nil {
		if w.LastRun, err = s.lastRun(ctx, r, body.Name); err != nil {
			return nil, err
		}
	}
	if graph {
		trigs, err := s.workflowTriggers(ctx, body.Name)
		if err != nil {
			return nil, err
		}
		w.Graph = staticGraph(gluerun.BuildGraph(body.Name, trigs))
	}
	return w, nil
}

func (s *Server) getWorkflow(ctx context.Context, r *request) (any, error) {
	var in getWorkflowInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "name", in.Name, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	rec, err := s.resource(ctx, events.GlueWorkflow, "", *in.Name, workflowNotFound(*in.Name))
	if err != nil {
		return nil, err
	}
	w, err := s.workflowView(ctx, r, rec, deref(in.IncludeGraph))
	if err != nil {
		return nil, err
	}
	return map[string]any{"Workflow": w}, nil
}

type listInput struct {
	NextToken  *string           `json:"NextToken"`
	MaxResults *int              `json:"MaxResults"`
	Tags       map[string]string `json:"Tags"`
}

// listNames answers a List* operation: the names of one resource type, in name order,
// filtered by tags.
func (s *Server) listNames(ctx context.Context, r *request, typ string, max int, key string) (any, error) {
	var in listInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	limit := maxResults(&v, in.MaxResults, max)
	if err := v.Err(); err != nil {
		return nil, err
	}
	recs, err := s.list(ctx, typ, "")
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(recs))
	for _, rec := range recs {
		if tagsMatch(rec.Tags, in.Tags) {
			names = append(names, rec.Name)
		}
	}
	page, next, err := paginate(r.Op, names, func(n string) string { return n }, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	out := map[string]any{key: page}
	if next != nil {
		out["NextToken"] = *next
	}
	return out, nil
}

func (s *Server) listWorkflows(ctx context.Context, r *request) (any, error) {
	return s.listNames(ctx, r, events.GlueWorkflow, 25, "Workflows")
}

type batchGetWorkflowsInput struct {
	Names        []string `json:"Names"`
	IncludeGraph *bool    `json:"IncludeGraph"`
}

func (s *Server) batchGetWorkflows(ctx context.Context, r *request) (any, error) {
	var in batchGetWorkflowsInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.Required("names", in.Names != nil)
	if in.Names != nil && (len(in.Names) < 1 || len(in.Names) > 25) {
		v.Add("Value '%v' at 'names' failed to satisfy constraint: Member must have length between 1 and 25", in.Names)
	}
	for i := range in.Names {
		nameString(&v, "names", &in.Names[i], false)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	found := []*wireWorkflow{}
	missing := []string{}
	for _, n := range in.Names {
		rec, err := s.res.Glue(ctx, events.GlueWorkflow, "", n)
		if err != nil {
			missing = append(missing, n)
			continue
		}
		w, err := s.workflowView(ctx, r, rec, deref(in.IncludeGraph))
		if err != nil {
			return nil, err
		}
		found = append(found, w)
	}
	return map[string]any{"Workflows": found, "MissingWorkflows": missing}, nil
}

// workflowTriggers returns the current triggers of a workflow, by name.
func (s *Server) workflowTriggers(ctx context.Context, workflow string) ([]events.GlueTriggerBody, error) {
	recs, err := s.list(ctx, events.GlueTrigger, "")
	if err != nil {
		return nil, err
	}
	var out []events.GlueTriggerBody
	for _, rec := range recs {
		t, err := decodeBody[events.GlueTriggerBody](rec)
		if err != nil {
			return nil, err
		}
		if deref(t.WorkflowName) == workflow {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
