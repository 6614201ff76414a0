package glue

import (
	"context"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sfnd/sfnd/actors/glueblueprint"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
)

// BlueprintRunRequest is one blueprint run for the blueprint engine.
type BlueprintRunRequest = glueblueprint.RunRequest

// Invoker calls one Glue operation in-process.
type Invoker = glueblueprint.Invoker

// BlueprintEngine registers blueprint archives and runs their layouts
// (actors/glueblueprint); this room records what it does.
type BlueprintEngine interface {
	// Register fetches and checks an archive; it returns blueprint.cfg's parameter
	// spec and the location of sfnd's copy (an error's text is the ErrorMessage).
	Register(ctx context.Context, name, location string) (parameterSpec, serviceLocation string, err error)
	// CheckParameters validates a run's Parameters (the error text is the
	// InvalidInputException message).
	CheckParameters(parameterSpec, parameters string) error
	// Run runs the layout and creates its entities through glue, rolling back on
	// failure.
	Run(ctx context.Context, run BlueprintRunRequest, glue Invoker) (workflowName, errMsg, rollbackErr string)
}

// EnableBlueprints binds the blueprint engine.
func (s *Server) EnableBlueprints(e BlueprintEngine) { s.bps = e }

func (s *Server) registerBlueprints() {
	s.ops["CreateBlueprint"] = s.createBlueprint
	s.ops["UpdateBlueprint"] = s.updateBlueprint
	s.ops["DeleteBlueprint"] = s.deleteBlueprint
	s.ops["GetBlueprint"] = s.getBlueprint
	s.ops["ListBlueprints"] = s.listBlueprints
	s.ops["BatchGetBlueprints"] = s.batchGetBlueprints
	s.ops["StartBlueprintRun"] = s.startBlueprintRun
	s.ops["GetBlueprintRun"] = s.getBlueprintRun
	s.ops["GetBlueprintRuns"] = s.getBlueprintRuns
}

// Blueprint statuses.
const (
	bpCreating = "CREATING"
	bpActive   = "ACTIVE"
	bpUpdating = "UPDATING"
	bpFailed   = "FAILED"
)

// blueprintDefinition is the LastActiveDefinition shape.
type blueprintDefinition struct {
	Description              *string          `json:"Description,omitempty"`
	LastModifiedOn           *events.GlueTime `json:"LastModifiedOn,omitempty"`
	ParameterSpec            string           `json:"ParameterSpec,omitempty"`
	BlueprintLocation        string           `json:"BlueprintLocation,omitempty"`
	BlueprintServiceLocation string           `json:"BlueprintServiceLocation,omitempty"`
}

// blueprintBody is the Blueprint shape.
type blueprintBody struct {
	Name                     string               `json:"Name"`
	Description              *string              `json:"Description,omitempty"`
	CreatedOn                *events.GlueTime     `json:"CreatedOn,omitempty"`
	LastModifiedOn           *events.GlueTime     `json:"LastModifiedOn,omitempty"`
	ParameterSpec            string               `json:"ParameterSpec,omitempty"`
	BlueprintLocation        string               `json:"BlueprintLocation,omitempty"`
	BlueprintServiceLocation string               `json:"BlueprintServiceLocation,omitempty"`
	Status                   string               `json:"Status"`
	ErrorMessage             string               `json:"ErrorMessage,omitempty"`
	LastActiveDefinition     *blueprintDefinition `json:"LastActiveDefinition,omitempty"`
}

// blueprintRunBody is the BlueprintRun shape.
type blueprintRunBody struct {
	BlueprintName        string           `json:"BlueprintName"`
	RunId                string           `json:"RunId"`
	WorkflowName         string           `json:"WorkflowName,omitempty"`
	State                string           `json:"State"`
	StartedOn            *events.GlueTime `json:"StartedOn,omitempty"`
	CompletedOn          *events.GlueTime `json:"CompletedOn,omitempty"`
	ErrorMessage         string           `json:"ErrorMessage,omitempty"`
	RollbackErrorMessage string           `json:"RollbackErrorMessage,omitempty"`
	Parameters           string           `json:"Parameters,omitempty"`
	RoleArn              string           `json:"RoleArn,omitempty"`
}

var (
	blueprintNameRE = regexp.MustCompile(`^[.\-_A-Za-z0-9]+$`)
	roleArnRE       = regexp.MustCompile(`^arn:aws[^:]*:iam::[0-9]*:role/.+$`)
	s3LocationRE    = regexp.MustCompile(`^s3://([^/]+)/([^/]+/)*([^/]+)$`)
)

func blueprintNotFound(name string) func() error {
	return func() error { return fault.New(EntityNotFound, "Blueprint with name %s not found.", name) }
}

