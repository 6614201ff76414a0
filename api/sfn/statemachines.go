package sfn

import (
	"context"
	"reflect"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/google/uuid"

	"github.com/sfnd/sfnd/actors/asl/validate"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
)

type createStateMachineInput struct {
	Name                    *string                      `json:"name"`
	Definition              *string                      `json:"definition"`
	RoleArn                 *string                      `json:"roleArn"`
	Type                    *string                      `json:"type"`
	LoggingConfiguration    *events.LoggingConfiguration `json:"loggingConfiguration"`
	TracingConfiguration    *events.TracingConfiguration `json:"tracingConfiguration"`
	EncryptionConfiguration *encryptionInput             `json:"encryptionConfiguration"`
	Tags                    []wireTag                    `json:"tags"`
	Publish                 bool                         `json:"publish"`
	VersionDescription      *string                      `json:"versionDescription"`
}

type wireTag struct {
	Key   *string `json:"key"`
	Value *string `json:"value"`
}

type createStateMachineOutput struct {
	StateMachineArn        string  `json:"stateMachineArn"`
	CreationDate           Time    `json:"creationDate"`
	StateMachineVersionArn *string `json:"stateMachineVersionArn,omitempty"`
}

// Limits of the API reference.
const (
	maxDefinition = 1 << 20
	maxTags       = 50
)

