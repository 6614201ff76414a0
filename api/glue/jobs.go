package glue

import (
	"context"
	"encoding/json"
	"regexp"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
)

// jobSpec is a job definition as CreateJob and UpdateJob's JobUpdate carry it.
type jobSpec struct {
	JobMode                   *string                       `json:"JobMode"`
	JobRunQueuingEnabled      *bool                         `json:"JobRunQueuingEnabled"`
	Description               *string                       `json:"Description"`
	LogUri                    *string                       `json:"LogUri"`
	Role                      *string                       `json:"Role"`
	ExecutionProperty         *events.GlueExecutionProperty `json:"ExecutionProperty"`
	Command                   *events.GlueJobCommand        `json:"Command"`
	DefaultArguments          map[string]string             `json:"DefaultArguments"`
	NonOverridableArguments   map[string]string             `json:"NonOverridableArguments"`
	Connections               json.RawMessage               `json:"Connections"`
	MaxRetries                *int                          `json:"MaxRetries"`
	AllocatedCapacity         *int                          `json:"AllocatedCapacity"`
	Timeout                   *int                          `json:"Timeout"`
	MaxCapacity               *float64                      `json:"MaxCapacity"`
	WorkerType                *string                       `json:"WorkerType"`
	NumberOfWorkers           *int                          `json:"NumberOfWorkers"`
	SecurityConfiguration     *string                       `json:"SecurityConfiguration"`
	NotificationProperty      json.RawMessage               `json:"NotificationProperty"`
	GlueVersion               *string                       `json:"GlueVersion"`
	CodeGenConfigurationNodes json.RawMessage               `json:"CodeGenConfigurationNodes"`
	ExecutionClass            *string                       `json:"ExecutionClass"`
	SourceControlDetails      json.RawMessage               `json:"SourceControlDetails"`
	MaintenanceWindow         *string                       `json:"MaintenanceWindow"`
}

type createJobInput struct {
	Name *string `json:"Name"`
	jobSpec
	Tags map[string]string `json:"Tags"`
}

// Job limits (GLUE.md §2.4).
const (
	maxJobTimeout     = 10080 // minutes: jobs must stay below 7 days
	defaultJobTimeout = 2880
	pythonShellMaxCap = 0.0625
	maxJobRetries     = 10
	defaultJobMaxRuns = 1
	maxScriptLocation = 400000
)

var (
	pythonVersionRE = regexp.MustCompile(`^([2-3]|3[.]9)$`)
	glueVersionRE   = regexp.MustCompile(`^(\w+\.)+\w+$`)
)

func enumCheck(v *violations, field string, value *string, allowed ...string) {
	if value == nil {
		return
	}
	for _, a := range allowed {
		if *value == a {
			return
		}
	}
	v.Add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: %v", *value, field, allowed)
}