// checkBlueprintLocation accepts s3://bucket/key (the API's pattern) and, as sfnd's
// extension, file:// URLs and absolute paths.
func checkBlueprintLocation(loc string) error {
	if s3LocationRE.MatchString(loc) || strings.HasPrefix(loc, "file://") || strings.HasPrefix(loc, "/") {
		return nil
	}
	return fault.New(InvalidInput, "Invalid BlueprintLocation %s: expected s3://bucket/key (or, on sfnd, a file:// URL)", loc)
}

type blueprintInput struct {
	Name              *string           `json:"Name"`
	Description       *string           `json:"Description"`
	BlueprintLocation *string           `json:"BlueprintLocation"`
	Tags              map[string]string `json:"Tags"`
}

func (in *blueprintInput) check() error {
	var v violations
	v.RequiredString("name", in.Name, 1, 128)
	if in.Name != nil && !blueprintNameRE.MatchString(*in.Name) {
		v.Add("Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", *in.Name)
	}
	v.OptionalString("description", in.Description, 1, 512)
	v.RequiredString("blueprintLocation", in.BlueprintLocation, 1, 8192)
	tagErr := checkTags(&v, in.Tags)
	if err := v.Err(); err != nil {
		return err
	}
	if tagErr != nil {
		return tagErr
	}
	return checkBlueprintLocation(*in.BlueprintLocation)
}

func (s *Server) createBlueprint(ctx context.Context, r *request) (any, error) {
	var in blueprintInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	if s.bps == nil {
		return nil, fault.New(fault.InternalFailure, "blueprints are not enabled")
	}
	now := events.GlueNow(s.now())
	body := blueprintBody{Name: *in.Name, Description: in.Description, CreatedOn: now, LastModifiedOn: now,
		BlueprintLocation: *in.BlueprintLocation, Status: bpCreating}
	if _, err := s.mutate(ctx, events.GlueBlueprint, "", body.Name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur != nil {
			return nil, "", fault.New(AlreadyExists, "Blueprint with name %s already exists.", body.Name)
		}
		return &events.GlueResource{Body: encodeBody(body), Tags: in.Tags}, events.GlueCreated, nil
	}); err != nil {
		return nil, err
	}
	go s.register(body.Name, body.BlueprintLocation, body.Description)
	return nameOutput{Name: body.Name}, nil
}

// register fetches and checks a blueprint's archive (after Create/UpdateBlueprint)
// and records the outcome: ACTIVE with the new definition, or FAILED.
func (s *Server) register(name, location string, desc *string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	spec, svc, regErr := s.bps.Register(ctx, name, location)
	if _, err := s.mutate(ctx, events.GlueBlueprint, "", name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil {
			return nil, "", nil // deleted meanwhile
		}
		b, err := decodeBody[blueprintBody](*cur)
		if err != nil {
			return nil, "", err
		}
		if b.BlueprintLocation != location || (b.Status != bpCreating && b.Status != bpUpdating) {
			return nil, "", nil // a newer update owns the outcome
		}
		now := events.GlueNow(s.now())
		b.LastModifiedOn = now
		if regErr != nil {
			b.Status, b.ErrorMessage = bpFailed, regErr.Error()
		} else {
			b.Status, b.ErrorMessage = bpActive, ""
			b.ParameterSpec, b.BlueprintServiceLocation = spec, svc
			b.LastActiveDefinition = &blueprintDefinition{Description: desc, LastModifiedOn: now, ParameterSpec: spec,
				BlueprintLocation: location, BlueprintServiceLocation: svc}
		}
		next := *cur
		next.Body = encodeBody(b)
		return &next, events.GlueUpdated, nil
	}); err != nil {
		s.cfg.Logger.Error("record blueprint registration", "blueprint", name, "err", err)
	}
}

func (s *Server) updateBlueprint(ctx context.Context, r *request) (any, error) {
	var in blueprintInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	if s.bps == nil {
		return nil, fault.New(fault.InternalFailure, "blueprints are not enabled")
	}
	name := *in.Name
	var desc *string
	if _, err := s.mutate(ctx, events.GlueBlueprint, "", name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil {
			return nil, "", blueprintNotFound(name)()
		}
		b, err := decodeBody[blueprintBody](*cur)
		if err != nil {
			return nil, "", err
		}
		if b.Status == bpCreating || b.Status == bpUpdating {
			return nil, "", fault.New(IllegalBlueprintState, "Blueprint %s is %s; wait until it is ACTIVE or FAILED", name, b.Status)
		}
		if in.Description != nil {
			b.Description = in.Description
		}
		desc = b.Description
		b.BlueprintLocation, b.Status, b.ErrorMessage = *in.BlueprintLocation, bpUpdating, ""
		b.LastModifiedOn = events.GlueNow(s.now())
		next := *cur
		next.Body = encodeBody(b)
		return &next, events.GlueUpdated, nil
	}); err != nil {
		return nil, err
	}
	go s.register(name, *in.BlueprintLocation, desc)
	return nameOutput{Name: name}, nil
}