func (s *Server) createStateMachine(ctx context.Context, r *request) (any, error) {
	var in createStateMachineInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.Required("name", in.Name != nil)
	v.Required("definition", in.Definition != nil)
	v.Required("roleArn", in.RoleArn != nil)
	v.OptionalString("name", in.Name, 1, 80)
	v.OptionalString("definition", in.Definition, 1, maxDefinition)
	v.OptionalString("roleArn", in.RoleArn, 1, 256)
	typ := "STANDARD"
	if in.Type != nil {
		typ = *in.Type
		if typ != "STANDARD" && typ != "EXPRESS" {
			v.Add("Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]", typ)
		}
	}
	v.OptionalString("versionDescription", in.VersionDescription, 0, 256)
	tags := checkTags(&v, in.Tags)
	in.EncryptionConfiguration.check(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := validName(*in.Name); err != nil {
		return nil, err
	}
	if err := checkRoleARN(*in.RoleArn); err != nil {
		return nil, err
	}
	encryption, err := in.EncryptionConfiguration.config()
	if err != nil {
		return nil, err
	}
	if in.VersionDescription != nil && !in.Publish {
		return nil, fault.New(fault.ValidationException, "Version description can only be set when publish is true")
	}
	if len(tags) > maxTags {
		return nil, tooManyTags(arnFor(r, "stateMachine", *in.Name))
	}
	if err := checkDefinition(*in.Definition); err != nil {
		return nil, err
	}
	if typ == "EXPRESS" {
		if err := checkExpressDefinition(*in.Definition); err != nil {
			return nil, err
		}
	}
	logging, err := checkLogging(in.LoggingConfiguration)
	if err != nil {
		return nil, err
	}
	tracing := in.TracingConfiguration
	if tracing == nil {
		tracing = &events.TracingConfiguration{}
	}
	smARN := arnFor(r, "stateMachine", *in.Name)
	now := s.cfg.Now().UTC()
	rec := events.StateMachineRecord{
		ARN: smARN, Name: *in.Name, Type: typ, Definition: *in.Definition, RoleARN: *in.RoleArn,
		CreationDate: now, Status: "ACTIVE", Logging: logging, Tracing: tracing,
		Encryption: encryption, Tags: tags,
	}
	var existing *events.StateMachineRecord
	var version *events.StateMachineRecord // the version published with it (publish: true)
	_, seq, err := events.Mutate(ctx, s.store, smARN, func(cur *events.ResourceEvent) (events.Decision, error) {
		existing, version = nil, nil
		if cur != nil && cur.Kind != events.StateMachineDeleted && cur.StateMachine != nil {
			old := cur.StateMachine
			if old.Status == "DELETING" {
				return nil, stateMachineDeleting(smARN)
			}
			if old.Definition == rec.Definition && old.Type == rec.Type &&
				reflect.DeepEqual(old.Logging, rec.Logging) && reflect.DeepEqual(old.Tracing, rec.Tracing) &&
				reflect.DeepEqual(old.Encryption, rec.Encryption) {
				existing = old // idempotent repeat: roleArn and tags differences are ignored, as on AWS
				return nil, nil
			}
			return nil, fault.New(fault.StateMachineAlreadyExists, "State Machine Already Exists: '%s'", smARN)
		}
		created := rec
		if in.Publish {
			ref, _ := allocateVersion(&created, now)
			snap := versionSnapshot(created, ref, deref(in.VersionDescription))
			version = &snap
		}
		return &events.ResourceEvent{Kind: events.StateMachineCreated, Time: now, ARN: smARN, StateMachine: &created, Tags: tags}, nil
	})
	if err != nil {
		return nil, err
	}
	if existing != nil {
		if err := s.waitForResource(ctx, smARN); err != nil {
			return nil, err
		}
		out := createStateMachineOutput{StateMachineArn: existing.ARN, CreationDate: Time(existing.CreationDate)}
		if in.Publish {
			ref, err := s.publish(ctx, smARN, nil, deref(in.VersionDescription))
			if err != nil {
				return nil, err
			}
			out.StateMachineVersionArn = &ref.ARN
		}
		return out, nil
	}
	out := createStateMachineOutput{StateMachineArn: smARN, CreationDate: Time(now)}
	s.warnUnserved(smARN, *in.Definition)
	if version != nil {
		vseq, err := s.writeVersion(ctx, *version)
		if err != nil {
			return nil, err
		}
		seq = max(seq, vseq)
		out.StateMachineVersionArn = &version.ARN
	}
	if err := s.res.WaitFor(ctx, seq); err != nil {
		return nil, err
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// checkDefinition answers InvalidDefinition, with AWS's message, for a definition
// that fails static validation (actors/asl/validate).
func checkDefinition(def string) error {
	diags := validate.Validate(def)
	if validate.HasErrors(diags) {
		return fault.New(fault.InvalidDefinition, "%s", validate.InvalidDefinitionMessage(diags))
	}
	return nil
}

func checkLogging(l *events.LoggingConfiguration) (*events.LoggingConfiguration, error) {
	if l == nil {
		return &events.LoggingConfiguration{Level: "OFF"}, nil
	}
	out := *l
	if out.Level == "" {
		out.Level = "OFF"
	}
	switch out.Level {
	case "ALL", "ERROR", "FATAL", "OFF":
	default:
		return nil, fault.New(fault.ValidationException, "1 validation error detected: Value '%s' at 'loggingConfiguration.level' failed to satisfy constraint: Member must satisfy enum value set: [ALL, ERROR, FATAL, OFF]", out.Level)
	}
	if out.Level != "OFF" && len(out.Destinations) == 0 {
		return nil, fault.New(fault.InvalidLoggingConfiguration, "Invalid Logging Configuration: Must specify exactly one Log Destination if logging level is not OFF.")
	}
	if len(out.Destinations) > 1 {
		return nil, fault.New(fault.InvalidLoggingConfiguration, "Invalid Logging Configuration: Must specify exactly one Log Destination.")
	}
	return &out, nil
}

type stateMachineARNInput struct {
	StateMachineArn *string `json:"stateMachineArn"`
}

// stateMachineARN decodes and checks the stateMachineArn member.
func stateMachineARN(r *request) (string, error) {
	var in stateMachineARNInput
	if err := r.Decode(&in); err != nil {
		return "", err
	}
	var v violations
	v.RequiredString("stateMachineArn", in.StateMachineArn, 1, 256)
	return checkedARN(v, in.StateMachineArn, "stateMachine")
}

// stateMachineNotFound is AWS's StateMachineDoesNotExist for arn.
func stateMachineNotFound(arn string) error {
	return fault.New(fault.StateMachineDoesNotExist, "State Machine Does Not Exist: '%s'", arn)
}

// stateMachineDeleting is AWS's answer to a change of a state machine being deleted.
func stateMachineDeleting(arn string) error {
	return fault.New(fault.StateMachineDeleting, "State Machine is being deleted: '%s'", arn)
}

// typeNotSupported is AWS's answer to an operation the state machine's type (STANDARD
// or EXPRESS) does not support.
func typeNotSupported() error {
	return fault.New(fault.StateMachineTypeNotSupported, "This operation is not supported by this type of state machine")
}

// liveStateMachine is the state machine a subject's newest event holds, or nil when
// there is none or it was deleted.
func liveStateMachine(cur *events.ResourceEvent) *events.StateMachineRecord {
	if cur == nil || cur.Kind == events.StateMachineDeleted {
		return nil
	}
	return cur.StateMachine
}

func (s *Server) lookupStateMachine(ctx context.Context, smARN string) (events.StateMachineRecord, error) {
	rec, err := s.stateMachine(ctx, smARN)
	if errors.Is(err, events.ErrNotFound) {
		return rec, stateMachineNotFound(smARN)
	}
	return rec, err
}

type describeStateMachineOutput struct {
	StateMachineArn         string                       `json:"stateMachineArn"`
	Name                    string                       `json:"name"`
	Status                  string                       `json:"status"`
	Definition              *string                      `json:"definition,omitempty"`
	RoleArn                 string                       `json:"roleArn"`
	Type                    string                       `json:"type"`
	CreationDate            Time                         `json:"creationDate"`
	LoggingConfiguration    *events.LoggingConfiguration `json:"loggingConfiguration,omitempty"`
	TracingConfiguration    *events.TracingConfiguration `json:"tracingConfiguration,omitempty"`
	RevisionID              string                       `json:"revisionId,omitempty"`
	Description             string                       `json:"description,omitempty"`
	EncryptionConfiguration map[string]any               `json:"encryptionConfiguration"`
	VariableReferences      map[string][]string          `json:"variableReferences,omitempty"`
}

func (s *Server) describeStateMachine(ctx context.Context, r *request) (any, error) {
	var in struct {
		StateMachineArn *string `json:"stateMachineArn"`
		IncludedData    *string `json:"includedData"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.RequiredString("stateMachineArn", in.StateMachineArn, 1, 256)
	metaOnly := metadataOnly(&v, in.IncludedData)
	smARN, err := checkedARN(v, in.StateMachineArn, "stateMachine")
	if err != nil {
		return nil, err
	}
	rec, err := s.lookupDescribable(ctx, smARN)
	if err != nil {
		return nil, err
	}
	out := describeStateMachineOutput{
		StateMachineArn: rec.ARN, Name: rec.Name, Status: rec.Status,
		RoleArn: rec.RoleARN, Type: rec.Type, CreationDate: Time(rec.CreationDate),
		LoggingConfiguration: rec.Logging, TracingConfiguration: rec.Tracing, RevisionID: rec.RevisionID,
		Description: rec.Description, EncryptionConfiguration: encryptionOrDefault(rec.Encryption),
	}
	if !metaOnly {
		out.Definition = &rec.Definition
		out.VariableReferences = validate.VariableReferences(rec.Definition)
	}
	return out, nil
}

type updateStateMachineInput struct {
	StateMachineArn         *string                      `json:"stateMachineArn"`
	Definition              *string                      `json:"definition"`
	RoleArn                 *string                      `json:"roleArn"`
	LoggingConfiguration    *events.LoggingConfiguration `json:"loggingConfiguration"`
	TracingConfiguration    *events.TracingConfiguration `json:"tracingConfiguration"`
	EncryptionConfiguration *encryptionInput             `json:"encryptionConfiguration"`
	Publish                 bool                         `json:"publish"`
	VersionDescription      *string                      `json:"versionDescription"`
}

type updateStateMachineOutput struct {
	UpdateDate             Time    `json:"updateDate"`
	RevisionID             string  `json:"revisionId,omitempty"`
	StateMachineVersionArn *string `json:"stateMachineVersionArn,omitempty"`
}

func (s *Server) updateStateMachine(ctx context.Context, r *request) (any, error) {
	var in updateStateMachineInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.RequiredString("stateMachineArn", in.StateMachineArn, 1, 256)
	v.OptionalString("definition", in.Definition, 1, maxDefinition)
	v.OptionalString("roleArn", in.RoleArn, 1, 256)
	in.EncryptionConfiguration.check(&v)
	smARN, err := checkedARN(v, in.StateMachineArn, "stateMachine")
	if err != nil {
		return nil, err
	}
	if in.VersionDescription != nil && !in.Publish {
		return nil, fault.New(fault.ValidationException, "Version description can only be set when publish is true")
	}
	if in.Definition == nil && in.RoleArn == nil && in.LoggingConfiguration == nil &&
		in.TracingConfiguration == nil && in.EncryptionConfiguration == nil && !in.Publish {
		return nil, fault.New(fault.MissingRequiredParameter, "Either the definition, the role ARN, the LoggingConfiguration, the EncryptionConfiguration or the TracingConfiguration must be specified")
	}
	if in.Definition != nil {
		if err := checkDefinition(*in.Definition); err != nil {
			return nil, err
		}
	}
	if in.RoleArn != nil {
		if err := checkRoleARN(*in.RoleArn); err != nil {
			return nil, err
		}
	}
	encryption, err := in.EncryptionConfiguration.config()
	if err != nil {
		return nil, err
	}
	var logging *events.LoggingConfiguration
	if in.LoggingConfiguration != nil {
		var err error
		if logging, err = checkLogging(in.LoggingConfiguration); err != nil {
			return nil, err
		}
	}
	now := s.cfg.Now().UTC()
	var out updateStateMachineOutput
	var version *events.StateMachineRecord // a version published with the update
	_, seq, err := events.Mutate(ctx, s.store, smARN, func(cur *events.ResourceEvent) (events.Decision, error) {
		version = nil
		if liveStateMachine(cur) == nil {
			return nil, stateMachineNotFound(smARN)
		}
		rec := *cur.StateMachine
		if rec.Status == "DELETING" {
			return nil, stateMachineDeleting(smARN)
		}
		if rec.Type == "EXPRESS" && in.Definition != nil {
			if err := checkExpressDefinition(*in.Definition); err != nil {
				return nil, err
			}
		}
		before := rec
		if in.Definition != nil {
			rec.Definition = *in.Definition
		}
		if in.RoleArn != nil {
			rec.RoleARN = *in.RoleArn
		}
		if logging != nil {
			rec.Logging = logging
		}
		if in.TracingConfiguration != nil {
			rec.Tracing = in.TracingConfiguration
		}
		if encryption != nil {
			rec.Encryption = encryption
		}
		changed := before.Definition != rec.Definition || before.RoleARN != rec.RoleARN ||
			!reflect.DeepEqual(before.Logging, rec.Logging) || !reflect.DeepEqual(before.Tracing, rec.Tracing) ||
			!reflect.DeepEqual(before.Encryption, rec.Encryption)
		if changed {
			rec.RevisionID = uuid.NewString()
		}
		rec.UpdateDate = &now
		out = updateStateMachineOutput{UpdateDate: Time(now), RevisionID: rec.RevisionID}
		if in.Publish {
			ref, created := allocateVersion(&rec, now)
			out.StateMachineVersionArn = &ref.ARN
			if created {
				snap := versionSnapshot(rec, ref, deref(in.VersionDescription))
				version = &snap
			}
		}
		return &events.ResourceEvent{Kind: events.StateMachineUpdated, Time: now, ARN: smARN, StateMachine: &rec}, nil
	})
	if err != nil {
		return nil, err
	}
	if in.Definition != nil {
		s.warnUnserved(smARN, *in.Definition)
	}
	if version != nil {
		vseq, err := s.writeVersion(ctx, *version)
		if err != nil {
			return nil, err
		}
		seq = max(seq, vseq)
	}
	if err := s.res.WaitFor(ctx, seq); err != nil {
		return nil, err
	}
	return out, nil
}

// deleteStateMachine deletes at once when no execution runs; otherwise, as AWS does,
// it marks the state machine DELETING (no new executions) and the deletion completes
// when the last running execution ends (FinishDeleting, called by the execution
// projection).
func (s *Server) deleteStateMachine(ctx context.Context, r *request) (any, error) {
	smARN, err := stateMachineARN(r)
	if err != nil {
		return nil, err
	}
	running, err := s.hasRunningExecutions(ctx, smARN)
	if err != nil {
		return nil, err
	}
	if running {
		s.deleting.Store(smARN, struct{}{}) // before the mark: an execution ending meanwhile must look
		now := s.cfg.Now().UTC()
		_, seq, err := events.Mutate(ctx, s.store, smARN, func(cur *events.ResourceEvent) (events.Decision, error) {
			if liveStateMachine(cur) == nil || cur.StateMachine.Status == "DELETING" {
				return nil, nil
			}
			rec := *cur.StateMachine
			rec.Status = "DELETING"
			return &events.ResourceEvent{Kind: events.StateMachineUpdated, Time: now, ARN: smARN, StateMachine: &rec}, nil
		})
		if err != nil {
			return nil, err
		}
		if seq > 0 {
			if err := s.res.WaitFor(ctx, seq); err != nil {
				return nil, err
			}
		}
		// An execution that ended between the check and the mark found nothing to finish.
		if running, err = s.hasRunningExecutions(ctx, smARN); err != nil || running {
			return struct{}{}, err
		}
	}
	return struct{}{}, s.finishDelete(ctx, smARN, false)
}

// FinishDeleting completes the deletion of a DELETING state machine once none of its
// executions runs any more; it does nothing otherwise.
func (s *Server) FinishDeleting(ctx context.Context, smARN string) error {
	// Called for every execution that ends: look no further unless a deletion waits
	// (hasRunningExecutions reads every execution of the state machine). The set of
	// state machines being deleted is this node's (filled by DeleteStateMachine and at
	// start-up); on a cluster the node that marked one DELETING finishes it.
	if _, ok := s.deleting.Load(smARN); !ok {
		return nil
	}
	if sm, err := s.stateMachine(ctx, smARN); err != nil || sm.Status != "DELETING" {
		if errors.Is(err, events.ErrNotFound) {
			return nil
		}
		return err
	}
	if running, err := s.hasRunningExecutions(ctx, smARN); err != nil || running {
		return err
	}
	if err := s.finishDelete(ctx, smARN, true); err != nil {
		return err
	}
	s.deleting.Delete(smARN)
	return nil
}

func (s *Server) hasRunningExecutions(ctx context.Context, smARN string) (bool, error) {
	if s.execs == nil {
		return false, nil
	}
	all, err := s.execs.List(ctx, smARN)
	if err != nil {
		return false, err
	}
	for _, rec := range all {
		if rec.Status == "RUNNING" {
			return true, nil
		}
	}
	return false, nil
}

// finishDelete appends StateMachineDeleted (only for a DELETING one when onlyDeleting)
// and deletes the state machine's versions.
func (s *Server) finishDelete(ctx context.Context, smARN string, onlyDeleting bool) error {
	now := s.cfg.Now().UTC()
	var versions []events.VersionRef // deleted with the state machine, as its aliases are
	_, seq, err := events.Mutate(ctx, s.store, smARN, func(cur *events.ResourceEvent) (events.Decision, error) {
		versions = nil
		if liveStateMachine(cur) == nil {
			return nil, nil // deleting what does not exist succeeds, as on AWS
		}
		rec := *cur.StateMachine
		if onlyDeleting && rec.Status != "DELETING" {
			return nil, nil
		}
		rec.Status = "DELETING"
		if rec.Versioning != nil {
			versions = rec.Versioning.Versions
		}
		return &events.ResourceEvent{Kind: events.StateMachineDeleted, Time: now, ARN: smARN, StateMachine: &rec}, nil
	})
	if err != nil {
		return err
	}
	if vseq, err := s.deleteVersionSubjects(ctx, versions); err != nil {
		return err
	} else if seq > 0 {
		seq = max(seq, vseq)
	}
	return s.waitForChange(ctx, smARN, seq)
}

type stateMachineListItem struct {
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	CreationDate    Time   `json:"creationDate"`
}

func (s *Server) listStateMachines(ctx context.Context, r *request) (any, error) {
	items, next, err := listOwn(ctx, r, "ListStateMachines", "stateMachine", s.res.StateMachines,
		func(rec events.StateMachineRecord) (string, time.Time) { return rec.ARN, rec.CreationDate })
	if err != nil {
		return nil, err
	}
	out := struct {
		StateMachines []stateMachineListItem `json:"stateMachines"`
		NextToken     *string                `json:"nextToken,omitempty"`
	}{StateMachines: []stateMachineListItem{}, NextToken: next}
	for _, rec := range items {
		out.StateMachines = append(out.StateMachines, stateMachineListItem{
			StateMachineArn: rec.ARN, Name: rec.Name, Type: rec.Type, CreationDate: Time(rec.CreationDate),
		})
	}
	return out, nil
}

// warnUnserved logs, for a definition just stored, each Task state whose resource no
// integration of this server serves: AWS accepts such a definition, and so does sfnd,
// but its executions will fail at that state.
func (s *Server) warnUnserved(smARN, definition string) {
	if s.cfg.Unserved == nil {
		return
	}
	for _, w := range s.cfg.Unserved(definition) {
		s.cfg.Logger.Warn("state machine calls a resource this server does not serve: its executions fail there",
			"stateMachine", smARN, "state", w.State, "resource", w.Resource)
	}
}