// check validates a job definition (prefix: "" for CreateJob, "jobUpdate." for UpdateJob)
// and returns the stored body.
func (j *jobSpec) check(prefix, name string) (events.GlueJobBody, error) {
	var v violations
	v.Required(prefix+"role", j.Role != nil)
	v.Required(prefix+"command", j.Command != nil)
	if j.Role != nil {
		v.Length(prefix+"role", *j.Role, 0, 2048)
	}
	v.OptionalString(prefix+"description", j.Description, 0, 2048)
	if j.Command != nil {
		v.Length(prefix+"command.scriptLocation", j.Command.ScriptLocation, 0, maxScriptLocation)
		if j.Command.PythonVersion != "" && !pythonVersionRE.MatchString(j.Command.PythonVersion) {
			v.Add("Value '%s' at '%scommand.pythonVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([2-3]|3[.]9)$", j.Command.PythonVersion, prefix)
		}
	}
	if j.Timeout != nil && *j.Timeout < 1 {
		v.Add("Value '%d' at '%stimeout' failed to satisfy constraint: Member must have value greater than or equal to 1", *j.Timeout, prefix)
	}
	if j.GlueVersion != nil && (len(*j.GlueVersion) > 255 || !glueVersionRE.MatchString(*j.GlueVersion)) {
		v.Add("Value '%s' at '%sglueVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(\\w+\\.)+\\w+$", *j.GlueVersion, prefix)
	}
	enumCheck(&v, prefix+"workerType", j.WorkerType, "Standard", "G.1X", "G.2X", "G.025X", "G.4X", "G.8X", "Z.2X")
	enumCheck(&v, prefix+"executionClass", j.ExecutionClass, "FLEX", "STANDARD")
	enumCheck(&v, prefix+"jobMode", j.JobMode, "SCRIPT", "VISUAL", "NOTEBOOK")
	if err := v.Err(); err != nil {
		return events.GlueJobBody{}, err
	}
	if j.Timeout != nil && *j.Timeout >= maxJobTimeout {
		return events.GlueJobBody{}, fault.New(InvalidInput, "Timeout must be less than %d minutes", maxJobTimeout)
	}
	if j.MaxRetries != nil && (*j.MaxRetries < 0 || *j.MaxRetries > maxJobRetries) {
		return events.GlueJobBody{}, fault.New(InvalidInput, "MaxRetries must be between 0 and %d", maxJobRetries)
	}
	if j.ExecutionProperty != nil && j.ExecutionProperty.MaxConcurrentRuns != nil && *j.ExecutionProperty.MaxConcurrentRuns < 1 {
		return events.GlueJobBody{}, fault.New(InvalidInput, "ExecutionProperty.MaxConcurrentRuns must be at least 1")
	}
	if (j.WorkerType == nil) != (j.NumberOfWorkers == nil) {
		return events.GlueJobBody{}, fault.New(InvalidInput, "WorkerType and NumberOfWorkers must be set together")
	}
	if j.Command.Name == "pythonshell" && j.WorkerType != nil {
		return events.GlueJobBody{}, fault.New(InvalidInput, "Worker type cannot be set for a pythonshell job")
	}
	body := events.GlueJobBody{
		Name: name, JobMode: j.JobMode, JobRunQueuingEnabled: j.JobRunQueuingEnabled, Description: j.Description,
		LogUri: j.LogUri, Role: *j.Role, ExecutionProperty: j.ExecutionProperty, Command: *j.Command,
		DefaultArguments: j.DefaultArguments, NonOverridableArguments: j.NonOverridableArguments,
		Connections: j.Connections, MaxRetries: deref(j.MaxRetries), AllocatedCapacity: deref(j.AllocatedCapacity),
		Timeout: deref(j.Timeout), MaxCapacity: j.MaxCapacity, WorkerType: j.WorkerType, NumberOfWorkers: j.NumberOfWorkers,
		SecurityConfiguration: j.SecurityConfiguration, NotificationProperty: j.NotificationProperty,
		GlueVersion: j.GlueVersion, CodeGenConfigurationNodes: j.CodeGenConfigurationNodes,
		ExecutionClass: j.ExecutionClass, SourceControlDetails: j.SourceControlDetails, MaintenanceWindow: j.MaintenanceWindow,
	}
	if body.Timeout == 0 {
		body.Timeout = defaultJobTimeout
	}
	if body.ExecutionProperty == nil || body.ExecutionProperty.MaxConcurrentRuns == nil {
		body.ExecutionProperty = &events.GlueExecutionProperty{MaxConcurrentRuns: ptr(defaultJobMaxRuns)}
	}
	if body.Command.Name == "pythonshell" && body.MaxCapacity == nil {
		body.MaxCapacity = ptr(pythonShellMaxCap)
	}
	if body.Command.Name == "pythonshell" && body.Command.PythonVersion == "" {
		body.Command.PythonVersion = "3.9"
	}
	return body, nil
}

func jobNotFound(name string) func() error {
	return func() error { return fault.New(EntityNotFound, "Job with name: %s not found.", name) }
}

func (s *Server) createJob(ctx context.Context, r *request) (any, error) {
	var in createJobInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "name", in.Name, true)
	tagErr := checkTags(&v, in.Tags)
	if err := v.Err(); err != nil {
		return nil, err
	}
	body, err := in.check("", *in.Name)
	if err != nil {
		return nil, err
	}
	if tagErr != nil {
		return nil, tagErr
	}
	now := events.GlueNow(s.now())
	body.CreatedOn, body.LastModifiedOn = now, now
	if _, err := s.mutate(ctx, events.GlueJob, "", *in.Name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur != nil {
			return nil, "", fault.New(AlreadyExists, "Job with name: %s already exists.", *in.Name)
		}
		return &events.GlueResource{Body: encodeBody(body), Tags: in.Tags}, events.GlueCreated, nil
	}); err != nil {
		return nil, err
	}
	return nameOutput{Name: *in.Name}, nil
}