func (s *Server) deleteBlueprint(ctx context.Context, r *request) (any, error) {
	name, err := decodeName(r)
	if err != nil {
		return nil, err
	}
	if _, err := s.mutate(ctx, events.GlueBlueprint, "", name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil {
			return nil, "", nil
		}
		next := *cur
		return &next, events.GlueDeleted, nil
	}); err != nil {
		return nil, err
	}
	return nameOutput{Name: name}, nil
}

// blueprintView answers the Blueprint shape with the optional members asked for.
func blueprintView(rec events.GlueResource, includeBlueprint, includeSpec bool) (any, error) {
	b, err := decodeBody[blueprintBody](rec)
	if err != nil {
		return nil, err
	}
	if !includeSpec {
		b.ParameterSpec = ""
	}
	if !includeBlueprint {
		b.BlueprintServiceLocation = ""
	}
	return b, nil
}

func (s *Server) getBlueprint(ctx context.Context, r *request) (any, error) {
	var in struct {
		Name                 *string `json:"Name"`
		IncludeBlueprint     *bool   `json:"IncludeBlueprint"`
		IncludeParameterSpec *bool   `json:"IncludeParameterSpec"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "name", in.Name, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	rec, err := s.resource(ctx, events.GlueBlueprint, "", *in.Name, blueprintNotFound(*in.Name))
	if err != nil {
		return nil, err
	}
	b, err := blueprintView(rec, deref(in.IncludeBlueprint), deref(in.IncludeParameterSpec))
	if err != nil {
		return nil, err
	}
	return map[string]any{"Blueprint": b}, nil
}

func (s *Server) listBlueprints(ctx context.Context, r *request) (any, error) {
	return s.listNames(ctx, r, events.GlueBlueprint, 25, "Blueprints")
}

func (s *Server) batchGetBlueprints(ctx context.Context, r *request) (any, error) {
	var in struct {
		Names                []string `json:"Names"`
		IncludeBlueprint     *bool    `json:"IncludeBlueprint"`
		IncludeParameterSpec *bool    `json:"IncludeParameterSpec"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.Required("names", in.Names != nil)
	if in.Names != nil && (len(in.Names) < 1 || len(in.Names) > 25) {
		v.Add("Value at 'names' failed to satisfy constraint: Member must have length between 1 and 25")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	found, missing := []any{}, []string{}
	for _, n := range in.Names {
		rec, err := s.res.Glue(ctx, events.GlueBlueprint, "", n)
		if err != nil {
			missing = append(missing, n)
			continue
		}
		b, err := blueprintView(rec, deref(in.IncludeBlueprint), deref(in.IncludeParameterSpec))
		if err != nil {
			return nil, err
		}
		found = append(found, b)
	}
	return map[string]any{"Blueprints": found, "MissingBlueprints": missing}, nil
}

func (s *Server) startBlueprintRun(ctx context.Context, r *request) (any, error) {
	var in struct {
		BlueprintName *string `json:"BlueprintName"`
		Parameters    *string `json:"Parameters"`
		RoleArn       *string `json:"RoleArn"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.RequiredString("blueprintName", in.BlueprintName, 1, 128)
	v.OptionalString("parameters", in.Parameters, 1, 131072)
	v.RequiredString("roleArn", in.RoleArn, 1, 1024)
	if in.RoleArn != nil && !roleArnRE.MatchString(*in.RoleArn) {
		v.Add("Value '%s' at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws[^:]*:iam::[0-9]*:role/.+", *in.RoleArn)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	name := *in.BlueprintName
	rec, err := s.resource(ctx, events.GlueBlueprint, "", name, blueprintNotFound(name))
	if err != nil {
		return nil, err
	}
	b, err := decodeBody[blueprintBody](rec)
	if err != nil {
		return nil, err
	}
	def := b.LastActiveDefinition
	if b.Status == bpActive {
		def = &blueprintDefinition{ParameterSpec: b.ParameterSpec, BlueprintLocation: b.BlueprintLocation, BlueprintServiceLocation: b.BlueprintServiceLocation}
	}
	if def == nil {
		return nil, fault.New(IllegalBlueprintState, "Blueprint %s has no active definition (it is %s)", name, b.Status)
	}
	params := deref(in.Parameters)
	if params == "" {
		params = "{}"
	}
	if err := s.bps.CheckParameters(def.ParameterSpec, params); err != nil {
		return nil, fault.New(InvalidInput, "%s", err.Error())
	}
	run := blueprintRunBody{BlueprintName: name, RunId: uuid.NewString(), State: "RUNNING", StartedOn: events.GlueNow(s.now()),
		Parameters: deref(in.Parameters), RoleArn: *in.RoleArn}
	if _, err := s.mutate(ctx, events.GlueBlueprintRun, name, run.RunId, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		return &events.GlueResource{Body: encodeBody(run)}, events.GlueCreated, nil
	}); err != nil {
		return nil, err
	}
	req := BlueprintRunRequest{BlueprintName: name, RunId: run.RunId, ServiceLocation: def.BlueprintServiceLocation,
		ParameterSpec: def.ParameterSpec, Parameters: params, RoleArn: *in.RoleArn, Region: r.Region, Account: r.Account}
	go s.runBlueprint(req)
	return map[string]string{"RunId": run.RunId}, nil
}

// runBlueprint runs a blueprint run's layout and records its outcome.
func (s *Server) runBlueprint(req BlueprintRunRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// The layout's entities are created in the account and region of the run's caller.
	wf, errMsg, rbErr := s.bps.Run(ctx, req, func(ctx context.Context, op string, in any) (json.RawMessage, error) {
		return s.invokeAs(ctx, op, in, req.Region, req.Account)
	})
	set := func(change func(b *blueprintRunBody)) {
		if _, err := s.mutate(ctx, events.GlueBlueprintRun, req.BlueprintName, req.RunId, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
			if cur == nil {
				return nil, "", nil
			}
			b, err := decodeBody[blueprintRunBody](*cur)
			if err != nil {
				return nil, "", err
			}
			change(&b)
			next := *cur
			next.Body = encodeBody(b)
			return &next, events.GlueUpdated, nil
		}); err != nil {
			s.cfg.Logger.Error("record blueprint run", "run", req.RunId, "err", err)
		}
	}
	if errMsg == "" {
		set(func(b *blueprintRunBody) {
			b.State, b.WorkflowName, b.CompletedOn = "SUCCEEDED", wf, events.GlueNow(s.now())
		})
		return
	}
	set(func(b *blueprintRunBody) { b.State, b.ErrorMessage = "ROLLING_BACK", errMsg })
	set(func(b *blueprintRunBody) {
		b.State, b.RollbackErrorMessage, b.CompletedOn = "FAILED", rbErr, events.GlueNow(s.now())
	})
}

func (s *Server) getBlueprintRun(ctx context.Context, r *request) (any, error) {
	var in struct {
		BlueprintName *string `json:"BlueprintName"`
		RunId         *string `json:"RunId"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.RequiredString("blueprintName", in.BlueprintName, 1, 128)
	nameString(&v, "runId", in.RunId, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	rec, err := s.resource(ctx, events.GlueBlueprintRun, *in.BlueprintName, *in.RunId, func() error {
		return fault.New(EntityNotFound, "Blueprint run %s of blueprint %s not found.", *in.RunId, *in.BlueprintName)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"BlueprintRun": rec.Body}, nil
}

func (s *Server) getBlueprintRuns(ctx context.Context, r *request) (any, error) {
	var in struct {
		BlueprintName *string `json:"BlueprintName"`
		NextToken     *string `json:"NextToken"`
		MaxResults    *int    `json:"MaxResults"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "blueprintName", in.BlueprintName, true)
	limit := maxResults(&v, in.MaxResults, 1000)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, err := s.resource(ctx, events.GlueBlueprint, "", *in.BlueprintName, blueprintNotFound(*in.BlueprintName)); err != nil {
		return nil, err
	}
	recs, err := s.list(ctx, events.GlueBlueprintRun, *in.BlueprintName)
	if err != nil {
		return nil, err
	}
	type item struct {
		key  string
		body json.RawMessage
	}
	items := []item{}
	for _, rec := range recs {
		b, err := decodeBody[blueprintRunBody](rec)
		if err != nil {
			return nil, err
		}
		var started time.Time
		if b.StartedOn != nil {
			started = b.StartedOn.Time()
		}
		items = append(items, item{newestFirstKey(started, b.RunId), rec.Body})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].key < items[j].key })
	page, next, err := paginate(r.Op, items, func(it item) string { return it.key }, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	out := []json.RawMessage{}
	for _, it := range page {
		out = append(out, it.body)
	}
	res := map[string]any{"BlueprintRuns": out}
	if next != nil {
		res["NextToken"] = *next
	}
	return res, nil
}

// recoverBlueprints re-registers blueprints left CREATING or UPDATING by a restart.
func (s *Server) recoverBlueprints(ctx context.Context) error {
	if s.bps == nil {
		return nil
	}
	recs, err := s.list(ctx, events.GlueBlueprint, "")
	if err != nil {
		return err
	}
	for _, rec := range recs {
		b, err := decodeBody[blueprintBody](rec)
		if err != nil {
			continue
		}
		if b.Status == bpCreating || b.Status == bpUpdating {
			go s.register(b.Name, b.BlueprintLocation, b.Description)
		}
	}
	return nil
}