type updateJobInput struct {
	JobName   *string  `json:"JobName"`
	JobUpdate *jobSpec `json:"JobUpdate"`
}

type jobNameOutput struct {
	JobName string `json:"JobName"`
}

func (s *Server) updateJob(ctx context.Context, r *request) (any, error) {
	var in updateJobInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "jobName", in.JobName, true)
	v.Required("jobUpdate", in.JobUpdate != nil)
	if err := v.Err(); err != nil {
		return nil, err
	}
	body, err := in.JobUpdate.check("jobUpdate.", *in.JobName)
	if err != nil {
		return nil, err
	}
	if _, err := s.mutate(ctx, events.GlueJob, "", *in.JobName, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil {
			return nil, "", jobNotFound(*in.JobName)()
		}
		old, err := decodeBody[events.GlueJobBody](*cur)
		if err != nil {
			return nil, "", err
		}
		// The previous definition is completely overwritten.
		nb := body
		nb.CreatedOn, nb.LastModifiedOn = old.CreatedOn, events.GlueNow(s.now())
		next := *cur
		next.Body = encodeBody(nb)
		return &next, events.GlueUpdated, nil
	}); err != nil {
		return nil, err
	}
	return jobNameOutput{JobName: *in.JobName}, nil
}

type jobNameInput struct {
	JobName *string `json:"JobName"`
}

func (s *Server) deleteJob(ctx context.Context, r *request) (any, error) {
	var in jobNameInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "jobName", in.JobName, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, err := s.mutate(ctx, events.GlueJob, "", *in.JobName, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil {
			return nil, "", nil // deleting an unknown job succeeds
		}
		next := *cur
		return &next, events.GlueDeleted, nil
	}); err != nil {
		return nil, err
	}
	return jobNameOutput{JobName: *in.JobName}, nil
}

func (s *Server) getJob(ctx context.Context, r *request) (any, error) {
	var in jobNameInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "jobName", in.JobName, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	rec, err := s.resource(ctx, events.GlueJob, "", *in.JobName, jobNotFound(*in.JobName))
	if err != nil {
		return nil, err
	}
	return map[string]any{"Job": rec.Body}, nil
}

// getBodies answers a Get*s operation: the bodies of one resource type, in name order.
func (s *Server) getBodies(ctx context.Context, r *request, typ string, max int, key string, keep func(events.GlueResource) bool) (any, error) {
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
	if keep != nil {
		kept := recs[:0]
		for _, rec := range recs {
			if keep(rec) {
				kept = append(kept, rec)
			}
		}
		recs = kept
	}
	page, next, err := paginate(r.Op, recs, func(rec events.GlueResource) string { return rec.Name }, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	bodies := make([]json.RawMessage, 0, len(page))
	for _, rec := range page {
		bodies = append(bodies, rec.Body)
	}
	out := map[string]any{key: bodies}
	if next != nil {
		out["NextToken"] = *next
	}
	return out, nil
}

func (s *Server) getJobs(ctx context.Context, r *request) (any, error) {
	return s.getBodies(ctx, r, events.GlueJob, 1000, "Jobs", nil)
}

func (s *Server) listJobs(ctx context.Context, r *request) (any, error) {
	return s.listNames(ctx, r, events.GlueJob, 1000, "JobNames")
}

// batchGet answers a BatchGet* operation.
func (s *Server) batchGet(ctx context.Context, names []string, field string, max int, typ, foundKey, missingKey string) (any, error) {
	var v violations
	v.Required(field, names != nil)
	if names != nil && (len(names) > max) {
		return nil, fault.New(InvalidInput, "%s must have at most %d members", field, max)
	}
	for i := range names {
		nameString(&v, field, &names[i], false)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	found := []json.RawMessage{}
	missing := []string{}
	for _, n := range names {
		rec, err := s.res.Glue(ctx, typ, "", n)
		if err != nil {
			missing = append(missing, n)
			continue
		}
		found = append(found, rec.Body)
	}
	return map[string]any{foundKey: found, missingKey: missing}, nil
}

func (s *Server) batchGetJobs(ctx context.Context, r *request) (any, error) {
	var in struct {
		JobNames []string `json:"JobNames"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	return s.batchGet(ctx, in.JobNames, "jobNames", 1000, events.GlueJob, "Jobs", "JobsNotFound")
}
